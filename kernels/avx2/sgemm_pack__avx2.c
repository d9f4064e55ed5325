/* AVX2 packing of sgemm panels (see kernels/sgemm.h). The copy moves 8-float vectors;
 * the transpose goes through 8x8 register blocks, so neither touches a float twice.
 * Tails narrower than 8 fall back to scalar moves (no masked stores: slow on Zen 4). */
#include <immintrin.h>

#include "kernels/avx2/sgemm_transpose8x8.h"
#include "kernels/sgemm.h"

void nnf__sgemm_pack_copy__avx2(size_t kc, size_t w, size_t W, const float *src,
                                size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++) {
        const float *s = src + p * ld;
        float *o = out + p * W;
        size_t j = 0;
        for (; j + 8 <= w; j += 8)
            _mm256_storeu_ps(o + j, _mm256_loadu_ps(s + j));
        for (; j < w; j++)
            o[j] = s[j];
    }
}

void nnf__sgemm_pack_transpose__avx2(size_t kc, size_t w, size_t W, const float *src,
                                     size_t ld, float *out)
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
    for (; j < w; j++)
        for (size_t p = 0; p < kc; p++)
            out[p * W + j] = src[j * ld + p];
}
