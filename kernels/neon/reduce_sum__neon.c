/* Canonical-order sums on NEON: the 32 lanes are eight q registers (lanes 4i..4i+3 in
 * a[i]), so each vaddq is 4 of the scalar definition's float adds; vmulq and vsubq, never
 * vfmaq, so the squares round exactly as on x86. Tails finish with scalar adds. */
#include <arm_neon.h>

#include "kernels/reduce.h"

void nnf__red_sum_lanes__neon(size_t n, const float *x, float *acc)
{
    float32x4_t a[8];
    for (int i = 0; i < 8; i++)
        a[i] = vld1q_f32(acc + 4 * i);
    size_t k = 0;
    for (; k + 32 <= n; k += 32)
        for (int i = 0; i < 8; i++)
            a[i] = vaddq_f32(a[i], vld1q_f32(x + k + 4 * i));
    for (int i = 0; i < 8; i++)
        vst1q_f32(acc + 4 * i, a[i]);
    for (size_t j = 0; k + j < n; j++)
        acc[j] += x[k + j];
}

void nnf__red_sqdev_lanes__neon(size_t n, const float *x, float mean, float *acc)
{
    float32x4_t a[8];
    float32x4_t m = vdupq_n_f32(mean);
    for (int i = 0; i < 8; i++)
        a[i] = vld1q_f32(acc + 4 * i);
    size_t k = 0;
    for (; k + 32 <= n; k += 32)
        for (int i = 0; i < 8; i++) {
            float32x4_t d = vsubq_f32(vld1q_f32(x + k + 4 * i), m);
            a[i] = vaddq_f32(a[i], vmulq_f32(d, d));
        }
    for (int i = 0; i < 8; i++)
        vst1q_f32(acc + 4 * i, a[i]);
    for (size_t j = 0; k + j < n; j++) {
        float d = x[k + j] - mean;
        acc[j] += d * d;
    }
}

void nnf__red_sum_cols__neon(size_t n, const float *x, float *acc)
{
    size_t c = 0;
    for (; c + 4 <= n; c += 4)
        vst1q_f32(acc + c, vaddq_f32(vld1q_f32(acc + c), vld1q_f32(x + c)));
    for (; c < n; c++)
        acc[c] += x[c];
}

void nnf__red_sqdev_cols__neon(size_t n, const float *x, const float *mean, float *acc)
{
    size_t c = 0;
    for (; c + 4 <= n; c += 4) {
        float32x4_t d = vsubq_f32(vld1q_f32(x + c), vld1q_f32(mean + c));
        vst1q_f32(acc + c, vaddq_f32(vld1q_f32(acc + c), vmulq_f32(d, d)));
    }
    for (; c < n; c++) {
        float d = x[c] - mean[c];
        acc[c] += d * d;
    }
}
