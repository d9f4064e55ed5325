/* The AVX-512 sgemm micro-kernel: a 12x32 tile of C in 24 zmm accumulators.
 *
 * Sizing for Zen 4: 24 accumulators + 2 B vectors + 1 broadcast of A = 27 of the 32
 * zmm registers. Each k step does 24 independent FMAs (the 4-cycle FMA latency needs
 * only 4 in flight at one zmm FMA per cycle) against 2 loads of B and 12 broadcasts
 * of A, which fold into the FMAs' memory operands, so the loop is FMA-bound.
 * Edge tiles (mr < 12 or nr < 32) run a copy of the loop with only the rows and
 * vectors they need and use masked loads and stores, which are cheap on AVX-512:
 * the chapter's 5x784x10 runs 5 FMAs per k step, not 24.
 */
#include <immintrin.h>

#include "kernels/sgemm.h"

enum { MR = 12, NR = 32, VL = 16 };

/* ROWS and NV (zmm vectors per row) are compile-time constants in every expansion;
 * unit_rs_a tells the compiler that A's rows are adjacent (packed panels and
 * transposed A), so the 12 broadcasts use one pointer with fixed offsets. */
static inline __attribute__((always_inline)) void
tile(size_t kc, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
     ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha, float beta,
     const int ROWS, const int NV, const int unit_rs_a)
{
    if (unit_rs_a)
        rs_a = 1;
    /* C is touched only after the k loop; asking for its lines now hides the miss
     * (the packed path revisits C once per KC block, long after it left the L1). */
#pragma GCC unroll 12
    for (int i = 0; i < ROWS; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + nr - 1), _MM_HINT_T0);
    }
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();

    /* All-ones except in the last vector of an edge tile. */
    __mmask16 mask[2];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) {
        size_t left = nr - (size_t)v * VL;
        mask[v] = left >= VL ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
    }

    for (size_t p = 0; p < kc; p++) {
        __m512 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            bv[v] = _mm512_maskz_loadu_ps(mask[v], b + v * VL);
#pragma GCC unroll 12
        for (int i = 0; i < ROWS; i++) {
            __m512 ai = _mm512_set1_ps(a[i * rs_a]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += cs_a;
        b += rs_b;
    }

    const __m512 valpha = _mm512_set1_ps(alpha);
    const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < ROWS; i++) {
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            __m512 r;
            if (beta == 0.0f) {
                r = _mm512_mul_ps(valpha, acc[i][v]);
            } else {
                __m512 old = _mm512_maskz_loadu_ps(mask[v], ci + v * VL);
                r = _mm512_fmadd_ps(valpha, acc[i][v], _mm512_mul_ps(vbeta, old));
            }
            _mm512_mask_storeu_ps(ci + v * VL, mask[v], r);
        }
    }
}

#define TILE(rows, nv, unit)                                                          \
    tile(kc, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta, rows, nv, unit)
#define BY_ROWS(nv, unit)                                                             \
    switch (mr) {                                                                     \
    case 1: TILE(1, nv, unit); break;                                                 \
    case 2: TILE(2, nv, unit); break;                                                 \
    case 3: TILE(3, nv, unit); break;                                                 \
    case 4: TILE(4, nv, unit); break;                                                 \
    case 5: TILE(5, nv, unit); break;                                                 \
    case 6: TILE(6, nv, unit); break;                                                 \
    case 7: TILE(7, nv, unit); break;                                                 \
    case 8: TILE(8, nv, unit); break;                                                 \
    case 9: TILE(9, nv, unit); break;                                                 \
    case 10: TILE(10, nv, unit); break;                                               \
    case 11: TILE(11, nv, unit); break;                                               \
    default: TILE(12, nv, unit); break;                                               \
    }

void nnf__sgemm_ukernel_12x32__avx512(size_t kc, const float *a, ptrdiff_t rs_a,
                                      ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                      float *c, size_t ldc, size_t mr, size_t nr,
                                      float alpha, float beta)
{
    if (rs_a == 1) {
        if (nr > VL)
            BY_ROWS(2, 1)
        else
            BY_ROWS(1, 1)
    } else {
        if (nr > VL)
            BY_ROWS(2, 0)
        else
            BY_ROWS(1, 0)
    }
}
