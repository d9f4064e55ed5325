/* One read-only table of kernel pointers per ISA, like BLIS's per-configuration
 * context. The tables live in baseline-compiled files (table_<isa>.c) so that no
 * AVX-512 instruction can run before detection has chosen that ISA. Their sgemm cache
 * blocks are the fallback: dispatch runs a copy of each table whose blocks it chose
 * from the caches of the CPU (blocking_choose.c), keeping these where none is described.
 */
#ifndef NNF_KERNEL_TABLE_H
#define NNF_KERNEL_TABLE_H

#include "nnf/isa.h"
#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm_kernels.h"

typedef struct nnf__kernels {
    nnf_isa isa;
    /* 1 where exp, log, tanh, sigmoid and pow are not the other ISAs' bits but within
     * 1 ULP of them: x86's scalar, whose SLEEF functions run without FMA. */
    int sleef_inexact;
    nnf__eltwise_kernels elt;
    nnf__reduce_kernels red;
    nnf__sgemm_kernels gemm;
} nnf__kernels;

/* The portable sgemm kernels, as `variant` scalar (baseline) or scalarfma (the same
 * built with -mfma, where fmaf is one vfmadd instead of a call into libm: 5x784x10 ran
 * ~11 instructions per multiply-add around the call, the accumulators spilled across
 * it; the results are the same bits). Blocking for a generic core: a 256 x 384 B block
 * (384 KiB) fits typical L2s. */
#define NNF__SGEMM_SCALAR_TABLE(variant)                                   \
    {                                                                      \
        .mr = 4, .nr = 4, .a_block_rows = 256, .b_block_cols = 256,        \
        .direct_mr = 4, .direct_nr = 4,                                    \
        .ukernel = nnf__sgemm_ukernel_4x4__##variant,                      \
        .direct_ukernel = nnf__sgemm_ukernel_4x4__##variant,               \
        .pack_copy = nnf__sgemm_pack_copy__scalar,                         \
        .pack_transpose = nnf__sgemm_pack_transpose__scalar,               \
        .dots = nnf__sgemm_dots__##variant,                                \
    }

/* One table per line of nnf/isa_list.h, named nnf__kernels_<name>. */
#define NNF__KERNELS_EXTERN(ID, name, value, arch) extern const nnf__kernels nnf__kernels_##name;
NNF_ISA_LIST(NNF__KERNELS_EXTERN)
#undef NNF__KERNELS_EXTERN

#endif
