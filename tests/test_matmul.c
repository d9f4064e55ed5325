/* nnf_matmul against a double-precision reference with torch.matmul's shape rules:
 * 1-D/2-D/batched operands with broadcast batch dims, views (transposed, sliced,
 * expanded, offset) as operands and as outputs, aliasing outputs, error messages,
 * allocation failures, and bitwise agreement across ISAs, threads and batching. */
#include "test_linalg_ref.h"

#include <stdio.h>

/* torch.matmul in doubles: the expected shape, values and per-element magnitudes. */
typedef struct {
    int ndim;
    int64_t shape[NNF_MAX_DIMS];
    int64_t numel, k;
    double *want, *mag;
} ref_result;

static int64_t linear_batch(const int64_t *idx, int nb, const int64_t *shape, int nd)
{
    /* idx is over nb broadcast batch dims; shape has nd of them, aligned right */
    int64_t lin = 0;
    for (int d = 0; d < nd; d++) {
        int64_t i = shape[d] == 1 ? 0 : idx[d + nb - nd];
        lin = lin * shape[d] + i;
    }
    return lin;
}

static void ref_matmul(const nnf_tensor *a, const nnf_tensor *b, ref_result *r)
{
    int da = nnf_tensor_ndim(a), db = nnf_tensor_ndim(b);
    const int64_t *sa = nnf_tensor_shape(a), *sb = nnf_tensor_shape(b);
    int64_t m = da == 1 ? 1 : sa[da - 2], k = sa[da - 1], n = db == 1 ? 1 : sb[db - 1];
    int nba = da > 2 ? da - 2 : 0, nbb = db > 2 ? db - 2 : 0;
    int nb = nba > nbb ? nba : nbb;
    int64_t bshape[NNF_MAX_DIMS], nbatch = 1;
    for (int d = 0; d < nb; d++) {
        int ia = d - (nb - nba), ib = d - (nb - nbb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        bshape[d] = x == 1 ? y : x;
        nbatch *= bshape[d];
    }
    r->ndim = 0;
    for (int d = 0; d < nb; d++)
        r->shape[r->ndim++] = bshape[d];
    if (da >= 2)
        r->shape[r->ndim++] = m;
    if (db >= 2)
        r->shape[r->ndim++] = n;
    r->numel = nbatch * m * n;
    r->k = k;
    r->want = calloc((size_t)(r->numel + 1), sizeof(double));
    r->mag = calloc((size_t)(r->numel + 1), sizeof(double));
    double *ga = ref_gather(a), *gb = ref_gather(b);
    int64_t idx[NNF_MAX_DIMS] = {0};
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t abase = linear_batch(idx, nb, sa, nba) * m * k;
        int64_t bbase = linear_batch(idx, nb, sb, nbb) * k * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0, g = 0;
                for (int64_t p = 0; p < k; p++) {
                    double prod = ga[abase + i * k + p] * gb[bbase + p * n + j];
                    s += prod;
                    g += fabs(prod);
                }
                r->want[(t * m + i) * n + j] = s;
                r->mag[(t * m + i) * n + j] = g;
            }
        for (int d = nb - 1; d >= 0; d--) {
            if (++idx[d] < bshape[d])
                break;
            idx[d] = 0;
        }
    }
    free(ga);
    free(gb);
}

static void ref_free(ref_result *r)
{
    free(r->want);
    free(r->mag);
}

