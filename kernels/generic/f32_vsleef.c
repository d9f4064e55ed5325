/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's FMA-based u10
 * functions (the vector layer's nnf__v_exp ...), which give the same bits on every ISA. */
#include "kernels/eltwise.h"
#include "span.h"

/* 1 / (1 + exp(-x)): three IEEE steps, the same on every ISA. */
static inline nnf__vf sigmoid_op(nnf__vf x)
{
    const nnf__vf one = nnf__v_splat(1.0f);
    return nnf__v_div(one, nnf__v_add(one, nnf__v_exp(nnf__v_neg(x))));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        nnf__span1(n, x, incx, y, incy, OP);                                              \
    }

DEFINE_UNARY(exp, nnf__v_exp)
DEFINE_UNARY(log, nnf__v_log)
DEFINE_UNARY(tanh, nnf__v_tanh)
DEFINE_UNARY(sigmoid, sigmoid_op)

void NNF__KERNEL(f32_vpow)(size_t n, const float *a, ptrdiff_t inca, const float *b,
                           ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    nnf__span2(n, a, inca, b, incb, y, incy, nnf__v_pow);
}
