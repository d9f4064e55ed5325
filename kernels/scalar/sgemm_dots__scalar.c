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
        float *yi = y + (ptrdiff_t)i * incy;
        *yi = nnf__sgemm_epilogue1(nnf__sgemm_dot_row(kc, a + i * lda, x, incx), yi, alpha,
                                   beta);
    }
}
