/* Views: each is checked element by element against the index arithmetic it stands for
 * (v[i, j] == t[j, i] for a transpose, ...), shares storage with its base, and costs
 * exactly one handle allocation (nothing is copied). */
#include "nnf_test.h"

#include <string.h>

#include "src/core/alloc.h"

/* A 2x3x4 tensor with t[i, j, k] = 100 i + 10 j + k. */
static nnf_tensor *cube(void)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, NNF_SHAPE(2, 3, 4)));
    float *p = nnf_tensor_data(t);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                p[(i * 3 + j) * 4 + k] = (float)(100 * i + 10 * j + k);
    return t;
}

static float at(const nnf_tensor *t, const int64_t *index)
{
    float v = -1;
    NNF_ASSERT_OK(nnf_value_at(&v, t, index));
    return v;
}

/* One handle allocation, shared storage, no data copied. */
#define ASSERT_VIEW(call, v, base)                               \
    do {                                                         \
        long live_ = nnf__alloc_live();                          \
        NNF_ASSERT_OK(call);                                     \
        assert_int_equal(nnf__alloc_live(), live_ + 1);          \
        assert_true(nnf_tensor_shares_storage((v), (base)));     \
    } while (0)

static void check_shape(const nnf_tensor *t, int ndim, const int64_t *shape, const int64_t *stride)
{
    assert_int_equal(nnf_tensor_ndim(t), ndim);
    for (int i = 0; i < ndim; i++) {
        assert_int_equal(nnf_tensor_shape(t)[i], shape[i]);
        if (stride != NULL)
            assert_int_equal(nnf_tensor_strides(t)[i], stride[i]);
    }
}

/* The chapter: c = tensor([10., 20, 30]) expanded to 3x3 keeps 3 floats of storage. */
static void test_expand(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *c = NULL, *m = NULL, *e = NULL, *e2 = NULL, *col = NULL, *ecol = NULL;
        NNF_ASSERT_OK(nnf_from_data(&c, (const float[]){10, 20, 30}, NNF_SHAPE(3)));
        NNF_ASSERT_OK(nnf_zeros(&m, NNF_SHAPE(3, 3)));
        ASSERT_VIEW(nnf_expand_as(&e, c, m), e, c);
        check_shape(e, 2, (const int64_t[]){3, 3}, (const int64_t[]){0, 1});
        assert_int_equal(nnf_tensor_storage_numel(e), 3);
        assert_false(nnf_tensor_is_contiguous(e));
        for (int64_t i = 0; i < 3; i++)
            for (int64_t j = 0; j < 3; j++)
                assert_true(at(e, (const int64_t[]){i, j}) == 10.0f * (float)(j + 1));
        /* -1 keeps a size; new leading dims get stride 0. */
        ASSERT_VIEW(nnf_expand(&e2, c, NNF_SHAPE(2, 4, -1)), e2, c);
        check_shape(e2, 3, (const int64_t[]){2, 4, 3}, (const int64_t[]){0, 0, 1});
        /* c[:, None] expanded along the columns. */
        ASSERT_VIEW(nnf_unsqueeze(&col, c, 1), col, c);
        ASSERT_VIEW(nnf_expand(&ecol, col, NNF_SHAPE(3, 5)), ecol, c);
        check_shape(ecol, 2, (const int64_t[]){3, 5}, (const int64_t[]){1, 0});
        assert_true(at(ecol, (const int64_t[]){2, 4}) == 30.0f);
        /* Writing through a view writes the shared storage. */
        NNF_ASSERT_OK(nnf_set(ecol, (const int64_t[]){1, 3}, -1.0f));
        assert_true(nnf_tensor_data(c)[1] == -1.0f);
        NNF_ASSERT_FAILS(nnf_expand(&e2, c, NNF_SHAPE(3, 4)), NNF_ERR_SHAPE);
        assert_string_equal(nnf_last_error(),
                            "nnf_expand: The expanded size of the tensor (4) must match the "
                            "existing size (3) at non-singleton dimension 1.  "
                            "Target sizes: [3, 4].  Tensor sizes: [3]");
        NNF_ASSERT_FAILS(nnf_expand(&e2, m, NNF_SHAPE(3)), NNF_ERR_SHAPE);
        NNF_ASSERT_FAILS(nnf_expand(&e2, c, NNF_SHAPE(-1, 3)), NNF_ERR_SHAPE);
        NNF_TEST_FREE(c, m, e, e2, col, ecol);
    }
}

