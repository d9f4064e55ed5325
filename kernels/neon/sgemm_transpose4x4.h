/* A 4x4 transpose in q registers for the NEON packing and GEMV kernels: vtrn on
 * 32-bit lanes, then on 64-bit pairs (4 shuffles per 16 floats). */
#ifndef NNF_KERNELS_NEON_SGEMM_TRANSPOSE4X4_H
#define NNF_KERNELS_NEON_SGEMM_TRANSPOSE4X4_H

#include <arm_neon.h>
#include <stddef.h>

/* col[q] = (src[0*ld + q], src[1*ld + q], src[2*ld + q], src[3*ld + q]) for q < 4. */
static inline void nnf__transpose4x4_neon(const float *src, size_t ld, float32x4_t col[4])
{
    float32x4_t r0 = vld1q_f32(src), r1 = vld1q_f32(src + ld);
    float32x4_t r2 = vld1q_f32(src + 2 * ld), r3 = vld1q_f32(src + 3 * ld);
    float64x2_t d0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));
    float64x2_t d1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
    float64x2_t d2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
    float64x2_t d3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
    col[0] = vreinterpretq_f32_f64(vtrn1q_f64(d0, d2));
    col[1] = vreinterpretq_f32_f64(vtrn1q_f64(d1, d3));
    col[2] = vreinterpretq_f32_f64(vtrn2q_f64(d0, d2));
    col[3] = vreinterpretq_f32_f64(vtrn2q_f64(d1, d3));
}

#endif
