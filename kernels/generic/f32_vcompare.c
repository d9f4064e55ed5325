/* lt, le, gt, ge, eq and ne on float spans giving 0/1 bytes: ordered predicates (NaN
 * gives false) except ne, which is unordered (NaN gives true), as C's operators. */
#include "kernels/eltwise.h"
#include "span.h"

NNF__DEFINE_COMPARE(lt, nnf__v_lt)
NNF__DEFINE_COMPARE(le, nnf__v_le)
NNF__DEFINE_COMPARE(gt, nnf__v_gt)
NNF__DEFINE_COMPARE(ge, nnf__v_ge)
NNF__DEFINE_COMPARE(eq, nnf__v_eq)
NNF__DEFINE_COMPARE(ne, nnf__v_ne)
