/* Allocation failure (SQLite-style): every creation and view call is run with its Nth
 * allocation failing, for N = 1, 2, ... until it succeeds. Each failing run must return
 * NNF_ERR_NOMEM, leave *out as it was, and give back everything it took. */
#include "nnf_test.h"

#include "src/core/alloc.h"

typedef nnf_status (*call_fn)(nnf_tensor **out, nnf_tensor *base);

#define CALL(name, expr)                                          \
    static nnf_status name(nnf_tensor **out, nnf_tensor *base)    \
    {                                                             \
        (void)base;                                               \
        return (expr);                                            \
    }

CALL(c_empty, nnf_empty(out, NNF_SHAPE(3, 4)))
CALL(c_empty_bool, nnf_empty_typed(out, NNF_SHAPE(5), NNF_BOOL))
CALL(c_zeros, nnf_zeros(out, NNF_SHAPE(2, 2)))
CALL(c_zeros_huge, nnf_zeros(out, NNF_SHAPE(1024, 1024)))   /* 4 MiB: the mmap path */
CALL(c_ones, nnf_ones(out, NNF_SHAPE(7)))
CALL(c_full, nnf_full(out, NNF_SHAPE(2, 3), 2.0f))
CALL(c_empty_like, nnf_empty_like(out, base))
CALL(c_zeros_like, nnf_zeros_like(out, base))
CALL(c_from_data, nnf_from_data(out, (const float[]){1, 2, 3}, NNF_SHAPE(3)))
CALL(c_arange, nnf_arange(out, 0, 10, 0.5f))
CALL(c_rand, nnf_rand(out, NULL, NNF_SHAPE(4, 4)))
CALL(c_randn, nnf_randn(out, NULL, NNF_SHAPE(5)))
CALL(c_expand, nnf_expand(out, base, NNF_SHAPE(2, 3, 4, 6)))
CALL(c_expand_as, nnf_expand_as(out, base, base))
CALL(c_unsqueeze, nnf_unsqueeze(out, base, 1))
CALL(c_squeeze, nnf_squeeze(out, base, 0))
CALL(c_squeeze_all, nnf_squeeze_all(out, base))
CALL(c_transpose, nnf_transpose(out, base, 0, 2))
CALL(c_permute, nnf_permute(out, base, (const int[]){2, 0, 1}))
CALL(c_select, nnf_select(out, base, 1, 2))
CALL(c_slice, nnf_slice(out, base, 2, 1, 6, 2))
CALL(c_narrow, nnf_narrow(out, base, 2, 1, 3))
CALL(c_view, nnf_view(out, base, NNF_SHAPE(12, 6)))
CALL(c_reshape_view, nnf_reshape(out, base, NNF_SHAPE(-1)))
CALL(c_contiguous_view, nnf_contiguous(out, base))
CALL(c_clone, nnf_clone(out, base))

CALL(c_t, nnf_t(out, base))
CALL(c_reshape_copy, nnf_reshape(out, base, NNF_SHAPE(36, 2)))
CALL(c_contiguous_copy, nnf_contiguous(out, base))

static nnf_status c_wrap(nnf_tensor **out, nnf_tensor *base)
{
    return nnf_wrap(out, nnf_tensor_data(base), NNF_SHAPE(6, 3), (const int64_t[]){1, 6});
}

/* The argument each call gets, made before failures are armed. */
enum { CUBE, TRANSPOSED, MATRIX };

