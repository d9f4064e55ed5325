/* AVX-512 packing copy (the layout of kernels/sgemm_kernels.h): each source row is cut
 * into the panels' rows with 16-float moves, the last of a panel row masked, four rows
 * at a time. The AVX2 copy moves 8 floats, then 4, then singles, deciding the width of
 * every piece in the loop; from the L1/L2 (Zen 5, TSC ticks, medians) an 8-wide A panel
 * of A transposed, 384 deep, took 1430 there and takes 920 here, a 48-wide B panel
 * 3280 and 2750, a 16-wide edge panel 2180 and 1180.
 * The transpose moves 16x16 and 8x16 blocks (sgemm_transpose16x16.h): a 384 x 48 B panel
 * of a transposed B (the big MLP's x @ W1^T, ld 784) took 2960 ticks through AVX2's 8x8
 * blocks and takes 2200-2600, a 384 x 384 block 27100 and 22900, the A packer of 4
 * 8-row panels 384 deep (any A stored by rows) 1700 and 1440 (best of 300, loaded). */
#include <immintrin.h>

#include "kernels/avx2/kernels.h"
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/sgemm_transpose16x16.h"

/* One panel row of n <= W floats (n >= 1): full vectors, then a half one, then a masked
 * one. The half vector is AVX-512's 8-row A panels: a transposed A's packer of 4 panels
 * (sgemm_packed.c) took 1.38 us per 32 x 384 block from the L1/L2 through masked
 * 16-wide moves and 0.64 us through 8-wide ones (best of 2000). */
static inline __attribute__((always_inline)) void copy_row(float *o, const float *s, size_t n)
{
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(o + j, _mm512_loadu_ps(s + j));
    if (j + 8 <= n) {
        _mm256_storeu_ps(o + j, _mm256_loadu_ps(s + j));
        j += 8;
    }
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(o + j, m, _mm512_maskz_loadu_ps(m, s + j));
    }
}

void nnf__sgemm_pack_copy__avx512(size_t kc, size_t w, size_t W, const float *src, size_t ld,
                                  float *out)
{
    /* Rows outside, so each source row is read once front to back (a whole B block per
     * call walks the rows of its source, not down a column of rows per panel). */
    size_t p = 0;
    for (; p + 4 <= kc; p += 4)
        for (size_t j0 = 0; j0 < w; j0 += W) {
            const size_t n = w - j0 < W ? w - j0 : W;
            const float *s = src + p * ld + j0;
            float *o = out + j0 * kc + p * W;
            copy_row(o, s, n);
            copy_row(o + W, s + ld, n);
            copy_row(o + 2 * W, s + 2 * ld, n);
            copy_row(o + 3 * W, s + 3 * ld, n);
        }
    for (; p < kc; p++)
        for (size_t j0 = 0; j0 < w; j0 += W)
            copy_row(out + j0 * kc + p * W, src + p * ld + j0, w - j0 < W ? w - j0 : W);
}

void nnf__sgemm_pack_transpose__avx512(size_t kc, size_t w, size_t W, const float *src,
                                       size_t ld, float *out)
{
    const size_t kc16 = kc - kc % 16;
    for (size_t j0 = 0; j0 < w; j0 += W) {
        const size_t n = w - j0 < W ? w - j0 : W;
        const float *s = src + j0 * ld;
        float *o = out + j0 * kc;
        size_t j = 0;
        for (; j + 16 <= n; j += 16)
            for (size_t p = 0; p < kc16; p += 16)
                nnf__transpose16_avx512(s + j * ld + p, ld, o + p * W + j, W, 16);
        for (; j + 8 <= n; j += 8)
            for (size_t p = 0; p < kc16; p += 16)
                nnf__transpose16_avx512(s + j * ld + p, ld, o + p * W + j, W, 8);
        /* The rest is AVX2's, called on sub-blocks of this panel (each at most one panel
         * wide, so its panel stride never applies): the kc % 16 last steps of the
         * 8- and 16-column groups, then the columns past them (fewer than 8). */
        if (j > 0 && kc16 < kc)
            nnf__sgemm_pack_transpose__avx2(kc - kc16, j, W, s + kc16, ld, o + kc16 * W);
        if (j < n)
            nnf__sgemm_pack_transpose__avx2(kc, n - j, W, s + j * ld, ld, o + j);
    }
}
