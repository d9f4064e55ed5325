/* Rejected arguments: NULL pointers, bad ndims, dims and sizes, sizes that overflow,
 * bad strides. Each failing call must leave *out untouched and say why in PyTorch's
 * words where PyTorch has them. */
#include "nnf_test.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "src/core/alloc.h"

/* A pointer no call may write: the sentinel must survive every failing call. */
static nnf_tensor *const SENTINEL = (nnf_tensor *)(uintptr_t)0x40;

#define FAILS_UNTOUCHED(call_with_out, code)          \
    do {                                              \
        nnf_tensor *out = SENTINEL;                   \
        long live_ = nnf__alloc_live();               \
        NNF_ASSERT_FAILS(call_with_out, code);        \
        assert_ptr_equal(out, SENTINEL);              \
        assert_int_equal(nnf__alloc_live(), live_);   \
    } while (0)

static void test_creation(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40};
        FAILS_UNTOUCHED(nnf_empty(&out, 2, huge), NNF_ERR_OVERFLOW);
        assert_string_equal(nnf_last_error(),
                            "nnf_empty: the number of elements of shape "
                            "[1099511627776, 1099511627776] overflows int64");
        FAILS_UNTOUCHED(nnf_zeros(&out, NNF_SHAPE((int64_t)1 << 62, 4)), NNF_ERR_OVERFLOW);
        FAILS_UNTOUCHED(nnf_empty_typed(&out, NNF_SHAPE((int64_t)1 << 61), NNF_I64),
                        NNF_ERR_OVERFLOW);
        FAILS_UNTOUCHED(nnf_ones(&out, NNF_SHAPE(2, -3)), NNF_ERR_INVALID);
        assert_string_equal(nnf_last_error(),
                            "nnf_ones: Trying to create tensor with negative dimension -3: "
                            "[2, -3]");
        FAILS_UNTOUCHED(nnf_full(&out, 9, (const int64_t[9]){1}, 0.0f), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_zeros(&out, -1, NULL), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_zeros(&out, 2, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_empty_typed(&out, NNF_SHAPE(2), (nnf_dtype)7), NNF_ERR_DTYPE);
        FAILS_UNTOUCHED(nnf_from_data(&out, NULL, NNF_SHAPE(2)), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_empty_like(&out, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_zeros_like(&out, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_empty(NULL, NNF_SHAPE(2)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_zeros(NULL, NNF_SHAPE(2)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_full(NULL, NNF_SHAPE(2), 1.0f), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_from_data(NULL, (const float[]){1}, NNF_SHAPE(1)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_arange(NULL, 0, 1, 1), NNF_ERR_NULL);
        /* A huge allocation that does not overflow fails as out of memory, cleanly. */
        FAILS_UNTOUCHED(nnf_empty(&out, NNF_SHAPE((int64_t)1 << 60)), NNF_ERR_NOMEM);
    }
}

static void test_arange(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        FAILS_UNTOUCHED(nnf_arange(&out, 0, 1, 0), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_arange(&out, 0, 1, -1), NNF_ERR_INVALID);
        assert_string_equal(nnf_last_error(),
                            "nnf_arange: upper bound and larger bound inconsistent with step sign");
        FAILS_UNTOUCHED(nnf_arange(&out, 1, 0, 1), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_arange(&out, 0, INFINITY, 1), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_arange(&out, NAN, 1, 1), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_arange(&out, 0, 1, NAN), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_arange(&out, -3e38f, 3e38f, 1e-30f), NNF_ERR_OVERFLOW);
    }
}

static void test_wrap(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        float buf[16] = {0};
        FAILS_UNTOUCHED(nnf_wrap(&out, buf, NNF_SHAPE(2, 2), (const int64_t[]){2, -1}), NNF_ERR_STRIDE);
        assert_string_equal(nnf_last_error(),
                            "nnf_wrap: strides must be >= 0, got [2, -1] for shape [2, 2]");
        FAILS_UNTOUCHED(nnf_wrap(&out, buf, NNF_SHAPE(3, 3),
                                 (const int64_t[]){INT64_MAX / 2, INT64_MAX / 2}),
                        NNF_ERR_OVERFLOW);
        FAILS_UNTOUCHED(nnf_wrap(&out, buf, NNF_SHAPE(2), (const int64_t[]){INT64_MAX / 4}),
                        NNF_ERR_OVERFLOW);
        FAILS_UNTOUCHED(nnf_wrap(&out, NULL, NNF_SHAPE(2), NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_wrap(&out, buf, NNF_SHAPE(-2), NULL), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_wrap(NULL, buf, NNF_SHAPE(2), NULL), NNF_ERR_NULL);
        /* Negative strides are rejected even on an empty shape. */
        FAILS_UNTOUCHED(nnf_wrap(&out, buf, NNF_SHAPE(0, 2), (const int64_t[]){1, -1}), NNF_ERR_STRIDE);
    }
}

/* Every view rejects NULL arguments and out-of-range dims. */
static void test_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2, 3)));
        FAILS_UNTOUCHED(nnf_expand(&out, NULL, NNF_SHAPE(2)), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_expand(&out, t, 2, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_expand(&out, t, 9, (const int64_t[9]){0}), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_expand(&out, t, NNF_SHAPE((int64_t)1 << 40, (int64_t)1 << 40, 2, 3)),
                        NNF_ERR_OVERFLOW);
        FAILS_UNTOUCHED(nnf_expand_as(&out, t, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_unsqueeze(&out, NULL, 0), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_unsqueeze(&out, t, -4), NNF_ERR_INDEX);
        FAILS_UNTOUCHED(nnf_squeeze(&out, t, 2), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_squeeze: Dimension out of range (expected to be in range of "
                            "[-2, 1], but got 2)");
        FAILS_UNTOUCHED(nnf_squeeze_all(&out, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_transpose(&out, t, 0, -3), NNF_ERR_INDEX);
        FAILS_UNTOUCHED(nnf_transpose(&out, NULL, 0, 1), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_t(&out, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_permute(&out, t, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_select(&out, t, 2, 0), NNF_ERR_INDEX);
        FAILS_UNTOUCHED(nnf_select(&out, NULL, 0, 0), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_slice(&out, t, -3, 0, 1, 1), NNF_ERR_INDEX);
        FAILS_UNTOUCHED(nnf_slice(&out, t, 0, 0, 1, -1), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_narrow(&out, NULL, 0, 0, 1), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_view(&out, NULL, NNF_SHAPE(6)), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_view(&out, t, 1, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_view(&out, t, 9, (const int64_t[9]){6}), NNF_ERR_INVALID);
        FAILS_UNTOUCHED(nnf_view(&out, t, NNF_SHAPE((int64_t)1 << 40, (int64_t)1 << 40)), NNF_ERR_SHAPE);
        FAILS_UNTOUCHED(nnf_reshape(&out, t, NNF_SHAPE(7)), NNF_ERR_SHAPE);
        FAILS_UNTOUCHED(nnf_reshape(&out, NULL, NNF_SHAPE(6)), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_contiguous(&out, NULL), NNF_ERR_NULL);
        FAILS_UNTOUCHED(nnf_clone(&out, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_expand(NULL, t, NNF_SHAPE(2, 3)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_unsqueeze(NULL, t, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_select(NULL, t, 0, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_view(NULL, t, NNF_SHAPE(6)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_reshape(NULL, t, NNF_SHAPE(6)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_contiguous(NULL, t), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_clone(NULL, t), NNF_ERR_NULL);
        /* A tensor of the maximum rank cannot be unsqueezed. */
        nnf_tensor *r8 = NULL;
        NNF_ASSERT_OK(nnf_zeros(&r8, 8, (const int64_t[8]){1, 1, 1, 1, 1, 1, 1, 2}));
        FAILS_UNTOUCHED(nnf_unsqueeze(&out, r8, 0), NNF_ERR_SHAPE);
        nnf_tensor_free(r8);
        nnf_tensor_free(t);
    }
}

static void test_elements(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        float v = 42.0f;
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2)));
        NNF_ASSERT_FAILS(nnf_value(&v, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_value(NULL, t), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_value_at(&v, t, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_value_at(NULL, t, (const int64_t[]){0}), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_value_at(&v, NULL, (const int64_t[]){0}), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_set(NULL, (const int64_t[]){0}, 1.0f), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_set(t, NULL, 1.0f), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_value_at(&v, t, (const int64_t[]){INT64_MIN}), NNF_ERR_INDEX);
        assert_true(v == 42.0f);
        nnf_tensor_free(t);
    }
}

static void *fail_elsewhere(void *arg)
{
    nnf_tensor *t = NULL;
    (void)arg;
    if (nnf_arange(&t, 0, 1, 0) != NNF_ERR_INVALID)
        return (void *)1;
    return strcmp(nnf_last_error(),
                  "nnf_arange: step must be nonzero and finite") == 0 ? NULL : (void *)1;
}

/* Successful calls leave the last message alone; it is per thread. */
static void test_last_error(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        NNF_ASSERT_FAILS(nnf_zeros(&t, NNF_SHAPE(-1)), NNF_ERR_INVALID);
        char msg[256];
        strcpy(msg, nnf_last_error());
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2, 3)));
        nnf_tensor *r = NULL;
        NNF_ASSERT_OK(nnf_reshape(&r, t, NNF_SHAPE(3, 2)));
        assert_string_equal(nnf_last_error(), msg);
        /* Also when reshape falls back to a copy after the view is refused. */
        nnf_tensor *tt = NULL, *flat = NULL;
        NNF_ASSERT_OK(nnf_t(&tt, t));
        NNF_ASSERT_OK(nnf_reshape(&flat, tt, NNF_SHAPE(6)));
        assert_false(nnf_tensor_shares_storage(flat, t));
        assert_string_equal(nnf_last_error(), msg);
        nnf_tensor_free(tt);
        nnf_tensor_free(flat);
        pthread_t th;
        void *ret;
        assert_int_equal(pthread_create(&th, NULL, fail_elsewhere, NULL), 0);
        pthread_join(th, &ret);
        assert_null(ret);
        assert_string_equal(nnf_last_error(), msg);
        nnf_tensor_free(r);
        nnf_tensor_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creation),
        cmocka_unit_test(test_arange),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_elements),
        cmocka_unit_test(test_last_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
