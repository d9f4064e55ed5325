/* The AVX-512 vector layer under kernels/generic/: 16 float lanes in a zmm, lane masks in
 * a k register. Static inline only: included by files compiled with -mavx512f, and
 * nothing in it may run before dispatch has chosen AVX-512.
 *
 * Contiguous tails use masked loads and stores, which are cheap on Zen 4/5 and never
 * touch memory past the span; masked-off lanes load as zero.
 */
#ifndef NNF_KERNELS_AVX512_VEC_H
#define NNF_KERNELS_AVX512_VEC_H

#include <immintrin.h>
#include <math.h>   /* before sleef.h, which keys some declarations on FP_FAST_FMA */
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>

#define NNF__VL 16          /* float lanes */
#define NNF__VL_U8 64       /* byte lanes of nnf__v_eq_u8_bits */
#define NNF__KERNEL(name) nnf__##name##__avx512

typedef __m512 nnf__vf;     /* NNF__VL floats */
typedef __m512i nnf__vi;    /* NNF__VL int32 */
typedef __mmask16 nnf__vm;  /* one bit per lane */

/* The last statement of every out-of-line helper that an exported kernel calls through
 * a table of shapes. GCC 12 returns from such static helpers without VZEROUPPER, and the
 * exported function, which holds no vector itself, adds none either: nnf returned to the
 * caller's SSE code with the upper halves dirty, and an Intel core then pays for every
 * SSE instruction (the scalar sgemm after one AVX-512 call: 60x slower on an Emerald
 * Rapids). tests/test_upper_state.c reads the state after every kind of call. */
static inline void nnf__v_leave(void) { _mm256_zeroupper(); }

/* m <= 16 (1u << 16 is still defined for a 32-bit unsigned). */
static inline nnf__vm nnf__v_first(size_t m) { return (nnf__vm)((1u << m) - 1u); }

static inline nnf__vf nnf__v_load(const float *x) { return _mm512_loadu_ps(x); }
static inline void nnf__v_store(float *y, nnf__vf v) { _mm512_storeu_ps(y, v); }
static inline nnf__vf nnf__v_splat(float x) { return _mm512_set1_ps(x); }
static inline nnf__vf nnf__v_zero(void) { return _mm512_setzero_ps(); }

/* The first m (< 16) lanes; the others are zero. */
static inline nnf__vf nnf__v_load_part(const float *x, size_t m)
{
    return _mm512_maskz_loadu_ps(nnf__v_first(m), x);
}

static inline void nnf__v_store_part(float *y, size_t m, nnf__vf v)
{
    _mm512_mask_storeu_ps(y, nnf__v_first(m), v);
}

static inline nnf__vf nnf__v_add(nnf__vf a, nnf__vf b) { return _mm512_add_ps(a, b); }
static inline nnf__vf nnf__v_sub(nnf__vf a, nnf__vf b) { return _mm512_sub_ps(a, b); }
static inline nnf__vf nnf__v_mul(nnf__vf a, nnf__vf b) { return _mm512_mul_ps(a, b); }
/* a * b + c rounded once: only the sgemm epilogue uses it (elementwise ops never
 * contract). */
static inline nnf__vf nnf__v_fma(nnf__vf a, nnf__vf b, nnf__vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline nnf__vf nnf__v_div(nnf__vf a, nnf__vf b) { return _mm512_div_ps(a, b); }
static inline nnf__vf nnf__v_sqrt(nnf__vf x) { return _mm512_sqrt_ps(x); }
static inline nnf__vf nnf__v_neg(nnf__vf x) { return _mm512_xor_ps(x, _mm512_set1_ps(-0.0f)); }
static inline nnf__vf nnf__v_abs(nnf__vf x) { return _mm512_abs_ps(x); }

/* vmaxps returns its second operand when the inputs are equal or either is NaN: the
 * equal case is fixed up with AND/OR (+0 beats -0 for the maximum), NaN with a + b,
 * exactly as the scalar definition. */
static inline nnf__vf nnf__v_maximum(nnf__vf a, nnf__vf b)
{
    __m512 m = _mm512_max_ps(a, b);
    m = _mm512_mask_and_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), a, b);
    return _mm512_mask_add_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}

static inline nnf__vf nnf__v_minimum(nnf__vf a, nnf__vf b)
{
    __m512 m = _mm512_min_ps(a, b);
    m = _mm512_mask_or_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), a, b);
    return _mm512_mask_add_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}

/* NaN lanes become the canonical quiet NaN 0x7FC00000 (the NaN rule, kernels/eltwise.h):
 * one compare and one masked move, hidden under the memory traffic of a span. */
