/* Portable packing of sgemm blocks (see kernels/sgemm_kernels.h): plain copies, each walking
 * its source in memory order. */
#include "kernels/scalar/kernels.h"

void nnf__sgemm_pack_copy__scalar(size_t kc, size_t w, size_t W, const float *src,
                                  size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++)
        for (size_t j0 = 0; j0 < w; j0 += W) {
            size_t n = w - j0 < W ? w - j0 : W;
            for (size_t j = 0; j < n; j++)
                out[j0 * kc + p * W + j] = src[p * ld + j0 + j];
        }
}

void nnf__sgemm_pack_transpose__scalar(size_t kc, size_t w, size_t W, const float *src,
                                       size_t ld, float *out)
{
    for (size_t j = 0; j < w; j++) {
        float *o = out + (j / W) * W * kc + j % W;
        for (size_t p = 0; p < kc; p++)
            o[p * W] = src[j * ld + p];
    }
}
