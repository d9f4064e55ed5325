/* The fused normalisation (x - a) / b on float spans, 8 lanes: a rounded subtraction
 * then a division, the bits of sub then div (kernels/eltwise.h) in one pass. */
#include "kernels/eltwise.h"
#include "span__avx2.h"

static inline __m256 sub_div8(__m256 x, __m256 a, __m256 b)
{
    return _mm256_div_ps(_mm256_sub_ps(x, a), b);
}

void nnf__f32_vsub_div__avx2(size_t n, const float *x, ptrdiff_t incx, const float *a,
                            ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                            ptrdiff_t incy)
{
    NNF__AVX2_TERNARY(n, x, incx, a, inca, b, incb, y, incy, sub_div8);
}
