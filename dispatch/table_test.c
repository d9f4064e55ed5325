/* The test configuration's dummy ISA (meson -Dtest_isa=true, nnf/isa_list.h): the scalar
 * kernels under another name, so that every cross-ISA test runs an ISA that is only a
 * list line, a rule and this table. Compiled at the baseline ISA: it only stores
 * pointers. */
#include "dispatch/kernel_table.h"
#include "kernels/scalar/kernels.h"

const nnf__kernels nnf__kernels_test = {
    .isa = NNF_ISA_TEST,
    .elt = {
        NNF__ELTWISE_KERNELS_COMMON(scalar),
        .sleef = NNF__ELTWISE_SLEEF_KERNELS(scalar),
    },
    /* x86's and aarch64's scalar SLEEF alike: purec, within 1 ULP of the others. */
    .sleef_inexact = 1,
    .red = NNF__RED_TABLE(scalar),
    .gemm = NNF__SGEMM_SCALAR_TABLE(scalar),
};
