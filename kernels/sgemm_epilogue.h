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

/* Between two restarts of one call with alpha and beta 1 (the micro-batch rule's
 * 32-step chunks into a gradient): old + acc, without the NaN rule. The same bits as
 * the epilogue's fma(1, acc, 1 * old) whenever the sum is a number (both round the
 * exact sum once), and a NaN stays a NaN through the later chunks until the call's
 * last one applies the rule. Why: every 32 steps the epilogue's multiply, FMA and the
 * rule's compare and masked move per vector took the FMA ports from the tile's FMAs,
 * where an add runs beside them. On the Zen 5 the big MLP's backward went from 20.2 to
 * 19.2 ms (AVX-512; a 32-step 256x384x336 weight gradient 4-5% faster, 12% on AVX2). */
static inline nnf__vf nnf__sgemm_fold_vf(nnf__vf acc, nnf__vf old)
{
    return nnf__v_add(acc, old);
}

/* Whether a chunk of a call's k steps ending at step `end` of `k` may go into C by
 * nnf__sgemm_fold_vf: not the call's last (that one applies the NaN rule), and alpha and
 * beta 1 (for a later chunk beta is 1). The rule in one place for every kernel. */
static inline int nnf__sgemm_folds(size_t end, size_t k, float alpha, float beta)
{
    return end < k && alpha == 1.0f && beta == 1.0f;
}

#endif
