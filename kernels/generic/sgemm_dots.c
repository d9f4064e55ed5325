/* GEMV over contiguous rows (kernels/sgemm_kernels.h, nnf__sgemm_dots_fn) over the vector
 * layer, for the ISAs without a kernel of their own (AVX2, NEON; AVX-512's transposes
 * 16 rows its own way, sgemm_dots__avx512.c). Each row keeps its own in-order FMA
 * chain, so the vector lanes hold NNF__VL different rows: VL x VL blocks of A are
 * transposed in registers (nnf__v_transpose) and fed to FMAs against a splat of x.
 * Four blocks of VL rows run side by side, so 4 independent chains cover the FMA
 * latency while the next block's shuffles issue. */
#include <math.h>

#include "kernels.h"
#include "vec.h"
#include "kernels/sgemm_epilogue.h"

enum { VL = NNF__VL, GROUPS_MAX = 4 };

/* The contract's epilogue on each of the VL rows of acc, one element at a time (y's
 * rows are incy apart). */
static inline void store_rows(nnf__vf acc, float *y, ptrdiff_t incy, float alpha, float beta)
{
    float v[VL];
    nnf__v_store(v, acc);
    for (int r = 0; r < VL; r++) {
        float *yr = y + (ptrdiff_t)r * incy;
        *yr = nnf__sgemm_epilogue1(v[r], yr, alpha, beta);
    }
}

/* G groups of VL rows starting at a; G is a constant in each expansion. */
static inline __attribute__((always_inline)) void
groups(size_t kc, const float *a, size_t lda, const float *x, ptrdiff_t incx, float *y,
       ptrdiff_t incy, float alpha, float beta, const int G)
{
    nnf__vf acc[GROUPS_MAX];
    for (int g = 0; g < G; g++)
        acc[g] = nnf__v_zero();
    size_t p = 0;
    for (; p + VL <= kc; p += VL) {
        nnf__vf col[GROUPS_MAX][VL];
        for (int g = 0; g < G; g++)
            nnf__v_transpose(a + (size_t)g * VL * lda + p, lda, col[g]);
        for (int q = 0; q < VL; q++) {
            const nnf__vf xq = nnf__v_splat(x[(ptrdiff_t)(p + q) * incx]);
            for (int g = 0; g < G; g++)
                acc[g] = nnf__v_fma(col[g][q], xq, acc[g]);
        }
    }
    /* The last kc % VL steps: each group's column gathered a row at a time. */
    for (; p < kc; p++) {
        const nnf__vf xq = nnf__v_splat(x[(ptrdiff_t)p * incx]);
        for (int g = 0; g < G; g++) {
            const float *ag = a + (size_t)g * VL * lda + p;
            float column[VL];
            for (int r = 0; r < VL; r++)
                column[r] = ag[(size_t)r * lda];
            acc[g] = nnf__v_fma(nnf__v_load(column), xq, acc[g]);
        }
    }
    for (int g = 0; g < G; g++)
        store_rows(acc[g], y + (ptrdiff_t)g * VL * incy, incy, alpha, beta);
}

void NNF__KERNEL(sgemm_dots)(size_t m, size_t kc, const float *a, size_t lda, const float *x,
                             ptrdiff_t incx, float *y, ptrdiff_t incy, float alpha,
                             float beta)
{
    size_t i = 0;
    for (; i + GROUPS_MAX * VL <= m; i += GROUPS_MAX * VL)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta,
               GROUPS_MAX);
    for (; i + VL <= m; i += VL)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta, 1);
    /* The last m % VL rows: one scalar chain each, in the same k order. */
    for (; i < m; i++) {
        float *yi = y + (ptrdiff_t)i * incy;
        *yi = nnf__sgemm_epilogue1(nnf__sgemm_dot_row(kc, a + i * lda, x, incx), yi, alpha,
                                   beta);
    }
}
