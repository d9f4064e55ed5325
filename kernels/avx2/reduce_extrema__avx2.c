/* Min/max keys on AVX2: integer min/max of total-order keys (kernels/reduce.h). */
#include <immintrin.h>

#include "kernels/reduce.h"

static inline __m256i keys_of(__m256i bits)
{
    __m256i flip = _mm256_srli_epi32(_mm256_srai_epi32(bits, 31), 1);
    return _mm256_xor_si256(bits, flip);
}

void nnf__red_extrema__avx2(size_t n, const float *x, int32_t keys[2])
{
    __m256i lo = _mm256_set1_epi32(keys[0]), hi = _mm256_set1_epi32(keys[1]);
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256i key = keys_of(_mm256_loadu_si256((const __m256i *)(x + k)));
        lo = _mm256_min_epi32(lo, key);
        hi = _mm256_max_epi32(hi, key);
    }
    int32_t l[8], h[8];
    _mm256_storeu_si256((__m256i *)l, lo);
    _mm256_storeu_si256((__m256i *)h, hi);
    int32_t kl = l[0], kh = h[0];
    for (int j = 1; j < 8; j++) {
        kl = l[j] < kl ? l[j] : kl;
        kh = h[j] > kh ? h[j] : kh;
    }
    keys[0] = kl;
    keys[1] = kh;
    nnf__red_extrema_steps(n - k, x + k, keys);
}

void nnf__red_extrema_cols__avx2(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256i key = keys_of(_mm256_loadu_si256((const __m256i *)(x + c)));
        __m256i *pl = (__m256i *)(kmin + c), *ph = (__m256i *)(kmax + c);
        _mm256_storeu_si256(pl, _mm256_min_epi32(_mm256_loadu_si256(pl), key));
        _mm256_storeu_si256(ph, _mm256_max_epi32(_mm256_loadu_si256(ph), key));
    }
    nnf__red_extrema_cols_steps(n - c, x + c, kmin + c, kmax + c);
}