static void assert_shape(const nnf_tensor *t, int ndim, const int64_t *shape)
{
    assert_int_equal(nnf_tensor_ndim(t), ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(nnf_tensor_shape(t)[d], shape[d]);
}

/* a @ b into a new tensor and into a given NaN-filled one; both against the reference. */
static void check_matmul(const nnf_tensor *a, const nnf_tensor *b)
{
    ref_result r;
    ref_matmul(a, b, &r);
    nnf_tensor *c = NULL;
    NNF_ASSERT_OK(nnf_matmul(&c, a, b));
    assert_shape(c, r.ndim, r.shape);
    assert_true(nnf_tensor_is_contiguous(c));
    ref_assert_near(c, r.want, r.mag, r.k);

    nnf_tensor *given = NULL;
    NNF_ASSERT_OK(nnf_full(&given, r.ndim, r.shape, NAN));
    nnf_tensor *keep = given;
    NNF_ASSERT_OK(nnf_matmul(&given, a, b));
    assert_ptr_equal(given, keep);
    ref_assert_near(given, r.want, r.mag, r.k);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_free(&r);
}

static void check_shapes(int na, const int64_t *sa, int nb, const int64_t *sb, uint64_t seed)
{
    nnf_tensor *a = ref_rand(na, sa, seed), *b = ref_rand(nb, sb, seed + 1);
    check_matmul(a, b);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

#define CHECK(A, B, seed) check_shapes(A, B, seed)

/* The chapter's x (2x3) and y (3x2), printed in its notebook. */
static void test_chapter_example(void **state)
{
    (void)state;
    static const float xv[] = {-1.1307f, -0.2858f, -1.7678f, 0.2907f, 0.4672f, -1.6520f};
    static const float yv[] = {0.9601f, 0.8377f, 0.8417f, -0.8874f, -0.3875f, -1.0783f};
    static const double printed[] = {-0.6411, 1.2128, 1.3124, 1.6104};
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *y = NULL, *c = NULL;
        NNF_ASSERT_OK(nnf_from_data(&x, xv, NNF_SHAPE(2, 3)));
        NNF_ASSERT_OK(nnf_from_data(&y, yv, NNF_SHAPE(3, 2)));
        check_matmul(x, y);
        NNF_ASSERT_OK(nnf_matmul(&c, x, y));
        const float *p = nnf_tensor_data(c);
        for (int i = 0; i < 4; i++)
            assert_true(fabs(p[i] - printed[i]) < 1e-3);
        nnf_tensor_free(c);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    nnf_test_restore_isa();
}

static void test_ranks(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        CHECK(NNF_SHAPE(7), NNF_SHAPE(7), 1);                   /* dot -> 0-d */
        CHECK(NNF_SHAPE(4, 7), NNF_SHAPE(7, 3), 2);             /* 2-D @ 2-D */
        CHECK(NNF_SHAPE(7), NNF_SHAPE(7, 3), 3);                /* 1-D @ 2-D */
        CHECK(NNF_SHAPE(4, 7), NNF_SHAPE(7), 4);                /* 2-D @ 1-D */
        CHECK(NNF_SHAPE(3, 4, 7), NNF_SHAPE(3, 7, 5), 5);       /* batched */
        CHECK(NNF_SHAPE(3, 4, 7), NNF_SHAPE(7, 5), 6);          /* folds into 12x7x5 */
        CHECK(NNF_SHAPE(4, 7), NNF_SHAPE(3, 7, 5), 7);          /* left broadcast */
        CHECK(NNF_SHAPE(2, 1, 4, 7), NNF_SHAPE(3, 7, 5), 8);    /* batch dims broadcast */
        CHECK(NNF_SHAPE(2, 3, 1, 7), NNF_SHAPE(1, 7, 6), 9);
        CHECK(NNF_SHAPE(7), NNF_SHAPE(2, 3, 7, 5), 10);         /* 1-D @ batched */
        CHECK(NNF_SHAPE(2, 3, 4, 7), NNF_SHAPE(7), 11);         /* batched @ 1-D */
        CHECK(NNF_SHAPE(1, 1, 1, 1, 1, 1, 2, 3), NNF_SHAPE(2, 1, 1, 1, 1, 1, 3, 2), 12);
    }
    nnf_test_restore_isa();
}

/* Sizes around every register block (4x4 .. 14x32) and the chapter's and the MLP's. */
static void test_sizes(void **state)
{
    (void)state;
    static const int64_t sizes[] = {0, 1, 2, 3, 5, 13, 17, 33};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            for (size_t j = 0; j < sizeof sizes / sizeof *sizes; j++) {
                int64_t m = sizes[i], n = sizes[j], k = sizes[(i + j) % 8];
                CHECK(NNF_SHAPE(m, k), NNF_SHAPE(k, n), (uint64_t)(i * 8 + j));
                CHECK(NNF_SHAPE(2, m, k), NNF_SHAPE(k, n), (uint64_t)(i * 8 + j));
            }
        CHECK(NNF_SHAPE(5, 784), NNF_SHAPE(784, 10), 100);
        CHECK(NNF_SHAPE(200, 100), NNF_SHAPE(100, 50), 101);
        CHECK(NNF_SHAPE(0), NNF_SHAPE(0), 102);             /* empty dot is 0 */
        CHECK(NNF_SHAPE(3, 0), NNF_SHAPE(0, 4), 103);       /* k = 0 gives zeros */
        CHECK(NNF_SHAPE(0, 3, 4), NNF_SHAPE(4, 5), 104);    /* no batches */
    }
    nnf_test_restore_isa();
}

