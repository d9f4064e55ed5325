/* The portable sgemm micro-kernel: a 4x4 tile of C in 16 scalar accumulators, one
 * fmaf per k step and element, in k order (the numerics contract of kernels/sgemm_kernels.h).
 * Other ISAs must reproduce its results bit for bit. */
#include <math.h>

#include "kernels/scalar/sgemm_scalar_name.h"
#include "kernels/scalar/kernels.h"

enum { MR = 4, NR = 4 };

/* One KC block. */
static void block(size_t kc, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                  const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                  size_t nr, float alpha, float beta)
{
    float acc[MR][NR] = {{0}};
    for (size_t p = 0; p < kc; p++) {
        const float *bp = b + (ptrdiff_t)p * rs_b;
        const float *ap = a + (ptrdiff_t)p * cs_a;
        for (size_t i = 0; i < mr; i++) {
            float ai = ap[(ptrdiff_t)i * rs_a];
            for (size_t j = 0; j < nr; j++)
                acc[i][j] = fmaf(ai, bp[j], acc[i][j]);
        }
    }
    for (size_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (size_t j = 0; j < nr; j++)
            ci[j] = nnf__sgemm_epilogue1(acc[i][j], &ci[j], alpha, beta);
    }
}

void NNF__SGEMM_SCALAR(nnf__sgemm_ukernel_4x4)(size_t k, const float *a, ptrdiff_t rs_a,
                                    ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                    float *c, size_t ldc, size_t mr, size_t nr,
                                    float alpha, float beta)
{
    nnf__sgemm_each_block(block, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
}
