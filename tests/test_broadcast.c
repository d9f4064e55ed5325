/* The iteration engine: every broadcasting pattern, non-contiguous inputs and outputs,
 * in place, copy/fill, and every error it must report (with PyTorch's messages),
 * leaving the caller's tensors untouched. Results are checked element by element
 * against a double-precision reference read through the views' own strides. */
#include "nnf_test.h"

#include <math.h>
#include <string.h>

#include "src/core/alloc.h"

typedef nnf_status (*binary_fn)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *);

static double r_sub(double a, double b) { return a - b; }
static double r_div(double a, double b) { return a / b; }
static double r_max(double a, double b) { return a > b ? a : b; }

static const struct {
    const char *name;
    binary_fn fn;
    double (*ref)(double, double);
} ops[] = {{"sub", nnf_sub, r_sub}, {"div", nnf_div, r_div}, {"maximum", nnf_maximum, r_max}};

/* Asserts y == round(ref(a, b)) at every index of y, reading all three through views. */
static void check_binary(const nnf_tensor *y, const nnf_tensor *a, const nnf_tensor *b,
                         double (*ref)(double, double), const char *what)
{
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        float want = (float)ref(nnf_test_at(a, nd, index), nnf_test_at(b, nd, index));
        float got = nnf_test_at(y, nd, index);
        if (memcmp(&got, &want, 4) != 0 && !(isnan(got) && isnan(want)))
            fail_msg("%s: flat element %lld: got %.9g, want %.9g", what, (long long)i, got, want);
        for (int d = nd - 1; d >= 0; d--) {
            if (++index[d] < shape[d])
                break;
            index[d] = 0;
        }
    }
}

static nnf_tensor *randn(int ndim, const int64_t *shape)
{
    nnf_tensor *t;
    NNF_ASSERT_OK(nnf_randn(&t, NULL, ndim, shape));
    return t;
}

/* Pairs of shapes: scalar, row, column, outer product, new leading dims, middle dims,
 * the chapter's image batch with per-channel [3,1,1] (scaled down from
 * [64,3,256,256] for qemu), the same with the broadcast operand first, and empty. */
static void test_patterns(void **state)
{
    (void)state;
    static const struct {
        int na;
        int64_t a[4];
        int nb;
        int64_t b[4];
    } cases[] = {
        {2, {5, 7}, 0, {0}},
        {2, {5, 7}, 1, {7}},
        {2, {5, 7}, 2, {5, 1}},
        {2, {5, 1}, 2, {1, 7}},
        {2, {1, 7}, 3, {2, 3, 7}},
        {3, {4, 1, 6}, 3, {4, 5, 1}},
        {4, {8, 3, 32, 32}, 3, {3, 1, 1}},
        {3, {3, 1, 1}, 4, {8, 3, 32, 32}},
        {4, {2, 3, 5, 33}, 2, {5, 1}},
        {0, {0}, 0, {0}},
        {2, {0, 3}, 1, {3}},
        {1, {1}, 3, {3, 1, 17}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        nnf_tensor *a = randn(cases[c].na, cases[c].a), *b = randn(cases[c].nb, cases[c].b);
        for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
            nnf_tensor *first = NULL;
            NNF_FOR_EACH_ISA(isa) {
                nnf_tensor *y = NULL;
                NNF_ASSERT_OK(ops[o].fn(&y, a, b));
                check_binary(y, a, b, ops[o].ref, ops[o].name);
                if (first == NULL) {
                    first = y;
                } else {
                    nnf_test_assert_bits_equal(nnf_tensor_data(y), nnf_tensor_data(first),
                                               (size_t)nnf_tensor_numel(y));
                    nnf_tensor_free(y);
                }
            }
            nnf_tensor_free(first);
        }
        nnf_tensor_free(a);
        nnf_tensor_free(b);
    }
    nnf_test_restore_isa();
}

