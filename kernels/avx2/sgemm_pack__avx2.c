/* AVX2 packing of sgemm blocks (see kernels/sgemm_kernels.h). The copy walks each source row
 * once and cuts it into the panels' rows with 8- and 4-float moves; the transpose goes
 * through 8x8 (then 4x4) register blocks. Tails narrower than 4 move as scalars (no
 * masked stores: they are very slow on Zen 4). */
#include <immintrin.h>

#include "kernels/avx2/sgemm_transpose8x8.h"
#include "kernels/avx2/kernels.h"

void nnf__sgemm_pack_copy__avx2(size_t kc, size_t w, size_t W, const float *src,
                                size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++) {
        const float *s = src + p * ld;
        for (size_t j0 = 0; j0 < w; j0 += W) {
            size_t n = w - j0 < W ? w - j0 : W;
            float *o = out + j0 * kc + p * W;
            const float *sj = s + j0;
            size_t j = 0;
            for (; j + 8 <= n; j += 8)
                _mm256_storeu_ps(o + j, _mm256_loadu_ps(sj + j));
            if (j + 4 <= n) {
                _mm_storeu_ps(o + j, _mm_loadu_ps(sj + j));
                j += 4;
            }
            for (; j < n; j++)
                o[j] = sj[j];
        }
    }
}

/* One panel: w <= W columns whose source rows are contiguous along k. */
static void transpose_panel(size_t kc, size_t w, size_t W, const float *src, size_t ld,
                            float *out)
{
    size_t j = 0;
    for (; j + 8 <= w; j += 8) {
        const float *s = src + j * ld;
        size_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 col[8];
            nnf__transpose8x8_avx2(s + p, ld, col);
            for (int q = 0; q < 8; q++)
                _mm256_storeu_ps(out + (p + q) * W + j, col[q]);
        }
        for (; p < kc; p++)
            for (size_t jj = 0; jj < 8; jj++)
                out[p * W + j + jj] = s[jj * ld + p];
    }
    /* A 12-row A panel (AVX-512's MR) leaves 4 rows: 4x4 SSE blocks, not scalars. */
    if (j + 4 <= w) {
        const float *s = src + j * ld;
        size_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            __m128 r0 = _mm_loadu_ps(s + p), r1 = _mm_loadu_ps(s + ld + p);
            __m128 r2 = _mm_loadu_ps(s + 2 * ld + p), r3 = _mm_loadu_ps(s + 3 * ld + p);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(out + (p + 0) * W + j, r0);
            _mm_storeu_ps(out + (p + 1) * W + j, r1);
            _mm_storeu_ps(out + (p + 2) * W + j, r2);
            _mm_storeu_ps(out + (p + 3) * W + j, r3);
        }
        for (; p < kc; p++)
            for (size_t jj = 0; jj < 4; jj++)
                out[p * W + j + jj] = s[jj * ld + p];
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

void nnf__sgemm_pack_transpose__avx2(size_t kc, size_t w, size_t W, const float *src,
                                     size_t ld, float *out)
{
    for (size_t j0 = 0; j0 < w; j0 += W)
        transpose_panel(kc, w - j0 < W ? w - j0 : W, W, src + j0 * ld, ld, out + j0 * kc);
}
