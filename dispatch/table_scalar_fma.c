/* The scalar_fma kernel table (x86 only): the scalar table with the kernels built with
 * -mfma where FMA matters, so that fmaf is one vfmadd instead of a call into libm and
 * SLEEF's purecfma gives the vector ISAs' bits. Compiled at the baseline ISA: it only
 * stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/scalar/kernels.h"

const nnf__kernels nnf__kernels_scalar_fma = {
    .isa = NNF_ISA_SCALAR_FMA,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(scalar),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalarfma),
    },
    .red = NNF__RED_TABLE(scalar),
    .gemm = NNF__SGEMM_SCALAR_TABLE(scalarfma),
};
