/* The scalar kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"

#if defined(__x86_64__)
/* The scalar sgemm with fmaf inlined (see kernels/sgemm.h), for CPUs with FMA. */
static const nnf__sgemm_kernels scalar_gemm_fma = {
    .mr = 4, .nr = 4, .mc = 256, .nc = 256,
    .direct_mr = 4, .direct_nr = 4,
    .ukernel = nnf__sgemm_ukernel_4x4__scalarfma,
    .direct_ukernel = nnf__sgemm_ukernel_4x4__scalarfma,
    .pack_copy = nnf__sgemm_pack_copy__scalar,
    .pack_transpose = nnf__sgemm_pack_transpose__scalar,
    .dots = nnf__sgemm_dots__scalarfma,
};
#endif


const nnf__kernels nnf__kernels_scalar = {
    .isa = NNF_ISA_SCALAR,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(scalar),
#if defined(__x86_64__)
        /* Baseline x86 has no FMA: purec here, purecfma when AVX2 (which implies FMA)
         * is usable, so the scalar ISA matches the vector ones bit for bit there. */
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalar),
        .sleef_fma = NNF__ELTWISE_SLEEF_KERNELS(scalarfma),
        .sleef_fma_needs = NNF_ISA_AVX2,
#else
        /* FMA is baseline on aarch64. */
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalarfma),
#endif
    },
    .red = NNF__RED_TABLE(scalar),
    .gemm = {
        /* Blocking for a generic core: a 256 x 384 B block (384 KiB) fits typical L2s. */
        .mr = 4, .nr = 4, .mc = 256, .nc = 256,
        .direct_mr = 4, .direct_nr = 4,
        .ukernel = nnf__sgemm_ukernel_4x4__scalar,
        .direct_ukernel = nnf__sgemm_ukernel_4x4__scalar,
        .pack_copy = nnf__sgemm_pack_copy__scalar,
        .pack_transpose = nnf__sgemm_pack_transpose__scalar,
        .dots = nnf__sgemm_dots__scalar,
#if defined(__x86_64__)
        .fma = &scalar_gemm_fma,
        .fma_needs = NNF_ISA_AVX2,
#endif
    },
};

