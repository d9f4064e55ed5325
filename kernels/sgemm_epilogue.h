/* The sgemm epilogue of kernels/sgemm_kernels.h on one vector of C, written once for
 * every ISA over its vector layer: the including kernel first includes its
 * kernels/<isa>/vec.h (nnf__vf, nnf__v_splat, nnf__v_mul, nnf__v_fma, and nnf__v_canon for
 * the NaN rule). The kernels differ only in how they load and store C (masks, partial
 * vectors), so the arithmetic that decides the bits lives here; what it returns is stored
 * as is. */
#ifndef NNF_KERNELS_SGEMM_EPILOGUE_H
#define NNF_KERNELS_SGEMM_EPILOGUE_H

/* A call's first KC block: alpha * acc if beta == 0 (`old`, C's value, is not read
 * then: pass anything), fma(alpha, acc, beta * old) otherwise. */
static inline nnf__vf nnf__sgemm_epilogue_vf(nnf__vf acc, nnf__vf old, float alpha,
                                             float beta)
{
    const nnf__vf va = nnf__v_splat(alpha);
    return nnf__v_canon(beta == 0.0f
                            ? nnf__v_mul(va, acc)
                            : nnf__v_fma(va, acc, nnf__v_mul(nnf__v_splat(beta), old)));
}

/* A later block: fma(alpha, acc, old). */
static inline nnf__vf nnf__sgemm_epilogue_later_vf(nnf__vf acc, nnf__vf old, float alpha)
{
    return nnf__v_canon(nnf__v_fma(nnf__v_splat(alpha), acc, old));
}

#endif
