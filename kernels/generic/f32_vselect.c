/* Selects on float spans: where(c, a, b) and ReLU's gradient. Both copy bits, so NaN
 * payloads survive. */
#include "kernels/eltwise.h"
#include "span.h"

NNF__SPAN_INLINE void select_step(size_t i, size_t m, const uint8_t *c, ptrdiff_t incc,
                                  const float *a, ptrdiff_t inca, const float *b,
                                  ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    nnf__vf v = nnf__v_select(nnf__ld_cond(NNF__AT(c, incc, i), incc, m),
                              nnf__ld(NNF__AT(a, inca, i), inca, m),
                              nnf__ld(NNF__AT(b, incb, i), incb, m));
    nnf__st(NNF__AT(y, incy, i), incy, m, v);
}

void NNF__KERNEL(f32_vselect)(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                              ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                              ptrdiff_t incy)
{
    size_t i = 0;
    for (; i + NNF__VL <= n; i += NNF__VL)
        select_step(i, NNF__VL, c, incc, a, inca, b, incb, y, incy);
    if (i < n)
        select_step(i, nnf__tail(n, i), c, incc, a, inca, b, incb, y, incy);
}

/* ReLU's gradient x <= 0 ? +0 : g: ordered, so a NaN x passes g as torch's
 * threshold_backward; g's bits are copied. */
static inline nnf__vf relu_grad_op(nnf__vf x, nnf__vf g)
{
    return nnf__v_select(nnf__v_le(x, nnf__v_zero()), nnf__v_zero(), g);
}

void NNF__KERNEL(f32_vrelu_backward)(size_t n, const float *x, ptrdiff_t incx, const float *g,
                                     ptrdiff_t incg, float *y, ptrdiff_t incy)
{
    nnf__span2(n, x, incx, g, incg, y, incy, relu_grad_op);
}
