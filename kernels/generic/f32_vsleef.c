/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's FMA-based u10
 * functions (the vector layer's nnf__v_exp ...), which give the same bits on every ISA
 * (scalar: purecfma where the CPU has FMA). */
#include "kernels/eltwise.h"
#include "span.h"

/* 1 / (1 + exp(-x)): three IEEE steps, the same on every ISA. */
static inline nnf__vf sigmoid_op(nnf__vf x)
{
    const nnf__vf one = nnf__v_splat(1.0f);
    return nnf__v_div(one, nnf__v_add(one, nnf__v_exp(nnf__v_neg(x))));
}

NNF__DEFINE_UNARY(exp, nnf__v_exp, NNF__ARITH)
NNF__DEFINE_UNARY(log, nnf__v_log, NNF__ARITH)
NNF__DEFINE_UNARY(tanh, nnf__v_tanh, NNF__ARITH)
NNF__DEFINE_UNARY(sigmoid, sigmoid_op, NNF__ARITH)
NNF__DEFINE_BINARY(pow, nnf__v_pow, NNF__ARITH)
