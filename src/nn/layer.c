/* The layer-function interface: the chapter's LayerFunction.
 *
 *     def __call__(self, *args): self.args = args; self.out = self.forward(*args); ...
 *     def backward(self):        self.bwd(self.out, *self.args)
 *
 * nnf_layer keeps the input (borrowed) and the output (owned, reused while the input
 * shape stays), and hands backward the output's gradient and the tensor to write the
 * input's gradient into. */
#include "src/nn/nn_internal.h"

#include "src/core/alloc.h"
#include "src/core/error.h"

nnf_status nnf_layer_new(nnf_layer **out, const nnf_layer_fn *fn, void *state)
{
    NNF_PUBLIC("nnf_layer_new");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_layer_new: out is NULL");
    NNF_RETURN_IF(fn == NULL, NNF_ERR_NULL, "nnf_layer_new: fn is NULL");
    NNF_RETURN_IF(fn->name == NULL || fn->forward == NULL || fn->backward == NULL,
                  NNF_ERR_INVALID, "nnf_layer_new: fn->name, fn->forward and fn->backward "
                  "must not be NULL");
    nnf_layer *l = nnf__calloc(sizeof *l);
    NNF_RETURN_IF(l == NULL, NNF_ERR_NOMEM, "nnf_layer_new: out of memory");
    l->fn = fn;
    l->state = state;
    *out = l;
    return NNF_OK;
}

void nnf_layer_free(nnf_layer *layer)
{
    if (layer == NULL)
        return;
    if (layer->fn->destroy != NULL)
        layer->fn->destroy(layer->state);
    nnf_tensor_free(layer->out);
    nnf_tensor_free(layer->grad_tmp);
    nnf__grad_txn_free(&layer->txn);
    nnf__dealloc(layer, sizeof *layer);
}

nnf_status nnf__layer_forward(nnf_layer *layer, nnf_tensor *in, nnf_tensor **out,
                              int fresh_out_grad)
{
    NNF_RETURN_IF(layer == NULL, NNF_ERR_NULL,
                  "nnf_layer_call: layer, in and out must not be NULL");
    return nnf__layer_forward_as(layer, layer->fn, in, out, fresh_out_grad);
}

nnf_status nnf__layer_forward_as(nnf_layer *layer, const nnf_layer_fn *fn, nnf_tensor *in,
                                 nnf_tensor **out, int fresh_out_grad)
{
    NNF_RETURN_IF(layer == NULL || in == NULL || out == NULL, NNF_ERR_NULL,
                  "nnf_layer_call: layer, in and out must not be NULL");
    int ndim = nnf_tensor_ndim(in);
    const int64_t *shape = nnf_tensor_shape(in);
    /* The output's shape follows from the input's, so a new input shape means a new
     * output (a smaller last batch, say); the forward creates it. */
    if (layer->out != NULL && !(layer->in_ndim == ndim && nnf__same_shape(in, layer->in_ndim,
                                                                          layer->in_shape))) {
        nnf_tensor_free(layer->out);
        layer->out = NULL;
    }
    layer->ready = 0;
    layer->nsaved = 0;
    layer->in = in;
    nnf_tensor *result = layer->out;
    nnf_status st = fn->forward(layer, in, &result);
    if (result != layer->out) {
        nnf_tensor_free(layer->out);
        layer->out = result;
    }
    if (st != NNF_OK)
        return nnf__prefix_error(st, "%s: ", layer->fn->name);
    NNF_RETURN_IF(result == NULL, NNF_ERR_STATE, "%s: forward returned no output",
                  layer->fn->name);
    layer->in_ndim = ndim;
    for (int d = 0; d < ndim; d++)
        layer->in_shape[d] = shape[d];
    if (fresh_out_grad)
        nnf_zero_grad(result);
    layer->ready = 1;
    *out = result;
    return NNF_OK;
}

nnf_status nnf_layer_call(nnf_layer *layer, nnf_tensor **out, nnf_tensor *in)
{
    NNF_PUBLIC("nnf_layer_call");
    /* A new output starts without a gradient in PyTorch; here it keeps its buffer, zeroed,
     * so that backward passes chained by hand add into zero. */
    return nnf__layer_forward(layer, in, out, 1);
}

