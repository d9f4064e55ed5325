/* The sgemm of depth 1 (kernels/sgemm_kernels.h, nnf__sgemm_outer_fn) over the vector
 * layer: each element of C is one FMA into a zero accumulator, so the loop is a row of
 * B times a splat of a[i], the shared epilogue (kernels/sgemm_epilogue.h), and a store.
 * fma(a, b, +0) rather than a * b: the contract's accumulator starts at +0, which turns
 * a product of -0 into +0. Built for the ISAs whose vector layer has an FMA (AVX2,
 * AVX-512, NEON); the scalar tables keep the tiles. */
#include <math.h>

#include "span.h"
#include "kernels/sgemm_epilogue.h"

/* m (<= NNF__VL) elements of a row of C from the same of B; C is read only if beta != 0
 * (the contract: C may hold anything then). */
NNF__SPAN_INLINE void outer_step(size_t m, nnf__vf ai, const float *b, float *c, float alpha,
                                 float beta)
{
    nnf__vf acc = nnf__v_fma(ai, nnf__ld(b, 1, m), nnf__v_zero());
    nnf__vf old = beta == 0.0f ? acc : nnf__ld(c, 1, m);
    nnf__st(c, 1, m, nnf__sgemm_epilogue_vf(acc, old, alpha, beta), NNF__BITS);
}

/* Row i of C through `step` (outer_step or outer_step_finite). */
#define OUTER_ROW(step, ...)                                                            \
    do {                                                                                \
        size_t j = 0;                                                                   \
        for (; j + NNF__VL <= n; j += NNF__VL)                                          \
            step(NNF__VL, ai, b + j, ci + j, __VA_ARGS__);                              \
        if (j < n)                                                                      \
            step(nnf__tail(n, j), ai, b + j, ci + j, __VA_ARGS__);                      \
    } while (0)

/* Where no element can be NaN (beta == 0, a[i], alpha and all of B finite: fma(a[i],
 * b, +0) is then finite or an overflow to inf, and alpha times it the same), the NaN
 * rule has nothing to do, and alpha == 1 (1 * x == x) needs no multiply: the
 * epilogue was 3 of the 5 vector instructions per store. The chapter's 200 x 1 @ 1 x 50
 * went from 0.50 to 0.40 us (libxsmm 0.36). */
NNF__SPAN_INLINE void outer_step_finite(size_t m, nnf__vf ai, const float *b, float *c,
                                        nnf__vf valpha, const int ONE)
{
    nnf__vf v = nnf__v_fma(ai, nnf__ld(b, 1, m), nnf__v_zero());
    nnf__st(c, 1, m, ONE ? v : nnf__v_mul(valpha, v), NNF__BITS);
}

/* 1 if x[0..n) (stride incx) are all finite: x * 0 is NaN exactly for the others. */
static int all_finite(size_t n, const float *x, ptrdiff_t incx)
{
    if (incx != 1) {
        float bad = 0.0f;
        for (size_t i = 0; i < n; i++)
            bad += x[(ptrdiff_t)i * incx] * 0.0f;
        return bad == 0.0f;
    }
    nnf__vf z = nnf__v_zero(), any = nnf__v_zero();
    size_t j = 0;
    for (; j + NNF__VL <= n; j += NNF__VL)
        any = nnf__v_add(any, nnf__v_mul(nnf__ld(x + j, 1, NNF__VL), z));
    if (j < n)
        any = nnf__v_add(any, nnf__v_mul(nnf__ld(x + j, 1, nnf__tail(n, j)), z));
    return nnf__v_mask_bits(nnf__v_unord(any, any)) == 0;
}

/* C by the contract's epilogue (FINITE == 0), or by the finite one above. */
NNF__SPAN_INLINE void outer_rows(size_t m, size_t n, const float *a, ptrdiff_t inca,
                                 const float *b, float *c, size_t ldc, float alpha,
                                 float beta, const int FINITE, const int ONE)
{
    const nnf__vf valpha = nnf__v_splat(alpha);
    for (size_t i = 0; i < m; i++, a += inca) {
        const nnf__vf ai = nnf__v_splat(*a);
        float *ci = c + i * ldc;
        if (FINITE)
            OUTER_ROW(outer_step_finite, valpha, ONE);
        else
            OUTER_ROW(outer_step, alpha, beta);
    }
}

/* With beta == 0, C is written and never read; the finite rows need A, B and alpha
 * finite, checked before any store (reading B just after a masked store into the same
 * line, a 1x1 product's operands side by side, stalled the load). A is checked apart
 * too: summing a[i] * 0 row by row put a chain of dependent adds through the row loop
 * (Zen 5, 200 x 1 @ 1 x 50: the kernel alone 0.355 -> 0.346 us, nnf_sgemm 50.1 -> 52.3
 * GFLOPS, medians of 7 alternating processes). */
void NNF__KERNEL(sgemm_outer)(size_t m, size_t n, const float *a, ptrdiff_t inca,
                              const float *b, float *c, size_t ldc, float alpha, float beta)
{
    if (beta == 0.0f && isfinite(alpha) && all_finite(n, b, 1) && all_finite(m, a, inca)) {
        if (alpha == 1.0f)
            outer_rows(m, n, a, inca, b, c, ldc, alpha, beta, 1, 1);
        else
            outer_rows(m, n, a, inca, b, c, ldc, alpha, beta, 1, 0);
        return;
    }
    outer_rows(m, n, a, inca, b, c, ldc, alpha, beta, 0, 0);
}
