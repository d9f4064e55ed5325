/* Flatten: (N, d1, d2, ...) -> (N, d1*d2*...), the joint between a convolution's
 * feature maps and a linear layer. Written against the public layer-function interface.
 * The output is a view of the input (no copy) whenever the input is contiguous. */
#include "nnf/conv.h"

#include "nnf/ops.h"
#include "src/core/error.h"

static nnf_status flatten_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    NNF_RETURN_IF(nnf_tensor_ndim(in) < 2, NNF_ERR_SHAPE,
                  "Flatten: the input needs at least 2 dims (a batch and features), got %d",
                  nnf_tensor_ndim(in));
    int64_t n = nnf_tensor_size(in, 0), f = n ? nnf_tensor_numel(in) / n : 0;
    /* Last step's view is still the right one when the previous layer wrote into the
     * same buffer again (it does while the batch shape stays): keeping it keeps the
     * gradient buffer the next layer wrote into, so a training step allocates nothing. */
    nnf_tensor *prev = *out;
    if (prev && nnf_tensor_is_contiguous(in) && nnf_tensor_shares_storage(prev, in) &&
        nnf_tensor_offset(prev) == nnf_tensor_offset(in) && nnf_tensor_size(prev, 0) == n &&
        nnf_tensor_size(prev, 1) == f)
        return NNF_OK;
    /* Otherwise a new view (or a copy of a non-contiguous input); the layer frees the old
     * output when it sees a different one. */
    nnf_tensor *v = NULL;
    NNF_FORWARD(nnf_reshape(&v, in, NNF_SHAPE(n, f)));
    *out = v;
    return NNF_OK;
}

static nnf_status flatten_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                   nnf_tensor *in_grad)
{
    if (!in_grad) return NNF_OK;
    const nnf_tensor *in = nnf_layer_input(self);
    nnf_tensor *g = NULL;
    NNF_FORWARD(nnf_reshape(&g, out_grad, nnf_tensor_ndim(in), nnf_tensor_shape(in)));
    nnf_status st = nnf_copy(in_grad, g);
    nnf_tensor_free(g);
    return st;
}

static const nnf_layer_fn flatten_fn = {"Flatten", flatten_forward, flatten_backward, NULL, NULL};

nnf_status nnf_layer_flatten(nnf_layer **out)
{
    NNF_PUBLIC("nnf_layer_flatten");
    return nnf_layer_new(out, &flatten_fn, NULL);
}