static nnf_tensor *parameter_at(void *layer, int i)
{
    return nnf_layer_parameter(layer, i);
}

static nnf_status backward(nnf_layer *layer, int input_grad, int overwrite, int txn)
{
    NNF_RETURN_IF(layer == NULL, NNF_ERR_NULL, "nnf_layer_backward: layer is NULL");
    NNF_RETURN_IF(!layer->ready, NNF_ERR_STATE, "%s: backward called before forward",
                  layer->fn->name);
    const nnf_tensor *out_grad = nnf_tensor_grad(layer->out);
    NNF_RETURN_IF(out_grad == NULL, NNF_ERR_STATE,
                  "%s: the output has no gradient; run the backward of whatever consumed it "
                  "(or set it with nnf_tensor_grad_get) first", layer->fn->name);
    /* Allocations first; the layer's own backward then writes only into buffers of ours
     * until it has succeeded, and the commits below cannot fail. */
    nnf_tensor *in_grad = NULL;
    nnf_status st = NNF_OK;
    if (input_grad)
        st = nnf__grad_target(layer->in, overwrite, &layer->grad_tmp, &in_grad);
    if (st == NNF_OK && txn) {
        int np = 0;
        while (nnf_layer_parameter(layer, np) != NULL)
            np++;
        st = nnf__grad_txn_begin(&layer->txn, np, parameter_at, layer);
    }
    if (st != NNF_OK)
        return nnf__prefix_error(st, "%s backward: ", layer->fn->name);
    st = layer->fn->backward(layer, out_grad, in_grad);
    if (txn && st == NNF_OK)
        nnf__grad_txn_commit(&layer->txn);
    else if (txn)
        nnf__grad_txn_abort(&layer->txn);
    if (st != NNF_OK)
        return nnf__prefix_error(st, "%s backward: ", layer->fn->name);
    if (in_grad != NULL)
        nnf__grad_commit(layer->in, in_grad, &layer->grad_tmp);
    return NNF_OK;
}

nnf_status nnf__layer_backward(nnf_layer *layer, int input_grad, int overwrite)
{
    return backward(layer, input_grad, overwrite, 0);
}

nnf_status nnf_layer_backward(nnf_layer *layer, int input_grad)
{
    NNF_PUBLIC("nnf_layer_backward");
    return backward(layer, input_grad, 0, 1);
}

nnf_tensor *nnf_layer_parameter(nnf_layer *layer, int i)
{
    if (layer == NULL || i < 0 || layer->fn->parameter == NULL)
        return NULL;
    return layer->fn->parameter(layer, i);
}

void *nnf_layer_state(const nnf_layer *layer)
{
    return layer != NULL ? layer->state : NULL;
}

nnf_tensor *nnf_layer_input(const nnf_layer *layer)
{
    return layer != NULL ? layer->in : NULL;
}

nnf_tensor *nnf_layer_output(const nnf_layer *layer)
{
    return layer != NULL ? layer->out : NULL;
}

const char *nnf_layer_name(const nnf_layer *layer)
{
    return layer != NULL ? layer->fn->name : "(null)";
}

nnf_status nnf_layer_save_for_backward(nnf_layer *layer, int n, const nnf_tensor *const *tensors)
{
    NNF_PUBLIC("nnf_layer_save_for_backward");
    NNF_RETURN_IF(layer == NULL, NNF_ERR_NULL, "nnf_layer_save_for_backward: layer is NULL");
    NNF_RETURN_IF(n < 0 || n > NNF_LAYER_MAX_SAVED, NNF_ERR_INVALID,
                  "nnf_layer_save_for_backward: n is %d, expected 0..%d", n,
                  NNF_LAYER_MAX_SAVED);
    NNF_RETURN_IF(n > 0 && tensors == NULL, NNF_ERR_NULL,
                  "nnf_layer_save_for_backward: tensors is NULL");
    for (int i = 0; i < n; i++)
        layer->saved[i] = tensors[i];
    layer->nsaved = n;
    return NNF_OK;
}

const nnf_tensor *nnf_layer_saved(const nnf_layer *layer, int i)
{
    if (layer == NULL || i < 0 || i >= layer->nsaved)
        return NULL;
    return layer->saved[i];
}
