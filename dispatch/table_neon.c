/* The neon kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/neon/kernels.h"

const nnf__kernels nnf__kernels_neon = {
    .isa = NNF_ISA_NEON,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(neon),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(neon),
    },
    .red = NNF__RED_TABLE(neon),
    .gemm = {
        /* Fallback blocks (dispatch/blocking_choose.c replaces them from the caches
         * found): the 8 x 384 A micro-panel (12 KiB) in a 32-64 KiB L1d, the 384 x 240
         * B block (360 KiB) in a 1 MiB L2 (Neoverse N1/V1 class). */
        .mr = 8, .nr = 12, .a_block_rows = 960, .b_block_cols = 240,
        .direct_mr = 8, .direct_nr = 12,
        .ukernel = nnf__sgemm_ukernel_8x12__neon,
        .direct_ukernel = nnf__sgemm_ukernel_8x12__neon,
        .ukernel_every = nnf__sgemm_ukernel_every_8x12__neon,
        .direct_ukernel_every = nnf__sgemm_ukernel_every_8x12__neon,
        .pack_copy = nnf__sgemm_pack_copy__neon,
        .pack_transpose = nnf__sgemm_pack_transpose__neon,
        .dots = nnf__sgemm_dots__neon,
        .outer = nnf__sgemm_outer__neon,
        .dot_every = nnf__sgemm_dot_every__neon,
    },
};
