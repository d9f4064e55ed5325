/* The chapter's `.g`: a gradient tensor stored with the tensor it belongs to. */
#include "src/tensor/tensor_internal.h"

#include <string.h>

#include "src/core/error.h"

nnf_tensor *nnf_tensor_grad(const nnf_tensor *t)
{
    return t != NULL ? t->grad : NULL;
}

nnf_tensor *nnf__grad_exchange(nnf_tensor *t, nnf_tensor *grad)
{
    nnf_tensor *old = t->grad;
    t->grad = grad;
    return old;
}

nnf_status nnf_tensor_grad_get(nnf_tensor *t, nnf_tensor **grad)
{
    NNF_PUBLIC("nnf_tensor_grad_get");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_RETURN_IF(grad == NULL, NNF_ERR_NULL, "grad is NULL");
    NNF_RETURN_IF(t->dtype != NNF_F32, NNF_ERR_DTYPE, "only float32 tensors have gradients");
    if (t->grad == NULL)
        NNF_FORWARD(nnf__tensor_new(&t->grad, NNF_F32, t->ndim, t->shape, 1));
    *grad = t->grad;
    return NNF_OK;
}

/* The gradient is created contiguous and with its own storage, so one memset clears it.
 * That it is all +0 is recorded: the model's backward then need not scan it to run in
 * place (src/nn/buffers.c). */
void nnf_zero_grad(nnf_tensor *t)
{
    if (t == NULL || t->grad == NULL)
        return;
    memset(nnf__tensor_bytes(t->grad), 0, (size_t)nnf_tensor_numel(t->grad) * sizeof(float));
    nnf__tensor_written_zeros(t->grad);
}
