/* The AVX-512 sgemm micro-kernel on operands read in place (the direct path): 6x64
 * tiles (kernels/avx512/sgemm_tile__avx512.h), whose 64 columns cover widths of 50 and
 * 100 in 1 and 2 tiles per row band where 48 would need 2 and 3. A's rows are adjacent
 * (transposed A: unit = 1) or a row stride apart (unit = 0). */
#include "kernels/avx512/sgemm_tile__avx512.h"

#define ROWS_1_TO_6(nv, unit, pair)                                                     \
    NNF__AVX512_TILE(1, nv, unit, pair, 0) NNF__AVX512_TILE(2, nv, unit, pair, 0)       \
    NNF__AVX512_TILE(3, nv, unit, pair, 0) NNF__AVX512_TILE(4, nv, unit, pair, 0)       \
    NNF__AVX512_TILE(5, nv, unit, pair, 0) NNF__AVX512_TILE(6, nv, unit, pair, nv == 4)
#define TILES(unit)                                                                     \
    ROWS_1_TO_6(1, unit, 0) ROWS_1_TO_6(2, unit, 0) ROWS_1_TO_6(3, unit, 0)             \
    ROWS_1_TO_6(4, unit, 0) ROWS_1_TO_6(1, unit, 1)
TILES(0)
TILES(1)

#define BY_ROWS(nv, unit, pair)                                                         \
    {tile_1_##nv##_##unit##_##pair, tile_2_##nv##_##unit##_##pair,                      \
     tile_3_##nv##_##unit##_##pair, tile_4_##nv##_##unit##_##pair,                      \
     tile_5_##nv##_##unit##_##pair, tile_6_##nv##_##unit##_##pair}
/* [nv - 1][rows - 1] for one block at a time, then [4][rows - 1] for pairs of blocks. */
#define BY_WIDTH(unit)                                                                  \
    {BY_ROWS(1, unit, 0), BY_ROWS(2, unit, 0), BY_ROWS(3, unit, 0), BY_ROWS(4, unit, 0), \
     BY_ROWS(1, unit, 1)}

void nnf__sgemm_ukernel_6x64__avx512(size_t k, const float *a, ptrdiff_t rs_a,
                                     ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                     float *c, size_t ldc, size_t mr, size_t nr,
                                     float alpha, float beta)
{
    nnf__avx512_tile_fn *const tiles[2][5][6] = {BY_WIDTH(0), BY_WIDTH(1)};
    const int unit = rs_a == 1;
    const size_t nv = (nr + NNF__AVX512_VL - 1) / NNF__AVX512_VL;
    nnf__avx512_blocks(tiles[unit][nv - 1][mr - 1], nv == 1 ? tiles[unit][4][mr - 1] : NULL,
                       k, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta);
}
