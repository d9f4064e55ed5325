/* The AVX-512 sgemm micro-kernel, with two register blocks of 24 zmm accumulators:
 * 8x48 for the packed path's panels, 6x64 for the direct path.
 *
 * 24 accumulators + 3 or 4 B vectors + 1 broadcast of A fit the 32 zmm registers. Each
 * k step does 24 independent FMAs (the 4-cycle latency times 2 FMA ports needs 8 in
 * flight) against 3 loads of B and 8 broadcasts of A (8x48: 11 loads) or 4 and 6
 * (6x64: 10). On an Intel core with two 512-bit FMA ports the loads, not the FMAs,
 * are what these shapes trade: 12x32 (14 loads) measured 10-15% slower than 8x48 in
 * the packed path. The two measured against each other (this core, one process,
 * alternating, ratios to OpenBLAS over 4 runs): in the direct path 6x64 lifted 64^3
 * from 0.82-0.87 to 0.91-0.99 and 200x100x50 from 0.86-0.93 to 0.90-1.01, and its 64
 * columns cover widths of 50 and 100 in 1 and 2 tiles per row band, not 2 and 3; in
 * the packed path 8x48 stayed 3-4% faster at 1024^3 (72.9-79.1% of the peak against
 * 70.5-75.1%, three alternating pairs), so packed panels keep it.
 * Edge tiles (fewer rows or columns) run a copy of the loop with only the rows and
 * vectors they need and use masked loads and stores, which are cheap on AVX-512:
 * the chapter's 5x784x10 runs 5 FMAs per k step, not 24.
 *
 * Few accumulators are latency-bound instead: 5 chains of 4-cycle FMAs cannot feed a
 * core that retires 2 zmm FMAs per cycle. The KC blocks of a call are independent
 * sums until their epilogues, so tiles of one vector run two blocks side by side,
 * doubling the chains without changing a bit.
 */
#include <immintrin.h>

#include "kernels/sgemm.h"

enum { MR = 8, NV_MAX = 4, VL = 16, KC = NNF__SGEMM_KC };   /* 8 x 3 VL or 6 x 4 VL */

/* Block 0 is steps [0, kc); with PAIR, block 1 is steps [kc, kc + kc1), kc1 <= kc.
 * ROWS, NV (zmm vectors per row), unit_rs_a and PAIR are compile-time constants in
 * every expansion; unit_rs_a says A's rows are adjacent (packed panels, transposed A),
 * so the broadcasts use one pointer with fixed offsets. */
static inline __attribute__((always_inline)) void
tile(size_t kc, size_t kc1, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
     const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha,
     float beta, const int ROWS, const int NV, const int unit_rs_a, const int PAIR)
{
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
    __m512 acc[MR][NV_MAX], acc1[MR];
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();
        if (PAIR)
            acc1[i] = _mm512_setzero_ps();
    }

    /* All-ones except in the last vector of an edge tile. */
    __mmask16 mask[NV_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        size_t left = nr - (size_t)v * VL;
        mask[v] = left >= VL ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
    }

    size_t p = 0;
    if (PAIR) {
        const float *a1 = a + (ptrdiff_t)kc * cs_a, *b1 = b + (ptrdiff_t)kc * rs_b;
        for (; p < kc1; p++) {
            __m512 bv = _mm512_maskz_loadu_ps(mask[0], b);
            __m512 bv1 = _mm512_maskz_loadu_ps(mask[0], b1);
#pragma GCC unroll 8
            for (int i = 0; i < ROWS; i++) {
                acc[i][0] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * rs_a]), bv, acc[i][0]);
                acc1[i] = _mm512_fmadd_ps(_mm512_set1_ps(a1[i * rs_a]), bv1, acc1[i]);
            }
            a += cs_a;
            b += rs_b;
            a1 += cs_a;
            b1 += rs_b;
        }
    }
    /* Unrolled: the loop's pointer updates and branch then cost a quarter as many
     * issue slots, measured 8% faster for full tiles. */