static const struct {
    const char *name;
    call_fn fn;
    int arg;
} calls[] = {
    {"empty", c_empty, CUBE}, {"empty_dtype", c_empty_bool, CUBE}, {"zeros", c_zeros, CUBE},
    {"zeros_huge", c_zeros_huge, CUBE}, {"ones", c_ones, CUBE}, {"full", c_full, CUBE},
    {"empty_like", c_empty_like, CUBE}, {"zeros_like", c_zeros_like, CUBE},
    {"from_data", c_from_data, CUBE}, {"wrap", c_wrap, CUBE}, {"arange", c_arange, CUBE},
    {"rand", c_rand, CUBE}, {"randn", c_randn, CUBE}, {"expand", c_expand, CUBE},
    {"expand_as", c_expand_as, CUBE}, {"unsqueeze", c_unsqueeze, CUBE},
    {"squeeze", c_squeeze, CUBE}, {"squeeze_all", c_squeeze_all, CUBE},
    {"transpose", c_transpose, CUBE}, {"t", c_t, MATRIX}, {"permute", c_permute, CUBE},
    {"select", c_select, CUBE}, {"slice", c_slice, CUBE}, {"narrow", c_narrow, CUBE},
    {"view", c_view, CUBE}, {"reshape_view", c_reshape_view, CUBE},
    {"reshape_copy", c_reshape_copy, TRANSPOSED}, {"contiguous_view", c_contiguous_view, CUBE},
    {"contiguous_copy", c_contiguous_copy, TRANSPOSED}, {"clone", c_clone, CUBE},
    {"clone_strided", c_clone, TRANSPOSED},
};

static void test_every_call(void **state)
{
    (void)state;
    nnf__alloc_fail_after(0);
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *base = NULL;
        NNF_ASSERT_OK(nnf_arange(&base, 0, 72, 1));
        nnf_tensor *args[3] = {NULL, NULL, NULL};
        NNF_ASSERT_OK(nnf_view(&args[CUBE], base, NNF_SHAPE(3, 4, 6)));
        NNF_ASSERT_OK(nnf_transpose(&args[TRANSPOSED], args[CUBE], 0, 2));
        NNF_ASSERT_OK(nnf_select(&args[MATRIX], args[CUBE], 0, 1));
        assert_false(nnf_tensor_is_contiguous(args[TRANSPOSED]));
        for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
            int failures = 0;
            for (long n = 1;; n++) {
                nnf_tensor *sentinel = (nnf_tensor *)&failures, *out = sentinel;
                long live = nnf__alloc_live();
                nnf__alloc_fail_after(n);
                nnf_status s = calls[c].fn(&out, args[calls[c].arg]);
                nnf__alloc_fail_after(0);
                if (s == NNF_OK) {
                    assert_ptr_not_equal(out, sentinel);
                    nnf_tensor_free(out);
                    assert_int_equal(nnf__alloc_live(), live);
                    break;
                }
                if (s != NNF_ERR_NOMEM)
                    fail_msg("%s with allocation %ld failing: %s (%s)", calls[c].name, n,
                             nnf_status_str(s), nnf_last_error());
                assert_ptr_equal(out, sentinel);
                if (nnf__alloc_live() != live)
                    fail_msg("%s leaked %ld blocks when allocation %ld failed", calls[c].name,
                             nnf__alloc_live() - live, n);
                failures++;
                assert_true(n < 100);
            }
            /* Every call allocates at least its handle. */
            if (failures == 0)
                fail_msg("%s never failed", calls[c].name);
        }
        nnf_test_free_tensors(args, 3);
        nnf_tensor_free(base);
    }
}

/* A failed nnf_tensor_grad_get leaves the tensor without a gradient. */
static void test_grad_get(void **state)
{
    (void)state;
    nnf__alloc_fail_after(0);
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *g = NULL;
        NNF_ASSERT_OK(nnf_ones(&t, NNF_SHAPE(3)));
        long live = nnf__alloc_live();
        for (long n = 1; n < 10; n++) {
            nnf__alloc_fail_after(n);
            nnf_status s = nnf_tensor_grad_get(t, &g);
            nnf__alloc_fail_after(0);
            if (s == NNF_OK)
                break;
            assert_int_equal(s, NNF_ERR_NOMEM);
            assert_null(g);
            assert_null(nnf_tensor_grad(t));
            assert_int_equal(nnf__alloc_live(), live);
        }
        assert_non_null(g);
        nnf_tensor_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_call),
        cmocka_unit_test(test_grad_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
