/* The AVX-512 sgemm micro-kernel on operands read in place (the direct path): 6x64
 * tiles (kernels/avx512/sgemm_tile__avx512.h), whose 64 columns cover widths of 50 and
 * 100 in 1 and 2 tiles per row band where 48 would need 2 and 3. A's rows are adjacent
 * (transposed A: unit = 1) or a row stride apart (unit = 0); only the full shape
 * has tiles of its own for unit = 1 (the others read a stride of 1 as any stride).
 * Every shape has tiles with and without masks: this path runs 32^3, 64^3, ...
 *
 * Up to 32 columns (one or two vectors a row), tiles take up to 8 rows (the table's
 * direct_narrow_mr): 8x32 is 16 accumulators, 16 FMAs per k step against 10 loads, and
 * 32 rows are 4 such tiles, where 6-row bands left a 2-row tile of 4 latency-bound
 * chains (32^3: 6x32 x 5 + 2x32); one vector a row, 8 rows are the 8 chains that cover
 * the FMA latency on two ports, 6 were not. */
#include "kernels/avx512/sgemm_tile__avx512.h"

/* rows, nv, unit, pair, masked, unroll */
#define ROWS_1_TO_6(nv, pair, masked)                                                   \
    NNF__AVX512_TILE(1, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(2, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(3, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(4, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(5, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(6, nv, 0, pair, masked, !masked || nv == 4)
#define TILES(masked)                                                                   \
    ROWS_1_TO_6(1, 0, masked) ROWS_1_TO_6(2, 0, masked) ROWS_1_TO_6(3, 0, masked)       \
    ROWS_1_TO_6(4, 0, masked)
TILES(0)
TILES(1)
ROWS_1_TO_6(1, 1, 1)
#define ROWS_7_8(nv, pair, masked)                                                      \
    NNF__AVX512_TILE(7, nv, 0, pair, masked, !masked)                                   \
    NNF__AVX512_TILE(8, nv, 0, pair, masked, !masked)
ROWS_7_8(1, 0, 0)
ROWS_7_8(2, 0, 0)
ROWS_7_8(1, 0, 1)
ROWS_7_8(2, 0, 1)
ROWS_7_8(1, 1, 1)
NNF__AVX512_TILE(6, 4, 1, 0, 0, 1)
NNF__AVX512_TILE(6, 4, 1, 0, 1, 1)

#define BY_ROWS(nv, pair, m)                                                            \
    {tile_1_##nv##_0_##pair##_##m, tile_2_##nv##_0_##pair##_##m,                        \
     tile_3_##nv##_0_##pair##_##m, tile_4_##nv##_0_##pair##_##m,                        \
     tile_5_##nv##_0_##pair##_##m, tile_6_##nv##_0_##pair##_##m}
#define BY_WIDTH(m) {BY_ROWS(1, 0, m), BY_ROWS(2, 0, m), BY_ROWS(3, 0, m), BY_ROWS(4, 0, m)}
#define NARROW(nv, pair, m) {tile_7_##nv##_0_##pair##_##m, tile_8_##nv##_0_##pair##_##m}

/* The tile (and, one vector a row, the tile for two KC blocks at once) for an mr x nr
 * block of C. Static tables: built on the stack at every call, they cost 14% at 32^3. */
static inline void choose(size_t mr, size_t nr, ptrdiff_t rs_a, nnf__avx512_tile_fn **one,
                          nnf__avx512_tile_fn **pair)
{
    static nnf__avx512_tile_fn *const tiles[2][4][6] = {BY_WIDTH(0), BY_WIDTH(1)};
    static nnf__avx512_tile_fn *const pairs[6] = BY_ROWS(1, 1, 1);
    static nnf__avx512_tile_fn *const full_unit[2] = {tile_6_4_1_0_0, tile_6_4_1_0_1};
    /* [masked][nv - 1][mr - 7], nv <= 2 */
    static nnf__avx512_tile_fn *const narrow[2][2][2] = {
        {NARROW(1, 0, 0), NARROW(2, 0, 0)}, {NARROW(1, 0, 1), NARROW(2, 0, 1)}};
    static nnf__avx512_tile_fn *const narrow_pairs[2] = NARROW(1, 1, 1);
    const int masked = nr % NNF__AVX512_VL != 0;
    const size_t nv = (nr + NNF__AVX512_VL - 1) / NNF__AVX512_VL;
    *pair = NULL;
    if (rs_a == 1 && mr == 6 && nv == 4) {
        *one = full_unit[masked];
    } else if (mr > 6) {
        *one = narrow[masked][nv - 1][mr - 7];
        if (nv == 1)
            *pair = narrow_pairs[mr - 7];
    } else {
        *one = tiles[masked][nv - 1][mr - 1];
        if (nv == 1)
            *pair = pairs[mr - 1];
    }
}

void nnf__sgemm_ukernel_every_6x64__avx512(size_t period, size_t k, const float *a,
                                           ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                           ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                           size_t nr, float alpha, float beta)
{
    nnf__avx512_tile_fn *one, *pair;
    choose(mr, nr, rs_a, &one, &pair);
    nnf__avx512_blocks(one, pair, period, k, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha,
                       beta);
}

/* The bands of a column of tiles in one call: the two calls and the choice per tile
 * that the loop outside would pay were ~0.035 of 0.49 us at 32^3 (4 bands of 8x32). */
void nnf__sgemm_ukernel_column_6x64__avx512(size_t period, size_t m, size_t band, size_t k,
                                            const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                                            const float *b, ptrdiff_t rs_b, float *c,
                                            size_t ldc, size_t nr, float alpha, float beta)
{
    nnf__avx512_tile_fn *one, *pair;
    choose(band, nr, rs_a, &one, &pair);
    for (size_t ir = 0, rows; ir < m; ir += rows) {
        rows = nnf__sgemm_band(m, band, ir);
        if (rows == band)
            nnf__avx512_blocks(one, pair, period, k, a + (ptrdiff_t)ir * rs_a, rs_a, cs_a, b,
                               rs_b, c + ir * ldc, ldc, nr, alpha, beta);
        else
            nnf__sgemm_ukernel_every_6x64__avx512(period, k, a + (ptrdiff_t)ir * rs_a, rs_a,
                                                  cs_a, b, rs_b, c + ir * ldc, ldc, rows, nr,
                                                  alpha, beta);
    }
}

NNF__AVX512_KC_ENTRY(6x64)

/* Tiles of 49-64 columns whose last vector comes from a second block of B (split at 3
 * vectors, where a prepacked B's 48-wide panels meet): rows, masked. */
#define SPLIT_TILE(rows, masked)                                                        \
    static __attribute__((noinline)) void split_##rows##_##masked(                       \
        size_t k, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,         \
        const float *b, ptrdiff_t rs_b, const float *b2, ptrdiff_t rs_b2, float *c,      \
        size_t ldc, size_t nr, float alpha, float beta)                                  \
    {                                                                                    \
        nnf__avx512_tile(k, 0, period, a, rs_a, cs_a, b, rs_b, b2, rs_b2, c, ldc, nr,    \
                         alpha, beta, rows, 4, 0, 0, masked, !masked || rows == 6, 3);  \
        nnf__v_leave();                                                                  \
    }
#define SPLIT_TILES(masked)                                                             \
    SPLIT_TILE(1, masked) SPLIT_TILE(2, masked) SPLIT_TILE(3, masked)                   \
    SPLIT_TILE(4, masked) SPLIT_TILE(5, masked) SPLIT_TILE(6, masked)
SPLIT_TILES(0)
SPLIT_TILES(1)

typedef void split_fn(size_t k, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                      const float *b, ptrdiff_t rs_b, const float *b2, ptrdiff_t rs_b2,
                      float *c, size_t ldc, size_t nr, float alpha, float beta);

void nnf__sgemm_ukernel_split_6x64__avx512(size_t period, size_t k, const float *a,
                                           ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                           ptrdiff_t rs_b, const float *b2, ptrdiff_t rs_b2,
                                           float *c, size_t ldc, size_t mr, size_t nr,
                                           float alpha, float beta)
{
    static split_fn *const tiles[2][6] = {
        {split_1_0, split_2_0, split_3_0, split_4_0, split_5_0, split_6_0},
        {split_1_1, split_2_1, split_3_1, split_4_1, split_5_1, split_6_1}};
    split_fn *one = tiles[nr % NNF__AVX512_VL != 0][mr - 1];
    /* One call per KC block, as nnf__avx512_blocks without pairs. */
    for (size_t p0 = 0; p0 < k; p0 += NNF__SGEMM_KC) {
        size_t kc = k - p0 < NNF__SGEMM_KC ? k - p0 : NNF__SGEMM_KC;
        one(kc, period, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a, b + (ptrdiff_t)p0 * rs_b, rs_b,
            b2 + (ptrdiff_t)p0 * rs_b2, rs_b2, c, ldc, nr, alpha, p0 == 0 ? beta : 1.0f);
    }
}
