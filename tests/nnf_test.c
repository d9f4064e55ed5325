#include "nnf_test.h"

#include "dispatch/dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which ISA and thread count a failing comparison ran on, for its message. */
#define NNF_TEST_WHERE nnf_isa_name(nnf_isa_active()), nnf_get_num_threads()

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* 1 if `isa`'s name is an item of the comma-separated list in environment variable `var`. */
static int listed(const char *var, nnf_isa isa)
{
    const char *list = getenv(var);
    if (list == NULL)
        return 0;
    const char *name = nnf_isa_name(isa);
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len) {
        int starts = p == list || p[-1] == ',';
        int ends = p[len] == '\0' || p[len] == ',';
        if (starts && ends)
            return 1;
    }
    return 0;
}

static int initial_isa = -1;

nnf_isa nnf_test_isa_after(nnf_isa isa)
{
    static const nnf_isa all[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};
    const size_t n = sizeof all / sizeof all[0];
    size_t next = 0;
    if (isa != NNF_TEST_NO_ISA) {
        while (next < n && all[next] != isa)
            next++;
        next++;
    }
    return next < n ? all[next] : NNF_TEST_NO_ISA;
}

int nnf_test_use_isa(nnf_isa isa)
{
    if (initial_isa < 0)
        initial_isa = (int)nnf_isa_active();
    /* NNF_TEST_ISAS limits the run, e.g. to what valgrind can decode (no AVX-512). */
    if (getenv("NNF_TEST_ISAS") != NULL && !listed("NNF_TEST_ISAS", isa))
        return 0;
    if (!nnf_isa_supported(isa)) {
        if (listed("NNF_TEST_REQUIRE_ISAS", isa))
            fail_msg("ISA %s is required (NNF_TEST_REQUIRE_ISAS) but not supported here",
                     nnf_isa_name(isa));
        return 0;
    }
    NNF_ASSERT_OK(nnf_isa_force(isa));
    assert_int_equal(nnf_isa_active(), isa);
    return 1;
}

int nnf_test_isa_exact(void)
{
    return !nnf__kernels_active()->sleef_inexact;
}

void nnf_test_restore_isa(void)
{
    if (initial_isa >= 0)
        NNF_ASSERT_OK(nnf_isa_force((nnf_isa)initial_isa));
}

void nnf_test_threads(int n)
{
    NNF_ASSERT_OK(nnf_set_num_threads(n));
}

void nnf_test_assert_close(const float *got, const double *want, size_t n, double rtol,
                           double atol)
{
    double max_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (isnan(w) || isnan(g)) {
            if (!(isnan(w) && isnan(g)))
                fail_msg("%s, %d thread(s): element %zu: got %.9g, want %.9g", NNF_TEST_WHERE,
                         i, g, w);
            continue;
        }
        if (isinf(w) || isinf(g)) {
            if (g != w)
                fail_msg("%s, %d thread(s): element %zu: got %.9g, want %.9g", NNF_TEST_WHERE,
                         i, g, w);
            continue;
        }
        double err = fabs(g - w);
        if (err > max_err)
            max_err = err;
        if (err > atol + rtol * fabs(w))
            fail_msg("%s, %d thread(s): element %zu: got %.9g, want %.9g "
                     "(error %.3g > %.3g + %.3g * |want|)",
                     NNF_TEST_WHERE, i, g, w, err, atol, rtol);
    }
}

void nnf_test_assert_bits_equal(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x, y;
        memcpy(&x, &a[i], sizeof x);
        memcpy(&y, &b[i], sizeof y);
        if (x != y)
            fail_msg("%s, %d thread(s): element %zu differs: %.9g (0x%08x) vs %.9g (0x%08x)",
                     NNF_TEST_WHERE, i, a[i], x, b[i], y);
    }
}

void nnf_test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
}

float nnf_test_at(const nnf_tensor *t, int ndim, const int64_t *index)
{
    const float *p = nnf_tensor_data(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    int nd = nnf_tensor_ndim(t);
    for (int d = 0; d < nd; d++)
        p += (shape[d] == 1 ? 0 : index[ndim - nd + d]) * stride[d];
    return *p;
}

void nnf_test_free_tensors(nnf_tensor *const *tensors, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nnf_tensor_free(tensors[i]);
}

int nnf_test_under_valgrind(void)
{
    return RUNNING_ON_VALGRIND;
}

int nnf_test_thin(void)
{
    const char *env = getenv("NNF_TEST_THIN");
    return nnf_test_under_valgrind() || (env != NULL && strcmp(env, "1") == 0);
}
