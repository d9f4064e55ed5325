/* The kernels kernels/scalar/ defines, for dispatch's scalar, scalar_fma and test tables.
 * The `scalarfma` variants are the same sources built again (kernels/scalar/meson.build):
 * SLEEF's purecfma everywhere, the sgemm kernels with -mfma on x86 only. */
#ifndef NNF_KERNELS_SCALAR_KERNELS_H
#define NNF_KERNELS_SCALAR_KERNELS_H

#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm_kernels.h"

NNF__DECLARE_ELTWISE_KERNELS(scalar)
NNF__DECLARE_SLEEF_KERNELS(scalarfma)
NNF__RED_DECLARE(scalar)
NNF__SGEMM_DECLARE(scalar, 4x4)
NNF__SGEMM_DECLARE_UKERNEL(scalarfma, 4x4)
NNF__SGEMM_DECLARE_DOTS(scalarfma)

#endif