/* Views as operands: transposed (TRANS, no copy), offset columns (ld > cols), sliced
 * with a step and expanded rows (copied first), a column select, expanded batch dims. */
static void test_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = ref_rand(NNF_SHAPE(5, 784), 1), *w = ref_rand(NNF_SHAPE(10, 784), 2);
        nnf_tensor *wt = NULL, *xt = NULL, *x2 = NULL;
        NNF_ASSERT_OK(nnf_t(&wt, w));
        check_matmul(x, wt);                                   /* x @ w.t() */
        NNF_ASSERT_OK(nnf_t(&xt, x));
        NNF_ASSERT_OK(nnf_t(&x2, xt));
        check_matmul(w, xt);                                   /* w @ x.t() */
        check_matmul(x2, wt);
        nnf_tensor_free(wt);
        nnf_tensor_free(xt);
        nnf_tensor_free(x2);

        nnf_tensor *big = ref_rand(NNF_SHAPE(9, 20), 3), *narrow = NULL, *step = NULL,
                   *col = NULL, *row = NULL, *stepcol = NULL;
        NNF_ASSERT_OK(nnf_narrow(&narrow, big, 1, 3, 7));          /* 9x7, ld 20, offset 3 */
        NNF_ASSERT_OK(nnf_slice(&step, big, 1, 1, 20, 2));         /* 9x10, col stride 2 */
        NNF_ASSERT_OK(nnf_select(&col, big, 1, 4));                /* 1-D, stride 20 */
        NNF_ASSERT_OK(nnf_select(&row, big, 0, 2));                /* 1-D, stride 1 */
        NNF_ASSERT_OK(nnf_slice(&stepcol, row, 0, 0, 20, 3));      /* 1-D, stride 3 */
        nnf_tensor *b7 = ref_rand(NNF_SHAPE(7, 6), 4), *b10 = ref_rand(NNF_SHAPE(10, 3), 5);
        nnf_tensor *a9 = ref_rand(NNF_SHAPE(4, 9), 6), *a20 = ref_rand(NNF_SHAPE(3, 20), 7);
        nnf_tensor *a7 = ref_rand(NNF_SHAPE(2, 7), 8);
        check_matmul(narrow, b7);
        check_matmul(step, b10);
        check_matmul(a9, narrow);
        check_matmul(a9, step);
        check_matmul(a9, col);                                     /* 2-D @ strided 1-D */
        check_matmul(col, narrow);                                 /* strided 1-D @ 2-D */
        check_matmul(a20, row);
        check_matmul(col, col);
        check_matmul(stepcol, b7);                                 /* 1-D stride 3 @ 2-D */

        nnf_tensor *r7 = ref_rand(NNF_SHAPE(1, 7), 9), *ex = NULL, *ext = NULL, *bexp = NULL;
        NNF_ASSERT_OK(nnf_expand(&ex, r7, NNF_SHAPE(5, 7)));      /* rows at stride 0 */
        NNF_ASSERT_OK(nnf_t(&ext, ex));                            /* columns at stride 0 */
        check_matmul(ex, b7);
        check_matmul(a7, ext);
        NNF_ASSERT_OK(nnf_expand(&bexp, b7, NNF_SHAPE(3, 7, 6)));  /* batch stride 0 */
        nnf_tensor *a3 = ref_rand(NNF_SHAPE(3, 2, 7), 10);
        check_matmul(a3, bexp);
        check_matmul(narrow, bexp);

        NNF_TEST_FREE(x, w, big, narrow, step, col, row, stepcol, b7, b10, a9, a20, a7, r7, ex, ext,
                      bexp, a3);
    }
    nnf_test_restore_isa();
}

