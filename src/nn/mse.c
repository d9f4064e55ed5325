/* Mean squared error, forward beside backward: the chapter's mse and mse_grad.
 *
 *     forward:   loss   = mean((pred - targ)^2)      (summed by the micro-batch rule)
 *     backward:  pred.g = 2 (pred - targ) / numel    (numel: the whole batch's)
 *
 * The chapter's model predicts (N, 1) against targets (N) and squeezes; here pred is
 * viewed with targ's shape. pred is a layer's output that lives across steps, so that
 * view (and the one of its gradient) is made once, not per step. */
#include "src/nn/nn_internal.h"

#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"
#include "src/tensor/tensor_internal.h"

enum { PRED_VIEW, DIFF, GRAD_VIEW };

static nnf_status check(const nnf_tensor *pred, const nnf_tensor *targ)
{
    NNF_RETURN_IF(pred == NULL || targ == NULL, NNF_ERR_NULL,
                  "pred and targ must not be NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(pred) != NNF_F32 || nnf_tensor_dtype(targ) != NNF_F32,
                  NNF_ERR_DTYPE, "pred and targ must be float32 tensors");
    int pd = nnf_tensor_ndim(pred), td = nnf_tensor_ndim(targ);
    const int64_t *ps = nnf_tensor_shape(pred), *ts = nnf_tensor_shape(targ);
    if (nnf__same_shape(targ, pd, ps))
        return NNF_OK;
    /* the chapter's squeeze: pred (N, 1) against targ (N) */
    int squeezable = pd == 2 && td == 1 && ps[1] == 1 && ps[0] == ts[0];
    char pbuf[NNF__SHAPE_STR], tbuf[NNF__SHAPE_STR];
    NNF_RETURN_IF(!squeezable, NNF_ERR_SHAPE,
                  "the target size %s is different from the input size %s: targ must have "
                  "pred's shape, or be (N) for pred (N, 1)", nnf__shape_str(td, ts, tbuf),
                  nnf__shape_str(pd, ps, pbuf));
    return NNF_OK;
}

/* t, or a view of it with targ's shape. */
static nnf_status as_targ_shape(nnf_tensor **view, const nnf_tensor *t, const nnf_tensor *targ,
                                const nnf_tensor **result)
{
    if (nnf__same_shape(t, nnf_tensor_ndim(targ), nnf_tensor_shape(targ))) {
        *result = t;
        return NNF_OK;
    }
    NNF_FORWARD(nnf__view_cached(view, t, nnf_tensor_ndim(targ), nnf_tensor_shape(targ)));
    *result = *view;
    return NNF_OK;
}

static nnf_status mse_forward(nnf_tensor **scratch, const nnf_tensor *pred,
                              const nnf_tensor *targ, double *sum, int64_t *count,
                              double *parts)
{
    NNF_FORWARD(check(pred, targ));
    const nnf_tensor *p;
    NNF_FORWARD(as_targ_shape(&scratch[PRED_VIEW], pred, targ, &p));
    int nd = nnf_tensor_ndim(targ);
    const int64_t *shape = nnf_tensor_shape(targ);
    NNF_FORWARD(nnf__reuse(&scratch[DIFF], NNF_F32, nd, shape));
    const nnf_tensor *in[2] = {p, targ};
    if (nnf__one_span(scratch[DIFF], 2, in))   /* nnf_sub's kernel, without the engine */
        nnf__elt_kernels()->sub((size_t)nnf_tensor_numel(targ), nnf_tensor_const_data(p), 1,
                                nnf_tensor_const_data(targ), 1, nnf_tensor_data(scratch[DIFF]),
                                1);
    else
        NNF_FORWARD(nnf_sub(&scratch[DIFF], p, targ));
    /* The squares in double by the micro-batch rule, each row's elements in order. */
    const float *d = nnf_tensor_const_data(scratch[DIFF]);
    const int64_t numel = nnf_tensor_numel(targ), rows = nd > 0 ? shape[0] : 1;
    const int64_t per_row = rows > 0 ? numel / rows : 0;
    double total = 0.0;
    for (int64_t r0 = 0; r0 < rows; r0 += NNF__MICRO_BATCH) {
        int64_t r1 = rows - r0 < NNF__MICRO_BATCH ? rows : r0 + NNF__MICRO_BATCH;
        double part = 0.0;
        for (int64_t i = r0 * per_row; i < r1 * per_row; i++)
            part += (double)d[i] * (double)d[i];
        if (parts != NULL)
            parts[r0 / NNF__MICRO_BATCH] = part;
        total += part;
    }
    *sum = total;
    *count = numel;
    return NNF_OK;
}

static nnf_status mse_backward(nnf_tensor **scratch, const nnf_tensor *pred,
                               const nnf_tensor *targ, int64_t count, nnf_tensor *grad)
{
    (void)pred;
    const nnf_tensor *g;
    NNF_FORWARD(as_targ_shape(&scratch[GRAD_VIEW], grad, targ, &g));
    nnf_tensor *out = (nnf_tensor *)g;
    /* torch's mse_loss_backward: (2 / numel as a float) * (pred - targ) */
    float norm = (float)(2.0 / (double)count);
    if (!nnf__one_span(out, 1, (const nnf_tensor *const *)&scratch[DIFF]))
        return nnf_mul_scalar(&out, scratch[DIFF], norm);
    nnf__elt_kernels()->mul((size_t)nnf_tensor_numel(out), nnf_tensor_const_data(scratch[DIFF]),
                            1, &norm, 0, nnf_tensor_data(out), 1);   /* nnf_mul_scalar's */
    return NNF_OK;
}

const nnf__loss_fn nnf__mse_fn = {"Mse", mse_forward, mse_backward};

nnf_status nnf_mse(float *loss, const nnf_tensor *pred, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_mse");
    return nnf__loss_value(&nnf__mse_fn, pred, targ, loss);
}

nnf_status nnf_mse_backward(nnf_tensor *pred, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_mse_backward");
    return nnf__loss_grad(&nnf__mse_fn, pred, targ);
}
