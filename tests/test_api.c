/* The API's edges (issue 14): clearing the last error, int64 and typed tensors from data,
 * nnf_randint, copying any tensor or view out into a plain buffer. */
#include <pthread.h>
#include <string.h>

#include "nnf_test.h"

static void *fail_and_keep(void *arg)
{
    nnf_tensor *t = NULL;
    (void)arg;
    if (nnf_zeros(&t, NNF_SHAPE(-2)) != NNF_ERR_INVALID)
        return (void *)1;
    return nnf_last_error()[0] != '\0' ? NULL : (void *)1;
}

/* nnf_clear_error empties this thread's message and no other thread's. */
static void test_clear_error(void **state)
{
    (void)state;
    nnf_tensor *t = NULL;
    NNF_ASSERT_FAILS(nnf_zeros(&t, NNF_SHAPE(2, -3)), NNF_ERR_INVALID);
    assert_true(nnf_last_error()[0] != '\0');
    nnf_clear_error();
    assert_string_equal(nnf_last_error(), "");
    pthread_t th;
    void *ret;
    assert_int_equal(pthread_create(&th, NULL, fail_and_keep, NULL), 0);
    pthread_join(th, &ret);
    assert_null(ret);
    assert_string_equal(nnf_last_error(), "");
    NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2)));
    assert_string_equal(nnf_last_error(), "");
    nnf_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
