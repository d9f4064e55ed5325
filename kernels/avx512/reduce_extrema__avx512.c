/* Min/max keys on AVX-512: integer min/max of total-order keys (kernels/reduce.h). */
#include <immintrin.h>

#include "kernels/reduce.h"

static inline __m512i keys_of(__m512i bits)
{
    __m512i flip = _mm512_srli_epi32(_mm512_srai_epi32(bits, 31), 1);
    return _mm512_xor_si512(bits, flip);
}

static inline __mmask16 tail_mask(size_t r)
{
    return (__mmask16)((1u << r) - 1);
}

void nnf__red_extrema__avx512(size_t n, const float *x, int32_t keys[2])
{
    __m512i lo = _mm512_set1_epi32(keys[0]), hi = _mm512_set1_epi32(keys[1]);
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i key = keys_of(_mm512_loadu_si512(x + k));
        lo = _mm512_min_epi32(lo, key);
        hi = _mm512_max_epi32(hi, key);
    }
    if (k < n) {
        __mmask16 m = tail_mask(n - k);
        __m512i key = keys_of(_mm512_maskz_loadu_epi32(m, x + k));
        lo = _mm512_mask_min_epi32(lo, m, lo, key);
        hi = _mm512_mask_max_epi32(hi, m, hi, key);
    }
    keys[0] = _mm512_reduce_min_epi32(lo);
    keys[1] = _mm512_reduce_max_epi32(hi);
}

void nnf__red_extrema_cols__avx512(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    size_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512i key = keys_of(_mm512_loadu_si512(x + c));
        _mm512_storeu_si512(kmin + c, _mm512_min_epi32(_mm512_loadu_si512(kmin + c), key));
        _mm512_storeu_si512(kmax + c, _mm512_max_epi32(_mm512_loadu_si512(kmax + c), key));
    }
    if (c < n) {
        __mmask16 m = tail_mask(n - c);
        __m512i key = keys_of(_mm512_maskz_loadu_epi32(m, x + c));
        _mm512_mask_storeu_epi32(kmin + c, m,
                                 _mm512_min_epi32(_mm512_maskz_loadu_epi32(m, kmin + c), key));
        _mm512_mask_storeu_epi32(kmax + c, m,
                                 _mm512_max_epi32(_mm512_maskz_loadu_epi32(m, kmax + c), key));
    }
}
