/* add, sub, mul, div and sqrt on float spans: one IEEE operation per element. */
#include "kernels/eltwise.h"
#include "span.h"

NNF__DEFINE_BINARY(add, nnf__v_add, NNF__ARITH)
NNF__DEFINE_BINARY(sub, nnf__v_sub, NNF__ARITH)
NNF__DEFINE_BINARY(mul, nnf__v_mul, NNF__ARITH)
NNF__DEFINE_BINARY(div, nnf__v_div, NNF__ARITH)
NNF__DEFINE_UNARY(sqrt, nnf__v_sqrt, NNF__ARITH)
