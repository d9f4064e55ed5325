/* copy on float spans (incx 0 is fill): bits moved unchanged, NaN payloads included. */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf copy_op(nnf__vf x) { return x; }

NNF__DEFINE_UNARY(copy, copy_op, NNF__BITS)