/* Transposed, sliced and expanded inputs; a transposed output. */
static void test_views(void **state)
{
    (void)state;
    nnf_tensor *base = randn(NNF_SHAPE(6, 9)), *other = randn(NNF_SHAPE(9, 6));
    nnf_tensor *col = randn(NNF_SHAPE(6, 1)), *cube = randn(NNF_SHAPE(4, 6, 9));
    nnf_tensor *c41 = randn(NNF_SHAPE(4, 1));
    nnf_tensor *tr, *sl, *ex, *sl2, *trs, *perm, *fresh, *out_t;
    NNF_ASSERT_OK(nnf_transpose(&tr, base, 0, 1));          /* [9,6], strides (1,9) */
    NNF_ASSERT_OK(nnf_slice(&sl, base, 1, 1, 9, 2));        /* [6,4], strides (9,2) */
    NNF_ASSERT_OK(nnf_slice(&sl2, other, 1, 0, 6, 2));      /* [9,3], strides (6,2) */
    NNF_ASSERT_OK(nnf_slice(&trs, tr, 1, 3, 6, 1));         /* [9,3], strides (1,9) */
    NNF_ASSERT_OK(nnf_expand(&ex, col, NNF_SHAPE(6, 4)));   /* stride-0 columns */
    NNF_ASSERT_OK(nnf_permute(&perm, cube, (const int[]){2, 0, 1}));   /* [9,4,6] */
    NNF_ASSERT_OK(nnf_empty(&fresh, NNF_SHAPE(9, 6)));
    NNF_ASSERT_OK(nnf_transpose(&out_t, fresh, 0, 1));      /* [6,9] output, strides (1,6) */
    NNF_FOR_EACH_ISA(isa) {
        for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
            nnf_tensor *y = NULL;
            NNF_ASSERT_OK(ops[o].fn(&y, tr, other));
            check_binary(y, tr, other, ops[o].ref, "transposed input");
            nnf_tensor_free(y);
            y = NULL;
            NNF_ASSERT_OK(ops[o].fn(&y, sl, ex));
            check_binary(y, sl, ex, ops[o].ref, "sliced and expanded");
            nnf_tensor_free(y);
            y = NULL;
            NNF_ASSERT_OK(ops[o].fn(&y, sl2, trs));
            check_binary(y, sl2, trs, ops[o].ref, "sliced with transposed");
            nnf_tensor_free(y);
            y = NULL;
            NNF_ASSERT_OK(ops[o].fn(&y, perm, c41));
            check_binary(y, perm, c41, ops[o].ref, "permuted with column");
            nnf_tensor_free(y);
            NNF_ASSERT_OK(ops[o].fn(&out_t, base, col));
            check_binary(out_t, base, col, ops[o].ref, "transposed output");
        }
    }
    nnf_test_restore_isa();
    NNF_TEST_FREE(base, other, col, cube, c41, tr, sl, ex, sl2, trs, perm, fresh, out_t);
}

static double r_add(double a, double b) { return a + b; }
static double r_mul(double a, double b) { return a * b; }

/* out may be one of the inputs, also a non-contiguous one. */
static void test_in_place(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = randn(NNF_SHAPE(7, 19)), *row = randn(NNF_SHAPE(19)), *before;
        NNF_ASSERT_OK(nnf_clone(&before, a));
        nnf_tensor *alias = a;
        NNF_ASSERT_OK(nnf_add(&alias, a, row));
        assert_ptr_equal(alias, a);
        check_binary(a, before, row, r_add, "a += row");

        nnf_tensor_free(before);
        NNF_ASSERT_OK(nnf_clone(&before, a));
        NNF_ASSERT_OK(nnf_mul(&alias, a, a));
        check_binary(a, before, before, r_mul, "a *= a");

        nnf_tensor *t, *t_before, *other = randn(NNF_SHAPE(19, 7));
        NNF_ASSERT_OK(nnf_transpose(&t, a, 0, 1));
        NNF_ASSERT_OK(nnf_clone(&t_before, t));
        nnf_tensor *t_alias = t;
        NNF_ASSERT_OK(nnf_sub(&t_alias, other, t));   /* t = other - t, through the view */
        check_binary(t, other, t_before, r_sub, "transposed in place, second operand");

        NNF_ASSERT_OK(nnf_relu(&alias, a));
        const float *p = nnf_tensor_data(a);
        for (int i = 0; i < 7 * 19; i++)
            assert_true(p[i] >= 0.0f);
        NNF_TEST_FREE(a, row, before, t, t_before, other);
    }
    nnf_test_restore_isa();
}

static void assert_message(const char *want)
{
    if (strcmp(nnf_last_error(), want) != 0)
        fail_msg("message \"%s\", want \"%s\"", nnf_last_error(), want);
}

