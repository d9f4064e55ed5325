/* The kernels kernels/neon/ defines, for dispatch/table_neon.c. */
#ifndef NNF_KERNELS_NEON_KERNELS_H
#define NNF_KERNELS_NEON_KERNELS_H

#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm_kernels.h"

NNF__DECLARE_ELTWISE_KERNELS(neon)
NNF__RED_DECLARE(neon)
NNF__SGEMM_DECLARE(neon, 8x12)
NNF__SGEMM_DECLARE_OUTER(neon)
NNF__SGEMM_DECLARE_DOT_EVERY(neon)
NNF__SGEMM_DECLARE_UKERNEL_EVERY(neon, 8x12)

#endif
