/* Portable packing of sgemm panels (see kernels/sgemm.h): plain copies. */
#include "kernels/sgemm.h"

void nnf__sgemm_pack_copy__scalar(size_t kc, size_t w, size_t W, const float *src,
                                  size_t ld, float *out)
{
    for (size_t p = 0; p < kc; p++)
        for (size_t j = 0; j < w; j++)
            out[p * W + j] = src[p * ld + j];
}

void nnf__sgemm_pack_transpose__scalar(size_t kc, size_t w, size_t W, const float *src,
                                       size_t ld, float *out)
{
    /* Walking src in its own order (j outer) reads each row of the panel once. */
    for (size_t j = 0; j < w; j++)
        for (size_t p = 0; p < kc; p++)
            out[p * W + j] = src[j * ld + p];
}
