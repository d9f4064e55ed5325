/* Portable GEMV over contiguous rows (see kernels/sgemm_kernels.h): one in-order fmaf chain
 * per row. */
#include <math.h>

#include "kernels/scalar/sgemm_scalar_name.h"
#include "kernels/scalar/kernels.h"

void NNF__SGEMM_SCALAR(nnf__sgemm_dots)(size_t m, size_t kc, const float *a, size_t lda,
                             const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                             float alpha, float beta)
{
    for (size_t i = 0; i < m; i++) {
        const float *ai = a + i * lda;
        float acc = 0.0f;
        for (size_t p = 0; p < kc; p++)
            acc = fmaf(ai[p], x[(ptrdiff_t)p * incx], acc);
        float *yi = y + (ptrdiff_t)i * incy;
        *yi = nnf__sgemm_epilogue1(acc, yi, alpha, beta);
    }
}
