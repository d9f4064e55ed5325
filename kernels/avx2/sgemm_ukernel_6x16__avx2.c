/* The AVX2 sgemm micro-kernel: a 6x16 tile of C in 12 ymm accumulators.
 *
 * Sizing for 16 ymm registers: 12 accumulators + 2 B vectors + 1 broadcast of A = 15.
 * Each k step has 12 independent FMAs, enough to cover the 4-cycle latency of Zen 4's
 * two FMA pipes (8 in flight), against 2 loads of B and 6 broadcasts of A.
 * Edge tiles run a copy of the loop with only the rows and vectors they need. B's
 * partial vector is read with vmaskmovps (a load, cheap); C's partial vector is
 * written through a small buffer, because vmaskmovps *stores* are very slow on Zen 4.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/sgemm.h"

enum { MR = 6, VL = 8 };   /* the tile is MR x 2 VL */

static inline __m256i lanes_below(size_t n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int lim = n >= VL ? VL : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lim), idx);
}

/* One vector of the epilogue (kernels/sgemm.h): c = alpha * acc, or
 * fma(alpha, acc, beta * c), for the first n <= 8 lanes. Not inlined: one copy serves
 * every tile shape, at one call per vector per KC block; the accumulator goes by
 * value, so the accumulators stay in registers through the k loop. */
static __attribute__((noinline)) void store_vec(float *cv, size_t n, __m256i mask,
                                                __m256 acc, float alpha, float beta)
{
    const __m256 valpha = _mm256_set1_ps(alpha);
    __m256 r;
    if (beta == 0.0f) {
        r = _mm256_mul_ps(valpha, acc);
    } else {
        __m256 old = n < VL ? _mm256_maskload_ps(cv, mask) : _mm256_loadu_ps(cv);
        r = _mm256_fmadd_ps(valpha, acc, _mm256_mul_ps(_mm256_set1_ps(beta), old));
    }
    if (n < VL) {
        float buf[VL];
        _mm256_storeu_ps(buf, r);
        memcpy(cv, buf, n * sizeof(float));
    } else {
        _mm256_storeu_ps(cv, r);
    }
}

/* ROWS and NV (ymm vectors per row) are compile-time constants in every expansion;
 * unit_rs_a says A's rows are adjacent (packed panels, transposed A), so the
 * broadcasts use one pointer with fixed offsets. */
static inline __attribute__((always_inline)) void
tile(size_t kc, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
     ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha, float beta,
     const int ROWS, const int NV, const int unit_rs_a)
{
    if (unit_rs_a)
        rs_a = 1;
    /* C is touched only after the k loop; asking for its lines now hides the miss
     * (the packed path revisits C once per KC block, long after it left the L1). */
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + nr - 1), _MM_HINT_T0);
    }
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm256_setzero_ps();

    /* The last vector is partial when nr is not a multiple of 8. */
    const size_t left = nr - (size_t)(NV - 1) * VL;
    const int partial = left < VL;
    const __m256i mask = lanes_below(left);

    if (partial) {
        for (size_t p = 0; p < kc; p++) {
            __m256 bv[2];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                bv[v] = v == NV - 1 ? _mm256_maskload_ps(b + v * VL, mask)
                                    : _mm256_loadu_ps(b + v * VL);
#pragma GCC unroll 6
            for (int i = 0; i < ROWS; i++) {
                __m256 ai = _mm256_broadcast_ss(a + i * rs_a);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++)
                    acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
            }
            a += cs_a;
            b += rs_b;
        }
    } else {
        /* Unrolled: a quarter of the pointer updates and branches, which otherwise
         * take issue slots from the FMAs (measured 78% -> 88% of the ymm peak). */
#pragma GCC unroll 4
        for (size_t p = 0; p < kc; p++) {
            __m256 bv[2];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                bv[v] = _mm256_loadu_ps(b + v * VL);
#pragma GCC unroll 6
            for (int i = 0; i < ROWS; i++) {
                __m256 ai = _mm256_broadcast_ss(a + i * rs_a);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++)
                    acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
            }
            a += cs_a;
            b += rs_b;
        }
    }

#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            store_vec(c + (size_t)i * ldc + v * VL, v < NV - 1 ? VL : left, mask, acc[i][v],
                      alpha, beta);
}

/* One instantiation per shape, each a function of its own: inlined into one
 * function, the 24 shapes took minutes to compile under a sanitizer. */
#define TILE_FN(rows, nv, unit)                                                         \
    static __attribute__((noinline)) void tile_##rows##_##nv##_##unit(                  \
        size_t kc, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,      \
        ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha, float beta)       \
    {                                                                                   \
        tile(kc, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta, rows, nv, unit);      \
    }
#define ROWS_1_TO_6(nv, unit)                                                           \
    TILE_FN(1, nv, unit) TILE_FN(2, nv, unit) TILE_FN(3, nv, unit)                      \
    TILE_FN(4, nv, unit) TILE_FN(5, nv, unit) TILE_FN(6, nv, unit)
ROWS_1_TO_6(1, 0)
ROWS_1_TO_6(2, 0)
ROWS_1_TO_6(1, 1)
ROWS_1_TO_6(2, 1)

#define TILE(rows, nv, unit)                                                          \
    tile_##rows##_##nv##_##unit(kc, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta)
#define BY_ROWS(nv, unit)                                                             \
    switch (mr) {                                                                     \
    case 1: TILE(1, nv, unit); break;                                                 \
    case 2: TILE(2, nv, unit); break;                                                 \
    case 3: TILE(3, nv, unit); break;                                                 \
    case 4: TILE(4, nv, unit); break;                                                 \
    case 5: TILE(5, nv, unit); break;                                                 \
    default: TILE(6, nv, unit); break;                                                \
    }

/* One KC block. */
static void block(size_t kc, const float *a, ptrdiff_t rs_a,
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

void nnf__sgemm_ukernel_6x16__avx2(size_t k, const float *a, ptrdiff_t rs_a,
                                   ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                   float *c, size_t ldc, size_t mr, size_t nr,
                                   float alpha, float beta)
{
    nnf__sgemm_each_block(block, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
}
