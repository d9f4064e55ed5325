/* Shared test helpers: run each case once per ISA, compare against references. */
#ifndef NNF_TEST_H
#define NNF_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "nnf/nnf.h"

/* Runs the statement once per ISA this machine supports, after forcing it and asserting
 * that nnf_isa_active() reports it. An ISA named in NNF_TEST_REQUIRE_ISAS that is not
 * supported fails the test instead of being skipped; NNF_TEST_ISAS (e.g. "scalar,avx2")
 * runs only the ISAs it names. */
#define NNF_FOR_EACH_ISA(isa) \
    NNF_TEST_ALL_ISAS(isa)    \
        if (nnf_test_use_isa(isa))

/* Every ISA of nnf/isa_list.h in its order, compiled in or not, without forcing any. */
#define NNF_TEST_ALL_ISAS(isa)                                                        \
    for (nnf_isa isa = nnf_test_isa_after(NNF_TEST_NO_ISA); isa != NNF_TEST_NO_ISA; \
         isa = nnf_test_isa_after(isa))
/* The ISA after `isa` in the list (the first after NNF_TEST_NO_ISA), NNF_TEST_NO_ISA
 * after the last. */
#define NNF_TEST_NO_ISA ((nnf_isa)-1)
nnf_isa nnf_test_isa_after(nnf_isa isa);
/* One more than the largest nnf_isa value: the length of an array indexed by nnf_isa. */
#define NNF_TEST_ISA_SLOT(ID, name, value, arch) char name[value + 1];
union nnf_test_isa_slots { NNF_ISA_LIST(NNF_TEST_ISA_SLOT) };
#define NNF_TEST_ISA_SLOTS sizeof(union nnf_test_isa_slots)

int nnf_test_use_isa(nnf_isa isa);
/* 0 if the active ISA does not keep nnf's promise of the same bits on every ISA (x86's
 * scalar: exp, log, tanh, sigmoid and pow without FMA, within 1 ULP), else 1. Tests
 * that compare ISAs bit for bit compare the others, and this one with references. */
int nnf_test_isa_exact(void);
/* Restores the ISA that was active when the test binary started. */
void nnf_test_restore_isa(void);

/* Sets nnf's thread count for later calls (nnf_set_num_threads). */
void nnf_test_threads(int n);

/* Asserts |got[i] - want[i]| <= atol + rtol * |want[i]| for all i (NaN matches NaN,
 * infinities must match exactly); prints the first mismatch and the max error. */
void nnf_test_assert_close(const float *got, const double *want, size_t n, double rtol,
                           double atol);
/* Asserts the two arrays are bitwise identical; prints the first differing index. */
void nnf_test_assert_bits_equal(const float *a, const float *b, size_t n);

/* Fills x with a reproducible pattern of uniform values in [lo, hi). */
void nnf_test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* The element of float tensor t that broadcasting maps the result index `index` (ndim
 * entries, ndim >= t's) to, read through t's strides: for a tensor of the result's own
 * shape, simply its element at `index`. */
float nnf_test_at(const nnf_tensor *t, int ndim, const int64_t *index);

/* Frees the n tensors, NULLs included (nnf_tensor_free takes them): a test ends by freeing
 * everything it made, and NNF_TEST_FREE(a, b, c) says so in one line, in that order. */
void nnf_test_free_tensors(nnf_tensor *const *tensors, size_t n);
#define NNF_TEST_FREE(...)                                             \
    nnf_test_free_tensors((nnf_tensor *const[]){__VA_ARGS__},          \
                          sizeof((nnf_tensor *const[]){__VA_ARGS__}) / \
                              sizeof(nnf_tensor *))

/* 1 when the test runs under valgrind (about 50 times slower). */
int nnf_test_under_valgrind(void);

/* 1 when exhaustive loops should run a sample instead: under valgrind (about 50 times
 * slower) or with NNF_TEST_THIN=1 in the environment. */
int nnf_test_thin(void);

/* Asserts that a call failed with `code`, and prints nnf_last_error() for the log. */
#define NNF_ASSERT_FAILS(call, code)                                   \
    do {                                                               \
        nnf_status st_ = (call);                                       \
        if (st_ != (code))                                             \
            fail_msg("%s returned %s, expected %s (%s)", #call,        \
                     nnf_status_str(st_), nnf_status_str(code),        \
                     nnf_last_error());                                \
    } while (0)
#define NNF_ASSERT_OK(call)                                                          \
    do {                                                                             \
        nnf_status st_ = (call);                                                     \
        if (st_ != NNF_OK)                                                           \
            fail_msg("%s failed: %s: %s", #call, nnf_status_str(st_), nnf_last_error()); \
    } while (0)

#endif
