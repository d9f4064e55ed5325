/* Canonical-order sums on AVX2: the 32 lanes are four ymm (lanes 0-7, ..., 24-31), so
 * each ymm add is 8 of the scalar definition's float adds. Tails (< 32 values) finish
 * with scalar adds on the stored lanes: AVX2 masked loads are slow on Zen 4. */
#include <immintrin.h>

#include "kernels/reduce.h"

void nnf__red_sum_lanes__avx2(size_t n, const float *x, float *acc)
{
    __m256 a0 = _mm256_loadu_ps(acc), a1 = _mm256_loadu_ps(acc + 8);
    __m256 a2 = _mm256_loadu_ps(acc + 16), a3 = _mm256_loadu_ps(acc + 24);
    size_t k = 0;
    for (; k + 32 <= n; k += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + k));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + k + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + k + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + k + 24));
    }
    _mm256_storeu_ps(acc, a0);
    _mm256_storeu_ps(acc + 8, a1);
    _mm256_storeu_ps(acc + 16, a2);
    _mm256_storeu_ps(acc + 24, a3);
    for (size_t j = 0; k + j < n; j++)
        acc[j] += x[k + j];
}

void nnf__red_sqdev_lanes__avx2(size_t n, const float *x, float mean, float *acc)
{
    __m256 a0 = _mm256_loadu_ps(acc), a1 = _mm256_loadu_ps(acc + 8);
    __m256 a2 = _mm256_loadu_ps(acc + 16), a3 = _mm256_loadu_ps(acc + 24);
    __m256 m = _mm256_set1_ps(mean);
    size_t k = 0;
    for (; k + 32 <= n; k += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + k), m);
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + k + 8), m);
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + k + 16), m);
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(x + k + 24), m);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(d0, d0));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(d1, d1));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(d2, d2));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(d3, d3));
    }
    _mm256_storeu_ps(acc, a0);
    _mm256_storeu_ps(acc + 8, a1);
    _mm256_storeu_ps(acc + 16, a2);
    _mm256_storeu_ps(acc + 24, a3);
    for (size_t j = 0; k + j < n; j++) {
        float d = x[k + j] - mean;
        acc[j] += d * d;
    }
}

void nnf__red_sum_cols__avx2(size_t n, const float *x, float *acc)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8)
        _mm256_storeu_ps(acc + c, _mm256_add_ps(_mm256_loadu_ps(acc + c), _mm256_loadu_ps(x + c)));
    for (; c < n; c++)
        acc[c] += x[c];
}

void nnf__red_sqdev_cols__avx2(size_t n, const float *x, const float *mean, float *acc)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(mean + c));
        _mm256_storeu_ps(acc + c, _mm256_add_ps(_mm256_loadu_ps(acc + c), _mm256_mul_ps(d, d)));
    }
    for (; c < n; c++) {
        float d = x[c] - mean[c];
        acc[c] += d * d;
    }
}
