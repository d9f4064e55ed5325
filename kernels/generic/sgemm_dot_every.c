/* One element of C over the whole k (kernels/sgemm_kernels.h, nnf__sgemm_dot_every_fn).
 * Its sums restart every `period` steps and are folded in order, so the period chains
 * are independent until the fold: up to LANES of them run side by side (scalar FMAs, 4
 * cycles of latency on two ports want 8 chains in flight), and only the fold is
 * sequential. The bias gradient of a 1-output Lin over the chapter's 200 rows, 7 chains
 * of 32, is then ~32 FMA latencies instead of ~200. The FMAs are fmaf, an instruction
 * on the ISAs this file is built for (-mfma on x86, baseline on aarch64). */
#include <math.h>

#include "kernels.h"
#include "vec.h"

enum { LANES = 8 };

/* Chains [0, chains) of `period` steps each, side by side: chain l is steps
 * [l * period, (l + 1) * period) from zero into acc[l]. */
static inline __attribute__((always_inline)) void side_by_side(
    float *acc, size_t chains, size_t period, const float *a, ptrdiff_t inca,
    const float *x, ptrdiff_t incx)
{
    for (size_t p = 0; p < period; p++)
        for (size_t l = 0; l < chains; l++) {
            const ptrdiff_t q = (ptrdiff_t)(l * period + p);
            acc[l] = fmaf(a[q * inca], x[q * incx], acc[l]);
        }
}

void NNF__KERNEL(sgemm_dot_every)(size_t period, size_t k, const float *a, ptrdiff_t inca,
                                  const float *x, ptrdiff_t incx, float *y, float alpha,
                                  float beta)
{
    for (size_t p0 = 0; p0 < k; p0 += LANES * period) {
        float acc[LANES] = {0};
        const size_t left = k - p0, whole = left / period;
        const float *ap = a + (ptrdiff_t)p0 * inca, *xp = x + (ptrdiff_t)p0 * incx;
        size_t chains = LANES;
        if (whole >= LANES) {
            side_by_side(acc, LANES, period, ap, inca, xp, incx);
        } else {
            /* the last group: its whole chains side by side, then the short one */
            side_by_side(acc, whole, period, ap, inca, xp, incx);
            chains = whole;
            if (left > whole * period) {
                for (size_t q = whole * period; q < left; q++)
                    acc[whole] = fmaf(ap[(ptrdiff_t)q * inca], xp[(ptrdiff_t)q * incx],
                                      acc[whole]);
                chains++;
            }
        }
        for (size_t l = 0; l < chains; l++)
            *y = p0 == 0 && l == 0 ? nnf__sgemm_epilogue1(acc[0], y, alpha, beta)
                                   : nnf__canonical_nan(fmaf(alpha, acc[l], *y));
    }
}
