/* Unary ops: the exact ones (neg, abs, sqrt, relu, clamp) and SLEEF's (exp, log, tanh,
 * sigmoid). */
#include <math.h>

#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

static nnf_status unary(const char *name, nnf__unary_kernel fn, int cost, nnf_tensor **out,
                        const nnf_tensor *a)
{
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_UNARY, .fn.unary = fn, .cost = cost};
    nnf__elt_in in = nnf__elt_tensor(a);
    return nnf__elt_apply(&op, out, NNF_F32, 1, &in);
}

nnf_status nnf_neg(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_neg");
    return unary("nnf_neg", nnf__elt_kernels()->neg, NNF__ELT_COST_ARITH, out, a);
}

nnf_status nnf_abs(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_abs");
    return unary("nnf_abs", nnf__elt_kernels()->abs, NNF__ELT_COST_ARITH, out, a);
}

nnf_status nnf_sqrt(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_sqrt");
    return unary("nnf_sqrt", nnf__elt_kernels()->sqrt, NNF__ELT_COST_ARITH, out, a);
}

nnf_status nnf_relu(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_relu");
    return unary("nnf_relu", nnf__elt_kernels()->relu, NNF__ELT_COST_ARITH, out, a);
}

nnf_status nnf_exp(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_exp");
    return unary("nnf_exp", nnf__elt_sleef_kernels()->exp, NNF__ELT_COST_SLEEF, out, a);
}

nnf_status nnf_log(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_log");
    return unary("nnf_log", nnf__elt_sleef_kernels()->log, NNF__ELT_COST_SLEEF, out, a);
}

nnf_status nnf_tanh(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_tanh");
    return unary("nnf_tanh", nnf__elt_sleef_kernels()->tanh, NNF__ELT_COST_SLEEF, out, a);
}

nnf_status nnf_sigmoid(nnf_tensor **out, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_sigmoid");
    return unary("nnf_sigmoid", nnf__elt_sleef_kernels()->sigmoid, NNF__ELT_COST_SLEEF, out, a);
}

/* A NaN bound makes every result NaN, as torch.clamp does; x + NaN gives it. */
nnf_status nnf_clamp(nnf_tensor **out, const nnf_tensor *a, float lo, float hi)
{
    NNF_PUBLIC("nnf_clamp");
    const char *name = "nnf_clamp";
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_in in[2] = {nnf__elt_tensor(a), nnf__elt_scalar(&lo)};
    if (isnan(lo) || isnan(hi)) {
        in[1] = nnf__elt_scalar(isnan(lo) ? &lo : &hi);
        nnf__elt_op op = {.name = name, .kind = NNF__ELT_BINARY,
                          .fn.binary = nnf__elt_kernels()->add, .cost = NNF__ELT_COST_ARITH};
        return nnf__elt_apply(&op, out, NNF_F32, 2, in);
    }
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_CLAMP, .fn.clamp = nnf__elt_kernels()->clamp,
                      .lo = lo, .hi = hi, .cost = NNF__ELT_COST_ARITH};
    return nnf__elt_apply(&op, out, NNF_F32, 1, in);
}
