/* The AVX2 vector layer under kernels/generic/: 8 float lanes in a ymm, lane masks as
 * all-ones / zero ymm lanes. Static inline only: included by files compiled with -mavx2,
 * and nothing in it may run before dispatch has chosen AVX2.
 *
 * Float tails are loaded and stored in pieces of 4, 2 and 1 lanes: AVX2's masked moves
 * (vmaskmovps) are very slow on AMD (FACTS.md); the padding lanes are zero.
 */
#ifndef NNF_KERNELS_AVX2_VEC_H
#define NNF_KERNELS_AVX2_VEC_H

#include <immintrin.h>
#include <math.h>   /* before sleef.h, which keys some declarations on FP_FAST_FMA */
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/avx2/sgemm_transpose8x8.h"
#include "kernels/avx2/sgemm_transpose_narrow.h"

#define NNF__VL 8           /* float lanes */
#define NNF__VL_U8 32       /* byte lanes of nnf__v_eq_u8_bits */
#define NNF__KERNEL(name) nnf__##name##__avx2

typedef __m256 nnf__vf;     /* NNF__VL floats */
typedef __m256i nnf__vi;    /* NNF__VL int32 */
typedef __m256 nnf__vm;     /* all-ones lanes where true */

static inline nnf__vm nnf__v_first(size_t m)
{
    __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), iota));
}

static inline nnf__vf nnf__v_load(const float *x) { return _mm256_loadu_ps(x); }
static inline void nnf__v_store(float *y, nnf__vf v) { _mm256_storeu_ps(y, v); }
static inline nnf__vf nnf__v_splat(float x) { return _mm256_set1_ps(x); }
static inline nnf__vf nnf__v_zero(void) { return _mm256_setzero_ps(); }

/* The first m (< 8) lanes; the others are zero. Pieces of 4, 2 and 1 floats, each
 * read once: through a stack buffer, the 32-byte load after the copy's narrower stores
 * missed store forwarding, and with the copy's call that cost ~10 ns per tail (a depth-1
 * sgemm of 200 x 50 has one per row: 2.4 us against AVX-512's 0.4). */
static inline __m128 nnf__v_load_part4(const float *x, size_t m)
{
    __m128 v = (m & 1) ? _mm_load_ss(x + (m & 2)) : _mm_setzero_ps();
    return (m & 2) ? _mm_movelh_ps(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)x), v) : v;
}

static inline nnf__vf nnf__v_load_part(const float *x, size_t m)
{
    if (m < 4)
        return _mm256_zextps128_ps256(nnf__v_load_part4(x, m));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(x)),
                                nnf__v_load_part4(x + 4, m - 4), 1);
}

static inline void nnf__v_store_part(float *y, size_t m, nnf__vf v)
{
    __m128 h = _mm256_castps256_ps128(v);
    if (m & 4) {
        _mm_storeu_ps(y, h);
        h = _mm256_extractf128_ps(v, 1);
        y += 4;
    }
    if (m & 2) {
        _mm_storel_pi((__m64 *)y, h);
        h = _mm_movehl_ps(h, h);
        y += 2;
    }
    if (m & 1)
        _mm_store_ss(y, h);
}

/* m (< 8) floats from x to y in the same pieces, without a ymm between (a partial
 * load and store add a lane insert and extract: the packing copy of 384 rows of 13
 * floats took 971 ns that way, 761 this way). */
static inline void nnf__v_copy_part(float *y, const float *x, size_t m)
{
    if (m & 4) {
        _mm_storeu_ps(y, _mm_loadu_ps(x));
        x += 4;
        y += 4;
    }
    if (m & 2) {
        _mm_storel_pi((__m64 *)y, _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)x));
        x += 2;
        y += 2;
    }
    if (m & 1)
        *y = *x;
}

static inline nnf__vf nnf__v_add(nnf__vf a, nnf__vf b) { return _mm256_add_ps(a, b); }
static inline nnf__vf nnf__v_sub(nnf__vf a, nnf__vf b) { return _mm256_sub_ps(a, b); }
static inline nnf__vf nnf__v_mul(nnf__vf a, nnf__vf b) { return _mm256_mul_ps(a, b); }
/* a * b + c rounded once: only the sgemm epilogue uses it (elementwise ops never
 * contract). */