/* nnf_t(w), column selects and batches are read in place: with the output given, a
 * product needs no memory beyond sgemm's own packing buffers. */
static void test_no_copies(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = ref_rand(NNF_SHAPE(3, 5, 784), 1), *w = ref_rand(NNF_SHAPE(10, 784), 2);
        nnf_tensor *x0 = NULL, *wt = NULL, *col = NULL, *c = NULL, *c3 = NULL, *cv = NULL;
        NNF_ASSERT_OK(nnf_select(&x0, x, 0, 1));
        NNF_ASSERT_OK(nnf_t(&wt, w));
        NNF_ASSERT_OK(nnf_select(&col, wt, 1, 3));       /* w[3] through w.t(): stride 1 */
        NNF_ASSERT_OK(nnf_zeros(&c, NNF_SHAPE(5, 10)));
        NNF_ASSERT_OK(nnf_zeros(&c3, NNF_SHAPE(3, 5, 10)));
        NNF_ASSERT_OK(nnf_zeros(&cv, NNF_SHAPE(5)));
        const nnf_tensor *as[] = {x0, x, x0}, *bs[] = {wt, wt, col};
        nnf_tensor *cs[] = {c, c3, cv};
        /* as sgemm sees them: 5x784 @ (10x784)^T, 15x784 @ (10x784)^T, 5x784 @ 784x1 */
        const size_t ms[] = {5, 15, 5}, ns[] = {10, 10, 1};
        const nnf_trans tbs[] = {NNF_TRANS, NNF_TRANS, NNF_NO_TRANS};
        for (int i = 0; i < 3; i++) {
            ref_result r;
            ref_matmul(as[i], bs[i], &r);
            nnf__alloc_fail_after(ref_sgemm_allocations(NNF_NO_TRANS, tbs[i], ms[i], ns[i], 784));
            nnf_status st = nnf_matmul(&cs[i], as[i], bs[i]);
            nnf__alloc_fail_after(0);
            NNF_ASSERT_OK(st);
            ref_assert_near(cs[i], r.want, r.mag, r.k);
            ref_free(&r);
        }
        NNF_TEST_FREE(x, w, x0, wt, col, c, c3, cv);
    }
    nnf_test_restore_isa();
}

/* Outputs that are views: transposed (computed as C^T = B^T A^T), with ld > n, an
 * operand itself (computed into a temporary first), strided (temporary + copy). */
