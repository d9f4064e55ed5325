/* The avx512 kernel table. Compiled at the baseline ISA: it only stores pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/avx2/kernels.h"   /* the packing */
#include "kernels/avx512/kernels.h"

const nnf__kernels nnf__kernels_avx512 = {
    .isa = NNF_ISA_AVX512,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(avx512),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(avx512),
    },
    .red = NNF__RED_TABLE(avx512),
    .gemm = {
        /* The 8 x 384 A micro-panel (12 KiB) stays in the L1d (32 KiB on Zen 4, 48 KiB
         * on recent Intel); the 384 x 384 B block (576 KiB) in the L2 (1-2 MiB) with
         * room for A and C passing through; the A block, up to 2048 x 384 (3 MiB), is
         * packed once per KC step and read from L2/L3. B is packed again for every A
         * block, so a tall one pays: m = 1024 packs B once, not twice as with 960 rows
         * (3% faster at 1024^3 and 2048^3 against OpenBLAS, paired runs). Packing is
         * the AVX2 kernels' (see kernels/sgemm_kernels.h). */
        .mr = 8, .nr = 48, .a_block_rows = 2048, .b_block_cols = 384,
        /* Unpacked operands: 6x64 tiles (see the kernel for why). */
        .direct_mr = 6, .direct_nr = 64,
        .ukernel = nnf__sgemm_ukernel_8x48__avx512,
        .direct_ukernel = nnf__sgemm_ukernel_6x64__avx512,
        .ukernel_every = nnf__sgemm_ukernel_every_8x48__avx512,
        .direct_ukernel_every = nnf__sgemm_ukernel_every_6x64__avx512,
        .pack_copy = nnf__sgemm_pack_copy__avx2,
        .pack_transpose = nnf__sgemm_pack_transpose__avx2,
        .dots = nnf__sgemm_dots__avx512,
        .dots_tb = nnf__sgemm_dots_tb__avx512,
        .dots_tb_max_m = 6,
        .tail_vl = 16,
    },
};
