/* The sgemm epilogue of kernels/sgemm_kernels.h on one vector of C, written once for
 * every ISA. The including kernel first defines its ISA's vector of floats:
 *     nnf__sgemm_vf                         the type
 *     nnf__sgemm_vf_splat(x)                every lane x
 *     nnf__sgemm_vf_mul(a, b)               a * b
 *     nnf__sgemm_vf_fma(a, b, c)            a * b + c, rounded once
 *     nnf__sgemm_vf_canon(v)                NaN lanes as 0x7FC00000 (the NaN rule)
 * The kernels differ only in how they load and store C (masks, partial vectors), so
 * the arithmetic that decides the bits lives here; what it returns is stored as is. */
#ifndef NNF_KERNELS_SGEMM_EPILOGUE_H
#define NNF_KERNELS_SGEMM_EPILOGUE_H

/* A call's first KC block: alpha * acc if beta == 0 (`old`, C's value, is not read
 * then: pass anything), fma(alpha, acc, beta * old) otherwise. */
static inline nnf__sgemm_vf nnf__sgemm_epilogue_vf(nnf__sgemm_vf acc, nnf__sgemm_vf old,
                                                   float alpha, float beta)
{
    const nnf__sgemm_vf va = nnf__sgemm_vf_splat(alpha);
    return nnf__sgemm_vf_canon(
        beta == 0.0f
            ? nnf__sgemm_vf_mul(va, acc)
            : nnf__sgemm_vf_fma(va, acc, nnf__sgemm_vf_mul(nnf__sgemm_vf_splat(beta), old)));
}

/* A later block: fma(alpha, acc, old). */
static inline nnf__sgemm_vf nnf__sgemm_epilogue_later_vf(nnf__sgemm_vf acc, nnf__sgemm_vf old,
                                                         float alpha)
{
    return nnf__sgemm_vf_canon(nnf__sgemm_vf_fma(nnf__sgemm_vf_splat(alpha), acc, old));
}

#endif
