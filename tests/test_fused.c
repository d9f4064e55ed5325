/* The fused ops nnf_sub_div, nnf_sub_scaled and nnf_threshold_backward under every ISA:
 * bit for bit the unfused forms (nnf_sub then nnf_div; nnf_mul_scalar then nnf_sub; a
 * select on x's sign) and a double-precision
 * reference, at every tail length, misaligned, broadcast, strided, in place, with
 * NaN/Inf, across 1 and 2 threads, and every error. */
#include "nnf_test.h"

#include <math.h>
#include <string.h>

#include "src/core/alloc.h"

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, 4) == 0 || (isnan(a) && isnan(b));
}

/* The reference: the difference rounded to float, then the quotient in double rounded
 * to float (a double quotient of floats rounds to the correctly rounded float one). */
static float ref_sub_div(float x, float a, float b)
{
    float d = (float)((double)x - (double)a);
    return (float)((double)d / (double)b);
}

/* y == ref at every index of y, reading all operands through their views; and y has
 * the bits of nnf_div(nnf_sub(x, a), b) on the active ISA. */
static void check_sub_div(const nnf_tensor *y, const nnf_tensor *x, const nnf_tensor *a,
                          const nnf_tensor *b, const char *what)
{
    nnf_tensor *d = NULL, *two = NULL;
    NNF_ASSERT_OK(nnf_sub(&d, x, a));
    NNF_ASSERT_OK(nnf_div(&two, d, b));
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        float want = ref_sub_div(nnf_test_at(x, nd, index), nnf_test_at(a, nd, index),
                                 nnf_test_at(b, nd, index));
        float got = nnf_test_at(y, nd, index), two_op = nnf_test_at(two, nd, index);
        if (!same_bits(got, want) || !same_bits(got, two_op))
            fail_msg("%s (%s): flat element %lld: got %.9g, want %.9g, two-op form %.9g",
                     what, nnf_isa_name(nnf_isa_active()), (long long)i, got, want, two_op);
        for (int dd = nd - 1; dd >= 0; dd--) {
            if (++index[dd] < shape[dd])
                break;
            index[dd] = 0;
        }
    }
    nnf_tensor_free(d);
    nnf_tensor_free(two);
}

static nnf_tensor *uniform(int ndim, const int64_t *shape, uint64_t seed, float lo, float hi)
{
    nnf_tensor *t;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, lo, hi);
    return t;
}

/* Lengths 0..3*16+1 hit every vector tail; starting one float in misaligns them. The
 * mean/std are per element (all stride 1) or one value (stride 0, the fast path). */
static void test_sub_div_tails(void **state)
{
    (void)state;
    nnf_tensor *xs = uniform(NNF_SHAPE(51), 1, -3, 3), *as = uniform(NNF_SHAPE(51), 2, -1, 1);
    nnf_tensor *bs = uniform(NNF_SHAPE(51), 3, 0.1f, 2), *a1, *b1;
    NNF_ASSERT_OK(nnf_full(&a1, NNF_SHAPE(1), 0.4850f));
    NNF_ASSERT_OK(nnf_full(&b1, NNF_SHAPE(1), 0.2290f));
    NNF_FOR_EACH_ISA(isa) {
        for (int64_t n = 0; n <= 49; n++) {
            for (int64_t start = 0; start <= 1; start++) {
                nnf_tensor *x, *a, *b, *y = NULL, *y1 = NULL;
                NNF_ASSERT_OK(nnf_narrow(&x, xs, 0, start, n));
                NNF_ASSERT_OK(nnf_narrow(&a, as, 0, start, n));
                NNF_ASSERT_OK(nnf_narrow(&b, bs, 0, start, n));
                NNF_ASSERT_OK(nnf_sub_div(&y, x, a, b));
                check_sub_div(y, x, a, b, "stride 1");
                NNF_ASSERT_OK(nnf_sub_div(&y1, x, a1, b1));
                check_sub_div(y1, x, a1, b1, "stride 0 mean and std");
                NNF_TEST_FREE(x, a, b, y, y1);
            }
        }
    }
    nnf_test_restore_isa();
    NNF_TEST_FREE(xs, as, bs, a1, b1);
}

/* The chapter's image batch (scaled down for qemu) with [3,1,1] and [1,3,1,1] stats,
 * row and column stats, x itself broadcast, and strided views of every operand. */
