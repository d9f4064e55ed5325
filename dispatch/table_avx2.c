/* The avx2 kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/avx2/kernels.h"

const nnf__kernels nnf__kernels_avx2 = {
    .isa = NNF_ISA_AVX2,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(avx2),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(avx2),
    },
    .red = NNF__RED_TABLE(avx2),
    .gemm = {
        /* Fallback blocks, as for AVX-512 (dispatch/blocking_choose.c replaces them
         * from the caches found): the 6 x 384 A micro-panel (9 KiB) in the L1d, the
         * 384 x 256 B block (384 KiB) in the L2, the A block up to 2048 x 384 in the L3. */
        .mr = 6, .nr = 16, .a_block_rows = 2048, .b_block_cols = 256,
        .direct_mr = 6, .direct_nr = 16,
        .ukernel = nnf__sgemm_ukernel_6x16__avx2,
        .direct_ukernel = nnf__sgemm_ukernel_6x16__avx2,
        .ukernel_every = nnf__sgemm_ukernel_every_6x16__avx2,
        .direct_ukernel_every = nnf__sgemm_ukernel_every_6x16__avx2,
        .pack_copy = nnf__sgemm_pack_copy__avx2,
        .pack_transpose = nnf__sgemm_pack_transpose__avx2,
        .dots = nnf__sgemm_dots__avx2,
        .outer = nnf__sgemm_outer__avx2,
        .dot_every = nnf__sgemm_dot_every__avx2,
    },
};
