/* The kernels kernels/avx512/ defines, for dispatch/table_avx512.c. AVX-512 brings its
 * own micro-kernels (8x48 on packed panels, 6x64 in place), GEMV and packing copy, and
 * reuses the AVX2 transpose packing (kernels/avx2/kernels.h): 8x8 transposes are bound
 * by loads and stores, which 512-bit registers do not speed up on Zen 4 (it splits zmm
 * operations into two 256-bit halves). The copy gains from masked tails and a loop
 * without a width decision per piece (sgemm_pack__avx512.c). */
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
NNF__SGEMM_DECLARE_OUTER(avx512)
NNF__SGEMM_DECLARE_DOT_EVERY(avx512)
NNF__SGEMM_DECLARE_DOTS_TB(avx512)
NNF__SGEMM_DECLARE_DOTS_NN(avx512)
NNF__SGEMM_DECLARE_DOTS_TN(avx512)
void nnf__sgemm_pack_copy__avx512(size_t, size_t, size_t, const float *, size_t, float *);

#endif