static void test_sub_div_patterns(void **state)
{
    (void)state;
    nnf_tensor *img = uniform(NNF_SHAPE(4, 3, 8, 9), 4, 0, 1);
    nnf_tensor *m3 = uniform(NNF_SHAPE(3, 1, 1), 5, 0.4f, 0.5f);
    nnf_tensor *s3 = uniform(NNF_SHAPE(3, 1, 1), 6, 0.2f, 0.3f);
    nnf_tensor *m4, *s4, *imgs, *xt, *bt, *row = uniform(NNF_SHAPE(9), 7, -1, 1);
    nnf_tensor *col = uniform(NNF_SHAPE(8, 1), 8, 0.5f, 4), *xc = uniform(NNF_SHAPE(8, 1), 9, -5, 5);
    nnf_tensor *xr = uniform(NNF_SHAPE(9), 10, -5, 5), *big = uniform(NNF_SHAPE(9, 8), 11, -2, 2);
    NNF_ASSERT_OK(nnf_view(&m4, m3, NNF_SHAPE(1, 3, 1, 1)));
    NNF_ASSERT_OK(nnf_view(&s4, s3, NNF_SHAPE(1, 3, 1, 1)));
    NNF_ASSERT_OK(nnf_transpose(&xt, big, 0, 1));          /* [8,9], strides (1,8) */
    NNF_ASSERT_OK(nnf_slice(&imgs, img, 3, 0, 9, 2));      /* [4,3,8,5], strides (.., 2) */
    nnf_tensor *pos = uniform(NNF_SHAPE(9, 8), 23, 0.5f, 2);
    NNF_ASSERT_OK(nnf_transpose(&bt, pos, 0, 1));          /* [8,9], strides (1,8) */
    NNF_FOR_EACH_ISA(isa) {
        const struct {
            const nnf_tensor *x, *a, *b;
            const char *what;
        } cases[] = {
            {img, m3, s3, "[4,3,8,9] with [3,1,1]"},
            {img, m4, s4, "[4,3,8,9] with [1,3,1,1]"},
            {img, row, col, "row mean, column std"},
            {xc, row, s3, "x broadcast too: [8,1] with [9] and [3,1,1]"},
            {xr, col, xr, "x as the row, a column, b = x"},
            {xt, row, col, "transposed x"},
            {imgs, m4, s3, "sliced x (stride 2)"},
            {img, xt, bt, "transposed a and b"},
        };
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            nnf_tensor *y = NULL;
            NNF_ASSERT_OK(nnf_sub_div(&y, cases[c].x, cases[c].a, cases[c].b));
            check_sub_div(y, cases[c].x, cases[c].a, cases[c].b, cases[c].what);
            nnf_tensor_free(y);
        }
    }
    nnf_test_restore_isa();
    NNF_TEST_FREE(img, m3, s3, m4, s4, imgs, xt, bt, pos, row, col, xc, xr, big);
}

/* NaN, infinities, zeros (a zero std gives +-Inf or NaN as the two-op form does),
 * subnormals, and the output written in place over x or into a transposed view. */
