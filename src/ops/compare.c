/* Broadcasting comparisons giving NNF_BOOL tensors (IEEE: NaN compares false except ne). */
#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

static nnf_status compare(const char *name, nnf__compare_kernel fn, nnf_tensor **out,
                          const nnf_tensor *a, const nnf__elt_in *b)
{
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_COMPARE, .fn.compare = fn,
                      .cost = NNF__ELT_COST_ARITH};
    nnf__elt_in in[2] = {nnf__elt_tensor(a), *b};
    return nnf__elt_apply(&op, out, NNF_BOOL, 2, in);
}

static nnf_status compare_tensors(const char *name, nnf__compare_kernel fn, nnf_tensor **out,
                                  const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_FORWARD(nnf__elt_check_f32(name, "b", b));
    nnf__elt_in in = nnf__elt_tensor(b);
    return compare(name, fn, out, a, &in);
}

static nnf_status compare_scalar(const char *name, nnf__compare_kernel fn, nnf_tensor **out,
                                 const nnf_tensor *a, float s)
{
    nnf__elt_in in = nnf__elt_scalar(&s);
    return compare(name, fn, out, a, &in);
}

#define DEFINE_COMPARE(op)                                                                \
    nnf_status nnf_##op(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)       \
    {                                                                                     \
        NNF_PUBLIC("nnf_" #op);                                                           \
        return compare_tensors("nnf_" #op, nnf__elt_kernels()->op, out, a, b);            \
    }                                                                                     \
    nnf_status nnf_##op##_scalar(nnf_tensor **out, const nnf_tensor *a, float s)          \
    {                                                                                     \
        NNF_PUBLIC("nnf_" #op "_scalar");                                                 \
        return compare_scalar("nnf_" #op "_scalar", nnf__elt_kernels()->op, out, a, s);   \
    }

DEFINE_COMPARE(lt)
DEFINE_COMPARE(le)
DEFINE_COMPARE(gt)
DEFINE_COMPARE(ge)
DEFINE_COMPARE(eq)
DEFINE_COMPARE(ne)
