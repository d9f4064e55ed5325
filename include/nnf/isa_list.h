/* nnf/isa_list.h — the one list of instruction sets nnf knows.
 *
 * Every line is X(ID, name, value, arch):
 *   ID     the enumerator's suffix: NNF_ISA_<ID>
 *   name   what nnf_isa_name returns and NNF_ISA reads (any case)
 *   value  the enumerator's value, part of the ABI: never renumber, append new values
 *   arch   where it is compiled in: X86 (x86-64), ARM (aarch64) or ANY
 * The lines are in order of preference, lowest first: on each architecture, dispatch
 * picks the last line of that architecture (or ANY) whose detection rule holds. From
 * this list come the enum below, the names, the ranks, the table of kernel tables
 * (nnf__kernels_<name>, dispatch/table_<name>.c), the detection rules
 * (dispatch/isa_choose.c names one per line) and every loop over ISAs in nnf's tests,
 * benchmarks and tools; the build (kernels/meson.build) reads the `X(` lines of
 * NNF_ISA_LIST, one per line, to build kernels/<name>/ and dispatch/table_<name>.c. */
#ifndef NNF_ISA_LIST_H
#define NNF_ISA_LIST_H

/* nnf's own test configuration (meson -Dtest_isa=true) adds a dummy ISA on the scalar
 * kernels, ranked lowest so that it is never chosen, only forced: every cross-ISA test
 * then runs on an ISA that exists only as a list line, a rule and a table. */
#if defined(NNF__TEST_ISA)
#define NNF__ISA_LIST_TEST(X) X(TEST, test, 5, ANY)
#else
#define NNF__ISA_LIST_TEST(X)
#endif

#define NNF_ISA_LIST(X)                  \
    NNF__ISA_LIST_TEST(X)                \
    X(SCALAR, scalar, 0, ANY)            \
    X(SCALAR_FMA, scalar_fma, 4, X86)    \
    X(AVX2, avx2, 1, X86)                \
    X(AVX512, avx512, 2, X86)            \
    X(NEON, neon, 3, ARM)

/* NNF_ISA_LIST(NNF_ISA_ITEM) is the enumerators in order of preference, each followed
 * by a comma: an initialiser for an array of every nnf_isa. */
#define NNF_ISA_ITEM(ID, name, value, arch) NNF_ISA_##ID,

#endif
