/* The columns of an AVX2 packing panel narrower than its 8x8 transposes
 * (kernels/generic/sgemm_pack.c): 4x4 SSE blocks, then pairs, then a single column.
 * Included only by files compiled with -mavx2. */
#ifndef NNF_KERNELS_AVX2_SGEMM_TRANSPOSE_NARROW_H
#define NNF_KERNELS_AVX2_SGEMM_TRANSPOSE_NARROW_H

#include <immintrin.h>
#include <stddef.h>

/* out[p * W + j] = src[j * ld + p] for j < w (< 8) and p < kc. */
static inline void nnf__transpose_narrow_avx2(size_t kc, size_t w, size_t W, const float *src,
                                              size_t ld, float *out)
{
    size_t j = 0;
    /* A 12-row A panel (AVX-512's MR) leaves 4 rows: 4x4 SSE blocks, not scalars. */
    if (w >= 4) {
        const float *s = src;
        size_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            __m128 r0 = _mm_loadu_ps(s + p), r1 = _mm_loadu_ps(s + ld + p);
            __m128 r2 = _mm_loadu_ps(s + 2 * ld + p), r3 = _mm_loadu_ps(s + 3 * ld + p);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(out + (p + 0) * W, r0);
            _mm_storeu_ps(out + (p + 1) * W, r1);
            _mm_storeu_ps(out + (p + 2) * W, r2);
            _mm_storeu_ps(out + (p + 3) * W, r3);
        }
        for (; p < kc; p++)
            for (size_t jj = 0; jj < 4; jj++)
                out[p * W + jj] = s[jj * ld + p];
        j += 4;
    }
    /* Pairs of columns (x @ w.t() with n = 10 leaves 2): an unpack interleaves 4 k
     * steps of both, stored as 64-bit halves, 2 loads + 2 shuffles + 4 stores per 8
     * floats instead of 8 scalar moves: packing 5x784x10 TransB went from 15.6k to 8.8k
     * instructions (callgrind). */
    for (; j + 2 <= w; j += 2) {
        const float *s = src + j * ld;
        size_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            __m128 r0 = _mm_loadu_ps(s + p), r1 = _mm_loadu_ps(s + ld + p);
            __m128 lo = _mm_unpacklo_ps(r0, r1), hi = _mm_unpackhi_ps(r0, r1);
            _mm_storel_pi((__m64 *)(out + (p + 0) * W + j), lo);
            _mm_storeh_pi((__m64 *)(out + (p + 1) * W + j), lo);
            _mm_storel_pi((__m64 *)(out + (p + 2) * W + j), hi);
            _mm_storeh_pi((__m64 *)(out + (p + 3) * W + j), hi);
        }
        for (; p < kc; p++) {
            out[p * W + j] = s[p];
            out[p * W + j + 1] = s[ld + p];
        }
    }
    if (j < w)
        for (size_t p = 0; p < kc; p++)
            out[p * W + j] = src[j * ld + p];
}

#endif
