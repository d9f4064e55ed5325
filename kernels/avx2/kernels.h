/* The kernels kernels/avx2/ defines, for dispatch/table_avx2.c (and the packing, for
 * dispatch/table_avx512.c). */
#ifndef NNF_KERNELS_AVX2_KERNELS_H
#define NNF_KERNELS_AVX2_KERNELS_H

#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm_kernels.h"

NNF__DECLARE_ELTWISE_KERNELS(avx2)
NNF__RED_DECLARE(avx2)
NNF__SGEMM_DECLARE(avx2, 6x16)
NNF__SGEMM_DECLARE_OUTER(avx2)
NNF__SGEMM_DECLARE_DOT_EVERY(avx2)
NNF__SGEMM_DECLARE_UKERNEL_EVERY(avx2, 6x16)

#endif