static void test_unsqueeze_squeeze(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = cube(), *u0 = NULL, *u3 = NULL, *um = NULL, *s = NULL, *sa = NULL,
                   *same = NULL, *s0 = NULL, *scalar = NULL, *su = NULL;
        ASSERT_VIEW(nnf_unsqueeze(&u0, t, 0), u0, t);
        check_shape(u0, 4, (const int64_t[]){1, 2, 3, 4}, (const int64_t[]){24, 12, 4, 1});
        assert_true(nnf_tensor_is_contiguous(u0));
        ASSERT_VIEW(nnf_unsqueeze(&u3, t, 3), u3, t);
        check_shape(u3, 4, (const int64_t[]){2, 3, 4, 1}, (const int64_t[]){12, 4, 1, 1});
        ASSERT_VIEW(nnf_unsqueeze(&um, t, -2), um, t);
        check_shape(um, 4, (const int64_t[]){2, 3, 1, 4}, (const int64_t[]){12, 4, 4, 1});
        assert_true(at(um, (const int64_t[]){1, 2, 0, 3}) == 123.0f);
        NNF_ASSERT_FAILS(nnf_unsqueeze(&s, t, 4), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_unsqueeze: Dimension out of range (expected to be in range of "
                            "[-4, 3], but got 4)");
        ASSERT_VIEW(nnf_squeeze(&s, um, 2), s, t);
        check_shape(s, 3, (const int64_t[]){2, 3, 4}, (const int64_t[]){12, 4, 1});
        /* Squeezing a dim that is not 1 gives the same shape, as in PyTorch. */
        ASSERT_VIEW(nnf_squeeze(&same, t, 1), same, t);
        check_shape(same, 3, (const int64_t[]){2, 3, 4}, NULL);
        ASSERT_VIEW(nnf_unsqueeze(&s0, u0, -1), s0, t);
        ASSERT_VIEW(nnf_squeeze_all(&sa, s0), sa, t);
        check_shape(sa, 3, (const int64_t[]){2, 3, 4}, (const int64_t[]){12, 4, 1});
        /* A 0-d tensor: unsqueeze to [1], squeeze back to 0-d. */
        NNF_ASSERT_OK(nnf_full(&scalar, 0, NULL, 5.0f));
        ASSERT_VIEW(nnf_unsqueeze(&su, scalar, 0), su, scalar);
        check_shape(su, 1, (const int64_t[]){1}, (const int64_t[]){1});
        nnf_tensor_free(su);
        ASSERT_VIEW(nnf_squeeze(&su, scalar, -1), su, scalar);
        assert_int_equal(nnf_tensor_ndim(su), 0);
        NNF_TEST_FREE(t, u0, u3, um, s, sa, same, s0, scalar, su);
    }
}

static void test_transpose_permute(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = cube(), *tr = NULL, *p = NULL, *m = NULL, *mt = NULL, *v = NULL, *vt = NULL;
        ASSERT_VIEW(nnf_transpose(&tr, t, 0, -1), tr, t);
        check_shape(tr, 3, (const int64_t[]){4, 3, 2}, (const int64_t[]){1, 4, 12});
        ASSERT_VIEW(nnf_permute(&p, t, (const int[]){1, 2, 0}), p, t);
        check_shape(p, 3, (const int64_t[]){3, 4, 2}, (const int64_t[]){4, 1, 12});
        for (int64_t i = 0; i < 2; i++)
            for (int64_t j = 0; j < 3; j++)
                for (int64_t k = 0; k < 4; k++) {
                    float want = (float)(100 * i + 10 * j + k);
                    assert_true(at(tr, (const int64_t[]){k, j, i}) == want);
                    assert_true(at(p, (const int64_t[]){j, k, i}) == want);
                }
        NNF_ASSERT_FAILS(nnf_permute(&m, t, (const int[]){0, 1, 1}), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_permute(&m, t, (const int[]){0, 1, 3}), NNF_ERR_INDEX);
        NNF_ASSERT_FAILS(nnf_t(&m, t), NNF_ERR_SHAPE);
        assert_string_equal(nnf_last_error(),
                            "nnf_t: t() expects a tensor with <= 2 dimensions, but self is 3D");
        NNF_ASSERT_OK(nnf_zeros(&m, NNF_SHAPE(2, 5)));
        ASSERT_VIEW(nnf_t(&mt, m), mt, m);
        check_shape(mt, 2, (const int64_t[]){5, 2}, (const int64_t[]){1, 5});
        NNF_ASSERT_OK(nnf_arange(&v, 0, 3, 1));
        ASSERT_VIEW(nnf_t(&vt, v), vt, v);
        check_shape(vt, 1, (const int64_t[]){3}, (const int64_t[]){1});
        NNF_TEST_FREE(t, tr, p, m, mt, v, vt);
    }
}

