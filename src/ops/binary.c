/* Broadcasting binary arithmetic, tensor-tensor and tensor-scalar. A scalar operand is a
 * 0-d operand on the stack, which the engine turns into a stride-0 span. */
#include <math.h>

#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

static nnf_status binary(const char *name, nnf__binary_kernel fn, int cost, nnf_tensor **out,
                         const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    NNF_FORWARD(nnf__elt_check_f32(name, "b", b));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_BINARY, .fn.binary = fn, .cost = cost};
    nnf__elt_in in[2] = {nnf__elt_tensor(a), nnf__elt_tensor(b)};
    return nnf__elt_apply(&op, out, NNF_F32, 2, in);
}

/* out = a OP s, or s OP a when `scalar_first`. */
static nnf_status binary_scalar(const char *name, nnf__binary_kernel fn, int cost,
                                nnf_tensor **out, const nnf_tensor *a, float s,
                                int scalar_first)
{
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_BINARY, .fn.binary = fn, .cost = cost};
    nnf__elt_in in[2] = {nnf__elt_tensor(a), nnf__elt_scalar(&s)};
    if (scalar_first) {
        in[1] = in[0];
        in[0] = nnf__elt_scalar(&s);
    }
    return nnf__elt_apply(&op, out, NNF_F32, 2, in);
}

nnf_status nnf_add(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_add");
    return binary("nnf_add", nnf__elt_kernels()->add, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_sub(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_sub");
    return binary("nnf_sub", nnf__elt_kernels()->sub, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_mul(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_mul");
    return binary("nnf_mul", nnf__elt_kernels()->mul, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_div(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_div");
    return binary("nnf_div", nnf__elt_kernels()->div, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_maximum(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_maximum");
    return binary("nnf_maximum", nnf__elt_kernels()->maximum, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_minimum(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_minimum");
    return binary("nnf_minimum", nnf__elt_kernels()->minimum, NNF__ELT_COST_ARITH, out, a, b);
}

nnf_status nnf_pow(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_pow");
    return binary("nnf_pow", nnf__elt_sleef_kernels()->pow, NNF__ELT_COST_SLEEF, out, a, b);
}

nnf_status nnf_add_scalar(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_add_scalar");
    return binary_scalar("nnf_add_scalar", nnf__elt_kernels()->add,
                         NNF__ELT_COST_ARITH, out, a, s, 0);
}

nnf_status nnf_sub_scalar(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_sub_scalar");
    return binary_scalar("nnf_sub_scalar", nnf__elt_kernels()->sub,
                         NNF__ELT_COST_ARITH, out, a, s, 0);
}

nnf_status nnf_mul_scalar(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_mul_scalar");
    return binary_scalar("nnf_mul_scalar", nnf__elt_kernels()->mul,
                         NNF__ELT_COST_ARITH, out, a, s, 0);
}

nnf_status nnf_div_scalar(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_div_scalar");
    return binary_scalar("nnf_div_scalar", nnf__elt_kernels()->div,
                         NNF__ELT_COST_ARITH, out, a, s, 0);
}

nnf_status nnf_rsub(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_rsub");
    return binary_scalar("nnf_rsub", nnf__elt_kernels()->sub, NNF__ELT_COST_ARITH, out, a, s, 1);
}

nnf_status nnf_rdiv(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_rdiv");
    return binary_scalar("nnf_rdiv", nnf__elt_kernels()->div, NNF__ELT_COST_ARITH, out, a, s, 1);
}

/* The exponents PyTorch computes exactly instead of through pow (x*x, sqrt, x, 1/x),
 * so that (x - y)**2 and friends give the same bits as torch; every other exponent
 * goes through SLEEF's powf (<= 1 ulp, C99 special cases: pow(x, 0) = 1 even for NaN). */
nnf_status nnf_pow_scalar(nnf_tensor **out, const nnf_tensor *a, float s)
{
    NNF_PUBLIC("nnf_pow_scalar");
    const char *name = "nnf_pow_scalar";
    const nnf__eltwise_kernels *k = nnf__elt_kernels();
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_in x = nnf__elt_tensor(a);
    if (s == 2.0f) {
        nnf__elt_op op = {.name = name, .kind = NNF__ELT_BINARY, .fn.binary = k->mul,
                          .cost = NNF__ELT_COST_ARITH};
        nnf__elt_in in[2] = {x, x};
        return nnf__elt_apply(&op, out, NNF_F32, 2, in);
    }
    if (s == 1.0f || s == 0.5f) {
        nnf__elt_op op = {.name = name, .kind = NNF__ELT_UNARY,
                          .fn.unary = s == 1.0f ? k->copy : k->sqrt,
                          .cost = NNF__ELT_COST_ARITH};
        return nnf__elt_apply(&op, out, NNF_F32, 1, &x);
    }
    if (s == -1.0f)
        return binary_scalar(name, k->div, NNF__ELT_COST_ARITH, out, a, 1.0f, 1);
    return binary_scalar(name, nnf__elt_sleef_kernels()->pow,
                         NNF__ELT_COST_SLEEF, out, a, s, 0);
}