#pragma GCC unroll 4
    for (; p < kc; p++) {
        __m512 bv[NV_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = _mm512_maskz_loadu_ps(mask[v], b + v * VL);
#pragma GCC unroll 8
        for (int i = 0; i < ROWS; i++) {
            __m512 ai = _mm512_set1_ps(a[i * rs_a]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += cs_a;
        b += rs_b;
    }

    const __m512 valpha = _mm512_set1_ps(alpha);
    const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __m512 r;
            if (beta == 0.0f) {
                r = _mm512_mul_ps(valpha, acc[i][v]);
            } else {
                __m512 old = _mm512_maskz_loadu_ps(mask[v], ci + v * VL);
                r = _mm512_fmadd_ps(valpha, acc[i][v], _mm512_mul_ps(vbeta, old));
            }
            if (PAIR)   /* block 1's epilogue: c = fma(alpha, acc, c) */
                r = _mm512_fmadd_ps(valpha, acc1[i], r);
            _mm512_mask_storeu_ps(ci + v * VL, mask[v], r);
        }
    }
}

#define TILE(rows, nv, unit, pair)                                                    \
    tile(kc, kc1, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta, rows, nv, unit, pair)
#define BY_ROWS(nv, unit, pair)                                                       \
    switch (mr) {                                                                     \
    case 1: TILE(1, nv, unit, pair); break;                                           \
    case 2: TILE(2, nv, unit, pair); break;                                           \
    case 3: TILE(3, nv, unit, pair); break;                                           \
    case 4: TILE(4, nv, unit, pair); break;                                           \
    case 5: TILE(5, nv, unit, pair); break;                                           \
    case 6: TILE(6, nv, unit, pair); break;                                           \
    case 7: TILE(7, nv, unit, pair); break;                                           \
    default: TILE(8, nv, unit, pair); break;                                          \
    }
/* Four vectors per row only for the 6x64 block (at most 6 rows). */
#define BY_ROWS_6(unit)                                                               \
    switch (mr) {                                                                     \
    case 1: TILE(1, 4, unit, 0); break;                                               \
    case 2: TILE(2, 4, unit, 0); break;                                               \
    case 3: TILE(3, 4, unit, 0); break;                                               \
    case 4: TILE(4, 4, unit, 0); break;                                               \
    case 5: TILE(5, 4, unit, 0); break;                                               \
    default: TILE(6, 4, unit, 0); break;                                              \
    }
#define BY_WIDTH(unit)                                                                \
    if (nr > 3 * VL)                                                                  \
        BY_ROWS_6(unit)                                                               \
    else if (nr > 2 * VL)                                                             \
        BY_ROWS(3, unit, 0)                                                           \
    else if (nr > VL)                                                                 \
        BY_ROWS(2, unit, 0)                                                           \
    else                                                                              \
        BY_ROWS(1, unit, 0)

/* One or two KC blocks, from a and b on. */
static void blocks(size_t kc, size_t kc1, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                   const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                   size_t nr, float alpha, float beta)
{
    if (kc1 > 0) {
        if (rs_a == 1)
            BY_ROWS(1, 1, 1)
        else
            BY_ROWS(1, 0, 1)
    } else if (rs_a == 1) {
        BY_WIDTH(1)
    } else {
        BY_WIDTH(0)
    }
}

void nnf__sgemm_ukernel_8x48_6x64__avx512(size_t k, const float *a, ptrdiff_t rs_a,
                                           ptrdiff_t cs_a, const float *b,
                                           ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                           size_t nr, float alpha, float beta)
{
    const int pairs = nr <= VL;
    for (size_t p0 = 0; p0 < k;) {
        size_t kc = k - p0 < KC ? k - p0 : KC;
        size_t rest = k - p0 - kc;
        size_t kc1 = pairs ? (rest < KC ? rest : KC) : 0;
        blocks(kc, kc1, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a, b + (ptrdiff_t)p0 * rs_b,
               rs_b, c, ldc, mr, nr, alpha, p0 == 0 ? beta : 1.0f);
        p0 += kc + kc1;
    }
}
