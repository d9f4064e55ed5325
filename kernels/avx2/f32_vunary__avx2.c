/* Unary float spans that are exact per element, 8 lanes (definitions in
 * kernels/eltwise.h). Sign operations are bit operations, so NaNs keep their payload. */
#include "kernels/eltwise.h"
#include "span__avx2.h"

static inline __m256 copy8(__m256 x) { return x; }
static inline __m256 neg8(__m256 x) { return _mm256_xor_ps(x, _mm256_set1_ps(-0.0f)); }
static inline __m256 abs8(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

static inline __m256 relu8(__m256 x)
{
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ), x);
}

static inline __m256 clamp8(__m256 x, __m256 lo, __m256 hi)
{
    __m256 t = _mm256_blendv_ps(x, lo, _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
    return _mm256_blendv_ps(t, hi, _mm256_cmp_ps(t, hi, _CMP_GT_OQ));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__avx2(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__AVX2_UNARY(n, x, incx, y, incy, OP);                                         \
    }

DEFINE_UNARY(copy, copy8)
DEFINE_UNARY(neg, neg8)
DEFINE_UNARY(abs, abs8)
DEFINE_UNARY(sqrt, _mm256_sqrt_ps)
DEFINE_UNARY(relu, relu8)

void nnf__f32_vclamp__avx2(size_t n, const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                           float lo, float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#define CLAMP8(v) clamp8(v, vlo, vhi)
    NNF__AVX2_UNARY(n, x, incx, y, incy, CLAMP8);
#undef CLAMP8
}
