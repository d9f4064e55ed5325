/* Canonical-order sums on AVX-512: the 32 lanes are two zmm (lanes 0-15, 16-31), so each
 * zmm add is exactly 16 of the scalar definition's float adds. Tails use masked adds:
 * lanes past the end keep their value instead of being padded. */
#include <immintrin.h>

#include "kernels/reduce.h"

static inline __mmask16 tail_mask(size_t r)
{
    return r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1);
}

void nnf__red_sum_lanes__avx512(size_t n, const float *x, float *acc)
{
    __m512 a0 = _mm512_loadu_ps(acc), a1 = _mm512_loadu_ps(acc + 16);
    size_t k = 0;
    for (; k + 32 <= n; k += 32) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + k));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + k + 16));
    }
    if (k < n) {
        size_t r = n - k;
        __mmask16 m0 = tail_mask(r), m1 = r > 16 ? tail_mask(r - 16) : 0;
        a0 = _mm512_mask_add_ps(a0, m0, a0, _mm512_maskz_loadu_ps(m0, x + k));
        a1 = _mm512_mask_add_ps(a1, m1, a1, _mm512_maskz_loadu_ps(m1, x + k + 16));
    }
    _mm512_storeu_ps(acc, a0);
    _mm512_storeu_ps(acc + 16, a1);
}

void nnf__red_sqdev_lanes__avx512(size_t n, const float *x, float mean, float *acc)
{
    __m512 a0 = _mm512_loadu_ps(acc), a1 = _mm512_loadu_ps(acc + 16);
    __m512 m = _mm512_set1_ps(mean);
    size_t k = 0;
    for (; k + 32 <= n; k += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + k), m);
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + k + 16), m);
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(d0, d0));
        a1 = _mm512_add_ps(a1, _mm512_mul_ps(d1, d1));
    }
    if (k < n) {
        size_t r = n - k;
        __mmask16 m0 = tail_mask(r), m1 = r > 16 ? tail_mask(r - 16) : 0;
        __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m0, x + k), m);
        __m512 d1 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m1, x + k + 16), m);
        a0 = _mm512_mask_add_ps(a0, m0, a0, _mm512_mul_ps(d0, d0));
        a1 = _mm512_mask_add_ps(a1, m1, a1, _mm512_mul_ps(d1, d1));
    }
    _mm512_storeu_ps(acc, a0);
    _mm512_storeu_ps(acc + 16, a1);
}

void nnf__red_sum_cols__avx512(size_t n, const float *x, float *acc)
{
    size_t c = 0;
    for (; c + 16 <= n; c += 16)
        _mm512_storeu_ps(acc + c, _mm512_add_ps(_mm512_loadu_ps(acc + c), _mm512_loadu_ps(x + c)));
    if (c < n) {
        __mmask16 m = tail_mask(n - c);
        __m512 s = _mm512_add_ps(_mm512_maskz_loadu_ps(m, acc + c),
                                 _mm512_maskz_loadu_ps(m, x + c));
        _mm512_mask_storeu_ps(acc + c, m, s);
    }
}

void nnf__red_sqdev_cols__avx512(size_t n, const float *x, const float *mean, float *acc)
{
    size_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(mean + c));
        _mm512_storeu_ps(acc + c, _mm512_add_ps(_mm512_loadu_ps(acc + c), _mm512_mul_ps(d, d)));
    }
    if (c < n) {
        __mmask16 m = tail_mask(n - c);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + c),
                                 _mm512_maskz_loadu_ps(m, mean + c));
        __m512 s = _mm512_add_ps(_mm512_maskz_loadu_ps(m, acc + c), _mm512_mul_ps(d, d));
        _mm512_mask_storeu_ps(acc + c, m, s);
    }
}