static void test_out_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = ref_rand(NNF_SHAPE(6, 5), 1), *b = ref_rand(NNF_SHAPE(5, 4), 2);
        ref_result r;
        ref_matmul(a, b, &r);

        nnf_tensor *store = NULL, *ct = NULL, *wide = NULL, *cw = NULL, *step = NULL,
                   *cs = NULL;
        NNF_ASSERT_OK(nnf_full(&store, NNF_SHAPE(4, 6), NAN));
        NNF_ASSERT_OK(nnf_t(&ct, store));
        NNF_ASSERT_OK(nnf_matmul(&ct, a, b));
        ref_assert_near(ct, r.want, r.mag, r.k);

        NNF_ASSERT_OK(nnf_full(&wide, NNF_SHAPE(6, 11), NAN));
        NNF_ASSERT_OK(nnf_narrow(&cw, wide, 1, 2, 4));
        NNF_ASSERT_OK(nnf_matmul(&cw, a, b));
        ref_assert_near(cw, r.want, r.mag, r.k);
        NNF_ASSERT_OK(nnf_slice(&step, wide, 1, 0, 8, 2));
        NNF_ASSERT_OK(nnf_narrow(&cs, step, 1, 0, 4));
        NNF_ASSERT_OK(nnf_matmul(&cs, a, b));
        ref_assert_near(cs, r.want, r.mag, r.k);
        ref_free(&r);

        /* a = a @ sq, and sq = a @ sq, in place */
        nnf_tensor *sq = ref_rand(NNF_SHAPE(5, 5), 3), *a5 = ref_rand(NNF_SHAPE(6, 5), 4);
        ref_matmul(a5, sq, &r);
        NNF_ASSERT_OK(nnf_matmul(&a5, a5, sq));
        ref_assert_near(a5, r.want, r.mag, r.k);
        ref_free(&r);
        nnf_tensor *sqt = NULL;
        NNF_ASSERT_OK(nnf_t(&sqt, sq));
        ref_matmul(sq, sqt, &r);
        NNF_ASSERT_OK(nnf_matmul(&sq, sq, sqt));
        ref_assert_near(sq, r.want, r.mag, r.k);
        ref_free(&r);

        NNF_TEST_FREE(a, b, store, ct, wide, cw, step, cs, sq, a5, sqt);
    }
    nnf_test_restore_isa();
}

static void expect_error(const nnf_tensor *a, const nnf_tensor *b, nnf_status code,
                         const char *message)
{
    nnf_tensor *c = NULL;
    NNF_ASSERT_FAILS(nnf_matmul(&c, a, b), code);
    assert_null(c);
    ref_assert_message(message);
}

static void errors_once(void)
{
    nnf_tensor *x = ref_rand(NNF_SHAPE(5, 784), 1), *w = ref_rand(NNF_SHAPE(10, 784), 2);
    nnf_tensor *v3 = ref_rand(NNF_SHAPE(3), 3), *v4 = ref_rand(NNF_SHAPE(4), 4);
    nnf_tensor *m45 = ref_rand(NNF_SHAPE(4, 5), 5), *m23 = ref_rand(NNF_SHAPE(2, 3), 6);
    nnf_tensor *b223 = ref_rand(NNF_SHAPE(2, 2, 3), 7), *b245 = ref_rand(NNF_SHAPE(2, 4, 5), 8);
    nnf_tensor *b335 = ref_rand(NNF_SHAPE(3, 3, 5), 9), *s = NULL, *i64 = NULL;
    NNF_ASSERT_OK(nnf_full(&s, 0, NULL, 1.0f));
    NNF_ASSERT_OK(nnf_empty_typed(&i64, NNF_SHAPE(3), NNF_I64));

    expect_error(x, w, NNF_ERR_SHAPE,
                 "mat1 and mat2 shapes cannot be multiplied (5x784 and 10x784)");
    expect_error(v3, v4, NNF_ERR_SHAPE,
                 "inconsistent tensor size, expected tensor [3] and src [4] to have the same "
                 "number of elements, but got 3 and 4 elements respectively");
    expect_error(v3, m45, NNF_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)");
    expect_error(m23, v4, NNF_ERR_SHAPE, "size mismatch, got input (2), mat (2x3), vec (4)");
    expect_error(b223, b245, NNF_ERR_SHAPE,
                 "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but "
                 "got: [2, 4].");
    expect_error(b223, b335, NNF_ERR_SHAPE,
                 "The size of tensor a (2) must match the size of tensor b (3) at "
                 "non-singleton dimension 0");
    expect_error(s, v4, NNF_ERR_SHAPE,
                 "both arguments to matmul need to be at least 1D, but they are 0D and 1D");
    expect_error(i64, v3, NNF_ERR_DTYPE, "float32");

    nnf_tensor *c = NULL;
    NNF_ASSERT_FAILS(nnf_matmul(NULL, x, w), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_matmul(&c, NULL, w), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_matmul(&c, x, NULL), NNF_ERR_NULL);

    /* a given output of the wrong shape is untouched */
    nnf_tensor *wrong = NULL, *keep;
    NNF_ASSERT_OK(nnf_full(&wrong, NNF_SHAPE(2, 4), 7.0f));
    keep = wrong;
    nnf_tensor *m35 = ref_rand(NNF_SHAPE(3, 5), 10);
    NNF_ASSERT_FAILS(nnf_matmul(&wrong, m23, m35), NNF_ERR_SHAPE);
    ref_assert_message("nnf_matmul: the output has shape [2, 4] but the result has shape [2, 5]");
    nnf_tensor_free(m35);
    assert_ptr_equal(wrong, keep);
    NNF_ASSERT_FAILS(nnf_matmul(&wrong, x, w), NNF_ERR_SHAPE);
    float v;
    NNF_ASSERT_OK(nnf_value_at(&v, wrong, (const int64_t[]){1, 3}));
    assert_true(v == 7.0f);
    NNF_ASSERT_FAILS(nnf_matmul(&wrong, v3, m45), NNF_ERR_SHAPE);
    ref_assert_message("mat1 and mat2 shapes cannot be multiplied");

    NNF_TEST_FREE(x, w, v3, v4, m45, m23, b223, b245, b335, s, i64, wrong);
}

