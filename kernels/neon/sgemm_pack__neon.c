/* NEON packing of sgemm blocks (see kernels/sgemm_kernels.h). The copy walks each source row
 * once and cuts it into the panels' rows with 4-float moves; the transpose goes
 * through 4x4 register blocks. Tails narrower than 4 move as scalars. */
#include <arm_neon.h>

#include "kernels/neon/sgemm_transpose4x4.h"
#include "kernels/neon/kernels.h"

void nnf__sgemm_pack_copy__neon(size_t kc, size_t w, size_t W, const float *src,
                                size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++) {
        const float *s = src + p * ld;
        for (size_t j0 = 0; j0 < w; j0 += W) {
            size_t n = w - j0 < W ? w - j0 : W;
            float *o = out + j0 * kc + p * W;
            const float *sj = s + j0;
            size_t j = 0;
            for (; j + 4 <= n; j += 4)
                vst1q_f32(o + j, vld1q_f32(sj + j));
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
    for (; j + 4 <= w; j += 4) {
        const float *s = src + j * ld;
        size_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            float32x4_t col[4];
            nnf__transpose4x4_neon(s + p, ld, col);
            for (int q = 0; q < 4; q++)
                vst1q_f32(out + (p + q) * W + j, col[q]);
        }
        for (; p < kc; p++)
            for (size_t jj = 0; jj < 4; jj++)
                out[p * W + j + jj] = s[jj * ld + p];
    }
    for (; j < w; j++)
        for (size_t p = 0; p < kc; p++)
            out[p * W + j] = src[j * ld + p];
}

void nnf__sgemm_pack_transpose__neon(size_t kc, size_t w, size_t W, const float *src,
                                     size_t ld, float *out)
{
    for (size_t j0 = 0; j0 < w; j0 += W)
        transpose_panel(kc, w - j0 < W ? w - j0 : W, W, src + j0 * ld, ld, out + j0 * kc);
}
