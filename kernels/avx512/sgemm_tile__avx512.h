/* The AVX-512 sgemm register tile, shared by the 8x48 micro-kernel (packed panels) and
 * the 6x64 one (operands read in place).
 *
 * 24 accumulators + 3 or 4 B vectors + 1 broadcast of A fit the 32 zmm registers, and
 * 24 independent FMAs per k step cover the 4-cycle latency on two FMA ports; 8x48 and
 * 6x64 are the two shapes of 24 that measured fastest on their paths.
 * Edge tiles (fewer rows or columns) run a copy of the loop with only the rows and
 * vectors they need: the chapter's 5x784x10 runs 5 FMAs per k step, not 24. Only the
 * last vector of a row can be partial; it alone uses masked loads and stores, and only
 * in tiles built MASKED: widths that are a multiple of 16 (32^3, 64^3, full panels)
 * run tiles with plain accesses throughout, whose epilogue is inline. Masked accesses
 * are cheap on AVX-512, but a sanitizer checks them lane by lane, so the masked tiles
 * keep their k loops rolled and their last vector's epilogue out of line: together
 * that keeps each tile kernel file's compile time under 40 s in the sanitizer builds.
 *
 * Few accumulators are latency-bound instead: 5 chains of 4-cycle FMAs cannot feed a
 * core that retires 2 zmm FMAs per cycle. The KC blocks of a call are independent
 * sums until their epilogues, so tiles of one vector run two blocks side by side,
 * doubling the chains without changing a bit.
 */
#ifndef NNF_KERNELS_AVX512_SGEMM_TILE_H
#define NNF_KERNELS_AVX512_SGEMM_TILE_H

#include <immintrin.h>

#include "kernels/avx512/vec.h"
#include "kernels/avx512/kernels.h"

enum { NNF__AVX512_MR_MAX = 8, NNF__AVX512_NV_MAX = 4, NNF__AVX512_VL = 16 };

#include "kernels/sgemm_epilogue.h"

/* One vector of a tile's epilogue; with a second block, c = fma(alpha, acc1, c) after. */
static inline __attribute__((always_inline)) __m512
nnf__avx512_epilogue(__m512 acc, __m512 acc1, __m512 old, int pair, float alpha, float beta)
{
    __m512 r = nnf__sgemm_epilogue_vf(acc, old, alpha, beta);
    return pair ? nnf__sgemm_epilogue_later_vf(acc1, r, alpha) : r;
}

/* The epilogue of a partial vector, through masked accesses. */
static inline __attribute__((always_inline)) void
nnf__avx512_store_masked(float *cv, __mmask16 m, __m512 acc, __m512 acc1, int pair,
                         float alpha, float beta)
{
    __m512 old = beta == 0.0f ? acc : _mm512_maskz_loadu_ps(m, cv);
    _mm512_mask_storeu_ps(cv, m, nnf__avx512_epilogue(acc, acc1, old, pair, alpha, beta));
}

/* The same out of line, for the edge tiles: one copy serves every shape (a sanitizer
 * instruments a masked access lane by lane), at one call per row per KC block; the
 * accumulators go by value, so they stay in registers through the k loop. */
static __attribute__((noinline)) void nnf__avx512_store_masked_call(float *cv, __mmask16 m,
                                                                    __m512 acc, __m512 acc1,
                                                                    int pair, float alpha,
                                                                    float beta)
{
    nnf__avx512_store_masked(cv, m, acc, acc1, pair, alpha, beta);
}

/* A full vector's epilogue, inline: plain accesses cost a sanitizer one check each. */
static inline __attribute__((always_inline)) void
nnf__avx512_store(float *cv, __m512 acc, __m512 acc1, int pair, float alpha, float beta)
{
    __m512 old = beta == 0.0f ? acc : _mm512_loadu_ps(cv);
    _mm512_storeu_ps(cv, nnf__avx512_epilogue(acc, acc1, old, pair, alpha, beta));
}

/* One k step of a tile: acc[i][v] = fma(a[i], b[v], acc[i][v]). Each a[i] is broadcast
 * once into a register that its NV FMAs share, as libxsmm's JIT kernels do too. The other
 * form, one FMA per (i, v) with a[i] as an embedded-broadcast memory operand ({1to16}),
 * saves the register and the broadcast instruction but loads a[i] NV times: on the Zen 5,
 * one thread, 64^3 went from 2.44 to 3.46 us and 1024^3 from 10.7 to 12.3 ms. */