static void test_errors(void **state)
{
    (void)state;
    nnf_tensor *a = randn(NNF_SHAPE(4, 2)), *b = randn(NNF_SHAPE(4, 3)), *y = NULL;
    NNF_ASSERT_FAILS(nnf_add(&y, a, b), NNF_ERR_SHAPE);
    assert_message("nnf_add: The size of tensor a (2) must match the size of tensor b (3) at "
                   "non-singleton dimension 1");
    assert_null(y);

    nnf_tensor *c = randn(NNF_SHAPE(2, 3, 4)), *d = randn(NNF_SHAPE(5, 4));
    NNF_ASSERT_FAILS(nnf_mul(&y, c, d), NNF_ERR_SHAPE);
    assert_message("nnf_mul: The size of tensor a (3) must match the size of tensor b (5) at "
                   "non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_lt(&y, d, c), NNF_ERR_SHAPE);
    assert_message("nnf_lt: The size of tensor a (5) must match the size of tensor b (3) at "
                   "non-singleton dimension 1");

    NNF_ASSERT_FAILS(nnf_add(NULL, a, a), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_add(&y, NULL, a), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_add(&y, a, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_exp(&y, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_copy(NULL, a), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_copy(a, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_fill(NULL, 1), NNF_ERR_NULL);

    nnf_tensor *mask;
    NNF_ASSERT_OK(nnf_empty_typed(&mask, NNF_SHAPE(4, 2), NNF_BOOL));
    NNF_ASSERT_FAILS(nnf_add(&y, a, mask), NNF_ERR_DTYPE);
    assert_message("nnf_add: expected a float32 tensor for b, got bool");
    NNF_ASSERT_FAILS(nnf_relu(&y, mask), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_gt_scalar(&y, mask, 0), NNF_ERR_DTYPE);
    assert_null(y);

    /* A caller-given out with the wrong shape or dtype is left exactly as it was. */
    nnf_tensor *out;
    NNF_ASSERT_OK(nnf_full(&out, NNF_SHAPE(2, 4), 42));
    nnf_tensor *keep = out;
    NNF_ASSERT_FAILS(nnf_add(&out, a, a), NNF_ERR_SHAPE);
    assert_message("nnf_add: out has shape [2, 4] but the result has shape [4, 2]");
    assert_ptr_equal(out, keep);
    NNF_ASSERT_OK(nnf_lt(&mask, a, a));
    NNF_ASSERT_FAILS(nnf_lt(&out, a, a), NNF_ERR_DTYPE);
    assert_message("nnf_lt: out has dtype float32 but the result is bool");
    NNF_ASSERT_FAILS(nnf_add(&mask, a, a), NNF_ERR_DTYPE);
    for (int i = 0; i < 8; i++)
        assert_true(nnf_tensor_data(out)[i] == 42.0f);

    /* Partial overlap with an input, and an output whose elements share memory. */
    nnf_tensor *x, *lo, *hi, *ex, *row;
    NNF_ASSERT_OK(nnf_arange(&x, 0, 10, 1));
    NNF_ASSERT_OK(nnf_narrow(&lo, x, 0, 0, 8));
    NNF_ASSERT_OK(nnf_narrow(&hi, x, 0, 1, 8));
    NNF_ASSERT_FAILS(nnf_add(&hi, lo, lo), NNF_ERR_INVALID);
    assert_message("nnf_add: unsupported operation: some elements of the input tensor and "
                   "the written-to tensor refer to a single memory location. Please clone() "
                   "the tensor before performing the operation.");
    NNF_ASSERT_FAILS(nnf_copy(hi, lo), NNF_ERR_INVALID);
    for (int i = 0; i < 10; i++)
        assert_true(nnf_tensor_data(x)[i] == (float)i);
    NNF_ASSERT_OK(nnf_arange(&row, 0, 5, 1));
    nnf_tensor *row1;
    NNF_ASSERT_OK(nnf_view(&row1, row, NNF_SHAPE(1, 5)));
    NNF_ASSERT_OK(nnf_expand(&ex, row1, NNF_SHAPE(3, 5)));
    nnf_tensor *src = randn(NNF_SHAPE(3, 5));
    NNF_ASSERT_FAILS(nnf_neg(&ex, src), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_copy(ex, src), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_fill(ex, 1), NNF_ERR_INVALID);
    /* Disjoint views of one storage are fine. */
    nnf_tensor *first, *second;
    NNF_ASSERT_OK(nnf_narrow(&first, x, 0, 0, 5));
    NNF_ASSERT_OK(nnf_narrow(&second, x, 0, 5, 5));
    NNF_ASSERT_OK(nnf_add(&second, first, first));
    for (int i = 0; i < 5; i++)
        assert_true(nnf_tensor_data(x)[5 + i] == 2.0f * (float)i);

    NNF_TEST_FREE(a, b, c, d, mask, out, x, lo, hi, ex, row, row1, src, first, second);
}

/* A failed allocation of the result fails cleanly and leaks nothing. */
static void test_alloc_failure(void **state)
{
    (void)state;
    nnf_tensor *a = randn(NNF_SHAPE(3, 4)), *y = NULL;
    long live = nnf__alloc_live();
    nnf__alloc_fail_after(1);
    NNF_ASSERT_FAILS(nnf_add(&y, a, a), NNF_ERR_NOMEM);
    nnf__alloc_fail_after(1);
    NNF_ASSERT_FAILS(nnf_lt(&y, a, a), NNF_ERR_NOMEM);
    nnf__alloc_fail_after(0);
    assert_null(y);
    assert_int_equal(nnf__alloc_live(), live);
    nnf_tensor_free(a);
}

static void test_copy_fill(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *m, *mt, *row, *sl, *src;
        NNF_ASSERT_OK(nnf_zeros(&m, NNF_SHAPE(5, 7)));
        NNF_ASSERT_OK(nnf_arange(&row, 0, 7, 1));
        NNF_ASSERT_OK(nnf_copy(m, row));   /* broadcast row into every row */
        for (int i = 0; i < 35; i++)
            assert_true(nnf_tensor_data(m)[i] == (float)(i % 7));

        src = randn(NNF_SHAPE(7, 5));
        NNF_ASSERT_OK(nnf_transpose(&mt, m, 0, 1));   /* write through a transposed view */
        NNF_ASSERT_OK(nnf_copy(mt, src));
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 7; j++)
                assert_true(nnf_tensor_data(m)[i * 7 + j] == nnf_tensor_data(src)[j * 5 + i]);

        NNF_ASSERT_OK(nnf_slice(&sl, m, 1, 0, 7, 3));   /* columns 0, 3, 6 */
        NNF_ASSERT_OK(nnf_fill(sl, -1.5f));
        for (int i = 0; i < 35; i++) {
            float want = i % 7 % 3 == 0 ? -1.5f : nnf_tensor_data(src)[(i % 7) * 5 + i / 7];
            assert_true(nnf_tensor_data(m)[i] == want);
        }
        NNF_ASSERT_OK(nnf_copy(m, m));   /* full overlap: a no-op */

        NNF_ASSERT_FAILS(nnf_copy(row, m), NNF_ERR_SHAPE);
        assert_message("nnf_copy: output with shape [7] doesn't match the broadcast shape "
                       "[5, 7]");
        NNF_TEST_FREE(m, mt, row, sl, src);
    }
    nnf_test_restore_isa();

    /* Conversions: bool <-> float, int64 -> float; float -> int64 is refused. */
    nnf_tensor *f, *b, *l, *g;
    NNF_ASSERT_OK(nnf_from_data(&f, (const float[]){0, -2.5f, NAN, 1}, NNF_SHAPE(4)));
    NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(4), NNF_BOOL));
    NNF_ASSERT_OK(nnf_empty_typed(&l, NNF_SHAPE(4), NNF_I64));
    NNF_ASSERT_OK(nnf_empty(&g, NNF_SHAPE(4)));
    NNF_ASSERT_OK(nnf_copy(b, f));
    assert_memory_equal(nnf_tensor_raw(b), ((const uint8_t[]){0, 1, 1, 1}), 4);
    NNF_ASSERT_OK(nnf_copy(g, b));
    assert_true(nnf_tensor_data(g)[0] == 0.0f && nnf_tensor_data(g)[1] == 1.0f);
    NNF_ASSERT_OK(nnf_fill(l, -3));
    assert_int_equal(((const int64_t *)nnf_tensor_raw(l))[3], -3);
    NNF_ASSERT_OK(nnf_copy(g, l));
    assert_true(nnf_tensor_data(g)[2] == -3.0f);
    NNF_ASSERT_FAILS(nnf_copy(l, f), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_fill(l, 0.5f), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_fill(l, NAN), NNF_ERR_INVALID);
    NNF_ASSERT_OK(nnf_fill(b, 2));
    assert_memory_equal(nnf_tensor_raw(b), ((const uint8_t[]){1, 1, 1, 1}), 4);
    nnf_tensor_free(f);
    nnf_tensor_free(b);
    nnf_tensor_free(l);
    nnf_tensor_free(g);
}

