/* ReLU, forward beside backward: the chapter's relu and relu_grad.
 *
 *     forward:   y = x.clamp_min(0)          (nnf_relu in ops.h)
 *     backward:  x.g = (x > 0) * y.g        (nnf_threshold_backward in ops.h)
 *
 * The backward is ops' fused select kernel, one pass over x, y.g and x.g for contiguous
 * and strided tensors alike, the same bits on every ISA. As torch's threshold_backward
 * it is a select rather than a multiply: where x <= 0 the gradient is +0 even if y.g is
 * infinite or NaN, and a NaN x passes y.g through. */
#include "src/nn/nn_internal.h"

#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

nnf_status nnf_relu_backward(nnf_tensor *x, const nnf_tensor *y)
{
    NNF_PUBLIC("nnf_relu_backward");
    NNF_RETURN_IF(x == NULL || y == NULL, NNF_ERR_NULL,
                  "nnf_relu_backward: x and y must not be NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(x) != NNF_F32, NNF_ERR_DTYPE,
                  "nnf_relu_backward: x must be a float32 tensor");
    const nnf_tensor *gy = nnf_tensor_grad(y);
    NNF_RETURN_IF(gy == NULL, NNF_ERR_STATE,
                  "nnf_relu_backward: y has no gradient; set y's gradient (nnf_tensor_grad_get) "
                  "or run the backward of what consumed y first");
    NNF_RETURN_IF(!nnf__same_shape(gy, nnf_tensor_ndim(x), nnf_tensor_shape(x)), NNF_ERR_SHAPE,
                  "nnf_relu_backward: y (%d-D, %lld elements) must have x's shape (%d-D, %lld "
                  "elements)", nnf_tensor_ndim(gy), (long long)nnf_tensor_numel(gy),
                  nnf_tensor_ndim(x), (long long)nnf_tensor_numel(x));
    nnf_tensor *gx = NULL, *tmp = NULL;
    nnf_status st = nnf__grad_target(x, 0, &tmp, &gx);
    if (st == NNF_OK)
        st = nnf_threshold_backward(&gx, x, gy);
    if (st == NNF_OK)
        nnf__grad_commit(x, gx, &tmp);
    nnf_tensor_free(tmp);
    return st;
}

/* ---- The Relu layer ---- */

static nnf_status relu_layer_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    return nnf_relu(out, in);
}

/* For a model whose Relu follows a Lin: the model runs the Lin with nnf__lin_relu_fn
 * (sequential.c), which applies the ReLU inside its product for a large output, else
 * right after it, so its output already holds relu(x), with nnf_relu's bits, and the
 * model runs this layer with this table: its output is a
 * view of it: no second buffer (200 x 50: 40 KiB). Lin's backward does not need its
 * output, and this layer's backward reads the same mask from relu(x) as from x
 * (below). */
static nnf_status relu_in_place_forward(nnf_layer *self, const nnf_tensor *in,
                                        nnf_tensor **out)
{
    (void)self;
    return nnf__view_cached(out, in, nnf_tensor_ndim(in), nnf_tensor_shape(in));
}

/* The input's bits or the output's select the same elements: relu(x) <= 0 exactly where
 * x <= 0 (x < 0 gives +0, +-0 stay, NaN stays NaN), so the in-place layer, whose input
 * holds relu(x) by then, gives the same gradient. */
static nnf_status relu_layer_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                      nnf_tensor *in_grad)
{
    if (in_grad == NULL)   /* no parameters: nothing else to compute */
        return NNF_OK;
    const nnf_tensor *in[2] = {nnf_layer_input(self), out_grad};
    if (!nnf__one_span(in_grad, 2, in))
        return nnf_threshold_backward(&in_grad, in[0], out_grad);
    /* nnf_threshold_backward's kernel without the engine; in place in a model (its
     * output's gradient is its input's, sequential.c) */
    nnf__elt_kernels()->relu_backward((size_t)nnf_tensor_numel(in_grad),
                                      nnf_tensor_const_data(in[0]), 1,
                                      nnf_tensor_const_data(out_grad), 1,
                                      nnf_tensor_data(in_grad), 1);
    return NNF_OK;
}

const nnf_layer_fn nnf__relu_fn = {
    "Relu", relu_layer_forward, relu_layer_backward, NULL, NULL,
};

const nnf_layer_fn nnf__relu_in_place_fn = {
    "Relu", relu_in_place_forward, relu_layer_backward, NULL, NULL,
};

nnf_status nnf_layer_relu(nnf_layer **out)
{
    NNF_PUBLIC("nnf_layer_relu");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_layer_relu: out is NULL");
    return nnf_layer_new(out, &nnf__relu_fn, NULL);   /* stateless */
}
