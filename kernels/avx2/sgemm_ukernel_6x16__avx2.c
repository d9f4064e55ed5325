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

#include "kernels/avx2/vec.h"
#include "kernels/avx2/kernels.h"

enum { MR = 6, VL = 8 };   /* the tile is MR x 2 VL */

static inline __m256i lanes_below(size_t n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int lim = n >= VL ? VL : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lim), idx);
}

#include "kernels/sgemm_epilogue.h"

/* A full vector's epilogue, inline (plain accesses cost a sanitizer one check each). */
static inline __attribute__((always_inline)) void store_full(float *cv, __m256 acc,
                                                             float alpha, float beta)
{
    __m256 old = beta == 0.0f ? acc : _mm256_loadu_ps(cv);
    _mm256_storeu_ps(cv, nnf__sgemm_epilogue_vf(acc, old, alpha, beta));
}

/* The epilogue of a partial vector's first n < 8 lanes. Not inlined: one copy serves
 * every tile shape, at one call per row per KC block; the accumulator goes by value,
 * so the accumulators stay in registers through the k loop. */
static __attribute__((noinline)) void store_part(float *cv, size_t n, __m256i mask,
                                                 __m256 acc, float alpha, float beta)
{
    __m256 old = beta == 0.0f ? acc : _mm256_maskload_ps(cv, mask);
    float buf[VL];
    _mm256_storeu_ps(buf, nnf__sgemm_epilogue_vf(acc, old, alpha, beta));
    memcpy(cv, buf, n * sizeof(float));
}

/* One k step: acc[i][v] = fma(a[i], b[v], acc[i][v]); the last vector of B is read
 * through `mask` if PARTIAL. */
static inline __attribute__((always_inline)) void step(__m256 acc[][2], const float *a,
                                                       ptrdiff_t rs_a, const float *b,
                                                       __m256i mask, const int ROWS,
                                                       const int NV, const int PARTIAL)
{
    __m256 bv[2];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++)
        bv[v] = PARTIAL && v == NV - 1 ? _mm256_maskload_ps(b + v * VL, mask)
                                       : _mm256_loadu_ps(b + v * VL);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++) {
        __m256 ai = _mm256_broadcast_ss(a + i * rs_a);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
}

/* Steps [0, k) of one KC block, the sums restarting every `period` steps (KC, or a
 * divisor for the micro-batch rule), beta for the first chunk and 1 after: 32-step
 * chunks then cost an epilogue each with the C tile in the L1, not a call and a tile
 * dispatch. ROWS and NV (ymm vectors per row) are compile-time constants in every
 * expansion; unit_rs_a says A's rows are adjacent (packed panels, transposed A), so
 * the broadcasts use one pointer with fixed offsets. */
static inline __attribute__((always_inline)) void
tile(size_t k, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
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
    /* The last vector is partial when nr is not a multiple of 8. */
    const size_t left = nr - (size_t)(NV - 1) * VL;
    const int partial = left < VL;
    const __m256i mask = lanes_below(left);

    for (size_t p0 = 0; p0 < k; p0 += period, beta = 1.0f) {
        const size_t kc = k - p0 < period ? k - p0 : period;
        __m256 acc[MR][2];
#pragma GCC unroll 6
        for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm256_setzero_ps();

        if (partial) {
            for (size_t p = 0; p < kc; p++, a += cs_a, b += rs_b)
                step(acc, a, rs_a, b, mask, ROWS, NV, 1);
        } else {
            /* Unrolled: a quarter of the pointer updates and branches, which otherwise
             * take issue slots from the FMAs (measured 78% -> 88% of the ymm peak). */
#pragma GCC unroll 4
            for (size_t p = 0; p < kc; p++, a += cs_a, b += rs_b)
                step(acc, a, rs_a, b, mask, ROWS, NV, 0);
        }

        /* Between two restarts of one call with alpha and beta 1: the fold. */
        if (!partial && nnf__sgemm_folds(p0 + kc, k, alpha, beta)) {
#pragma GCC unroll 6
            for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) {
                    float *cv = c + (size_t)i * ldc + v * VL;
                    _mm256_storeu_ps(cv, nnf__sgemm_fold_vf(acc[i][v], _mm256_loadu_ps(cv)));
                }
            continue;
        }
#pragma GCC unroll 6
        for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                if (partial && v == NV - 1)
                    store_part(c + (size_t)i * ldc + v * VL, left, mask, acc[i][v], alpha,
                               beta);
                else
                    store_full(c + (size_t)i * ldc + v * VL, acc[i][v], alpha, beta);
    }
}

#define TILE_FN(rows, nv, unit) NNF__SGEMM_TILE_FN(tile, rows, nv, unit)
#define ROWS_1_TO_6(nv, unit)                                                           \
    TILE_FN(1, nv, unit) TILE_FN(2, nv, unit) TILE_FN(3, nv, unit)                      \
    TILE_FN(4, nv, unit) TILE_FN(5, nv, unit) TILE_FN(6, nv, unit)
ROWS_1_TO_6(1, 0)
ROWS_1_TO_6(2, 0)
ROWS_1_TO_6(1, 1)
ROWS_1_TO_6(2, 1)

#define BY_ROWS(nv, unit)                                                               \
    {tile_1_##nv##_##unit, tile_2_##nv##_##unit, tile_3_##nv##_##unit,                  \
     tile_4_##nv##_##unit, tile_5_##nv##_##unit, tile_6_##nv##_##unit}

void nnf__sgemm_ukernel_every_6x16__avx2(size_t period, size_t k, const float *a,
                                         ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                         ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                         size_t nr, float alpha, float beta)
{
    /* [unit][nv - 1][rows - 1] */
    static nnf__sgemm_tile_fn *const tiles[2][2][MR] = {{BY_ROWS(1, 0), BY_ROWS(2, 0)},
                                                        {BY_ROWS(1, 1), BY_ROWS(2, 1)}};
    /* A call per KC block, as each asks for its C tile ahead (the tile's prefetch). */
    nnf__sgemm_tile_each_block(tiles[rs_a == 1][nr > VL][mr - 1], period, k, a, rs_a, cs_a,
                               b, rs_b, c, ldc, nr, alpha, beta);
}

void nnf__sgemm_ukernel_6x16__avx2(size_t k, const float *a, ptrdiff_t rs_a,
                                   ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                   float *c, size_t ldc, size_t mr, size_t nr,
                                   float alpha, float beta)
{
    nnf__sgemm_ukernel_every_6x16__avx2(NNF__SGEMM_KC, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr,
                                        nr, alpha, beta);
}
