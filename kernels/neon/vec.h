/* The NEON (AdvSIMD) vector layer under kernels/generic/: 4 float lanes in a q register,
 * lane masks as all-ones / zero lanes. Static inline only.
 *
 * Tails go through a 4-float stack buffer; the padding lanes are zero.
 */
#ifndef NNF_KERNELS_NEON_VEC_H
#define NNF_KERNELS_NEON_VEC_H

#include <arm_neon.h>
#include <math.h>   /* before sleef.h, which keys some declarations on FP_FAST_FMA */
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/neon/sgemm_transpose4x4.h"

#define NNF__VL 4           /* float lanes */
#define NNF__VL_U8 16       /* byte lanes of nnf__v_eq_u8_bits */
#define NNF__KERNEL(name) nnf__##name##__neon

typedef float32x4_t nnf__vf;    /* NNF__VL floats */
typedef int32x4_t nnf__vi;      /* NNF__VL int32 */
typedef uint32x4_t nnf__vm;     /* all-ones lanes where true */

static inline nnf__vm nnf__v_first(size_t m)
{
    const uint32_t iota[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(iota), vdupq_n_u32((uint32_t)m));
}

static inline nnf__vf nnf__v_load(const float *x) { return vld1q_f32(x); }
static inline void nnf__v_store(float *y, nnf__vf v) { vst1q_f32(y, v); }
static inline nnf__vf nnf__v_splat(float x) { return vdupq_n_f32(x); }
static inline nnf__vf nnf__v_zero(void) { return vdupq_n_f32(0.0f); }

/* The first m (< 4) lanes; the others are zero. */
static inline nnf__vf nnf__v_load_part(const float *x, size_t m)
{
    float t[4] = {0};
    memcpy(t, x, m * sizeof *x);
    return vld1q_f32(t);
}

static inline void nnf__v_store_part(float *y, size_t m, nnf__vf v)
{
    float t[4];
    vst1q_f32(t, v);
    memcpy(y, t, m * sizeof *y);
}

/* m (< 4) floats from x to y. */
static inline void nnf__v_copy_part(float *y, const float *x, size_t m)
{
    memcpy(y, x, m * sizeof *x);
}

/* FNEG/FABS only touch the sign bit. FMAX/FMIN already are the IEEE 754-2019
 * maximum/minimum the scalar code spells out: -0 < +0, and a NaN operand propagates
 * through the same NaN rules as FADD. */
static inline nnf__vf nnf__v_add(nnf__vf a, nnf__vf b) { return vaddq_f32(a, b); }
static inline nnf__vf nnf__v_sub(nnf__vf a, nnf__vf b) { return vsubq_f32(a, b); }
static inline nnf__vf nnf__v_mul(nnf__vf a, nnf__vf b) { return vmulq_f32(a, b); }
/* a * b + c rounded once: only the sgemm epilogue uses it (elementwise ops never
 * contract). */
static inline nnf__vf nnf__v_fma(nnf__vf a, nnf__vf b, nnf__vf c) { return vfmaq_f32(c, a, b); }
static inline nnf__vf nnf__v_div(nnf__vf a, nnf__vf b) { return vdivq_f32(a, b); }
static inline nnf__vf nnf__v_sqrt(nnf__vf x) { return vsqrtq_f32(x); }
static inline nnf__vf nnf__v_neg(nnf__vf x) { return vnegq_f32(x); }
static inline nnf__vf nnf__v_abs(nnf__vf x) { return vabsq_f32(x); }
static inline nnf__vf nnf__v_maximum(nnf__vf a, nnf__vf b) { return vmaxq_f32(a, b); }
static inline nnf__vf nnf__v_minimum(nnf__vf a, nnf__vf b) { return vminq_f32(a, b); }

/* NaN lanes become the canonical quiet NaN 0x7FC00000 (the NaN rule, kernels/eltwise.h),
 * which is also AArch64's default NaN: one compare and one bit select. */
static inline nnf__vf nnf__v_canon(nnf__vf v)
{
    return vbslq_f32(vceqq_f32(v, v), v, vreinterpretq_f32_u32(vdupq_n_u32(0x7FC00000)));
}

/* FCM* are ordered (NaN gives false); ne and unord are complements, so NaN gives true. */
static inline nnf__vm nnf__v_lt(nnf__vf a, nnf__vf b) { return vcltq_f32(a, b); }
static inline nnf__vm nnf__v_le(nnf__vf a, nnf__vf b) { return vcleq_f32(a, b); }
static inline nnf__vm nnf__v_gt(nnf__vf a, nnf__vf b) { return vcgtq_f32(a, b); }
static inline nnf__vm nnf__v_ge(nnf__vf a, nnf__vf b) { return vcgeq_f32(a, b); }
static inline nnf__vm nnf__v_eq(nnf__vf a, nnf__vf b) { return vceqq_f32(a, b); }
static inline nnf__vm nnf__v_ne(nnf__vf a, nnf__vf b) { return vmvnq_u32(vceqq_f32(a, b)); }
static inline nnf__vm nnf__v_unord(nnf__vf a, nnf__vf b)
{
    return vmvnq_u32(vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b)));
}