static inline __attribute__((always_inline)) void
nnf__avx512_step(__m512 acc[][NNF__AVX512_NV_MAX], const float *a, ptrdiff_t rs_a,
                 const float *b, const float *b2, __mmask16 last, const int ROWS,
                 const int NV, const int MASKED, const int SPLIT)
{
    enum { VL = NNF__AVX512_VL };
    __m512 bv[NNF__AVX512_NV_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        const float *bp = SPLIT && v >= SPLIT ? b2 + (v - SPLIT) * VL : b + v * VL;
        bv[v] = v < NV - 1 || !MASKED ? _mm512_loadu_ps(bp) : _mm512_maskz_loadu_ps(last, bp);
    }
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
        __m512 ai = _mm512_set1_ps(a[i * rs_a]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
}

/* Block 0 is steps [0, k); with PAIR, block 1 is steps [k, k + kc1), kc1 <= k.
 * Without PAIR, the sums restart every `period` steps of [0, k) (beta for the first
 * chunk, 1 after; period is KC or divides it): the micro-batch rule's 32-step chunks
 * then cost one pass of the epilogue each, the C tile hot in the L1, not a kernel call
 * and a tile dispatch each. ROWS, NV (zmm vectors per row; all but the last are full,
 * and the last too unless MASKED), unit_rs_a, PAIR, MASKED and UNROLL are compile-time
 * constants in every expansion; unit_rs_a says A's rows are adjacent (packed panels,
 * transposed A), so the broadcasts use one pointer with fixed offsets. SPLIT > 0 (no
 * PAIR): vectors from SPLIT on come from b2, row stride rs_b2 (B in two blocks side by
 * side, a prepacked B's panels); 0: all from b. */
static inline __attribute__((always_inline)) void
nnf__avx512_tile(size_t k, size_t kc1, size_t period, const float *a, ptrdiff_t rs_a,
                 ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, const float *b2,
                 ptrdiff_t rs_b2, float *c, size_t ldc, size_t nr, float alpha, float beta,
                 const int ROWS, const int NV, const int unit_rs_a, const int PAIR,
                 const int MASKED, const int UNROLL, const int SPLIT)
{
    enum { MR = NNF__AVX512_MR_MAX, NV_MAX = NNF__AVX512_NV_MAX, VL = NNF__AVX512_VL };
    if (unit_rs_a)
        rs_a = 1;
    /* C is touched only after the k loop; asking for its lines now hides the miss
     * (the packed path revisits C once per KC block, long after it left the L1). */
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            _mm_prefetch((const char *)(c + (size_t)i * ldc + v * VL), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + nr - 1), _MM_HINT_T0);
    }
    const size_t left = nr - (size_t)(NV - 1) * VL;
    const __mmask16 last = left >= VL ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
    for (size_t p0 = 0; p0 < k; p0 += period, beta = 1.0f) {
        const size_t kc = PAIR || k - p0 < period ? k - p0 : period;
        __m512 acc[MR][NV_MAX], acc1[MR];
#pragma GCC unroll 8
        for (int i = 0; i < ROWS; i++) {
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm512_setzero_ps();
            if (PAIR)
                acc1[i] = _mm512_setzero_ps();
        }

        size_t p = 0;
        if (PAIR) {
            const float *a1 = a + (ptrdiff_t)kc * cs_a, *b1 = b + (ptrdiff_t)kc * rs_b;
            for (; p < kc1; p++) {
                __m512 bv = MASKED ? _mm512_maskz_loadu_ps(last, b) : _mm512_loadu_ps(b);
                __m512 bv1 =
                    MASKED ? _mm512_maskz_loadu_ps(last, b1) : _mm512_loadu_ps(b1);
#pragma GCC unroll 8
                for (int i = 0; i < ROWS; i++) {
                    acc[i][0] =
                        _mm512_fmadd_ps(_mm512_set1_ps(a[i * rs_a]), bv, acc[i][0]);
                    acc1[i] = _mm512_fmadd_ps(_mm512_set1_ps(a1[i * rs_a]), bv1, acc1[i]);
                }
                a += cs_a;
                b += rs_b;
                a1 += cs_a;
                b1 += rs_b;
            }
        }
        /* Unrolled (the kernel's full shape, and tiles without masks): the loop's
         * pointer updates and branch then cost a quarter as many issue slots, measured
         * 8% faster for full tiles and 5% for 32^3's. */
        if (UNROLL) {
#pragma GCC unroll 4
            for (; p < kc; p++) {
                nnf__avx512_step(acc, a, rs_a, b, b2, last, ROWS, NV, MASKED, SPLIT);
                a += cs_a;
                b += rs_b;
                if (SPLIT)
                    b2 += rs_b2;
            }
        } else {
            for (; p < kc; p++) {
                nnf__avx512_step(acc, a, rs_a, b, b2, last, ROWS, NV, MASKED, SPLIT);
                a += cs_a;
                b += rs_b;
                if (SPLIT)
                    b2 += rs_b2;
            }
        }

        /* Between two restarts of one call with alpha and beta 1: the fold. */
        if (!MASKED && !PAIR && nnf__sgemm_folds(p0 + kc, k, alpha, beta)) {
#pragma GCC unroll 8
            for (int i = 0; i < ROWS; i++) {
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) {
                    float *cv = c + (size_t)i * ldc + v * VL;
                    _mm512_storeu_ps(cv, nnf__sgemm_fold_vf(acc[i][v], _mm512_loadu_ps(cv)));
                }
            }
            continue;
        }