static void test_select(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = cube(), *a1 = NULL, *b2 = NULL, *last = NULL, *scalar = NULL, *x = NULL;
        ASSERT_VIEW(nnf_select(&a1, t, 0, 1), a1, t);   /* t[1] */
        check_shape(a1, 2, (const int64_t[]){3, 4}, (const int64_t[]){4, 1});
        assert_int_equal(nnf_tensor_offset(a1), 12);
        assert_true(at(a1, (const int64_t[]){2, 3}) == 123.0f);
        ASSERT_VIEW(nnf_select(&b2, t, 1, -1), b2, t);  /* t[:, -1] */
        check_shape(b2, 2, (const int64_t[]){2, 4}, (const int64_t[]){12, 1});
        assert_true(at(b2, (const int64_t[]){1, 0}) == 120.0f);
        ASSERT_VIEW(nnf_select(&last, b2, 1, 3), last, t);
        ASSERT_VIEW(nnf_select(&scalar, last, 0, 1), scalar, t);
        assert_int_equal(nnf_tensor_ndim(scalar), 0);
        float v;
        NNF_ASSERT_OK(nnf_value(&v, scalar));
        assert_true(v == 123.0f);
        NNF_ASSERT_FAILS(nnf_select(&x, t, 1, 3), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_select: index 3 out of range for tensor of size [2, 3, 4] at "
                            "dimension 1");
        NNF_ASSERT_FAILS(nnf_select(&x, t, 1, -4), NNF_ERR_INDEX);
        NNF_ASSERT_FAILS(nnf_select(&x, scalar, 0, 0), NNF_ERR_SHAPE);
        assert_string_equal(nnf_last_error(),
                            "nnf_select: select() cannot be applied to a 0-dim tensor.");
        NNF_TEST_FREE(t, a1, b2, last, scalar);
    }
}

