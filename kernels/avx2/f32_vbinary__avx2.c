/* Binary arithmetic on float spans, 8 lanes (definitions in kernels/eltwise.h). */
#include "kernels/eltwise.h"
#include "span__avx2.h"

/* vmaxps returns its second operand when the inputs are equal or either is NaN: the
 * equal case is fixed up with AND/OR (+0 beats -0 for the maximum), NaN with a + b,
 * exactly as the scalar definition. */
static inline __m256 max8(__m256 a, __m256 b)
{
    __m256 m = _mm256_max_ps(a, b);
    m = _mm256_blendv_ps(m, _mm256_and_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
    return _mm256_blendv_ps(m, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

static inline __m256 min8(__m256 a, __m256 b)
{
    __m256 m = _mm256_min_ps(a, b);
    m = _mm256_blendv_ps(m, _mm256_or_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
    return _mm256_blendv_ps(m, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

#define DEFINE_BINARY(name, OP)                                                           \
    void nnf__f32_v##name##__avx2(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, float *y, ptrdiff_t incy) \
    {                                                                                     \
        NNF__AVX2_BINARY(n, a, inca, b, incb, y, incy, OP);                               \
    }

DEFINE_BINARY(add, _mm256_add_ps)
DEFINE_BINARY(sub, _mm256_sub_ps)
DEFINE_BINARY(mul, _mm256_mul_ps)
DEFINE_BINARY(div, _mm256_div_ps)
DEFINE_BINARY(maximum, max8)
DEFINE_BINARY(minimum, min8)
