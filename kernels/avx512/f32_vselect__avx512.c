/* Selects on float spans: where(c, a, b) and ReLU's gradient.
 * where(c, a, b), 16 lanes: 16 condition bytes widened and tested into
 * a mask register, then a masked move (bits copied, so NaN payloads survive). */
#include "kernels/eltwise.h"
#include "span__avx512.h"

/* Lanes whose byte is nonzero, from 16 bytes at stride inc (the first m when m < 16). */
static inline __mmask16 cond16(const uint8_t *c, ptrdiff_t inc, size_t m)
{
    __m128i bytes;
    if (inc == 1) {
        bytes = _mm_maskz_loadu_epi8(nnf__tail16(m), c);
    } else {
        uint8_t t[16] = {0};
        for (size_t j = 0; j < m; j++)
            t[j] = c[(ptrdiff_t)j * inc];
        bytes = _mm_loadu_si128((const __m128i *)t);
    }
    __m512i wide = _mm512_cvtepu8_epi32(bytes);
    return _mm512_test_epi32_mask(wide, wide);
}

void nnf__f32_vselect__avx512(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                              ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                              ptrdiff_t incy)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ptrdiff_t k = (ptrdiff_t)i;
        __m512 v = _mm512_mask_mov_ps(nnf__ld16(b + k * incb, incb),
                                      cond16(c + k * incc, incc, 16),
                                      nnf__ld16(a + k * inca, inca));
        nnf__st16(y + k * incy, incy, v);
    }
    if (i < n) {
        ptrdiff_t k = (ptrdiff_t)i;
        size_t m = n - i;
        __m512 v = _mm512_mask_mov_ps(nnf__ld16_part(b + k * incb, incb, m),
                                      cond16(c + k * incc, incc, m),
                                      nnf__ld16_part(a + k * inca, inca, m));
        nnf__st16_part(y + k * incy, incy, m, v);
    }
}

/* ReLU's gradient x <= 0 ? +0 : g: the lanes where x is not <= 0 (unordered counts,
 * so a NaN x passes g as torch's threshold_backward) keep g's bits, the rest are +0. */
static inline __m512 relu_grad16(__m512 x, __m512 g)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), g);
}

void nnf__f32_vrelu_backward__avx512(size_t n, const float *x, ptrdiff_t incx,
                                     const float *g, ptrdiff_t incg, float *y, ptrdiff_t incy)
{
    NNF__AVX512_BINARY(n, x, incx, g, incg, y, incy, relu_grad16);
}
