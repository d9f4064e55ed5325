/* nnf/version.h against the library: the headers' numbers, their string and the
 * library's nnf_version() are one version, and NNF_VERSION orders versions. */
#include <stdio.h>
#include <string.h>

#include "nnf_test.h"

#if !defined(NNF_VERSION_MAJOR) || !defined(NNF_VERSION_MINOR) || !defined(NNF_VERSION_PATCH)
#error "nnf/nnf.h must bring in nnf/version.h"
#endif
/* Usable by the preprocessor, as the header promises. */
#if NNF_VERSION < NNF_MAKE_VERSION(0, 1, 0)
#error "NNF_VERSION is not a preprocessor number of at least 0.1.0"
#endif

static void test_string_matches_numbers(void **state)
{
    (void)state;
    char s[64];
    snprintf(s, sizeof s, "%d.%d.%d", NNF_VERSION_MAJOR, NNF_VERSION_MINOR, NNF_VERSION_PATCH);
    assert_string_equal(s, NNF_VERSION_STRING);
}

static void test_library_matches_headers(void **state)
{
    (void)state;
    assert_string_equal(nnf_version(), NNF_VERSION_STRING);
    int major, minor, patch;
    assert_int_equal(sscanf(nnf_version(), "%d.%d.%d", &major, &minor, &patch), 3);
    assert_int_equal(NNF_MAKE_VERSION(major, minor, patch), NNF_VERSION);
}

static void test_number_orders_versions(void **state)
{
    (void)state;
    assert_true(NNF_MAKE_VERSION(0, 1, 9) < NNF_MAKE_VERSION(0, 2, 0));
    assert_true(NNF_MAKE_VERSION(0, 99, 99) < NNF_MAKE_VERSION(1, 0, 0));
    assert_int_equal(NNF_MAKE_VERSION(1, 2, 3), 10203);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_matches_numbers),
        cmocka_unit_test(test_library_matches_headers),
        cmocka_unit_test(test_number_orders_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
