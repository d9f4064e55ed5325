/* Every call into nnf returns with the upper halves of the vector registers clean, as
 * the x86 convention between AVX and SSE code expects (VZEROUPPER before returning to
 * code that may be SSE). An application built for the baseline ISA, which is SSE, runs
 * its float code after ours: with the upper state left dirty, Intel cores pay for every
 * SSE instruction (nnf's own scalar sgemm of 131x845x150 ran 60 times slower after one
 * AVX-512 call on an Emerald Rapids, 1475 ms against 25).
 *
 * Read from XINUSE (XGETBV with ECX = 1, where CPUID leaf 0xD sub-leaf 1 offers it): bit 2
 * is the upper halves of YMM0-15, bit 6 those of ZMM0-15. Their state is made clean
 * before each call; each AVX ISA runs sgemm on every path (GEMV, direct, packed,
 * prepacked, each transposition), elementwise ops, reductions and a fused linear layer.
 * Skipped where XINUSE cannot be read (aarch64, older CPUs, valgrind). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static int xinuse_readable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    return __get_cpuid_count(0xD, 1, &a, &b, &c, &d) && (a & (1u << 2));
}

static uint64_t xinuse(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return (uint64_t)hi << 32 | lo;
}

enum { UPPER = (1u << 2) | (1u << 6) };

__attribute__((target("avx"))) static void clean(void)
{
    _mm256_zeroupper();
}

#define CHECK_CLEAN(what, call)                                                          \
    do {                                                                                 \
        clean();                                                                         \
        NNF_ASSERT_OK(call);                                                             \
        if (xinuse() & UPPER)                                                            \
            fail_msg("%s: %s leaves the upper vector state dirty (XINUSE %#llx)",        \
                     nnf_isa_name(nnf_isa_active()), what,                               \
                     (unsigned long long)xinuse());                                      \
    } while (0)

static float *filled(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    nnf_test_fill_uniform(x, n, seed, -1.0f, 1.0f);
    return x;
}

static void test_sgemm_paths(void **state)
{
    (void)state;
    if (!xinuse_readable() || nnf_test_under_valgrind())
        skip();
    static const size_t shapes[][3] = {{1, 1, 1},   {8, 8, 8},     {5, 784, 10}, {1, 784, 512},
                                       {200, 100, 50}, {200, 50, 1}, {1, 200, 1}, {200, 1, 50},
                                       {64, 64, 64}, {131, 845, 150}, {9, 100, 50}};
    const size_t count = sizeof shapes / sizeof shapes[0];
    size_t na = 0, nb = 0, nc = 0;   /* the largest A, B and C over the shapes */
    for (size_t s = 0; s < count; s++) {
        size_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        na = m * k > na ? m * k : na;
        nb = k * n > nb ? k * n : nb;
        nc = m * n > nc ? m * n : nc;
    }
    float *a = filled(na, 1), *b = filled(nb, 2), *c = filled(nc, 3);
    for (int threads = 1; threads <= 2; threads++) {
        nnf_test_threads(threads);
        NNF_FOR_EACH_ISA(isa) {
            for (size_t s = 0; s < count; s++)
                for (int t = 0; t < 4; t++) {
                    size_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                    nnf_trans ta = t & 1 ? NNF_TRANS : NNF_NO_TRANS;
                    nnf_trans tb = t & 2 ? NNF_TRANS : NNF_NO_TRANS;
                    size_t lda = ta ? m : k, ldb = tb ? k : n;
                    char what[64];
                    snprintf(what, sizeof what, "sgemm %zux%zux%zu (%d)", m, k, n, t);
                    CHECK_CLEAN(what, nnf_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.5f, c,
                                                n));
                    nnf_packed_matrix *p = NULL;
                    CHECK_CLEAN("nnf_pack_b", nnf_pack_b(&p, tb, k, n, b, ldb));
                    snprintf(what, sizeof what, "sgemm_packed_b %zux%zux%zu (%d)", m, k, n, t);
                    CHECK_CLEAN(what, nnf_sgemm_packed_b(ta, m, n, k, 1.0f, a, lda, p, 0.0f, c,
                                                         n));
                    nnf_packed_free(p);
                }
        }
    }
    nnf_test_threads(0);
    nnf_test_restore_isa();
    free(a);
    free(b);
    free(c);
}

static void test_tensor_ops(void **state)
{
    (void)state;
    if (!xinuse_readable() || nnf_test_under_valgrind())
        skip();
    enum { R = 37, C = 53 };
    float *d = filled(R * C, 4);
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *row = NULL, *w = NULL, *bias = NULL, *y = NULL;
        NNF_ASSERT_OK(nnf_from_data(&x, d, 2, (int64_t[]){R, C}));
        NNF_ASSERT_OK(nnf_from_data(&row, d, 1, (int64_t[]){C}));
        NNF_ASSERT_OK(nnf_from_data(&w, d, 2, (int64_t[]){17, C}));
        NNF_ASSERT_OK(nnf_from_data(&bias, d, 1, (int64_t[]){17}));
#define OP(what, call)                                                                   \
    do {                                                                                 \
        nnf_tensor_free(y);                                                              \
        y = NULL;                                                                        \
        CHECK_CLEAN(what, call);                                                         \
    } while (0)
        OP("nnf_add (broadcast)", nnf_add(&y, x, row));
        OP("nnf_mul (broadcast)", nnf_mul(&y, x, row));
        OP("nnf_relu", nnf_relu(&y, x));
        OP("nnf_exp", nnf_exp(&y, x));
        OP("nnf_log", nnf_log(&y, x));
        OP("nnf_sigmoid", nnf_sigmoid(&y, x));
        OP("nnf_sum (all)", nnf_sum(&y, x, 0, NULL, 0));
        OP("nnf_sum (dim 0)", nnf_sum(&y, x, 1, (int[]){0}, 0));
        OP("nnf_mean (dim 1)", nnf_mean(&y, x, 1, (int[]){1}, 1));
        OP("nnf_max (dim 1)", nnf_max(&y, x, 1, (int[]){1}, 0));
        OP("nnf_std (dim 0)", nnf_std(&y, x, 1, (int[]){0}, 1, 0));
        OP("nnf_matmul", nnf_matmul(&y, x, row));
        OP("nnf_linear", nnf_linear(&y, x, w, bias));
#undef OP
        nnf_tensor_free(y);
        nnf_tensor_free(x);
        nnf_tensor_free(row);
        nnf_tensor_free(w);
        nnf_tensor_free(bias);
    }
    nnf_test_restore_isa();
    free(d);
}
#else
static void test_sgemm_paths(void **state)
{
    (void)state;
    skip();
}

static void test_tensor_ops(void **state)
{
    (void)state;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_paths),
        cmocka_unit_test(test_tensor_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
