/* The sgemm packers (the panel layout of kernels/sgemm_kernels.h) over the vector layer,
 * for AVX2 and NEON. AVX-512 packs with its own 16- and 8-float moves
 * (kernels/avx512/sgemm_pack__avx512.c) and hands the tails of its transposes to AVX2's
 * from here.
 *
 * The copy walks each source row once, front to back, cutting it into the panels' rows:
 * whole vectors, then the rest through the layer's nnf__v_copy_part (on AVX2 pieces of
 * 4, 2 and 1 floats, not its masked moves, which are very slow on AMD). The transpose
 * moves VL x VL register blocks (nnf__v_transpose); the columns of a panel past its last
 * whole block go through the layer's nnf__v_transpose_narrow. */
#include "span.h"

enum { VL = NNF__VL };

void NNF__KERNEL(sgemm_pack_copy)(size_t kc, size_t w, size_t W, const float *src, size_t ld,
                                  float *out)
{
    for (size_t p = 0; p < kc; p++) {
        const float *s = src + p * ld;
        for (size_t j0 = 0; j0 < w; j0 += W) {
            const size_t n = w - j0 < W ? w - j0 : W;
            float *o = out + j0 * kc + p * W;
            const float *sj = s + j0;
            size_t j = 0;
            for (; j + VL <= n; j += VL)
                nnf__v_store(o + j, nnf__v_load(sj + j));
            if (j < n)
                nnf__v_copy_part(o + j, sj + j, n - j);
        }
    }
}

/* One panel: w <= W columns whose source rows are contiguous along k. */
static void transpose_panel(size_t kc, size_t w, size_t W, const float *src, size_t ld,
                            float *out)
{
    size_t j = 0;
    for (; j + VL <= w; j += VL) {
        const float *s = src + j * ld;
        size_t p = 0;
        for (; p + VL <= kc; p += VL) {
            nnf__vf col[VL];
            nnf__v_transpose(s + p, ld, col);
            for (int q = 0; q < VL; q++)
                nnf__v_store(out + (p + q) * W + j, col[q]);
        }
        for (; p < kc; p++)
            for (size_t jj = 0; jj < VL; jj++)
                out[p * W + j + jj] = s[jj * ld + p];
    }
    if (j < w)
        nnf__v_transpose_narrow(kc, w - j, W, src + j * ld, ld, out + j);
}

void NNF__KERNEL(sgemm_pack_transpose)(size_t kc, size_t w, size_t W, const float *src,
                                       size_t ld, float *out)
{
    for (size_t j0 = 0; j0 < w; j0 += W)
        transpose_panel(kc, w - j0 < W ? w - j0 : W, W, src + j0 * ld, ld, out + j0 * kc);
}
