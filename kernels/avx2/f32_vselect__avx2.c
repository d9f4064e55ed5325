/* Selects on float spans: where(c, a, b) and ReLU's gradient.
 * where(c, a, b), 8 lanes: 8 condition bytes widened to a lane mask,
 * then a blend (bits copied, so NaN payloads survive). */
#include <string.h>

#include "kernels/eltwise.h"
#include "span__avx2.h"

/* Lanes whose byte is nonzero, from 8 bytes at stride inc (the first m when m < 8). */
static inline __m256 cond8(const uint8_t *c, ptrdiff_t inc, size_t m)
{
    uint8_t t[8] = {0};
    if (inc == 1 && m == 8) {
        memcpy(t, c, 8);
    } else {
        for (size_t j = 0; j < m; j++)
            t[j] = c[(ptrdiff_t)j * inc];
    }
    __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)t));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(wide, _mm256_setzero_si256()));
}

void nnf__f32_vselect__avx2(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                            ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                            ptrdiff_t incy)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        ptrdiff_t k = (ptrdiff_t)i;
        __m256 mask = cond8(c + k * incc, incc, 8);
        __m256 v = _mm256_blendv_ps(nnf__ld8(b + k * incb, incb),
                                    nnf__ld8(a + k * inca, inca), mask);
        nnf__st8(y + k * incy, incy, v);
    }
    if (i < n) {
        ptrdiff_t k = (ptrdiff_t)i;
        size_t m = n - i;
        __m256 v = _mm256_blendv_ps(nnf__ld8_part(b + k * incb, incb, m),
                                    nnf__ld8_part(a + k * inca, inca, m),
                                    cond8(c + k * incc, incc, m));
        nnf__st8_part(y + k * incy, incy, m, v);
    }
}

/* ReLU's gradient x <= 0 ? +0 : g: the lanes where x is not <= 0 (unordered counts,
 * so a NaN x passes g as torch's threshold_backward) keep g's bits, the rest are +0. */
static inline __m256 relu_grad8(__m256 x, __m256 g)
{
    return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NLE_UQ), g);
}

void nnf__f32_vrelu_backward__avx2(size_t n, const float *x, ptrdiff_t incx, const float *g,
                                   ptrdiff_t incg, float *y, ptrdiff_t incy)
{
    NNF__AVX2_BINARY(n, x, incx, g, incg, y, incy, relu_grad8);
}
