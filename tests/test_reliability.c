/* Regression tests for issue 10's findings: signed overflow in shape and stride
 * arithmetic (item 4), products with empty operands (item 1), and backward / SGD steps
 * that fail part-way (items 2 and 3). Each failing call must return its error code with a
 * message, leave what the caller owns as it was and leak nothing; each succeeding one is
 * checked against a reference computed another way. Built with UBSan, an overflow here
 * aborts instead of wrapping. */
#include "nnf/conv.h"
#include "test_linalg_ref.h"

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

/* ---- Item 1: products with empty operands ---- */

/* einsum(spec) of ops, into a new tensor and into a NaN-filled given one, against the
 * double reference (for an empty contraction: zeros). */
static void check_einsum(const char *spec, const char *const *in, const char *out_letters,
                         int n, const nnf_tensor *const *ops)
{
    ref_einsum_result r;
    ref_einsum(in, out_letters, n, ops, &r);
    nnf_tensor *c = NULL, *given = NULL;
    nnf_status st = nnf_einsum(&c, spec, n, ops);
    if (st != NNF_OK)
        fail_msg("einsum(\"%s\") failed: %s: %s", spec, nnf_status_str(st), nnf_last_error());
    assert_int_equal(nnf_tensor_ndim(c), r.ndim);
    for (int d = 0; d < r.ndim; d++)
        assert_int_equal(nnf_tensor_shape(c)[d], r.shape[d]);
    ref_assert_near(c, r.want, r.mag, r.terms + 2);
    NNF_ASSERT_OK(nnf_full(&given, r.ndim, r.shape, NAN));
    NNF_ASSERT_OK(nnf_einsum(&given, spec, n, ops));
    ref_assert_near(given, r.want, r.mag, r.terms + 2);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_einsum_free(&r);
}

/* a @ b for 2-D operands, new and into a NaN-filled given result, against the reference. */
static void check_matmul(const nnf_tensor *a, const nnf_tensor *b)
{
    const nnf_tensor *ops[] = {a, b};
    ref_einsum_result r;
    ref_einsum((const char *const[]){"ij", "jk"}, "ik", 2, ops, &r);
    nnf_tensor *c = NULL, *given = NULL;
    NNF_ASSERT_OK(nnf_matmul(&c, a, b));
    assert_int_equal(nnf_tensor_shape(c)[0], r.shape[0]);
    assert_int_equal(nnf_tensor_shape(c)[1], r.shape[1]);
    ref_assert_near(c, r.want, r.mag, r.terms + 2);
    NNF_ASSERT_OK(nnf_full(&given, 2, r.shape, NAN));
    NNF_ASSERT_OK(nnf_matmul(&given, a, b));
    ref_assert_near(given, r.want, r.mag, r.terms + 2);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_einsum_free(&r);
}

/* The operand rows x cols in one of four layouts: contiguous, transposed, expanded from
 * one row (stride 0), or a slice with a step. */
static nnf_tensor *operand(int64_t rows, int64_t cols, int layout, uint64_t seed)
{
    nnf_tensor *base = NULL, *v = NULL;
    switch (layout) {
    case 0:
        return ref_rand(2, (const int64_t[]){rows, cols}, seed);
    case 1:
        base = ref_rand(2, (const int64_t[]){cols, rows}, seed);
        NNF_ASSERT_OK(nnf_t(&v, base));
        break;
    case 2:
        base = ref_rand(2, (const int64_t[]){1, cols}, seed);
        NNF_ASSERT_OK(nnf_expand(&v, base, NNF_SHAPE(rows, cols)));
        break;
    default:
        base = ref_rand(2, (const int64_t[]){rows, 2 * cols}, seed);
        NNF_ASSERT_OK(nnf_slice(&v, base, 1, 0, 2 * cols, 2));
        break;
    }
    nnf_tensor_free(base);
    return v;
}

