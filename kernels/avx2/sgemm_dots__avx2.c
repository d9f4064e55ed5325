/* AVX2 GEMV over contiguous rows (see kernels/sgemm_kernels.h). Each row must keep its own
 * in-order FMA chain, so the vector lanes hold 8 different rows: 8x8 blocks of A are
 * transposed in registers (16 shuffles per 64 floats) and fed to FMAs against a
 * broadcast of x. Four blocks of 8 rows run side by side, so 4 independent chains
 * cover the 4-cycle FMA latency while the shuffles of the next block issue. */
#include <immintrin.h>
#include <math.h>

#include "kernels/avx2/sgemm_transpose8x8.h"
#include "kernels/avx2/kernels.h"

enum { VL = 8 };

static inline void store_rows(__m256 acc, size_t rows, float *y, ptrdiff_t incy,
                              float alpha, float beta)
{
    float v[VL];
    _mm256_storeu_ps(v, acc);
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + (ptrdiff_t)r * incy;
        *yr = nnf__sgemm_epilogue1(v[r], yr, alpha, beta);
    }
}

/* G groups of 8 rows starting at a; G is a constant in each expansion. */
static inline __attribute__((always_inline)) void
groups(size_t kc, const float *a, size_t lda, const float *x, ptrdiff_t incx,
       float *y, ptrdiff_t incy, float alpha, float beta, const int G)
{
    __m256 acc[4];
    for (int g = 0; g < G; g++)
        acc[g] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + VL <= kc; p += VL) {
        __m256 col[4][VL];
        for (int g = 0; g < G; g++)
            nnf__transpose8x8_avx2(a + (size_t)g * VL * lda + p, lda, col[g]);
        for (int q = 0; q < VL; q++) {
            __m256 xq = _mm256_set1_ps(x[(ptrdiff_t)(p + q) * incx]);
            for (int g = 0; g < G; g++)
                acc[g] = _mm256_fmadd_ps(col[g][q], xq, acc[g]);
        }
    }
    for (; p < kc; p++) {
        __m256 xq = _mm256_set1_ps(x[(ptrdiff_t)p * incx]);
        for (int g = 0; g < G; g++) {
            const float *ag = a + (size_t)g * VL * lda + p;
            __m256 col = _mm256_setr_ps(ag[0], ag[lda], ag[2 * lda], ag[3 * lda],
                                        ag[4 * lda], ag[5 * lda], ag[6 * lda],
                                        ag[7 * lda]);
            acc[g] = _mm256_fmadd_ps(col, xq, acc[g]);
        }
    }
    for (int g = 0; g < G; g++)
        store_rows(acc[g], VL, y + (ptrdiff_t)g * VL * incy, incy, alpha, beta);
}

void nnf__sgemm_dots__avx2(size_t m, size_t kc, const float *a, size_t lda,
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
