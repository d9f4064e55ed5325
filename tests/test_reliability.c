/* Regression tests for issue 10's findings: signed overflow in shape and stride
 * arithmetic (item 4), products with empty operands (item 1), and backward / SGD steps
 * that fail part-way (items 2 and 3). Each failing call must return its error code with a
 * message, leave what the caller owns as it was and leak nothing; each succeeding one is
 * checked against a reference computed another way. Built with UBSan, an overflow here
 * aborts instead of wrapping. */
#include "nnf/conv.h"
#include "nnf_test.h"

#include <string.h>

#include "src/core/alloc.h"

#define BIG ((int64_t)1 << 32)

/* call must fail with code, name something in its message, leave *out NULL (the result
 * handle starts NULL, as every op's OUT/IN-OUT argument must) and free what it took. */
#define FAILS_CLEAN(call_with_out, code)                                  \
    do {                                                                  \
        nnf_tensor *out = NULL;                                           \
        long live_ = nnf__alloc_live();                                   \
        NNF_ASSERT_FAILS(call_with_out, code);                            \
        assert_null(out);                                                 \
        assert_true(strlen(nnf_last_error()) > 10);                       \
        assert_int_equal(nnf__alloc_live(), live_);                       \
    } while (0)

/* ---- Item 4: overflow in view, broadcast, reduction and conv arithmetic ---- */

static void test_slice_huge_step(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *s = NULL;
        NNF_ASSERT_OK(nnf_arange(&t, 0, 20, 1));
        nnf_tensor *m = NULL;
        NNF_ASSERT_OK(nnf_view(&m, t, NNF_SHAPE(4, 5)));
        /* One element per row: its stride addresses nothing, the step is not multiplied
         * in (gcc once returned a wrapped stride here). */
        NNF_ASSERT_OK(nnf_slice(&s, m, 1, 2, 5, INT64_MAX));
        assert_int_equal(nnf_tensor_shape(s)[1], 1);
        for (int64_t i = 0; i < 4; i++) {
            float v;
            NNF_ASSERT_OK(nnf_value_at(&v, s, (const int64_t[]){i, 0}));
            assert_true(v == (float)(i * 5 + 2));
        }
        nnf_tensor_free(s);
        s = NULL;
        NNF_ASSERT_OK(nnf_slice(&s, m, 0, 1, INT64_MAX, INT64_MAX / 2));
        assert_int_equal(nnf_tensor_shape(s)[0], 1);
        nnf_tensor_free(s);

        /* An empty tensor's strides are bounded by nothing. */
        float buf[1] = {0};
        nnf_tensor *e = NULL;
        NNF_ASSERT_OK(nnf_wrap(&e, buf, NNF_SHAPE(0, 5), (const int64_t[]){1, INT64_MAX / 2}));
        FAILS_CLEAN(nnf_slice(&out, e, 1, 0, 5, 3), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_slice(&out, e, 1, 4, 5, 1), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_narrow(&out, e, 1, 3, 2), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_select(&out, e, 1, 4), NNF_ERR_OVERFLOW);
        nnf_tensor_free(e);
        nnf_tensor_free(m);
        nnf_tensor_free(t);
    }
}

static void test_unsqueeze_empty_huge_stride(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        float buf[1] = {0};
        nnf_tensor *e = NULL, *u = NULL;
        NNF_ASSERT_OK(nnf_wrap(&e, buf, NNF_SHAPE(3, 0), (const int64_t[]){INT64_MAX / 2, 1}));
        FAILS_CLEAN(nnf_unsqueeze(&out, e, 0), NNF_ERR_OVERFLOW);
        assert_non_null(strstr(nnf_last_error(), "nnf_unsqueeze: "));
        /* Elsewhere the new dim's stride fits. */
        NNF_ASSERT_OK(nnf_unsqueeze(&u, e, 2));
        assert_int_equal(nnf_tensor_numel(u), 0);
        nnf_tensor_free(u);
        nnf_tensor_free(e);
    }
}