/* where(cond, a, b): three shapes broadcast together, every tail, strided conditions. */
static void check_where(const nnf_tensor *y, const nnf_tensor *c, const nnf_tensor *a,
                        const nnf_tensor *b)
{
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t ci[NNF_MAX_DIMS];
        int cnd = nnf_tensor_ndim(c);
        for (int d = 0; d < cnd; d++)
            ci[d] = nnf_tensor_shape(c)[d] == 1 ? 0 : index[nd - cnd + d];
        const uint8_t *cp = nnf_tensor_raw(c);
        for (int d = 0; d < cnd; d++)
            cp += ci[d] * nnf_tensor_strides(c)[d];
        float want = *cp ? nnf_test_at(a, nd, index) : nnf_test_at(b, nd, index);
        float got = nnf_test_at(y, nd, index);
        if (memcmp(&got, &want, 4) != 0)
            fail_msg("where: flat element %lld: got %.9g, want %.9g", (long long)i, got, want);
        for (int d = nd - 1; d >= 0; d--) {
            if (++index[d] < shape[d])
                break;
            index[d] = 0;
        }
    }
}

static void test_where(void **state)
{
    (void)state;
    static const struct {
        int nc, na, nb;
        int64_t c[3], a[3], b[3];
    } cases[] = {
        {2, 1, 0, {5, 1}, {7}, {0}},
        {3, 2, 3, {2, 1, 7}, {3, 1}, {1, 1, 7}},
        {1, 1, 1, {49}, {49}, {49}},
        {1, 1, 1, {17}, {1}, {17}},
        {2, 2, 2, {3, 33}, {3, 33}, {1, 33}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        nnf_tensor *x = randn(cases[k].nc, cases[k].c), *c = NULL;
        nnf_tensor *a = randn(cases[k].na, cases[k].a), *b = randn(cases[k].nb, cases[k].b);
        NNF_ASSERT_OK(nnf_gt_scalar(&c, x, 0.0f));
        nnf_tensor *first = NULL;
        NNF_FOR_EACH_ISA(isa) {
            nnf_tensor *y = NULL;
            NNF_ASSERT_OK(nnf_where(&y, c, a, b));
            check_where(y, c, a, b);
            if (first == NULL) {
                first = y;
            } else {
                nnf_test_assert_bits_equal(nnf_tensor_data(y), nnf_tensor_data(first),
                                           (size_t)nnf_tensor_numel(y));
                nnf_tensor_free(y);
            }
        }
        nnf_tensor_free(first);
        nnf_tensor_free(x);
        nnf_tensor_free(c);
        nnf_tensor_free(a);
        nnf_tensor_free(b);
    }
    /* A transposed condition, misaligned operands, and a NaN that must pass unchanged. */
    nnf_tensor *x = randn(NNF_SHAPE(19, 5)), *xt, *c = NULL, *a = randn(NNF_SHAPE(5, 19)), *b;
    NNF_ASSERT_OK(nnf_transpose(&xt, x, 0, 1));
    NNF_ASSERT_OK(nnf_le_scalar(&c, xt, 0.0f));
    nnf_tensor *cs;
    NNF_ASSERT_OK(nnf_transpose(&cs, c, 0, 1));   /* [19,5] view of a [5,19] mask */
    NNF_ASSERT_OK(nnf_full(&b, NNF_SHAPE(5, 19), NAN));
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *y = NULL;
        NNF_ASSERT_OK(nnf_where(&y, c, a, b));
        check_where(y, c, a, b);
        nnf_tensor_free(y);
        y = NULL;
        nnf_tensor *at_;
        NNF_ASSERT_OK(nnf_transpose(&at_, a, 0, 1));
        NNF_ASSERT_OK(nnf_where(&y, cs, at_, x));   /* strided cond and a */
        check_where(y, cs, at_, x);
        nnf_tensor_free(y);
        nnf_tensor_free(at_);
    }
    nnf_test_restore_isa();

    nnf_tensor *y = NULL, *c3 = NULL, *a3 = randn(NNF_SHAPE(3));
    NNF_ASSERT_OK(nnf_empty_typed(&c3, NNF_SHAPE(5, 1), NNF_BOOL));
    nnf_tensor *b4 = randn(NNF_SHAPE(4));
    NNF_ASSERT_FAILS(nnf_where(&y, c3, a3, b4), NNF_ERR_SHAPE);
    assert_message("nnf_where: The size of tensor a (3) must match the size of tensor b (4) at "
                   "non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_where(&y, a3, a3, a3), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_where(&y, NULL, a3, a3), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_where(&y, c3, c3, a3), NNF_ERR_DTYPE);
    assert_null(y);
    NNF_TEST_FREE(x, xt, c, cs, a, b, c3, a3, b4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),    cmocka_unit_test(test_views),
        cmocka_unit_test(test_in_place),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failure), cmocka_unit_test(test_copy_fill),
        cmocka_unit_test(test_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
