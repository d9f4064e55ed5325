/* nnf_where: the engine's three-operand case (condition, then, else broadcast together). */
#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/eltwise_iter.h"

nnf_status nnf_where(nnf_tensor **out, const nnf_tensor *cond, const nnf_tensor *a,
                     const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_where");
    const char *name = "nnf_where";
    NNF_RETURN_IF(cond == NULL, NNF_ERR_NULL, "%s: cond is NULL", name);
    NNF_RETURN_IF(cond->dtype != NNF_BOOL, NNF_ERR_DTYPE,
                  "%s: expected a bool tensor for cond", name);
    NNF_FORWARD(nnf__elt_check_f32(name, "a", a));
    NNF_FORWARD(nnf__elt_check_f32(name, "b", b));
    nnf__elt_op op = {.name = name, .kind = NNF__ELT_SELECT,
                      .fn.select = nnf__elt_kernels()->select, .cost = NNF__ELT_COST_ARITH};
    nnf__elt_in in[3] = {nnf__elt_tensor(cond), nnf__elt_tensor(a), nnf__elt_tensor(b)};
    return nnf__elt_apply(&op, out, NNF_F32, 3, in);
}
