/* NEON packing of sgemm panels (see kernels/sgemm.h). The copy moves 4-float vectors;
 * the transpose goes through 4x4 register blocks. Tails narrower than 4 are moved
 * as scalars. */
#include <arm_neon.h>

#include "kernels/neon/sgemm_transpose4x4.h"
#include "kernels/sgemm.h"

void nnf__sgemm_pack_copy__neon(size_t kc, size_t w, size_t W, const float *src,
                                size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++) {
        const float *s = src + p * ld;
        float *o = out + p * W;
        size_t j = 0;
        for (; j + 4 <= w; j += 4)
            vst1q_f32(o + j, vld1q_f32(s + j));
        for (; j < w; j++)
            o[j] = s[j];
    }
}

void nnf__sgemm_pack_transpose__neon(size_t kc, size_t w, size_t W, const float *src,
                                     size_t ld, float *out)
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
