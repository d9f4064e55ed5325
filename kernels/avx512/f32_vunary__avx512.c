/* Unary float spans that are exact per element, 16 lanes (definitions in
 * kernels/eltwise.h). Sign operations are bit operations, so NaNs keep their payload. */
#include "kernels/eltwise.h"
#include "span__avx512.h"

static inline __m512 copy16(__m512 x) { return x; }
static inline __m512 neg16(__m512 x) { return _mm512_xor_ps(x, _mm512_set1_ps(-0.0f)); }
static inline __m512 abs16(__m512 x) { return _mm512_abs_ps(x); }

static inline __m512 relu16(__m512 x)
{
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(x, neg, _mm512_setzero_ps());
}

static inline __m512 clamp16(__m512 x, __m512 lo, __m512 hi)
{
    __m512 t = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), lo);
    return _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, hi, _CMP_GT_OQ), hi);
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__avx512(size_t n, const float *x, ptrdiff_t incx, float *y,   \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        NNF__AVX512_UNARY(n, x, incx, y, incy, OP);                                       \
    }

DEFINE_UNARY(copy, copy16)
DEFINE_UNARY(neg, neg16)
DEFINE_UNARY(abs, abs16)
DEFINE_UNARY(sqrt, _mm512_sqrt_ps)
DEFINE_UNARY(relu, relu16)

void nnf__f32_vclamp__avx512(size_t n, const float *x, ptrdiff_t incx, float *y,
                             ptrdiff_t incy, float lo, float hi)
{
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#define CLAMP16(v) clamp16(v, vlo, vhi)
    NNF__AVX512_UNARY(n, x, incx, y, incy, CLAMP16);
#undef CLAMP16
}
