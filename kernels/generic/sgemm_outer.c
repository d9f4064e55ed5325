/* The sgemm of depth 1 (kernels/sgemm_kernels.h, nnf__sgemm_outer_fn) over the vector
 * layer: each element of C is one FMA into a zero accumulator, so the loop is a row of
 * B times a splat of a[i], the shared epilogue (kernels/sgemm_epilogue.h), and a store.
 * fma(a, b, +0) rather than a * b: the contract's accumulator starts at +0, which turns
 * a product of -0 into +0. Built for the ISAs whose vector layer has an FMA (AVX2,
 * AVX-512, NEON); the scalar tables keep the tiles. */
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

void NNF__KERNEL(sgemm_outer)(size_t m, size_t n, const float *a, ptrdiff_t inca,
                              const float *b, float *c, size_t ldc, float alpha, float beta)
{
    for (size_t i = 0; i < m; i++) {
        const nnf__vf ai = nnf__v_splat(a[(ptrdiff_t)i * inca]);
        float *ci = c + i * ldc;
        size_t j = 0;
        for (; j + NNF__VL <= n; j += NNF__VL)
            outer_step(NNF__VL, ai, b + j, ci + j, alpha, beta);
        if (j < n)
            outer_step(nnf__tail(n, j), ai, b + j, ci + j, alpha, beta);
    }
}