/* slice follows Python's t[start:end:step] clamping; narrow does not clamp. */
static void test_slice_narrow(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *r = NULL;
        NNF_ASSERT_OK(nnf_arange(&r, 0, 10, 1));
        const struct { int64_t start, end, step; } cases[] = {
            {0, 10, 1}, {2, 8, 3}, {-3, 100, 1}, {-100, 4, 2}, {7, 2, 1}, {0, -1, 4},
            {INT64_MIN, INT64_MAX, 1}, {9, 10, INT64_MAX}, {10, 20, 1}, {-1, -100, 1},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            nnf_tensor *s = NULL;
            ASSERT_VIEW(nnf_slice(&s, r, 0, cases[c].start, cases[c].end, cases[c].step), s, r);
            /* Python's rule, written out independently. */
            int64_t lo = cases[c].start, hi = cases[c].end;
            lo = lo < -10 ? 0 : lo < 0 ? lo + 10 : lo > 10 ? 10 : lo;
            hi = hi < -10 ? 0 : hi < 0 ? hi + 10 : hi > 10 ? 10 : hi;
            int64_t n = 0;
            for (int64_t i = lo; i < hi; i += cases[c].step > 10 ? 10 : cases[c].step)
                n++;
            assert_int_equal(nnf_tensor_numel(s), n);
            for (int64_t k = 0; k < n; k++)
                assert_true(at(s, &k) == (float)(lo + k * cases[c].step));
            nnf_tensor_free(s);
        }
        nnf_tensor *t = cube(), *s2 = NULL, *n1 = NULL, *x = NULL;
        ASSERT_VIEW(nnf_slice(&s2, t, -1, 1, 4, 2), s2, t);   /* t[..., 1::2] */
        check_shape(s2, 3, (const int64_t[]){2, 3, 2}, (const int64_t[]){12, 4, 2});
        assert_true(at(s2, (const int64_t[]){1, 2, 1}) == 123.0f);
        ASSERT_VIEW(nnf_narrow(&n1, t, 1, -2, 2), n1, t);
        check_shape(n1, 3, (const int64_t[]){2, 2, 4}, (const int64_t[]){12, 4, 1});
        assert_true(at(n1, (const int64_t[]){0, 0, 0}) == 10.0f);
        NNF_ASSERT_FAILS(nnf_slice(&x, t, 0, 0, 2, 0), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_narrow(&x, t, 2, 3, 2), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_narrow: start (3) + length (2) exceeds dimension size (4).");
        NNF_ASSERT_FAILS(nnf_narrow(&x, t, 2, 5, 0), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_narrow: start out of range (expected to be in range of [-4, 4], "
                            "but got 5)");
        NNF_ASSERT_FAILS(nnf_narrow(&x, t, 2, 0, -1), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_narrow(&x, t, 3, 0, 1), NNF_ERR_INDEX);
        NNF_TEST_FREE(r, t, s2, n1);
    }
}

/* view where strides allow it, including across size-1 dims and sliced chunks. */
static void test_view(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = cube(), *v = NULL, *v2 = NULL, *tr = NULL, *x = NULL, *s = NULL,
                   *sv = NULL, *ex = NULL, *exv = NULL;
        ASSERT_VIEW(nnf_view(&v, t, NNF_SHAPE(6, -1)), v, t);
        check_shape(v, 2, (const int64_t[]){6, 4}, (const int64_t[]){4, 1});
        assert_true(at(v, (const int64_t[]){5, 3}) == 123.0f);
        ASSERT_VIEW(nnf_view(&v2, t, NNF_SHAPE(1, 2, 1, 12, 1)), v2, t);
        check_shape(v2, 5, (const int64_t[]){1, 2, 1, 12, 1}, NULL);
        assert_int_equal(nnf_tensor_strides(v2)[1], 12);
        assert_int_equal(nnf_tensor_strides(v2)[3], 1);
        /* A transpose can be viewed only along whole chunks. */
        NNF_ASSERT_OK(nnf_transpose(&tr, t, 1, 2));     /* [2, 4, 3], strides [12, 1, 4] */
        NNF_ASSERT_FAILS(nnf_view(&x, tr, NNF_SHAPE(2, 12)), NNF_ERR_STRIDE);
        assert_string_equal(nnf_last_error(),
                            "nnf_view: view size is not compatible with input tensor's size and "
                            "stride (at "
                            "least one dimension spans across two contiguous subspaces). Use "
                            ".reshape(...) instead.");
        nnf_tensor_free(v);
        v = NULL;
        ASSERT_VIEW(nnf_view(&v, tr, NNF_SHAPE(2, 2, 2, 3)), v, t);
        check_shape(v, 4, (const int64_t[]){2, 2, 2, 3}, (const int64_t[]){12, 2, 1, 4});
        /* A column slice: rows of 2 out of 4 can merge the leading dims only. */
        NNF_ASSERT_OK(nnf_slice(&s, t, 2, 0, 2, 1));     /* [2, 3, 2], strides [12, 4, 1] */
        ASSERT_VIEW(nnf_view(&sv, s, NNF_SHAPE(6, 2)), sv, t);
        check_shape(sv, 2, (const int64_t[]){6, 2}, (const int64_t[]){4, 1});
        assert_true(at(sv, (const int64_t[]){4, 1}) == 111.0f);
        NNF_ASSERT_FAILS(nnf_view(&x, s, NNF_SHAPE(12)), NNF_ERR_STRIDE);
        /* Stride-0 dims can be split or kept, not merged with others. */
        NNF_ASSERT_OK(nnf_expand(&ex, t, NNF_SHAPE(5, 2, 3, 4)));
        ASSERT_VIEW(nnf_view(&exv, ex, NNF_SHAPE(5, 24)), exv, t);
        check_shape(exv, 2, (const int64_t[]){5, 24}, (const int64_t[]){0, 1});
        NNF_ASSERT_FAILS(nnf_view(&x, ex, NNF_SHAPE(120)), NNF_ERR_STRIDE);
        NNF_ASSERT_FAILS(nnf_view(&x, t, NNF_SHAPE(5, -1)), NNF_ERR_SHAPE);
        assert_string_equal(nnf_last_error(),
                            "nnf_view: shape '[5, -1]' is invalid for input of size 24");
        NNF_ASSERT_FAILS(nnf_view(&x, t, NNF_SHAPE(-1, -1)), NNF_ERR_INVALID);
        assert_string_equal(nnf_last_error(), "nnf_view: only one dimension can be inferred");
        NNF_ASSERT_FAILS(nnf_view(&x, t, NNF_SHAPE(25)), NNF_ERR_SHAPE);
        NNF_ASSERT_FAILS(nnf_view(&x, t, NNF_SHAPE(-2, -12)), NNF_ERR_INVALID);
        NNF_TEST_FREE(t, v, v2, tr, s, sv, ex, exv);
    }
}

