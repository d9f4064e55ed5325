/* First match on NEON: compare 4 floats (16 bytes) at a time and test the whole vector
 * with one horizontal max; the position inside a hit vector is found by scalar code. */
#include <arm_neon.h>

#include "kernels/reduce.h"

size_t nnf__red_find_f32__neon(size_t n, const float *x, float value, int equal)
{
    float32x4_t v = vdupq_n_f32(value);
    int nan = value != value;
    int want = equal != 0;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        float32x4_t xv = vld1q_f32(x + k);
        /* vceqq(x, x) is false exactly for NaN. */
        uint32x4_t eq = nan ? vmvnq_u32(vceqq_f32(xv, xv)) : vceqq_f32(xv, v);
        uint32x4_t hit = want ? eq : vmvnq_u32(eq);
        if (vmaxvq_u32(hit))
            break;
    }
    for (; k < n; k++)
        if ((nan ? x[k] != x[k] : x[k] == value) == want)
            return k;
    return n;
}

size_t nnf__red_find_u8__neon(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    uint8x16_t v = vdupq_n_u8(value);
    int want = equal != 0;
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        uint8x16_t eq = vceqq_u8(vld1q_u8(x + k), v);
        uint8x16_t hit = want ? eq : vmvnq_u8(eq);
        if (vmaxvq_u8(hit))
            break;
    }
    for (; k < n; k++)
        if ((x[k] == value) == want)
            return k;
    return n;
}
