/* The scalar "vector" layer under kernels/generic/: one lane, a float, written as plain C.
 * These are the reference definitions (kernels/eltwise.h) that every vector ISA
 * reproduces bit for bit; the generic loops over one lane compile to the element loops
 * the scalar kernels always were (the tail paths are never taken).
 *
 * The SLEEF kernels are compiled twice: plain, SLEEF's portable purec functions, which
 * run on any CPU but differ from the vector ISAs in the last bit for ~0.7% of exp
 * results; with NNF_SLEEF_FMA (and -mfma on x86), purecfma, whose results equal SLEEF's
 * AVX2, AVX-512 and AdvSIMD u10 functions bit for bit (the scalar_fma table's on x86,
 * the scalar table's on aarch64).
 */
#ifndef NNF_KERNELS_SCALAR_VEC_H
#define NNF_KERNELS_SCALAR_VEC_H

#include <math.h>   /* before sleef.h: FP_FAST_FMA (set by -mfma) gates purecfma's declarations */
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/reduce.h"

#define NNF__VL 1
#define NNF__VL_U8 1

#if defined(NNF_SLEEF_FMA)
#define NNF__KERNEL(name) nnf__##name##__scalarfma
#define NNF__SLEEF1(fn) Sleef_##fn##f1_u10purecfma
#else
#define NNF__KERNEL(name) nnf__##name##__scalar
#define NNF__SLEEF1(fn) Sleef_##fn##f1_u10purec
#endif

#if defined(NNF_SLEEF_FMA) && !defined(FP_FAST_FMA)
/* clang 14 does not define FP_FAST_FMA under -mfma alone, and sleef.h then leaves out
 * the declarations of purecfma (the library has the functions either way). */
float Sleef_expf1_u10purecfma(float);
float Sleef_logf1_u10purecfma(float);
float Sleef_tanhf1_u10purecfma(float);
float Sleef_powf1_u10purecfma(float, float);
#endif

typedef float nnf__vf;
typedef int32_t nnf__vi;
typedef int nnf__vm;        /* 0 or 1 */

static inline nnf__vm nnf__v_first(size_t m) { return m > 0; }

static inline nnf__vf nnf__v_load(const float *x) { return *x; }
static inline void nnf__v_store(float *y, nnf__vf v) { *y = v; }
static inline nnf__vf nnf__v_splat(float x) { return x; }
static inline nnf__vf nnf__v_zero(void) { return 0.0f; }
static inline nnf__vf nnf__v_load_part(const float *x, size_t m) { return m ? *x : 0.0f; }
static inline void nnf__v_store_part(float *y, size_t m, nnf__vf v)
{
    if (m)
        *y = v;
}

static inline nnf__vf nnf__v_add(nnf__vf a, nnf__vf b) { return a + b; }
static inline nnf__vf nnf__v_sub(nnf__vf a, nnf__vf b) { return a - b; }
static inline nnf__vf nnf__v_mul(nnf__vf a, nnf__vf b) { return a * b; }
static inline nnf__vf nnf__v_div(nnf__vf a, nnf__vf b) { return a / b; }
static inline nnf__vf nnf__v_sqrt(nnf__vf x) { return sqrtf(x); }
static inline nnf__vf nnf__v_neg(nnf__vf x) { return -x; }
static inline nnf__vf nnf__v_abs(nnf__vf x) { return fabsf(x); }

/* The bitwise AND/OR of two equal values is that value, except for +0 and -0 where
 * AND gives +0 (the maximum) and OR gives -0 (the minimum). */
static inline float nnf__v_bits_op(float a, float b, int and)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = and ? ua & ub : ua | ub;
    memcpy(&a, &ua, 4);
    return a;
}

static inline nnf__vf nnf__v_maximum(nnf__vf a, nnf__vf b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return nnf__v_bits_op(a, b, 1);
    return a > b ? a : b;
}

static inline nnf__vf nnf__v_minimum(nnf__vf a, nnf__vf b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return nnf__v_bits_op(a, b, 0);
    return a < b ? a : b;
}

/* A NaN becomes the canonical quiet NaN 0x7FC00000 (the NaN rule, kernels/eltwise.h). */
static inline nnf__vf nnf__v_canon(nnf__vf v) { return nnf__canonical_nan(v); }

static inline nnf__vm nnf__v_lt(nnf__vf a, nnf__vf b) { return a < b; }
static inline nnf__vm nnf__v_le(nnf__vf a, nnf__vf b) { return a <= b; }
static inline nnf__vm nnf__v_gt(nnf__vf a, nnf__vf b) { return a > b; }
static inline nnf__vm nnf__v_ge(nnf__vf a, nnf__vf b) { return a >= b; }
static inline nnf__vm nnf__v_eq(nnf__vf a, nnf__vf b) { return a == b; }
static inline nnf__vm nnf__v_ne(nnf__vf a, nnf__vf b) { return a != b; }
static inline nnf__vm nnf__v_unord(nnf__vf a, nnf__vf b) { return isnan(a) || isnan(b); }
static inline nnf__vf nnf__v_select(nnf__vm k, nnf__vf a, nnf__vf b) { return k ? a : b; }
static inline uint64_t nnf__v_mask_bits(nnf__vm k) { return (uint64_t)k; }
static inline void nnf__v_store_bytes(uint8_t *y, nnf__vm k) { *y = (uint8_t)k; }
static inline void nnf__v_store_bytes_part(uint8_t *y, size_t m, nnf__vm k)
{
    if (m)
        *y = (uint8_t)k;
}
static inline nnf__vm nnf__v_mask_from_bytes(const uint8_t *c) { return *c != 0; }
static inline uint64_t nnf__v_eq_u8_bits(const uint8_t *x, uint8_t value) { return *x == value; }

static inline nnf__vi nnf__v_load_i32(const int32_t *x) { return *x; }
static inline void nnf__v_store_i32(int32_t *y, nnf__vi v) { *y = v; }
static inline nnf__vi nnf__v_splat_i32(int32_t x) { return x; }
static inline nnf__vi nnf__v_min_i32(nnf__vi a, nnf__vi b) { return b < a ? b : a; }
static inline nnf__vi nnf__v_max_i32(nnf__vi a, nnf__vi b) { return b > a ? b : a; }
static inline int32_t nnf__v_hmin_i32(nnf__vi v) { return v; }
static inline int32_t nnf__v_hmax_i32(nnf__vi v) { return v; }
static inline nnf__vi nnf__v_select_i32(nnf__vm k, nnf__vi a, nnf__vi b) { return k ? a : b; }
static inline nnf__vi nnf__v_keys(nnf__vf x)
{
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return nnf__red_key(bits);
}

static inline nnf__vf nnf__v_exp(nnf__vf x) { return NNF__SLEEF1(exp)(x); }
static inline nnf__vf nnf__v_log(nnf__vf x) { return NNF__SLEEF1(log)(x); }
static inline nnf__vf nnf__v_tanh(nnf__vf x) { return NNF__SLEEF1(tanh)(x); }
static inline nnf__vf nnf__v_pow(nnf__vf a, nnf__vf b) { return NNF__SLEEF1(pow)(a, b); }

#endif
