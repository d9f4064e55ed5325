/* select on float spans: where(c, a, b) = c ? a : b by a 0/1 byte, bits copied (NaN
 * payloads survive). */
#include "kernels/eltwise.h"
#include "span.h"

NNF__SPAN_INLINE void select_step(size_t i, size_t m, const uint8_t *c, ptrdiff_t incc,
                                  const float *a, ptrdiff_t inca, const float *b,
                                  ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    nnf__vf v = nnf__v_select(nnf__ld_cond(NNF__AT(c, incc, i), incc, m),
                              nnf__ld(NNF__AT(a, inca, i), inca, m),
                              nnf__ld(NNF__AT(b, incb, i), incb, m));
    nnf__st(NNF__AT(y, incy, i), incy, m, v, NNF__BITS);
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