/* k ? a : b per lane, bits copied (NaN payloads survive). */
static inline nnf__vf nnf__v_select(nnf__vm k, nnf__vf a, nnf__vf b)
{
    return vbslq_f32(k, a, b);
}

/* Bit j is lane j. */
static inline uint64_t nnf__v_mask_bits(nnf__vm k)
{
    const uint32_t bit[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(k, vld1q_u32(bit)));
}

/* The 4 lanes as bytes 0 / 1 at y; the first m (< 4) of them. */
static inline void nnf__v_store_bytes_part(uint8_t *y, size_t m, nnf__vm k)
{
    uint16x4_t h = vmovn_u32(k);
    uint8_t t[8];
    vst1_u8(t, vand_u8(vmovn_u16(vcombine_u16(h, h)), vdup_n_u8(1)));
    memcpy(y, t, m);
}

static inline void nnf__v_store_bytes(uint8_t *y, nnf__vm k) { nnf__v_store_bytes_part(y, 4, k); }

/* Lanes whose byte at c (4 of them) is nonzero. */
static inline nnf__vm nnf__v_mask_from_bytes(const uint8_t *c)
{
    uint8_t t[8] = {0};
    memcpy(t, c, 4);
    uint32x4_t wide = vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(t))));
    return vcgtq_u32(wide, vdupq_n_u32(0));
}

/* Bit j set where x[j] == value, j < 16. */
static inline uint64_t nnf__v_eq_u8_bits(const uint8_t *x, uint8_t value)
{
    const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t b = vandq_u8(vceqq_u8(vld1q_u8(x), vdupq_n_u8(value)), vld1q_u8(bit));
    return (uint64_t)vaddv_u8(vget_low_u8(b)) | (uint64_t)vaddv_u8(vget_high_u8(b)) << 8;
}

/* int32 lanes: the total-order keys of kernels/reduce.h. */
static inline nnf__vi nnf__v_load_i32(const int32_t *x) { return vld1q_s32(x); }
static inline void nnf__v_store_i32(int32_t *y, nnf__vi v) { vst1q_s32(y, v); }
static inline nnf__vi nnf__v_splat_i32(int32_t x) { return vdupq_n_s32(x); }
static inline nnf__vi nnf__v_min_i32(nnf__vi a, nnf__vi b) { return vminq_s32(a, b); }
static inline nnf__vi nnf__v_max_i32(nnf__vi a, nnf__vi b) { return vmaxq_s32(a, b); }
static inline int32_t nnf__v_hmin_i32(nnf__vi v) { return vminvq_s32(v); }
static inline int32_t nnf__v_hmax_i32(nnf__vi v) { return vmaxvq_s32(v); }
static inline nnf__vi nnf__v_select_i32(nnf__vm k, nnf__vi a, nnf__vi b)
{
    return vbslq_s32(k, a, b);
}

/* The keys of 4 floats' bits: flip the magnitude of negatives (reduce.h's map). */
static inline nnf__vi nnf__v_keys(nnf__vf x)
{
    int32x4_t bits = vreinterpretq_s32_f32(x);
    uint32x4_t flip = vshrq_n_u32(vreinterpretq_u32_s32(vshrq_n_s32(bits, 31)), 1);
    return veorq_s32(bits, vreinterpretq_s32_u32(flip));
}

/* col[q] = column q of the 4 x 4 block at src (rows ld apart): the GEMV's
 * (generic/sgemm_dots.c). */
static inline void nnf__v_transpose(const float *src, size_t ld, nnf__vf col[NNF__VL])
{
    nnf__transpose4x4_neon(src, ld, col);
}

/* out[p * W + j] = src[j * ld + p] for j < w (< 4), p < kc: the columns of a packing
 * panel past its last 4x4 block (generic/sgemm_pack.c), one at a time. */
static inline void nnf__v_transpose_narrow(size_t kc, size_t w, size_t W, const float *src,
                                           size_t ld, float *out)
{
    for (size_t j = 0; j < w; j++)
        for (size_t p = 0; p < kc; p++)
            out[p * W + j] = src[j * ld + p];
}

/* SLEEF's 4-lane u10 functions: the bits of purecfma, AVX2 and AVX-512. */
static inline nnf__vf nnf__v_exp(nnf__vf x) { return Sleef_expf4_u10advsimd(x); }
static inline nnf__vf nnf__v_log(nnf__vf x) { return Sleef_logf4_u10advsimd(x); }
static inline nnf__vf nnf__v_tanh(nnf__vf x) { return Sleef_tanhf4_u10advsimd(x); }
static inline nnf__vf nnf__v_pow(nnf__vf a, nnf__vf b) { return Sleef_powf4_u10advsimd(a, b); }

#endif