#pragma GCC unroll 8
        for (int i = 0; i < ROWS; i++) {
            float *ci = c + (size_t)i * ldc;
            __m512 a1 = PAIR ? acc1[i] : acc[i][0];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) {
                /* Inline in the full shape (a partial last vector of 6x64's tiles at
                 * widths of 50 or 100: 2% of 200x100x50), a call elsewhere. */
                if (MASKED && v == NV - 1 && UNROLL)
                    nnf__avx512_store_masked(ci + v * VL, last, acc[i][v], a1, PAIR, alpha,
                                             beta);
                else if (MASKED && v == NV - 1)
                    nnf__avx512_store_masked_call(ci + v * VL, last, acc[i][v], a1, PAIR,
                                                  alpha, beta);
                else
                    nnf__avx512_store(ci + v * VL, acc[i][v], a1, PAIR, alpha, beta);
            }
        }
    }
}

typedef void nnf__avx512_tile_fn(size_t k, size_t kc1, size_t period, const float *a,
                                 ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                 ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha,
                                 float beta);

/* One tile shape as a function of its own, named tile_<rows>_<nv>_<unit>_<pair>_<masked>
 * (each kernel lists its shapes in static tables). Inlined into one function, the shapes
 * of the two kernels made a file whose compile time grew faster than their number
 * (minutes under a sanitizer); apart, each shape is compiled on its own. */
#define NNF__AVX512_TILE(rows, nv, unit, pair, masked, unroll)                             \
    static __attribute__((noinline)) void tile_##rows##_##nv##_##unit##_##pair##_##masked(    \
        size_t k, size_t kc1, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, \
        const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha,       \
        float beta)                                                                          \
    {                                                                                        \
        nnf__avx512_tile(k, kc1, period, a, rs_a, cs_a, b, rs_b, NULL, 0, c, ldc, nr, alpha, \
                         beta, rows, nv, unit, pair, masked, unroll, 0);                     \
        nnf__v_leave();                                                                      \
    }

/* The call's k range, the sums restarting every `period` steps (KC, or a divisor of KC
 * for the micro-batch rule), with the call's beta for the first and 1 after: a call of
 * `one` per KC block, which cuts it itself; or, where `pair` is given, two periods at a
 * time through it (the last odd one through `one`). */
static inline void nnf__avx512_blocks(nnf__avx512_tile_fn *one, nnf__avx512_tile_fn *pair,
                                      size_t period, size_t k, const float *a,
                                      ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                      ptrdiff_t rs_b, float *c, size_t ldc, size_t nr,
                                      float alpha, float beta)
{
    const size_t block = pair != NULL ? period : NNF__SGEMM_KC;
    for (size_t p0 = 0; p0 < k;) {
        size_t kc = k - p0 < block ? k - p0 : block;
        size_t rest = k - p0 - kc;
        size_t kc1 = pair != NULL ? (rest < block ? rest : block) : 0;
        (kc1 > 0 ? pair : one)(kc, kc1, period, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a,
                               b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc, nr, alpha,
                               p0 == 0 ? beta : 1.0f);
        p0 += kc + kc1;
    }
}

/* A kernel's nnf__sgemm_ukernel_fn entry: its entry with a period, given KC. */
#define NNF__AVX512_KC_ENTRY(shape)                                                         \
    void nnf__sgemm_ukernel_##shape##__avx512(size_t k, const float *a, ptrdiff_t rs_a,     \
                                              ptrdiff_t cs_a, const float *b,               \
                                              ptrdiff_t rs_b, float *c, size_t ldc,         \
                                              size_t mr, size_t nr, float alpha, float beta) \
    {                                                                                        \
        nnf__sgemm_ukernel_every_##shape##__avx512(NNF__SGEMM_KC, k, a, rs_a, cs_a, b,      \
                                                   rs_b, c, ldc, mr, nr, alpha, beta);       \
    }

#endif
