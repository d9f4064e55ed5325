/* The sgemm of depth 1 (kernels/sgemm_kernels.h, nnf__sgemm_outer_fn) over the vector
 * layer: each element of C is one FMA into a zero accumulator, so the loop is a row of
 * B times a splat of a[i], the epilogue, and a store. fma(a, b, +0) rather than a * b:
 * the contract's accumulator starts at +0, which turns a product of -0 into +0. Built
 * for the ISAs whose vector layer has an FMA (AVX2, AVX-512, NEON); the scalar tables
 * keep the tiles. */
#include "span.h"

NNF__SPAN_INLINE void outer_row(size_t n, nnf__vf ai, const float *b, float *c,
                                nnf__vf alpha, nnf__vf beta, int read_c)
{
    size_t j = 0;
    for (; j + NNF__VL <= n; j += NNF__VL) {
        nnf__vf acc = nnf__v_fma(ai, nnf__v_load(b + j), nnf__v_zero());
        nnf__vf v = read_c ? nnf__v_fma(alpha, acc, nnf__v_mul(beta, nnf__v_load(c + j)))
                           : nnf__v_mul(alpha, acc);
        nnf__st(c + j, 1, NNF__VL, v, NNF__ARITH);
    }
    if (j < n) {
        size_t m = nnf__tail(n, j);
        nnf__vf acc = nnf__v_fma(ai, nnf__ld(b + j, 1, m), nnf__v_zero());
        nnf__vf v = read_c ? nnf__v_fma(alpha, acc, nnf__v_mul(beta, nnf__ld(c + j, 1, m)))
                           : nnf__v_mul(alpha, acc);
        nnf__st(c + j, 1, m, v, NNF__ARITH);
    }
}

void NNF__KERNEL(sgemm_outer)(size_t m, size_t n, const float *a, ptrdiff_t inca,
                              const float *b, float *c, size_t ldc, float alpha, float beta)
{
    const nnf__vf va = nnf__v_splat(alpha), vb = nnf__v_splat(beta);
    for (size_t i = 0; i < m; i++) {
        const nnf__vf ai = nnf__v_splat(a[(ptrdiff_t)i * inca]);
        if (beta == 0.0f)
            outer_row(n, ai, b, c + i * ldc, va, vb, 0);
        else
            outer_row(n, ai, b, c + i * ldc, va, vb, 1);
    }
}
