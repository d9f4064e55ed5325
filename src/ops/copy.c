/* nnf_copy and nnf_fill: an elementwise op whose kernel is the identity. Float data
 * runs on the active ISA's copy kernel (a fill is a copy from a stride-0 source); bool
 * and int64 data, and conversions between dtypes, have no kernels and run ISA-free. */
#include <math.h>

#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

static nnf__elt_op copy_op(const char *name, nnf_dtype to, nnf_dtype from)
{
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_CONVERT, .cost = NNF__ELT_COST_ARITH};
    if (to == NNF_F32 && from == NNF_F32) {
        op.kind = NNF__ELT_UNARY;
        op.fn.unary = nnf__elt_kernels()->copy;
    }
    return op;
}

nnf_status nnf_copy(nnf_tensor *dst, const nnf_tensor *src)
{
    NNF_PUBLIC("nnf_copy");
    NNF_RETURN_IF(dst == NULL, NNF_ERR_NULL, "nnf_copy: dst is NULL");
    NNF_RETURN_IF(src == NULL, NNF_ERR_NULL, "nnf_copy: src is NULL");
    /* float -> int64 would need a rounding rule nnf does not define. */
    NNF_RETURN_IF(src->dtype == NNF_F32 && dst->dtype == NNF_I64, NNF_ERR_DTYPE,
                  "nnf_copy: cannot copy float32 into an int64 tensor");
    nnf__elt_op op = copy_op("nnf_copy", dst->dtype, src->dtype);
    nnf__elt_in in = nnf__elt_tensor(src);
    return nnf__elt_apply_into(&op, dst, 1, &in);
}

nnf_status nnf_fill(nnf_tensor *dst, float value)
{
    NNF_PUBLIC("nnf_fill");
    NNF_RETURN_IF(dst == NULL, NNF_ERR_NULL, "nnf_fill: dst is NULL");
    NNF_RETURN_IF(dst->dtype == NNF_I64 && !(value == truncf(value) && fabsf(value) < 0x1p63f),
                  NNF_ERR_INVALID, "nnf_fill: %g is not an int64 value", (double)value);
    nnf__elt_op op = copy_op("nnf_fill", dst->dtype, NNF_F32);
    nnf__elt_in in = nnf__elt_scalar(&value);
    return nnf__elt_apply_into(&op, dst, 1, &in);
}
