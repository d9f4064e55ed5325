/* The fused normalisation (x - a) / b on float spans, 16 lanes: a rounded subtraction
 * then a division, the bits of sub then div (kernels/eltwise.h) in one pass. */
#include "kernels/eltwise.h"
#include "span__avx512.h"

static inline __m512 sub_div16(__m512 x, __m512 a, __m512 b)
{
    return _mm512_div_ps(_mm512_sub_ps(x, a), b);
}

void nnf__f32_vsub_div__avx512(size_t n, const float *x, ptrdiff_t incx, const float *a,
                              ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                              ptrdiff_t incy)
{
    NNF__AVX512_TERNARY(n, x, incx, a, inca, b, incb, y, incy, sub_div16);
}
