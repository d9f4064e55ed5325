/* The AVX-512 sgemm micro-kernel on packed panels and prepacked B: 8x48 tiles
 * (kernels/avx512/sgemm_tile__avx512.h). A's rows are adjacent (packed panels: unit =
 * 1) or a row stride apart (A in place beside a prepacked B: unit = 0). Panels are 48
 * wide but at the right edge of B, so only the full width gets unmasked, unrolled
 * tiles of every height (a prepacked B meets 1-8 rows of A); narrower ones run the
 * masked tiles, whatever their width (a full mask gives the same bits), except the
 * 32-wide last panel of every power-of-two n > 32 (n = 512 is 10 panels of 48 and one
 * of 32) under 8 rows: unmasked and unrolled, as the full width. */
#include "kernels/avx512/sgemm_tile__avx512.h"

/* rows, nv, unit, pair, masked, unroll */
#define ROWS_1_TO_8(nv, pair, masked, unroll)                                           \
    NNF__AVX512_TILE(1, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(2, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(3, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(4, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(5, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(6, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(7, nv, 0, pair, masked, unroll)                                    \
    NNF__AVX512_TILE(8, nv, 0, pair, masked, unroll || nv == 3)
ROWS_1_TO_8(1, 0, 1, 0)
ROWS_1_TO_8(2, 0, 1, 0)
ROWS_1_TO_8(3, 0, 1, 0)
ROWS_1_TO_8(1, 1, 1, 0)
ROWS_1_TO_8(3, 0, 0, 1)
NNF__AVX512_TILE(8, 3, 1, 0, 0, 1)
NNF__AVX512_TILE(8, 3, 1, 0, 1, 1)
NNF__AVX512_TILE(8, 2, 0, 0, 0, 1)
NNF__AVX512_TILE(8, 2, 1, 0, 0, 1)

#define BY_ROWS(nv, pair, m)                                                            \
    {tile_1_##nv##_0_##pair##_##m, tile_2_##nv##_0_##pair##_##m,                        \
     tile_3_##nv##_0_##pair##_##m, tile_4_##nv##_0_##pair##_##m,                        \
     tile_5_##nv##_0_##pair##_##m, tile_6_##nv##_0_##pair##_##m,                        \
     tile_7_##nv##_0_##pair##_##m, tile_8_##nv##_0_##pair##_##m}

void nnf__sgemm_ukernel_every_8x48__avx512(size_t period, size_t k, const float *a,
                                           ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                           ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                           size_t nr, float alpha, float beta)
{
    static nnf__avx512_tile_fn *const masked[3][8] = {BY_ROWS(1, 0, 1), BY_ROWS(2, 0, 1),
                                                      BY_ROWS(3, 0, 1)};
    static nnf__avx512_tile_fn *const full[8] = BY_ROWS(3, 0, 0);
    static nnf__avx512_tile_fn *const pairs[8] = BY_ROWS(1, 1, 1);
    nnf__avx512_tile_fn *one, *pair = NULL;
    const size_t nv = (nr + NNF__AVX512_VL - 1) / NNF__AVX512_VL;
    if (nr == 48)
        one = rs_a == 1 && mr == 8 ? tile_8_3_1_0_0 : full[mr - 1];
    else if (nv == 3 && rs_a == 1 && mr == 8)
        one = tile_8_3_1_0_1;
    else if (nr == 32 && mr == 8)
        one = rs_a == 1 ? tile_8_2_1_0_0 : tile_8_2_0_0_0;
    else
        one = masked[nv - 1][mr - 1];
    if (nv == 1)
        pair = pairs[mr - 1];
    nnf__avx512_blocks(one, pair, period, k, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha,
                       beta);
}

NNF__AVX512_KC_ENTRY(8x48)
