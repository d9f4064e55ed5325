/* NEON GEMV over contiguous rows (see kernels/sgemm_kernels.h). Each row keeps its own
 * in-order FMA chain, so the lanes hold 4 different rows: 4x4 blocks of A are
 * transposed in registers and fed to FMAs against a broadcast of x. Four blocks of
 * 4 rows run side by side to cover the FMA latency. */
#include <arm_neon.h>
#include <math.h>

#include "kernels/neon/sgemm_transpose4x4.h"
#include "kernels/neon/kernels.h"

enum { VL = 4 };

static inline __attribute__((always_inline)) void
groups(size_t kc, const float *a, size_t lda, const float *x, ptrdiff_t incx,
       float *y, ptrdiff_t incy, float alpha, float beta, const int G)
{
    float32x4_t acc[4];
    for (int g = 0; g < G; g++)
        acc[g] = vdupq_n_f32(0.0f);
    size_t p = 0;
    for (; p + VL <= kc; p += VL) {
        float32x4_t col[4][VL];
        for (int g = 0; g < G; g++)
            nnf__transpose4x4_neon(a + (size_t)g * VL * lda + p, lda, col[g]);
        for (int q = 0; q < VL; q++) {
            float xq = x[(ptrdiff_t)(p + q) * incx];
            for (int g = 0; g < G; g++)
                acc[g] = vfmaq_n_f32(acc[g], col[g][q], xq);
        }
    }
    for (; p < kc; p++) {
        float xq = x[(ptrdiff_t)p * incx];
        for (int g = 0; g < G; g++) {
            const float *ag = a + (size_t)g * VL * lda + p;
            float32x4_t col = vdupq_n_f32(0.0f);
            col = vsetq_lane_f32(ag[0], col, 0);
            col = vsetq_lane_f32(ag[lda], col, 1);
            col = vsetq_lane_f32(ag[2 * lda], col, 2);
            col = vsetq_lane_f32(ag[3 * lda], col, 3);
            acc[g] = vfmaq_n_f32(acc[g], col, xq);
        }
    }
    for (int g = 0; g < G; g++) {
        float v[VL];
        vst1q_f32(v, acc[g]);
        for (int r = 0; r < VL; r++) {
            float *yr = y + (ptrdiff_t)(g * VL + r) * incy;
            *yr = nnf__sgemm_epilogue1(v[r], yr, alpha, beta);
        }
    }
}

void nnf__sgemm_dots__neon(size_t m, size_t kc, const float *a, size_t lda,
                           const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                           float alpha, float beta)
{
    size_t i = 0;
    for (; i + 4 * VL <= m; i += 4 * VL)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta,
               4);
    for (; i + VL <= m; i += VL)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta,
               1);
    for (; i < m; i++) {
        const float *ai = a + i * lda;
        float acc = 0.0f;
        for (size_t p = 0; p < kc; p++)
            acc = fmaf(ai[p], x[(ptrdiff_t)p * incx], acc);
        float *yi = y + (ptrdiff_t)i * incy;
        *yi = nnf__sgemm_epilogue1(acc, yi, alpha, beta);
    }
}
