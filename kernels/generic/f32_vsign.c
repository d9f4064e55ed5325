/* neg and abs on float spans: sign-bit operations, so NaNs keep their payload. */
#include "kernels/eltwise.h"
#include "span.h"

NNF__DEFINE_UNARY(neg, nnf__v_neg, NNF__BITS)
NNF__DEFINE_UNARY(abs, nnf__v_abs, NNF__BITS)
