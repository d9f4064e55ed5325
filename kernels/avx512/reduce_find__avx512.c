/* First match on AVX-512: compare masks, and masked loads for the tail (never reading
 * past the end, which a full-width load could do across a page boundary). */
#include <immintrin.h>

#include "kernels/reduce.h"

static inline __mmask16 match_f32(__m512 v, __m512 value, int nan, int equal)
{
    __mmask16 eq = nan ? _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)
                       : _mm512_cmp_ps_mask(v, value, _CMP_EQ_OQ);
    return equal ? eq : (__mmask16)~eq;
}

size_t nnf__red_find_f32__avx512(size_t n, const float *x, float value, int equal)
{
    __m512 v = _mm512_set1_ps(value);
    int nan = value != value;
    for (size_t k = 0; k < n; k += 16) {
        size_t r = n - k;
        __mmask16 valid = r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1);
        __mmask16 hit = match_f32(_mm512_maskz_loadu_ps(valid, x + k), v, nan, equal) & valid;
        if (hit)
            return k + (size_t)__builtin_ctz(hit);
    }
    return n;
}

size_t nnf__red_find_u8__avx512(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    __m512i v = _mm512_set1_epi8((char)value);
    for (size_t k = 0; k < n; k += 64) {
        size_t r = n - k;
        __mmask64 valid = r >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << r) - 1);
        __mmask64 eq = _mm512_cmpeq_epi8_mask(_mm512_maskz_loadu_epi8(valid, x + k), v);
        __mmask64 hit = (equal ? eq : ~eq) & valid;
        if (hit)
            return k + (size_t)__builtin_ctzll(hit);
    }
    return n;
}
