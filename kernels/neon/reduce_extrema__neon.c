/* Min/max keys on NEON: integer min/max of total-order keys (kernels/reduce.h). */
#include <arm_neon.h>

#include "kernels/reduce.h"

static inline int32x4_t keys_of(int32x4_t bits)
{
    uint32x4_t flip = vshrq_n_u32(vreinterpretq_u32_s32(vshrq_n_s32(bits, 31)), 1);
    return veorq_s32(bits, vreinterpretq_s32_u32(flip));
}

void nnf__red_extrema__neon(size_t n, const float *x, int32_t keys[2])
{
    int32x4_t lo = vdupq_n_s32(keys[0]), hi = vdupq_n_s32(keys[1]);
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        int32x4_t key = keys_of(vld1q_s32((const int32_t *)(const void *)(x + k)));
        lo = vminq_s32(lo, key);
        hi = vmaxq_s32(hi, key);
    }
    int32_t kl = vminvq_s32(lo), kh = vmaxvq_s32(hi);
    keys[0] = kl;
    keys[1] = kh;
    nnf__red_extrema_steps(n - k, x + k, keys);
}

void nnf__red_extrema_cols__neon(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    size_t c = 0;
    for (; c + 4 <= n; c += 4) {
        int32x4_t key = keys_of(vld1q_s32((const int32_t *)(const void *)(x + c)));
        vst1q_s32(kmin + c, vminq_s32(vld1q_s32(kmin + c), key));
        vst1q_s32(kmax + c, vmaxq_s32(vld1q_s32(kmax + c), key));
    }
    nnf__red_extrema_cols_steps(n - c, x + c, kmin + c, kmax + c);
}
