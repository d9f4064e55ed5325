/* The avx512 kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/avx512/kernels.h"

const nnf__kernels nnf__kernels_avx512 = {
    .isa = NNF_ISA_AVX512,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(avx512),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(avx512),
    },
    .red = NNF__RED_TABLE(avx512),
    .gemm = {
        /* The blocks are the fallback for a CPU that describes no caches: dispatch
         * fills them from the caches it finds (dispatch/blocking_choose.c says which
         * block lives where). These fit Zen 4/5: the 8 x 384 A micro-panel (12 KiB)
         * in the L1d, the 384 x 384 B block (576 KiB) in a 1 MiB L2 with room for A
         * and C passing through, the A block up to 2048 x 384 (3 MiB) in the L3.
         * Packing: kernels/avx512/sgemm_pack__avx512.c. */
        .mr = 8, .nr = 48, .a_block_rows = 2048, .b_block_cols = 384,
        /* Unpacked operands: 6x64 tiles (see the kernel for why). */
        .direct_mr = 6, .direct_nr = 64, .direct_narrow_mr = 8,
        .ukernel = nnf__sgemm_ukernel_8x48__avx512,
        .direct_ukernel = nnf__sgemm_ukernel_6x64__avx512,
        .ukernel_every = nnf__sgemm_ukernel_every_8x48__avx512,
        .direct_ukernel_every = nnf__sgemm_ukernel_every_6x64__avx512,
        .pack_copy = nnf__sgemm_pack_copy__avx512,
        .pack_transpose = nnf__sgemm_pack_transpose__avx512,
        .dots = nnf__sgemm_dots__avx512,
        .outer = nnf__sgemm_outer__avx512,
        .dot_every = nnf__sgemm_dot_every__avx512,
        .dots_tb = nnf__sgemm_dots_tb__avx512,
        .dots_tb_max_m = 6,
        .dots_nn = nnf__sgemm_dots_nn__avx512,
        .dots_tn = nnf__sgemm_dots_tn__avx512,
        .tail_vl = 16,
        .dots_cols = nnf__sgemm_dots_cols__avx512,
        /* Split where a prepacked B's panels (nr above) meet. */
        .direct_ukernel_split = nnf__sgemm_ukernel_split_6x64__avx512,
        .direct_split = 48,
        .direct_column = nnf__sgemm_ukernel_column_6x64__avx512,
    },
};
