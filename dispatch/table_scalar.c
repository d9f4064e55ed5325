/* The scalar kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/scalar/kernels.h"

const nnf__kernels nnf__kernels_scalar = {
    .isa = NNF_ISA_SCALAR,
#if !defined(__aarch64__)
    .sleef_inexact = 1,
#endif
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(scalar),
#if defined(__aarch64__)
        /* FMA is baseline on aarch64: SLEEF's purecfma, the vector ISAs' bits. */
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalarfma),
#else
        /* Baseline x86 has no FMA: SLEEF's purec, which differs from the vector ISAs in
         * the last bit for ~0.7% of exp results (the scalar_fma table has their bits). */
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalar),
#endif
    },
    .red = NNF__RED_TABLE(scalar),
    .gemm = NNF__SGEMM_SCALAR_TABLE(scalar),
};