/* reshape and contiguous give views where they can, else copies (checked against
 * the elements read through the strides). */
static void test_reshape_contiguous_clone(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = cube(), *r = NULL, *tr = NULL, *rc = NULL, *c = NULL, *cc = NULL,
                   *cl = NULL;
        ASSERT_VIEW(nnf_reshape(&r, t, NNF_SHAPE(4, -1)), r, t);
        ASSERT_VIEW(nnf_contiguous(&c, t), c, t);
        NNF_ASSERT_OK(nnf_transpose(&tr, t, 0, 2));       /* [4, 3, 2] */
        NNF_ASSERT_OK(nnf_reshape(&rc, tr, NNF_SHAPE(12, 2)));
        assert_false(nnf_tensor_shares_storage(rc, t));
        assert_true(nnf_tensor_is_contiguous(rc));
        check_shape(rc, 2, (const int64_t[]){12, 2}, (const int64_t[]){2, 1});
        NNF_ASSERT_OK(nnf_contiguous(&cc, tr));
        assert_false(nnf_tensor_shares_storage(cc, t));
        check_shape(cc, 3, (const int64_t[]){4, 3, 2}, (const int64_t[]){6, 2, 1});
        for (int64_t k = 0; k < 4; k++)
            for (int64_t j = 0; j < 3; j++)
                for (int64_t i = 0; i < 2; i++) {
                    float want = (float)(100 * i + 10 * j + k);
                    assert_true(at(cc, (const int64_t[]){k, j, i}) == want);
                    assert_true(at(rc, (const int64_t[]){k * 3 + j, i}) == want);
                }
        NNF_ASSERT_OK(nnf_clone(&cl, t));
        assert_false(nnf_tensor_shares_storage(cl, t));
        assert_memory_equal(nnf_tensor_data(cl), nnf_tensor_data(t), 24 * sizeof(float));
        NNF_TEST_FREE(t, r, tr, rc, c, cc, cl);
    }
}

/* Bool and int64 tensors have views and copies too (masks, labels). */
static void test_other_dtypes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *b = NULL, *bt = NULL, *bc = NULL, *l = NULL, *ls = NULL, *lc = NULL;
        NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(2, 3), NNF_BOOL));
        uint8_t *bp = nnf_tensor_raw(b);
        for (int i = 0; i < 6; i++)
            bp[i] = (uint8_t)(i % 2);
        ASSERT_VIEW(nnf_t(&bt, b), bt, b);
        NNF_ASSERT_OK(nnf_contiguous(&bc, bt));
        assert_int_equal(nnf_tensor_dtype(bc), NNF_BOOL);
        const uint8_t want_b[] = {0, 1, 1, 0, 0, 1};
        assert_memory_equal(nnf_tensor_raw(bc), want_b, 6);
        NNF_ASSERT_OK(nnf_empty_typed(&l, NNF_SHAPE(5), NNF_I64));
        int64_t *lp = nnf_tensor_raw(l);
        for (int i = 0; i < 5; i++)
            lp[i] = (int64_t)1 << (40 + i);
        ASSERT_VIEW(nnf_slice(&ls, l, 0, 0, 5, 2), ls, l);
        NNF_ASSERT_OK(nnf_clone(&lc, ls));
        const int64_t want_l[] = {(int64_t)1 << 40, (int64_t)1 << 42, (int64_t)1 << 44};
        assert_memory_equal(nnf_tensor_raw(lc), want_l, sizeof want_l);
        NNF_TEST_FREE(b, bt, bc, l, ls, lc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_unsqueeze_squeeze),
        cmocka_unit_test(test_transpose_permute),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_slice_narrow),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_reshape_contiguous_clone),
        cmocka_unit_test(test_other_dtypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