static inline nnf__vf nnf__v_fma(nnf__vf a, nnf__vf b, nnf__vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline nnf__vf nnf__v_div(nnf__vf a, nnf__vf b) { return _mm256_div_ps(a, b); }
static inline nnf__vf nnf__v_sqrt(nnf__vf x) { return _mm256_sqrt_ps(x); }
static inline nnf__vf nnf__v_neg(nnf__vf x) { return _mm256_xor_ps(x, _mm256_set1_ps(-0.0f)); }
static inline nnf__vf nnf__v_abs(nnf__vf x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

/* vmaxps returns its second operand when the inputs are equal or either is NaN: the
 * equal case is fixed up with AND/OR (+0 beats -0 for the maximum), NaN with a + b,
 * exactly as the scalar definition. */
static inline nnf__vf nnf__v_maximum(nnf__vf a, nnf__vf b)
{
    __m256 m = _mm256_max_ps(a, b);
    m = _mm256_blendv_ps(m, _mm256_and_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
    return _mm256_blendv_ps(m, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

static inline nnf__vf nnf__v_minimum(nnf__vf a, nnf__vf b)
{
    __m256 m = _mm256_min_ps(a, b);
    m = _mm256_blendv_ps(m, _mm256_or_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
    return _mm256_blendv_ps(m, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

/* NaN lanes become the canonical quiet NaN 0x7FC00000 (the NaN rule, kernels/eltwise.h):
 * one compare and one blend, hidden under the memory traffic of a span. */
static inline nnf__vf nnf__v_canon(nnf__vf v)
{
    __m256 qnan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
    return _mm256_blendv_ps(v, qnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

/* Ordered comparisons (NaN gives false) except ne and unord, as C's operators. */
#define NNF__V_CMP(name, pred) \
    static inline nnf__vm nnf__v_##name(nnf__vf a, nnf__vf b) { return _mm256_cmp_ps(a, b, pred); }
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
    return _mm256_blendv_ps(b, a, k);
}

/* Bit j is lane j. */
static inline uint64_t nnf__v_mask_bits(nnf__vm k) { return (uint64_t)_mm256_movemask_ps(k); }

/* 8 masks as 8 bytes 0 / 1 in the low half. */
static inline __m128i nnf__v_mask_to_bytes(nnf__vm k)
{
    __m256i one = _mm256_and_si256(_mm256_castps_si256(k), _mm256_set1_epi32(1));
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(one), _mm256_extracti128_si256(one, 1));
    return _mm_packus_epi16(w, w);
}

/* The 8 lanes as bytes 0 / 1 at y; the first m (< 8) of them. */
static inline void nnf__v_store_bytes(uint8_t *y, nnf__vm k)
{
    _mm_storel_epi64((__m128i *)(void *)y, nnf__v_mask_to_bytes(k));
}

static inline void nnf__v_store_bytes_part(uint8_t *y, size_t m, nnf__vm k)
{
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)(void *)t, nnf__v_mask_to_bytes(k));
    memcpy(y, t, m);
}

/* Lanes whose byte at c (8 of them) is nonzero. */
static inline nnf__vm nnf__v_mask_from_bytes(const uint8_t *c)
{
    __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)c));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(wide, _mm256_setzero_si256()));
}

/* Bit j set where x[j] == value, j < 32. */
static inline uint64_t nnf__v_eq_u8_bits(const uint8_t *x, uint8_t value)
{
    __m256i eq = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)x),
                                   _mm256_set1_epi8((char)value));
    return (uint32_t)_mm256_movemask_epi8(eq);
}

/* int32 lanes: the total-order keys of kernels/reduce.h. */
static inline nnf__vi nnf__v_load_i32(const int32_t *x)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)x);
}
static inline void nnf__v_store_i32(int32_t *y, nnf__vi v)
{
    _mm256_storeu_si256((__m256i *)(void *)y, v);
}
static inline nnf__vi nnf__v_splat_i32(int32_t x) { return _mm256_set1_epi32(x); }
static inline nnf__vi nnf__v_min_i32(nnf__vi a, nnf__vi b) { return _mm256_min_epi32(a, b); }
static inline nnf__vi nnf__v_max_i32(nnf__vi a, nnf__vi b) { return _mm256_max_epi32(a, b); }
static inline nnf__vi nnf__v_select_i32(nnf__vm k, nnf__vi a, nnf__vi b)
{
    return _mm256_blendv_epi8(b, a, _mm256_castps_si256(k));
}

static inline int32_t nnf__v_hmin_i32(nnf__vi v)
{
    __m128i h = _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_min_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
    h = _mm_min_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(h);
}

static inline int32_t nnf__v_hmax_i32(nnf__vi v)
{
    __m128i h = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_max_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
    h = _mm_max_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(h);
}

/* The keys of 8 floats' bits: flip the magnitude of negatives (reduce.h's map). */
static inline nnf__vi nnf__v_keys(nnf__vf x)
{
    __m256i bits = _mm256_castps_si256(x);
    return _mm256_xor_si256(bits, _mm256_srli_epi32(_mm256_srai_epi32(bits, 31), 1));
}

/* col[q] = column q of the 8 x 8 block at src (rows ld apart): the GEMV's
 * (generic/sgemm_dots.c). */
static inline void nnf__v_transpose(const float *src, size_t ld, nnf__vf col[NNF__VL])
{
    nnf__transpose8x8_avx2(src, ld, col);
}

/* out[p * W + j] = src[j * ld + p] for j < w (< 8), p < kc: the columns of a packing
 * panel past its last 8x8 block (generic/sgemm_pack.c). */
static inline void nnf__v_transpose_narrow(size_t kc, size_t w, size_t W, const float *src,
                                           size_t ld, float *out)
{
    nnf__transpose_narrow_avx2(kc, w, W, src, ld, out);
}

/* SLEEF's 8-lane u10 functions: the bits of purecfma, AVX-512 and AdvSIMD. */
static inline nnf__vf nnf__v_exp(nnf__vf x) { return Sleef_expf8_u10avx2(x); }
static inline nnf__vf nnf__v_log(nnf__vf x) { return Sleef_logf8_u10avx2(x); }
static inline nnf__vf nnf__v_tanh(nnf__vf x) { return Sleef_tanhf8_u10avx2(x); }
static inline nnf__vf nnf__v_pow(nnf__vf a, nnf__vf b) { return Sleef_powf8_u10avx2(a, b); }

#endif
