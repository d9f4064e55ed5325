/* The loss object: like a layer function, it keeps what its forward saw (predictions
 * and targets, borrowed) and what its backward needs (scratch kept between calls). */
#include "src/nn/nn_internal.h"

#include "kernels/canonical_nan.h"
#include "src/core/alloc.h"
#include "src/core/error.h"

static nnf_status loss_new(nnf_loss **out, const nnf__loss_fn *fn, const char *caller)
{
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "%s: out is NULL", caller);
    nnf_loss *l = nnf__calloc(sizeof *l);
    NNF_RETURN_IF(l == NULL, NNF_ERR_NOMEM, "%s: out of memory", caller);
    l->fn = fn;
    *out = l;
    return NNF_OK;
}

nnf_status nnf_loss_mse(nnf_loss **out)
{
    NNF_PUBLIC("nnf_loss_mse");
    return loss_new(out, &nnf__mse_fn, "nnf_loss_mse");
}

nnf_status nnf_loss_cross_entropy(nnf_loss **out)
{
    NNF_PUBLIC("nnf_loss_cross_entropy");
    return loss_new(out, &nnf__cross_entropy_fn, "nnf_loss_cross_entropy");
}

static void free_scratch(nnf_tensor **scratch)
{
    for (int i = 0; i < NNF__LOSS_SCRATCH; i++) {
        nnf_tensor_free(scratch[i]);
        scratch[i] = NULL;
    }
}

void nnf_loss_free(nnf_loss *loss)
{
    if (loss == NULL)
        return;
    free_scratch(loss->scratch);
    nnf_tensor_free(loss->grad_tmp);
    nnf__dealloc(loss, sizeof *loss);
}

const char *nnf_loss_name(const nnf_loss *loss)
{
    return loss != NULL ? loss->fn->name : "(null)";
}

/* A NaN loss is 0x7FC00000 (the NaN rule), whatever NaNs the double sums carried. */
float nnf__loss_mean(double sum, int64_t count)
{
    return nnf__canonical_nan((float)(sum / (double)count));
}

nnf_status nnf_loss_call(nnf_loss *loss, float *value, nnf_tensor *pred, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_loss_call");
    NNF_RETURN_IF(loss == NULL || pred == NULL || targ == NULL || value == NULL, NNF_ERR_NULL,
                  "nnf_loss_call: loss, pred, targ and value must not be NULL");
    loss->ready = 0;
    NNF_FORWARD(loss->fn->forward(loss->scratch, pred, targ, &loss->sum, &loss->count,
                                  loss->parts));
    *value = nnf__loss_mean(loss->sum, loss->count);
    loss->pred = pred;
    loss->targ = targ;
    loss->ready = 1;
    return NNF_OK;
}

nnf_status nnf__loss_backward(nnf_loss *loss, int overwrite)
{
    NNF_RETURN_IF(loss == NULL, NNF_ERR_NULL, "nnf_loss_backward: loss is NULL");
    NNF_RETURN_IF(!loss->ready, NNF_ERR_STATE, "%s: backward called before forward",
                  loss->fn->name);
    nnf_tensor *grad = NULL;
    int64_t count = loss->count;
    if (loss->mean_rows > 0) {
        /* the forward saw some rows of a batch of mean_rows: terms per row x rows */
        int64_t rows = nnf_tensor_ndim(loss->targ) > 0 ? nnf_tensor_shape(loss->targ)[0] : 1;
        count = count / (rows > 0 ? rows : 1) * loss->mean_rows;
    }
    nnf_status st = nnf__grad_target(loss->pred, overwrite, &loss->grad_tmp, &grad);
    if (st == NNF_OK)
        st = loss->fn->backward(loss->scratch, loss->pred, loss->targ, count, grad);
    if (st == NNF_OK)
        nnf__grad_commit(loss->pred, grad, &loss->grad_tmp);
    return st;
}

nnf_status nnf_loss_backward(nnf_loss *loss)
{
    NNF_PUBLIC("nnf_loss_backward");
    return nnf__loss_backward(loss, 0);
}

nnf_status nnf__loss_value(const nnf__loss_fn *fn, const nnf_tensor *pred,
                           const nnf_tensor *targ, float *value)
{
    NNF_RETURN_IF(value == NULL, NNF_ERR_NULL, "loss is NULL");
    nnf_tensor *scratch[NNF__LOSS_SCRATCH] = {0};
    double sum;
    int64_t count;
    nnf_status st = fn->forward(scratch, pred, targ, &sum, &count, NULL);
    if (st == NNF_OK)
        *value = nnf__loss_mean(sum, count);
    free_scratch(scratch);
    return st;
}

nnf_status nnf__loss_grad(const nnf__loss_fn *fn, nnf_tensor *pred, const nnf_tensor *targ)
{
    nnf_tensor *scratch[NNF__LOSS_SCRATCH] = {0}, *tmp = NULL, *grad = NULL;
    double sum;
    int64_t count;
    nnf_status st = fn->forward(scratch, pred, targ, &sum, &count, NULL);
    if (st == NNF_OK)
        st = nnf__grad_target(pred, 0, &tmp, &grad);
    if (st == NNF_OK)
        st = fn->backward(scratch, pred, targ, count, grad);
    if (st == NNF_OK)
        nnf__grad_commit(pred, grad, &tmp);
    free_scratch(scratch);
    nnf_tensor_free(tmp);
    return st;
}
