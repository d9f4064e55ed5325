/* contiguous() and clone(): the tensor layer's only copies, done by nnf_copy (the
 * elementwise op, on the active ISA's kernels for float data). */
#include "src/tensor/tensor_internal.h"

#include "nnf/ops.h"
#include "src/core/error.h"

nnf_status nnf_clone(nnf_tensor **out, const nnf_tensor *t)
{
    nnf_tensor *c;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_clone: out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "nnf_clone: t is NULL");
    NNF_FORWARD(nnf__tensor_new(&c, t->dtype, t->ndim, t->shape, 0));
    nnf_status status = nnf_copy(c, t);
    if (status != NNF_OK) {
        nnf_tensor_free(c);
        return status;
    }
    *out = c;
    return NNF_OK;
}

nnf_status nnf_contiguous(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_contiguous: out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "nnf_contiguous: t is NULL");
    if (nnf_tensor_is_contiguous(t))
        return nnf__make_view(out, t, t->ndim, t->shape, t->stride, t->offset);
    return nnf_clone(out, t);
}