static void test_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        errors_once();
    }
    nnf_test_restore_isa();
}

/* Every allocation failing in turn: NNF_ERR_NOMEM, nothing leaked, *out untouched. */
static void check_alloc_failures(const nnf_tensor *a, const nnf_tensor *b, int given)
{
    int64_t shape[NNF_MAX_DIMS];
    ref_result r;
    ref_matmul(a, b, &r);
    for (int d = 0; d < r.ndim; d++)
        shape[d] = r.shape[d];
    for (long n = 1;; n++) {
        nnf_tensor *c = NULL;
        if (given)
            NNF_ASSERT_OK(nnf_zeros(&c, r.ndim, shape));
        nnf_tensor *keep = c;
        long live = nnf__alloc_live();
        nnf__alloc_fail_after(n);
        nnf_status st = nnf_matmul(&c, a, b);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK) {
            ref_assert_near(c, r.want, r.mag, r.k);
            nnf_tensor_free(c);
            break;
        }
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_ptr_equal(c, keep);
        assert_int_equal(nnf__alloc_live(), live);
        if (given) {
            double *g = ref_gather(c);
            for (int64_t i = 0; i < r.numel; i++)
                assert_true(g[i] == 0.0);
            free(g);
        }
        nnf_tensor_free(c);
        assert_true(n < 100);
    }
    ref_free(&r);
}

