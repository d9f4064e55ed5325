/* maximum and minimum on float spans: IEEE 754-2019 maximum/minimum with a NaN
 * propagated as a + b (kernels/eltwise.h); each ISA's fix-ups are its vec.h's. */
#include "kernels/eltwise.h"
#include "span.h"

NNF__DEFINE_BINARY(maximum, nnf__v_maximum, NNF__ARITH)
NNF__DEFINE_BINARY(minimum, nnf__v_minimum, NNF__ARITH)
