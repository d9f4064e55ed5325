/* First match on AVX2: compare + movemask per vector, scalar tail. */
#include <immintrin.h>

#include "kernels/reduce.h"

size_t nnf__red_find_f32__avx2(size_t n, const float *x, float value, int equal)
{
    __m256 v = _mm256_set1_ps(value);
    int nan = value != value;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 xv = _mm256_loadu_ps(x + k);
        int eq = _mm256_movemask_ps(nan ? _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q)
                                        : _mm256_cmp_ps(xv, v, _CMP_EQ_OQ));
        int hit = equal ? eq : ~eq & 0xFF;
        if (hit)
            return k + (size_t)__builtin_ctz((unsigned)hit);
    }
    int want = equal != 0;
    for (; k < n; k++)
        if ((nan ? x[k] != x[k] : x[k] == value) == want)
            return k;
    return n;
}

size_t nnf__red_find_u8__avx2(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    __m256i v = _mm256_set1_epi8((char)value);
    size_t k = 0;
    for (; k + 32 <= n; k += 32) {
        unsigned eq = (unsigned)_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(x + k)), v));
        unsigned hit = equal ? eq : ~eq;
        if (hit)
            return k + (size_t)__builtin_ctz(hit);
    }
    int want = equal != 0;
    for (; k < n; k++)
        if ((x[k] == value) == want)
            return k;
    return n;
}