static void test_sub_div_special_in_place(void **state)
{
    (void)state;
    static const float v[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -2.5f, 0x1p-149f,
                              3.4e38f, -1e-38f, 7.0f};
    enum { N = sizeof v / sizeof *v };
    float xs[N * N], as[N * N], bs[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            xs[i * N + j] = v[i];
            as[i * N + j] = v[j];
            bs[i * N + j] = v[(i + j) % N];
        }
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x, *a, *b, *x0, *y = NULL, *yt, *yt_base;
        NNF_ASSERT_OK(nnf_from_data(&x, xs, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_from_data(&a, as, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_from_data(&b, bs, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_clone(&x0, x));
        NNF_ASSERT_OK(nnf_sub_div(&y, x, a, b));
        check_sub_div(y, x, a, b, "special values");
        NNF_ASSERT_OK(nnf_empty(&yt_base, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_transpose(&yt, yt_base, 0, 1));
        NNF_ASSERT_OK(nnf_sub_div(&yt, x, a, b));
        check_sub_div(yt, x, a, b, "transposed output");
        nnf_tensor *alias = x;
        NNF_ASSERT_OK(nnf_sub_div(&alias, x, a, b));
        assert_ptr_equal(alias, x);
        check_sub_div(x, x0, a, b, "in place over x");
        NNF_TEST_FREE(x, a, b, x0, y, yt, yt_base);
    }
    nnf_test_restore_isa();
}

/* Every ISA and 1 or 2 threads give the scalar ISA's single-thread bits, which match
 * the reference (nnf_sub_scaled's too), on a batch big enough to be split across threads (2^17 elements and
 * up). The odd sizes make the second thread start mid-row (element 73536 = image 7,
 * pixel 4957 of 9797), so its walk finishes a partial row, steps the channels and
 * carries into the batch dim. */
static void check_sub_scaled(const nnf_tensor *y, const nnf_tensor *x, const nnf_tensor *a,
                             float s, const char *what);

static void test_sub_div_reproducible(void **state)
{
    (void)state;
    nnf_tensor *x = uniform(NNF_SHAPE(5, 3, 97, 101), 12, 0, 1);
    nnf_tensor *m = uniform(NNF_SHAPE(3, 1, 1), 13, 0.4f, 0.5f);
    nnf_tensor *s = uniform(NNF_SHAPE(3, 1, 1), 14, 0.2f, 0.3f), *want = NULL;
    nnf_tensor *g = uniform(NNF_SHAPE(5, 3, 97, 101), 28, -1, 1), *want_scaled = NULL;
    size_t n = (size_t)nnf_tensor_numel(x);
    nnf_test_use_isa(NNF_ISA_SCALAR);
    nnf_test_threads(1);
    NNF_ASSERT_OK(nnf_sub_div(&want, x, m, s));
    check_sub_div(want, x, m, s, "one thread");
    NNF_ASSERT_OK(nnf_sub_scaled(&want_scaled, x, g, 0.01f));   /* and SGD's update */
    check_sub_scaled(want_scaled, x, g, 0.01f, "one thread");
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            nnf_tensor *y = NULL, *ys = NULL;
            NNF_ASSERT_OK(nnf_sub_div(&y, x, m, s));
            nnf_test_assert_bits_equal(nnf_tensor_data(y), nnf_tensor_data(want), n);
            NNF_ASSERT_OK(nnf_sub_scaled(&ys, x, g, 0.01f));
            nnf_test_assert_bits_equal(nnf_tensor_data(ys), nnf_tensor_data(want_scaled), n);
            nnf_tensor_free(y);
            nnf_tensor_free(ys);
        }
    }
    nnf_test_threads(1);
    nnf_test_restore_isa();
    NNF_TEST_FREE(x, m, s, want, g, want_scaled);
}

static void assert_message(const char *want)
{
    if (strcmp(nnf_last_error(), want) != 0)
        fail_msg("message \"%s\", want \"%s\"", nnf_last_error(), want);
}

static void test_sub_div_errors(void **state)
{
    (void)state;
    nnf_tensor *x = uniform(NNF_SHAPE(2, 3, 4), 15, -1, 1), *a3 = uniform(NNF_SHAPE(3, 1), 16, 0, 1);
    nnf_tensor *b5 = uniform(NNF_SHAPE(5, 1), 17, 1, 2), *y = NULL, *mask, *out, *lo, *hi;
    NNF_ASSERT_FAILS(nnf_sub_div(&y, x, a3, b5), NNF_ERR_SHAPE);
    assert_message("nnf_sub_div: The size of tensor a (3) must match the size of tensor b (5) at "
                   "non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_sub_div(NULL, x, a3, a3), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sub_div(&y, NULL, a3, a3), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sub_div(&y, x, NULL, a3), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sub_div(&y, x, a3, NULL), NNF_ERR_NULL);
    NNF_ASSERT_OK(nnf_empty_typed(&mask, NNF_SHAPE(3, 1), NNF_BOOL));
    NNF_ASSERT_FAILS(nnf_sub_div(&y, x, a3, mask), NNF_ERR_DTYPE);
    assert_message("nnf_sub_div: expected a float32 tensor for b, got bool");
    assert_null(y);

    /* A wrong out is left as it was; so is one partially overlapping x. */
    NNF_ASSERT_OK(nnf_full(&out, NNF_SHAPE(2, 4, 3), 42));
    nnf_tensor *keep = out;
    NNF_ASSERT_FAILS(nnf_sub_div(&out, x, a3, a3), NNF_ERR_SHAPE);
    assert_message("nnf_sub_div: out has shape [2, 4, 3] but the result has shape [2, 3, 4]");
    assert_ptr_equal(out, keep);
    for (int i = 0; i < 24; i++)
        assert_true(nnf_tensor_data(out)[i] == 42.0f);
    nnf_tensor *r;
    NNF_ASSERT_OK(nnf_arange(&r, 0, 10, 1));
    NNF_ASSERT_OK(nnf_narrow(&lo, r, 0, 0, 8));
    NNF_ASSERT_OK(nnf_narrow(&hi, r, 0, 1, 8));
    NNF_ASSERT_FAILS(nnf_sub_div(&hi, lo, lo, lo), NNF_ERR_INVALID);
    for (int i = 0; i < 10; i++)
        assert_true(nnf_tensor_data(r)[i] == (float)i);

    /* A failed allocation of the result leaks nothing. */
    long live = nnf__alloc_live();
    nnf__alloc_fail_after(1);
    NNF_ASSERT_FAILS(nnf_sub_div(&y, x, a3, a3), NNF_ERR_NOMEM);
    nnf__alloc_fail_after(1);
    NNF_ASSERT_FAILS(nnf_threshold_backward(&y, x, x), NNF_ERR_NOMEM);
    nnf__alloc_fail_after(0);
    assert_null(y);
    assert_int_equal(nnf__alloc_live(), live);
    NNF_TEST_FREE(x, a3, b5, mask, out, r, lo, hi);
}

/* ---- nnf_sub_scaled: x - a * s, the product rounded first ---- */

/* The double product of two floats is exact, and a float sum computed in double then
 * rounded to float is correctly rounded: two roundings, as mul then sub. */
static float ref_sub_scaled(float x, float a, float s)
{
    float p = (float)((double)a * (double)s);
    return (float)((double)x - (double)p);
}

/* y == ref at every index, and y has the bits of nnf_sub(x, nnf_mul_scalar(a, s)). */
static void check_sub_scaled(const nnf_tensor *y, const nnf_tensor *x, const nnf_tensor *a,
                             float s, const char *what)
{
    nnf_tensor *p = NULL, *two = NULL;
    NNF_ASSERT_OK(nnf_mul_scalar(&p, a, s));
    NNF_ASSERT_OK(nnf_sub(&two, x, p));
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        float want = ref_sub_scaled(nnf_test_at(x, nd, index), nnf_test_at(a, nd, index), s);
        float got = nnf_test_at(y, nd, index), two_op = nnf_test_at(two, nd, index);
        uint32_t bits;
        memcpy(&bits, &got, 4);
        if (!same_bits(got, want) || memcmp(&got, &two_op, 4) != 0 ||
            (isnan(got) && bits != 0x7FC00000u))
            fail_msg("%s (%s): flat element %lld, s %.9g: got %.9g, want %.9g, two-op form "
                     "%.9g", what, nnf_isa_name(nnf_isa_active()), (long long)i, (double)s,
                     got, want, two_op);
        for (int dd = nd - 1; dd >= 0; dd--) {
            if (++index[dd] < shape[dd])
                break;
            index[dd] = 0;
        }
    }
    nnf_tensor_free(p);
    nnf_tensor_free(two);
}

/* Every tail, misaligned, in place over x (SGD's call), broadcast and transposed
 * operands, a transposed output, and the special values of x, a and s: a NaN anywhere
 * stores the canonical NaN, inf * 0 is NaN, and no FMA hides the product's rounding
 * (1 + 2^-23 squared loses its last bit when rounded). */
static void test_sub_scaled(void **state)
{
    (void)state;
    static const float v[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -2.5f, 0x1p-149f,
                              3.4e38f, -1e-38f, 1.0f + 0x1p-23f};
    static const float scales[] = {0.01f, -0.0f, 1.0f + 0x1p-23f, NAN, INFINITY, 3e38f};
    enum { N = sizeof v / sizeof *v };
    float xs_[N * N], as_[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            xs_[i * N + j] = v[i];
            as_[i * N + j] = v[j];
        }
    nnf_tensor *xs = uniform(NNF_SHAPE(51), 24, -3, 3), *as = uniform(NNF_SHAPE(51), 25, -1, 1);
    nnf_tensor *big = uniform(NNF_SHAPE(9, 8), 26, -2, 2), *row = uniform(NNF_SHAPE(9), 27, -1, 1);
    nnf_tensor *bt;
    NNF_ASSERT_OK(nnf_transpose(&bt, big, 0, 1));   /* [8,9], strides (1,8) */
    NNF_FOR_EACH_ISA(isa) {
        for (int64_t n = 0; n <= 49; n++) {
            for (int64_t start = 0; start <= 1; start++) {
                nnf_tensor *x, *a, *copy, *xc, *y = NULL;
                NNF_ASSERT_OK(nnf_narrow(&x, xs, 0, start, n));
                NNF_ASSERT_OK(nnf_narrow(&a, as, 0, start, n));
                NNF_ASSERT_OK(nnf_sub_scaled(&y, x, a, 0.01f));
                check_sub_scaled(y, x, a, 0.01f, "stride 1");
                NNF_ASSERT_OK(nnf_clone(&copy, xs));
                NNF_ASSERT_OK(nnf_narrow(&xc, copy, 0, start, n));
                nnf_tensor *alias = xc;
                NNF_ASSERT_OK(nnf_sub_scaled(&alias, xc, a, 0.01f));
                assert_ptr_equal(alias, xc);
                check_sub_scaled(xc, x, a, 0.01f, "in place over x");
                NNF_TEST_FREE(x, a, copy, xc, y);
            }
        }
        nnf_tensor *x, *a, *y = NULL, *y2 = NULL, *yt_base, *yt;
        NNF_ASSERT_OK(nnf_sub_scaled(&y, bt, row, -0.5f));
        check_sub_scaled(y, bt, row, -0.5f, "transposed x, row broadcast");
        NNF_ASSERT_OK(nnf_sub_scaled(&y2, row, bt, 3.0f));
        check_sub_scaled(y2, row, bt, 3.0f, "x broadcast, transposed a");
        NNF_ASSERT_OK(nnf_from_data(&x, xs_, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_from_data(&a, as_, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_empty(&yt_base, NNF_SHAPE(N, N)));
        NNF_ASSERT_OK(nnf_transpose(&yt, yt_base, 0, 1));
        for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
            nnf_tensor *ys = NULL;
            NNF_ASSERT_OK(nnf_sub_scaled(&ys, x, a, scales[k]));
            check_sub_scaled(ys, x, a, scales[k], "special values");
            NNF_ASSERT_OK(nnf_sub_scaled(&yt, x, a, scales[k]));
            check_sub_scaled(yt, x, a, scales[k], "special values, transposed output");
            nnf_tensor_free(ys);
        }
        NNF_TEST_FREE(x, a, y, y2, yt_base, yt);
    }
    nnf_test_restore_isa();
    NNF_TEST_FREE(xs, as, big, row, bt);
}

static void test_sub_scaled_errors(void **state)
{
    (void)state;
    nnf_tensor *x = uniform(NNF_SHAPE(2, 3), 30, -1, 1), *a5 = uniform(NNF_SHAPE(5), 31, 0, 1);
    nnf_tensor *y = NULL, *mask, *out;
    NNF_ASSERT_FAILS(nnf_sub_scaled(&y, x, a5, 1), NNF_ERR_SHAPE);
    assert_message("nnf_sub_scaled: The size of tensor a (3) must match the size of tensor b (5) "
                   "at non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_sub_scaled(NULL, x, x, 1), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sub_scaled(&y, NULL, x, 1), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sub_scaled(&y, x, NULL, 1), NNF_ERR_NULL);
    NNF_ASSERT_OK(nnf_empty_typed(&mask, NNF_SHAPE(2, 3), NNF_BOOL));
    NNF_ASSERT_FAILS(nnf_sub_scaled(&y, x, mask, 1), NNF_ERR_DTYPE);
    assert_message("nnf_sub_scaled: expected a float32 tensor for a, got bool");
    assert_null(y);
    NNF_ASSERT_OK(nnf_full(&out, NNF_SHAPE(3, 2), 42));
    nnf_tensor *keep = out;
    NNF_ASSERT_FAILS(nnf_sub_scaled(&out, x, x, 1), NNF_ERR_SHAPE);
    assert_message("nnf_sub_scaled: out has shape [3, 2] but the result has shape [2, 3]");
    assert_ptr_equal(out, keep);
    for (int i = 0; i < 6; i++)
        assert_true(nnf_tensor_data(out)[i] == 42.0f);
    long live = nnf__alloc_live();
    nnf__alloc_fail_after(1);
    NNF_ASSERT_FAILS(nnf_sub_scaled(&y, x, x, 1), NNF_ERR_NOMEM);
    nnf__alloc_fail_after(0);
    assert_null(y);
    assert_int_equal(nnf__alloc_live(), live);
    NNF_TEST_FREE(x, a5, mask, out);
}

/* ---- nnf_threshold_backward: x <= 0 ? +0 : g, g's bits copied ---- */

static void check_relu_grad(const nnf_tensor *y, const nnf_tensor *x, const nnf_tensor *g,
                            const char *what)
{
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        float xv = nnf_test_at(x, nd, index), want = 0.0f;
        if (!(xv <= 0.0f))
            want = nnf_test_at(g, nd, index);
        float got = nnf_test_at(y, nd, index);
        if (memcmp(&got, &want, 4) != 0)
            fail_msg("%s (%s): flat element %lld: x %.9g: got %.9g, want %.9g", what,
                     nnf_isa_name(nnf_isa_active()), (long long)i, xv, got, want);
        for (int d = nd - 1; d >= 0; d--) {
            if (++index[d] < shape[d])
                break;
            index[d] = 0;
        }
    }
}

/* Every tail, misaligned, strided, broadcast, in place over g, and the special values:
 * x NaN passes g (torch.relu's backward gives g there), x = -0 gives +0, a NaN or -0 g
 * passes unchanged where x > 0 and becomes +0 where x <= 0. */
static void test_relu_grad(void **state)
{
    (void)state;
    static const float sx[] = {NAN, -1.0f, 0.0f, -0.0f, 2.0f, INFINITY, -INFINITY, 0x1p-149f};
    static const float sg[] = {5.0f, NAN, 5.0f, 5.0f, -0.0f, NAN, INFINITY, -3.0f};
    nnf_tensor *xs = uniform(NNF_SHAPE(51), 18, -1, 1), *gs = uniform(NNF_SHAPE(51), 19, -4, 4);
    nnf_tensor *big = uniform(NNF_SHAPE(9, 7), 20, -1, 1), *gb = uniform(NNF_SHAPE(7, 9), 21, -1, 1);
    nnf_tensor *row = uniform(NNF_SHAPE(9), 22, -1, 1), *xt;
    NNF_ASSERT_OK(nnf_transpose(&xt, big, 0, 1));
    NNF_FOR_EACH_ISA(isa) {
        for (int64_t n = 0; n <= 49; n++) {
            for (int64_t start = 0; start <= 1; start++) {
                nnf_tensor *x, *g, *y = NULL;
                NNF_ASSERT_OK(nnf_narrow(&x, xs, 0, start, n));
                NNF_ASSERT_OK(nnf_narrow(&g, gs, 0, start, n));
                NNF_ASSERT_OK(nnf_threshold_backward(&y, x, g));
                check_relu_grad(y, x, g, "contiguous");
                nnf_tensor_free(x);
                nnf_tensor_free(g);
                nnf_tensor_free(y);
            }
        }
        nnf_tensor *y = NULL, *y2 = NULL, *x, *g, *g0;
        NNF_ASSERT_OK(nnf_threshold_backward(&y, xt, gb));
        check_relu_grad(y, xt, gb, "transposed x");
        NNF_ASSERT_OK(nnf_threshold_backward(&y2, xt, row));
        check_relu_grad(y2, xt, row, "row gradient broadcast");
        NNF_ASSERT_OK(nnf_from_data(&x, sx, NNF_SHAPE(8)));
        NNF_ASSERT_OK(nnf_from_data(&g, sg, NNF_SHAPE(8)));
        NNF_ASSERT_OK(nnf_clone(&g0, g));
        nnf_tensor *alias = g;
        NNF_ASSERT_OK(nnf_threshold_backward(&alias, x, g));
        check_relu_grad(g, x, g0, "special values, in place over g");
        NNF_TEST_FREE(y, y2, x, g, g0);
    }
    nnf_test_restore_isa();
    nnf_tensor *y = NULL, *mask;
    NNF_ASSERT_FAILS(nnf_threshold_backward(&y, xt, big), NNF_ERR_SHAPE);
    assert_message("nnf_threshold_backward: The size of tensor a (9) must match the size of tensor b (7) at "
                   "non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_threshold_backward(&y, NULL, big), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_threshold_backward(&y, big, NULL), NNF_ERR_NULL);
    NNF_ASSERT_OK(nnf_empty_typed(&mask, NNF_SHAPE(9, 7), NNF_BOOL));
    NNF_ASSERT_FAILS(nnf_threshold_backward(&y, big, mask), NNF_ERR_DTYPE);
    assert_message("nnf_threshold_backward: expected a float32 tensor for grad, got bool");
    assert_null(y);
    NNF_TEST_FREE(xs, gs, big, gb, row, xt, mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sub_div_tails),
        cmocka_unit_test(test_sub_div_patterns),
        cmocka_unit_test(test_sub_div_special_in_place),
        cmocka_unit_test(test_sub_div_reproducible),
        cmocka_unit_test(test_sub_div_errors),
        cmocka_unit_test(test_sub_scaled),
        cmocka_unit_test(test_sub_scaled_errors),
        cmocka_unit_test(test_relu_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