static void test_add_empty_expanded(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *z = NULL, *x = NULL, *r = NULL, *into = NULL;
        NNF_ASSERT_OK(nnf_zeros(&z, NNF_SHAPE(0, 1, 1)));
        NNF_ASSERT_OK(nnf_expand(&x, z, NNF_SHAPE(0, BIG, BIG)));
        assert_true(nnf_tensor_is_contiguous(x));
        NNF_ASSERT_OK(nnf_add(&r, x, x));
        assert_int_equal(nnf_tensor_numel(r), 0);
        assert_int_equal(nnf_tensor_shape(r)[2], BIG);
        NNF_ASSERT_OK(nnf_empty(&into, NNF_SHAPE(0, BIG, BIG)));
        NNF_ASSERT_OK(nnf_add(&into, x, x));
        NNF_ASSERT_OK(nnf_mul(&into, into, x));
        nnf_tensor *t = NULL, *z2 = NULL;
        NNF_ASSERT_OK(nnf_zeros(&z2, NNF_SHAPE(1, 1, 0)));
        NNF_ASSERT_OK(nnf_expand(&t, z2, NNF_SHAPE(BIG, BIG, 0)));
        nnf_tensor_free(z2);
        NNF_ASSERT_FAILS(nnf_relu(&r, t), NNF_ERR_SHAPE);   /* r is [0, 2^32, 2^32] */
        nnf_tensor *s = NULL;
        NNF_ASSERT_OK(nnf_relu(&s, t));
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        /* Summing out the 0 leaves 2^64 results: an error, not a wrapped count. */
        FAILS_CLEAN(nnf_sum(&out, x, 1, (const int[]){0}, 0), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_max(&out, t, 1, (const int[]){2}, 0), NNF_ERR_OVERFLOW);
        s = NULL;
        NNF_ASSERT_OK(nnf_sum(&s, x, 2, (const int[]){1, 2}, 0));
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        s = NULL;
        NNF_ASSERT_OK(nnf_max(&s, t, 2, (const int[]){0, 1}, 0));   /* reduced dims non-empty */
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        /* Batched products over the same batch shape. */
        nnf_tensor *b = NULL, *w = NULL, *p = NULL;
        NNF_ASSERT_OK(nnf_zeros(&b, NNF_SHAPE(1, 1, 0, 3)));
        NNF_ASSERT_OK(nnf_expand(&w, b, NNF_SHAPE(BIG, BIG, 0, 3)));
        nnf_tensor *k = NULL;
        NNF_ASSERT_OK(nnf_ones(&k, NNF_SHAPE(3, 2)));
        NNF_ASSERT_OK(nnf_matmul(&p, w, k));
        assert_int_equal(nnf_tensor_numel(p), 0);
        nnf_tensor_free(p);
        p = NULL;
        NNF_ASSERT_OK(nnf_einsum(&p, "abij,jk->abik", 2, (const nnf_tensor *const[]){w, k}));
        assert_int_equal(nnf_tensor_numel(p), 0);
        nnf_tensor_free(p);
        nnf_tensor_free(k);
        nnf_tensor_free(w);
        nnf_tensor_free(b);
        nnf_tensor_free(t);
        nnf_tensor_free(into);
        nnf_tensor_free(r);
        nnf_tensor_free(x);
        nnf_tensor_free(z);
    }
}

static void test_conv_huge_sizes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_layer *l = NULL;
        long live = nnf__alloc_live();
        NNF_ASSERT_FAILS(nnf_layer_conv2d(&l, (int64_t)1 << 40, 1, 1 << 20, 1, 0, NNF_INIT_KAIMING,
                                          NULL),
                         NNF_ERR_OVERFLOW);
        assert_null(l);
        assert_int_equal(nnf__alloc_live(), live);
        /* The unfolded input of a broadcast image: 2^40 channels x 2^12 kernel elements by
         * ~2^20 positions. */
        nnf_tensor *one = NULL, *x = NULL;
        NNF_ASSERT_OK(nnf_zeros(&one, NNF_SHAPE(1, 1, 1, 1)));
        NNF_ASSERT_OK(nnf_expand(&x, one, NNF_SHAPE(1, (int64_t)1 << 40, 1 << 20, 4)));
        FAILS_CLEAN(nnf_unfold(&out, x, 1 << 10, 4, 1, 0), NNF_ERR_OVERFLOW);
        nnf_tensor *cols = NULL;
        NNF_ASSERT_OK(nnf_zeros(&cols, NNF_SHAPE(1, 1, 1)));
        FAILS_CLEAN(nnf_fold(&out, cols, INT64_MAX, 1, 1, 1, 1, 1 << 20), NNF_ERR_OVERFLOW);
        nnf_tensor_free(cols);
        nnf_tensor_free(x);
        nnf_tensor_free(one);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_huge_step),
        cmocka_unit_test(test_unsqueeze_empty_huge_stride),
        cmocka_unit_test(test_add_empty_expanded),
        cmocka_unit_test(test_conv_huge_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
