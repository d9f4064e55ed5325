/* One read-only table of kernel pointers per ISA, like BLIS's per-configuration
 * context. The tables live in baseline-compiled files (table_<isa>.c) so that no
 * AVX-512 instruction can run before detection has chosen that ISA.
 */
#ifndef NNF_KERNEL_TABLE_H
#define NNF_KERNEL_TABLE_H

#include "nnf/isa.h"
#include "kernels/eltwise.h"
#include "kernels/reduce.h"
#include "kernels/sgemm.h"

typedef struct nnf__kernels {
    nnf_isa isa;
    nnf__eltwise_kernels elt;
    nnf__reduce_kernels red;
    nnf__sgemm_kernels gemm;
} nnf__kernels;

extern const nnf__kernels nnf__kernels_scalar;
#if defined(__x86_64__)
extern const nnf__kernels nnf__kernels_avx2;
extern const nnf__kernels nnf__kernels_avx512;
#endif
#if defined(__aarch64__)
extern const nnf__kernels nnf__kernels_neon;
#endif

#endif