static void alloc_failure_once(void)
{
    nnf_tensor *a = ref_rand(NNF_SHAPE(3, 4, 6), 1), *b = ref_rand(NNF_SHAPE(6, 5), 2);
    nnf_tensor *r = ref_rand(NNF_SHAPE(1, 6), 3), *ex = NULL, *step = NULL;
    NNF_ASSERT_OK(nnf_expand(&ex, r, NNF_SHAPE(4, 6)));
    NNF_ASSERT_OK(nnf_slice(&step, b, 1, 0, 5, 2));
    check_alloc_failures(a, b, 0);
    check_alloc_failures(a, b, 1);
    check_alloc_failures(ex, step, 0);      /* both operands copied */
    check_alloc_failures(ex, step, 1);
    nnf_tensor *bb = ref_rand(NNF_SHAPE(3, 6, 5), 6);
    check_alloc_failures(a, bb, 1);         /* three sgemm calls: a temporary first */
    nnf_tensor_free(bb);
    long live = nnf__alloc_live();
    for (long n = 1;; n++) {               /* a = a @ sq: through a temporary */
        nnf_tensor *sq = ref_rand(NNF_SHAPE(6, 6), 4), *a2 = ref_rand(NNF_SHAPE(4, 6), 5);
        nnf_tensor *keep = a2;
        nnf__alloc_fail_after(n);
        nnf_status st = nnf_matmul(&a2, a2, sq);
        nnf__alloc_fail_after(0);
        assert_ptr_equal(a2, keep);
        nnf_tensor_free(a2);
        nnf_tensor_free(sq);
        assert_int_equal(nnf__alloc_live(), live);
        if (st == NNF_OK)
            break;
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_true(n < 100);
    }
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(r);
    nnf_tensor_free(ex);
    nnf_tensor_free(step);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        alloc_failure_once();
    }
    nnf_test_restore_isa();
}

/* Bits: every ISA and 1 or 2 threads give the same result, and a batch folded into one
 * tall product equals the batches multiplied one at a time. */
static void test_bitwise(void **state)
{
    (void)state;
    nnf_tensor *x = ref_rand(NNF_SHAPE(4, 50, 100), 1), *w = ref_rand(NNF_SHAPE(100, 70), 2);
    nnf_tensor *first = NULL;
    int threads0 = nnf_get_num_threads();
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            nnf_tensor *c = NULL;
            NNF_ASSERT_OK(nnf_matmul(&c, x, w));
            if (first == NULL) {
                first = c;
                continue;
            }
            nnf_test_assert_bits_equal(nnf_tensor_data(c), nnf_tensor_data(first),
                                       (size_t)nnf_tensor_numel(c));
            for (int64_t i = 0; i < 4; i++) {
                nnf_tensor *xi = NULL, *ci = NULL, *row = NULL;
                NNF_ASSERT_OK(nnf_select(&xi, x, 0, i));
                NNF_ASSERT_OK(nnf_matmul(&ci, xi, w));
                NNF_ASSERT_OK(nnf_select(&row, c, 0, i));
                nnf_test_assert_bits_equal(nnf_tensor_data(ci), nnf_tensor_data(row), 50 * 70);
                nnf_tensor_free(xi);
                nnf_tensor_free(ci);
                nnf_tensor_free(row);
            }
            nnf_tensor_free(c);
        }
    }
    nnf_test_threads(threads0);
    nnf_test_restore_isa();
    nnf_tensor_free(first);
    nnf_tensor_free(x);
    nnf_tensor_free(w);
}

/* A batch of small products (16 of 32x64x32, 2.1 MFLOP) runs one product per thread:
 * right, and the same bits with 1 or 2 threads on every ISA. */
static void test_batch_threads(void **state)
{
    (void)state;
    nnf_tensor *a = ref_rand(NNF_SHAPE(16, 32, 64), 1), *b = ref_rand(NNF_SHAPE(16, 64, 32), 2);
    nnf_tensor *first = NULL;
    int threads0 = nnf_get_num_threads();
    ref_result r;
    ref_matmul(a, b, &r);
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            nnf_tensor *c = NULL;
            NNF_ASSERT_OK(nnf_matmul(&c, a, b));
            ref_assert_near(c, r.want, r.mag, r.k);
            if (first == NULL) {
                first = c;
                continue;
            }
            nnf_test_assert_bits_equal(nnf_tensor_data(c), nnf_tensor_data(first),
                                       (size_t)nnf_tensor_numel(c));
            nnf_tensor_free(c);
        }
    }
    nnf_test_threads(threads0);
    nnf_test_restore_isa();
    ref_free(&r);
    nnf_tensor_free(first);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chapter_example),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_no_copies),
        cmocka_unit_test(test_out_views),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_bitwise),
        cmocka_unit_test(test_batch_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