static inline nnf__vf nnf__v_canon(nnf__vf v)
{
    __m512 qnan = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FC00000));
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), qnan);
}

/* Ordered comparisons (NaN gives false) except ne and unord, as C's operators. */
#define NNF__V_CMP(name, pred)                                \
    static inline nnf__vm nnf__v_##name(nnf__vf a, nnf__vf b) \
    {                                                         \
        return _mm512_cmp_ps_mask(a, b, pred);                \
    }
NNF__V_CMP(lt, _CMP_LT_OQ)
NNF__V_CMP(le, _CMP_LE_OQ)
NNF__V_CMP(gt, _CMP_GT_OQ)
NNF__V_CMP(ge, _CMP_GE_OQ)
NNF__V_CMP(eq, _CMP_EQ_OQ)
NNF__V_CMP(ne, _CMP_NEQ_UQ)
NNF__V_CMP(unord, _CMP_UNORD_Q)
#undef NNF__V_CMP

/* k ? a : b per lane, bits copied (NaN payloads survive). */
static inline nnf__vf nnf__v_select(nnf__vm k, nnf__vf a, nnf__vf b)
{
    return _mm512_mask_mov_ps(b, k, a);
}

/* Bit j is lane j. */
static inline uint64_t nnf__v_mask_bits(nnf__vm k) { return (uint64_t)k; }

/* The 16 lanes as bytes 0 / 1 at y; the first m (< 16) of them. */
static inline void nnf__v_store_bytes(uint8_t *y, nnf__vm k)
{
    _mm_storeu_si128((__m128i *)(void *)y, _mm_maskz_mov_epi8(k, _mm_set1_epi8(1)));
}

static inline void nnf__v_store_bytes_part(uint8_t *y, size_t m, nnf__vm k)
{
    _mm_mask_storeu_epi8(y, nnf__v_first(m), _mm_maskz_mov_epi8(k, _mm_set1_epi8(1)));
}

/* Lanes whose byte at c (16 of them) is nonzero. */
static inline nnf__vm nnf__v_mask_from_bytes(const uint8_t *c)
{
    __m512i wide = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)c));
    return _mm512_test_epi32_mask(wide, wide);
}

/* Bit j set where x[j] == value, j < 64. */
static inline uint64_t nnf__v_eq_u8_bits(const uint8_t *x, uint8_t value)
{
    return _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(x), _mm512_set1_epi8((char)value));
}

/* int32 lanes: the total-order keys of kernels/reduce.h. */
static inline nnf__vi nnf__v_load_i32(const int32_t *x) { return _mm512_loadu_si512(x); }
static inline void nnf__v_store_i32(int32_t *y, nnf__vi v) { _mm512_storeu_si512(y, v); }
static inline nnf__vi nnf__v_splat_i32(int32_t x) { return _mm512_set1_epi32(x); }
static inline nnf__vi nnf__v_min_i32(nnf__vi a, nnf__vi b) { return _mm512_min_epi32(a, b); }
static inline nnf__vi nnf__v_max_i32(nnf__vi a, nnf__vi b) { return _mm512_max_epi32(a, b); }
static inline int32_t nnf__v_hmin_i32(nnf__vi v) { return _mm512_reduce_min_epi32(v); }
static inline int32_t nnf__v_hmax_i32(nnf__vi v) { return _mm512_reduce_max_epi32(v); }
static inline nnf__vi nnf__v_select_i32(nnf__vm k, nnf__vi a, nnf__vi b)
{
    return _mm512_mask_mov_epi32(b, k, a);
}

/* The keys of 16 floats' bits: flip the magnitude of negatives (reduce.h's map). */
static inline nnf__vi nnf__v_keys(nnf__vf x)
{
    __m512i bits = _mm512_castps_si512(x);
    return _mm512_xor_si512(bits, _mm512_srli_epi32(_mm512_srai_epi32(bits, 31), 1));
}

/* SLEEF's 16-lane u10 functions: the bits of purecfma, AVX2 and AdvSIMD. */
static inline nnf__vf nnf__v_exp(nnf__vf x) { return Sleef_expf16_u10avx512f(x); }
static inline nnf__vf nnf__v_log(nnf__vf x) { return Sleef_logf16_u10avx512f(x); }
static inline nnf__vf nnf__v_tanh(nnf__vf x) { return Sleef_tanhf16_u10avx512f(x); }
static inline nnf__vf nnf__v_pow(nnf__vf a, nnf__vf b) { return Sleef_powf16_u10avx512f(a, b); }

#endif
