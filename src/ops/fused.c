/* Fused elementwise ops: one pass over memory where the chapter's formula takes two or
 * more, with the bits of the unfused form (each element still sees the same IEEE
 * operations in the same order). */
#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

nnf_status nnf_sub_div(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *a,
                       const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_sub_div");
    const char *name = "nnf_sub_div";
    NNF_FORWARD(nnf__elt_check_f32(name, "x", x));
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    NNF_FORWARD(nnf__elt_check_f32(name, "b", b));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_TERNARY,
                      .fn.ternary = nnf__elt_kernels()->sub_div, .cost = NNF__ELT_COST_ARITH};
    nnf__elt_in in[3] = {nnf__elt_tensor(x), nnf__elt_tensor(a), nnf__elt_tensor(b)};
    return nnf__elt_apply(&op, out, NNF_F32, 3, in);
}

nnf_status nnf_threshold_backward(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *grad)
{
    NNF_PUBLIC("nnf_threshold_backward");
    const char *name = "nnf_threshold_backward";
    NNF_FORWARD(nnf__elt_check_f32(name, "x", x));
    NNF_FORWARD(nnf__elt_check_f32(name, "grad", grad));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_BINARY,
                      .fn.binary = nnf__elt_kernels()->relu_backward,
                      .cost = NNF__ELT_COST_ARITH};
    nnf__elt_in in[2] = {nnf__elt_tensor(x), nnf__elt_tensor(grad)};
    return nnf__elt_apply(&op, out, NNF_F32, 2, in);
}

nnf_status nnf_sub_scaled(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_sub_scaled");
    const char *name = "nnf_sub_scaled";
    NNF_FORWARD(nnf__elt_check_f32(name, "x", x));
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_TERNARY,
                      .fn.ternary = nnf__elt_kernels()->sub_mul, .cost = NNF__ELT_COST_ARITH};
    nnf__elt_in in[3] = {nnf__elt_tensor(x), nnf__elt_tensor(a), nnf__elt_scalar(&s)};
    return nnf__elt_apply(&op, out, NNF_F32, 3, in);
}
