/* One element of C over the whole k (kernels/sgemm_kernels.h, nnf__sgemm_dot_every_fn).
 * Its sums restart every `period` steps and are folded in order, so the period chains
 * are independent until the fold: LANES of them run side by side (scalar FMAs, 4 cycles
 * of latency on two ports want 8 chains in flight), and only the fold is sequential.
 * The bias gradient of a 1-output Lin over the chapter's 200 rows, 7 chains of 32,
 * is then ~32 FMA latencies instead of ~200. The FMAs are fmaf, an instruction on the
 * ISAs this file is built for (-mfma on x86, baseline on aarch64). */
#include <math.h>

#include "kernels.h"
#include "vec.h"

enum { LANES = 8 };

void NNF__KERNEL(sgemm_dot_every)(size_t period, size_t k, const float *a, ptrdiff_t inca,
                                  const float *x, ptrdiff_t incx, float *y, float alpha,
                                  float beta)
{
    for (size_t p0 = 0; p0 < k; p0 += LANES * period) {
        float acc[LANES] = {0};
        const size_t left = k - p0;
        const size_t chains = left >= LANES * period ? LANES : (left + period - 1) / period;
        const size_t steps = left < period ? left : period;
        for (size_t p = 0; p < steps; p++)
            for (size_t l = 0; l < LANES; l++) {
                const size_t q = p0 + l * period + p;
                if (q < k)
                    acc[l] = fmaf(a[(ptrdiff_t)q * inca], x[(ptrdiff_t)q * incx], acc[l]);
            }
        for (size_t l = 0; l < chains; l++)
            *y = p0 == 0 && l == 0 ? nnf__sgemm_epilogue1(acc[0], y, alpha, beta)
                                   : nnf__canonical_nan(fmaf(alpha, acc[l], *y));
    }
}
