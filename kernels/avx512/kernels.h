/* The kernels kernels/avx512/ defines, for dispatch/table_avx512.c. AVX-512 brings its
 * own micro-kernels (8x48 on packed panels, 6x64 in place), GEMV and packing. The copy
 * gains from masked tails and a loop without a width decision per piece; the transpose
 * takes 16x16 and 8x16 blocks in zmm and hands what is left of a panel (fewer than 8
 * columns or 16 steps) to AVX2's smaller blocks (sgemm_pack__avx512.c). */
#ifndef NNF_KERNELS_AVX512_KERNELS_H
#define NNF_KERNELS_AVX512_KERNELS_H

#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm_kernels.h"

NNF__DECLARE_ELTWISE_KERNELS(avx512)
NNF__RED_DECLARE(avx512)
NNF__SGEMM_DECLARE_UKERNEL(avx512, 8x48)
NNF__SGEMM_DECLARE_UKERNEL(avx512, 6x64)
NNF__SGEMM_DECLARE_UKERNEL_EVERY(avx512, 8x48)
NNF__SGEMM_DECLARE_UKERNEL_EVERY(avx512, 6x64)
NNF__SGEMM_DECLARE_DOTS(avx512)
NNF__SGEMM_DECLARE_DOTS_COLS(avx512)
NNF__SGEMM_DECLARE_OUTER(avx512)
NNF__SGEMM_DECLARE_DOT_EVERY(avx512)
NNF__SGEMM_DECLARE_DOTS_TB(avx512)
NNF__SGEMM_DECLARE_DOTS_NN(avx512)
NNF__SGEMM_DECLARE_DOTS_TN(avx512)
NNF__SGEMM_DECLARE_PACK(avx512)
void nnf__sgemm_ukernel_split_6x64__avx512(size_t, size_t, const float *, ptrdiff_t,
                                           ptrdiff_t, const float *, ptrdiff_t, const float *,
                                           ptrdiff_t, float *, size_t, size_t, size_t, float,
                                           float);
void nnf__sgemm_ukernel_column_6x64__avx512(size_t, size_t, size_t, size_t, const float *,
                                            ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t,
                                            float *, size_t, size_t, float, float);

#endif