static void test_matmul_empty(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* The case: (1,0) expanded to (2,0), strides [0, 1], times (0,3). */
        nnf_tensor *row = NULL, *a = NULL, *b = NULL, *c = NULL;
        NNF_ASSERT_OK(nnf_empty(&row, NNF_SHAPE(1, 0)));
        NNF_ASSERT_OK(nnf_expand(&a, row, NNF_SHAPE(2, 0)));
        assert_int_equal(nnf_tensor_strides(a)[0], 0);
        NNF_ASSERT_OK(nnf_empty(&b, NNF_SHAPE(0, 3)));
        NNF_ASSERT_OK(nnf_matmul(&c, a, b));
        assert_int_equal(nnf_tensor_shape(c)[0], 2);
        assert_int_equal(nnf_tensor_shape(c)[1], 3);
        for (int i = 0; i < 6; i++)
            assert_true(nnf_tensor_data(c)[i] == 0.0f && !signbit(nnf_tensor_data(c)[i]));
        nnf_tensor_free(c);
        nnf_tensor_free(b);
        nnf_tensor_free(a);
        nnf_tensor_free(row);

        /* Every combination of empty and non-empty m, k, n in every layout. */
        static const int64_t sizes[] = {0, 1, 3};
        uint64_t seed = 1;
        for (int im = 0; im < 3; im++)
            for (int ik = 0; ik < 3; ik++)
                for (int in = 0; in < 3; in++)
                    for (int la = 0; la < 4; la++)
                        for (int lb = 0; lb < 4; lb++) {
                            int64_t m = sizes[im], k = sizes[ik], n = sizes[in];
                            if (m * k * n != 0 && la == 0 && lb == 0 && m > 1)
                                continue;   /* the ordinary case, covered elsewhere */
                            nnf_tensor *x = operand(m, k, la, seed++);
                            nnf_tensor *y = operand(k, n, lb, seed++);
                            check_matmul(x, y);
                            nnf_tensor_free(x);
                            nnf_tensor_free(y);
                        }
    }
}

static void test_einsum_empty(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *e03 = ref_rand(NNF_SHAPE(0, 3), 1), *e30 = ref_rand(NNF_SHAPE(3, 0), 2);
        nnf_tensor *e20 = NULL, *one = ref_rand(NNF_SHAPE(1, 0), 3);
        NNF_ASSERT_OK(nnf_expand(&e20, one, NNF_SHAPE(2, 0)));
        nnf_tensor *b = ref_rand(NNF_SHAPE(2, 0, 4), 4), *bb = ref_rand(NNF_SHAPE(2, 4, 0), 5);
        nnf_tensor *z = ref_rand(NNF_SHAPE(0, 2, 3), 6), *zz = ref_rand(NNF_SHAPE(0, 3, 5), 7);
        nnf_tensor *sq = ref_rand(NNF_SHAPE(0, 0), 8), *v0 = ref_rand(NNF_SHAPE(0), 9);
        nnf_tensor *m34 = ref_rand(NNF_SHAPE(3, 4), 10);
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e20, e03});
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e30, e03});
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e03, e30});
        check_einsum("bij,bjk->bik", (const char *const[]){"bij", "bjk"}, "bik", 2,
                     (const nnf_tensor *const[]){bb, b});
        check_einsum("bij,bjk->ik", (const char *const[]){"bij", "bjk"}, "ik", 2,
                     (const nnf_tensor *const[]){z, zz});
        check_einsum("bij,bjk->bik", (const char *const[]){"bij", "bjk"}, "bik", 2,
                     (const nnf_tensor *const[]){z, zz});
        check_einsum("i,i->", (const char *const[]){"i", "i"}, "", 2,
                     (const nnf_tensor *const[]){v0, v0});
        check_einsum("ii->i", (const char *const[]){"ii"}, "i", 1,
                     (const nnf_tensor *const[]){sq});
        check_einsum("ij->", (const char *const[]){"ij"}, "", 1,
                     (const nnf_tensor *const[]){e03});
        check_einsum("ij,jk,kl->il", (const char *const[]){"ij", "jk", "kl"}, "il", 3,
                     (const nnf_tensor *const[]){e30, e03, m34});
        check_einsum("ij,kl->ijkl", (const char *const[]){"ij", "kl"}, "ijkl", 2,
                     (const nnf_tensor *const[]){e20, m34});
        nnf_tensor *all[] = {e03, e30, e20, one, b, bb, z, zz, sq, v0, m34};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nnf_tensor_free(all[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_huge_step),
        cmocka_unit_test(test_unsqueeze_empty_huge_stride),
        cmocka_unit_test(test_add_empty_expanded),
        cmocka_unit_test(test_conv_huge_sizes),
        cmocka_unit_test(test_matmul_empty),
        cmocka_unit_test(test_einsum_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
