/* An 8x8 transpose in ymm registers for the AVX2 packing and GEMV kernels.
 * Loading 128-bit halves straight into the two lanes (vinsertf128 from memory) does
 * the first of the three shuffle stages on the load ports, leaving 16 shuffles per
 * 64 floats. Included only by files compiled with -mavx2. */
#ifndef NNF_KERNELS_AVX2_SGEMM_TRANSPOSE8X8_H
#define NNF_KERNELS_AVX2_SGEMM_TRANSPOSE8X8_H

#include <immintrin.h>
#include <stddef.h>

/* col[q] = (src[0*ld + q], src[1*ld + q], ..., src[7*ld + q]) for q < 8. */
static inline void nnf__transpose8x8_avx2(const float *src, size_t ld, __m256 col[8])
{
#define NNF_ROWS_(r, off)                                                              \
    _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + (r) * ld + (off))), \
                         _mm_loadu_ps(src + ((r) + 4) * ld + (off)), 1)
    for (int half = 0; half < 2; half++) {
        int off = 4 * half;
        __m256 t0 = NNF_ROWS_(0, off), t1 = NNF_ROWS_(1, off);
        __m256 t2 = NNF_ROWS_(2, off), t3 = NNF_ROWS_(3, off);
        __m256 u0 = _mm256_unpacklo_ps(t0, t1), u1 = _mm256_unpackhi_ps(t0, t1);
        __m256 u2 = _mm256_unpacklo_ps(t2, t3), u3 = _mm256_unpackhi_ps(t2, t3);
        col[off + 0] = _mm256_shuffle_ps(u0, u2, 0x44);
        col[off + 1] = _mm256_shuffle_ps(u0, u2, 0xEE);
        col[off + 2] = _mm256_shuffle_ps(u1, u3, 0x44);
        col[off + 3] = _mm256_shuffle_ps(u1, u3, 0xEE);
    }
#undef NNF_ROWS_
}

#endif
