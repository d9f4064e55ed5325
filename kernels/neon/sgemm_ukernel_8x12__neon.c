/* The NEON sgemm micro-kernel: an 8x12 tile of C in 24 q-register accumulators.
 *
 * Sizing for 32 q registers: 24 accumulators + 3 B vectors + A's broadcasts = 28-29.
 * Each k step has 24 independent FMLAs (by element), enough for the 4-cycle latency of
 * two or four FMA pipes. Edge tiles run a copy of the loop with only the rows and
 * vectors they need; a partial vector of B or C (nr not a multiple of 4) is moved lane
 * by lane, since NEON has no masked loads and the bytes after it may not exist.
 */
#include <arm_neon.h>

#include "kernels/neon/vec.h"
#include "kernels/neon/kernels.h"

enum { MR = 8, VL = 4 };   /* the tile is MR x 3 VL */

#include "kernels/sgemm_epilogue.h"

static inline float32x4_t load_part(const float *p, size_t n)
{
    float32x4_t v = vdupq_n_f32(0.0f);
    v = vld1q_lane_f32(p, v, 0);
    if (n > 1)
        v = vld1q_lane_f32(p + 1, v, 1);
    if (n > 2)
        v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}

static inline void store_part(float *p, float32x4_t v, size_t n)
{
    vst1q_lane_f32(p, v, 0);
    if (n > 1)
        vst1q_lane_f32(p + 1, v, 1);
    if (n > 2)
        vst1q_lane_f32(p + 2, v, 2);
}

/* ROWS and NV (q vectors per row) are compile-time constants in every expansion. */
static inline __attribute__((always_inline)) void
tile(size_t kc, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
     ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha, float beta,
     const int ROWS, const int NV, const int unit_rs_a)
{
    if (unit_rs_a)
        rs_a = 1;
    float32x4_t acc[MR][3];
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            acc[i][v] = vdupq_n_f32(0.0f);

    const size_t left = nr - (size_t)(NV - 1) * VL;
    const int partial = left < VL;

    for (size_t p = 0; p < kc; p++) {
        float32x4_t bv[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            bv[v] = (partial && v == NV - 1) ? load_part(b + v * VL, left)
                                             : vld1q_f32(b + v * VL);
#pragma GCC unroll 8
        for (int i = 0; i < ROWS; i++) {
            float ai = a[i * rs_a];
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++)
                acc[i][v] = vfmaq_n_f32(acc[i][v], bv[v], ai);
        }
        a += cs_a;
        b += rs_b;
    }

#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            int part = partial && v == NV - 1;
            float *cv = ci + v * VL;
            float32x4_t old = beta == 0.0f ? acc[i][v]
                              : part         ? load_part(cv, left)
                                             : vld1q_f32(cv);
            float32x4_t r = nnf__sgemm_epilogue_vf(acc[i][v], old, alpha, beta);
            if (part)
                store_part(cv, r, left);
            else
                vst1q_f32(cv, r);
        }
    }
}

/* Steps [0, k) of one KC block, the sums restarting every `period` steps (KC, or a
 * divisor for the micro-batch rule), beta for the first chunk and 1 after: 32-step
 * chunks then cost an epilogue each with the C tile in the L1, not a call and a tile
 * dispatch. */
static inline __attribute__((always_inline)) void
tile_every(size_t k, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
           const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha,
           float beta, const int ROWS, const int NV, const int unit_rs_a)
{
    for (size_t p0 = 0; p0 < k; p0 += period, beta = 1.0f)
        tile(k - p0 < period ? k - p0 : period, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a,
             b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc, nr, alpha, beta, ROWS, NV, unit_rs_a);
}

#define TILE_FN(rows, nv, unit) NNF__SGEMM_TILE_FN(tile_every, rows, nv, unit)
#define ROWS_1_TO_8(nv, unit)                                                           \
    TILE_FN(1, nv, unit) TILE_FN(2, nv, unit) TILE_FN(3, nv, unit)                      \
    TILE_FN(4, nv, unit) TILE_FN(5, nv, unit) TILE_FN(6, nv, unit)                      \
    TILE_FN(7, nv, unit) TILE_FN(8, nv, unit)
ROWS_1_TO_8(1, 0)
ROWS_1_TO_8(2, 0)
ROWS_1_TO_8(3, 0)
ROWS_1_TO_8(1, 1)
ROWS_1_TO_8(2, 1)
ROWS_1_TO_8(3, 1)

#define BY_ROWS(nv, unit)                                                               \
    {tile_1_##nv##_##unit, tile_2_##nv##_##unit, tile_3_##nv##_##unit,                  \
     tile_4_##nv##_##unit, tile_5_##nv##_##unit, tile_6_##nv##_##unit,                  \
     tile_7_##nv##_##unit, tile_8_##nv##_##unit}

void nnf__sgemm_ukernel_every_8x12__neon(size_t period, size_t k, const float *a,
                                         ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                         ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                         size_t nr, float alpha, float beta)
{
    /* [unit][nv - 1][rows - 1] */
    static nnf__sgemm_tile_fn *const tiles[2][3][MR] = {
        {BY_ROWS(1, 0), BY_ROWS(2, 0), BY_ROWS(3, 0)},
        {BY_ROWS(1, 1), BY_ROWS(2, 1), BY_ROWS(3, 1)}};
    nnf__sgemm_tile_each_block(tiles[rs_a == 1][(nr - 1) / VL][mr - 1], period, k, a, rs_a,
                               cs_a, b, rs_b, c, ldc, nr, alpha, beta);
}

void nnf__sgemm_ukernel_8x12__neon(size_t k, const float *a, ptrdiff_t rs_a,
                                   ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                   float *c, size_t ldc, size_t mr, size_t nr,
                                   float alpha, float beta)
{
    nnf__sgemm_ukernel_every_8x12__neon(NNF__SGEMM_KC, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr,
                                        nr, alpha, beta);
}
