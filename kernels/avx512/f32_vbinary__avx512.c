/* Binary arithmetic on float spans, 16 lanes (definitions in kernels/eltwise.h). */
#include "kernels/eltwise.h"
#include "span__avx512.h"

/* vmaxps returns its second operand when the inputs are equal or either is NaN: the
 * equal case is fixed up with AND/OR (+0 beats -0 for the maximum), NaN with a + b,
 * exactly as the scalar definition. */
static inline __m512 max16(__m512 a, __m512 b)
{
    __m512 m = _mm512_max_ps(a, b);
    m = _mm512_mask_and_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), a, b);
    return _mm512_mask_add_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}

static inline __m512 min16(__m512 a, __m512 b)
{
    __m512 m = _mm512_min_ps(a, b);
    m = _mm512_mask_or_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), a, b);
    return _mm512_mask_add_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}

#define DEFINE_BINARY(name, OP)                                                           \
    void nnf__f32_v##name##__avx512(size_t n, const float *a, ptrdiff_t inca,             \
                                    const float *b, ptrdiff_t incb, float *y,             \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        NNF__AVX512_BINARY(n, a, inca, b, incb, y, incy, OP);                             \
    }

DEFINE_BINARY(add, _mm512_add_ps)
DEFINE_BINARY(sub, _mm512_sub_ps)
DEFINE_BINARY(mul, _mm512_mul_ps)
DEFINE_BINARY(div, _mm512_div_ps)
DEFINE_BINARY(maximum, max16)
DEFINE_BINARY(minimum, min16)
