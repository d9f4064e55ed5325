/* Reductions against a double-precision reference, under every ISA: every dim subset of
 * 4-D tensors (contiguous, transposed, sliced, expanded), keepdim, lengths that hit every
 * lane tail, misaligned starts, NaN/Inf, empty reductions, outputs, and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "src/core/alloc.h"

/* ---- a double-precision reference ---- */

typedef struct {
    int64_t nout;
    double *sum, *abs, *m2, *max, *min;
    int64_t *argmax;
    int *all, *any;
} ref_t;

/* Values of t in logical row-major order. */
static double *logical_values(const nnf_tensor *t)
{
    int nd = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t);
    int64_t n = nnf_tensor_numel(t), idx[NNF_MAX_DIMS] = {0};
    double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        float f;
        NNF_ASSERT_OK(nnf_value_at(&f, t, idx));
        v[i] = f;
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    return v;
}

/* Output index (row-major over kept dims) and reduced index (row-major over reduced
 * dims) of logical element i. */
static void split_index(int64_t i, int nd, const int64_t *shape, unsigned mask, int64_t *o,
                        int64_t *r)
{
    int64_t om = 1, rm = 1;
    *o = 0;
    *r = 0;
    for (int d = nd - 1; d >= 0; d--) {
        int64_t id = i % shape[d];
        i /= shape[d];
        if ((mask >> d) & 1u) {
            *r += id * rm;
            rm *= shape[d];
        } else {
            *o += id * om;
            om *= shape[d];
        }
    }
}

static ref_t reference(const double *v, int nd, const int64_t *shape, unsigned mask)
{
    ref_t f;
    int64_t n = 1;
    f.nout = 1;
    for (int d = 0; d < nd; d++) {
        n *= shape[d];
        if (!((mask >> d) & 1u))
            f.nout *= shape[d];
    }
    size_t no = (size_t)(f.nout > 0 ? f.nout : 1);
    f.sum = calloc(no, sizeof(double));
    f.abs = calloc(no, sizeof(double));
    f.m2 = calloc(no, sizeof(double));
    f.max = malloc(no * sizeof(double));
    f.min = malloc(no * sizeof(double));
    f.argmax = calloc(no, sizeof(int64_t));
    f.all = malloc(no * sizeof(int));
    f.any = calloc(no, sizeof(int));
    for (size_t o = 0; o < no; o++) {
        f.max[o] = -INFINITY;
        f.min[o] = INFINITY;
        f.all[o] = 1;
    }
    int64_t *cnt = calloc(no, sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        int64_t o, r;
        split_index(i, nd, shape, mask, &o, &r);
        double x = v[i];
        f.sum[o] += x;
        f.abs[o] += fabs(x);
        cnt[o]++;
        int first = cnt[o] == 1;
        if (isnan(x)) {
            if (!isnan(f.max[o]))
                f.argmax[o] = r;
            f.max[o] = f.min[o] = NAN;
        } else if (!isnan(f.max[o])) {
            if (first || x > f.max[o]) {
                f.max[o] = x;
                f.argmax[o] = r;
            }
            f.min[o] = x < f.min[o] ? x : f.min[o];
        }
        f.all[o] &= x != 0;
        f.any[o] |= x != 0;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t o, r;
        split_index(i, nd, shape, mask, &o, &r);
        double d = v[i] - f.sum[o] / (double)cnt[o];
        f.m2[o] += d * d;
    }
    free(cnt);
    return f;
}

static void ref_free(ref_t *f)
{
    free(f->sum);
    free(f->abs);
    free(f->m2);
    free(f->max);
    free(f->min);
    free(f->argmax);
    free(f->all);
    free(f->any);
}

/* ---- checks of one tensor against the reference ---- */

static void expect_shape(const nnf_tensor *t, int nd, const int64_t *shape, unsigned mask,
                         int keepdim)
{
    int64_t want[NNF_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < nd; d++) {
        if (!((mask >> d) & 1u))
            want[n++] = shape[d];
        else if (keepdim)
            want[n++] = 1;
    }
    assert_int_equal(nnf_tensor_ndim(t), n);
    for (int d = 0; d < n; d++)
        assert_int_equal(nnf_tensor_shape(t)[d], want[d]);
}

static void close_to(float got, double want, double tol, const char *what, int64_t o)
{
    if (isnan(want) || isinf(want)) {
        if (!(isnan(want) ? isnan(got) : (double)got == want))
            fail_msg("%s[%lld]: got %.9g, want %.9g", what, (long long)o, got, want);
        return;
    }
    if (!(fabs((double)got - want) <= tol))
        fail_msg("%s[%lld]: got %.9g, want %.9g (tolerance %.3g)", what, (long long)o, got,
                 want, tol);
}

/* Runs every reduction of `a` over the dims in `mask` and checks it. */
static void check_all_ops(const nnf_tensor *a, unsigned mask, int keepdim)
{
    int nd = nnf_tensor_ndim(a);
    const int64_t *shape = nnf_tensor_shape(a);
    int dims_[NNF_MAX_DIMS], ndims = 0;
    const int *dims = dims_;
    if (mask == 0) {   /* no dims listed: every dim */
        dims = NULL;
        mask = (1u << nd) - 1;
    }
    int64_t R = 1;
    for (int d = 0; d < nd; d++)
        if ((mask >> d) & 1u) {
            dims_[ndims] = ndims % 2 ? d - nd : d;   /* mix negative and positive dims */
            ndims++;
            R *= shape[d];
        }
    int dim0 = dims_[0];
    double *v = logical_values(a);
    ref_t f = reference(v, nd, shape, mask);
    nnf_tensor *s = NULL, *m = NULL, *va = NULL, *sd = NULL, *s2 = NULL, *m2 = NULL;
    nnf_tensor *mx = NULL, *mn = NULL, *al = NULL, *an = NULL;
    NNF_ASSERT_OK(nnf_sum(&s, a, ndims, dims, keepdim));
    NNF_ASSERT_OK(nnf_mean(&m, a, ndims, dims, keepdim));
    NNF_ASSERT_OK(nnf_var(&va, a, ndims, dims, 1, keepdim));
    NNF_ASSERT_OK(nnf_std(&sd, a, ndims, dims, 0, keepdim));
    NNF_ASSERT_OK(nnf_std_mean(&s2, &m2, a, ndims, dims, 1, keepdim));
    NNF_ASSERT_OK(nnf_all(&al, a, ndims, dims, keepdim));
    NNF_ASSERT_OK(nnf_any(&an, a, ndims, dims, keepdim));
    nnf_tensor *outs[] = {s, m, va, sd, s2, m2, al, an};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        expect_shape(outs[i], nd, shape, mask, keepdim);
    const float *ps = nnf_tensor_data(s), *pm = nnf_tensor_data(m), *pv = nnf_tensor_data(va);
    const float *pd = nnf_tensor_data(sd), *ps2 = nnf_tensor_data(s2), *pm2 = nnf_tensor_data(m2);
    const uint8_t *pal = nnf_tensor_raw(al), *pan = nnf_tensor_raw(an);
    for (int64_t o = 0; o < f.nout; o++) {
        /* Float summation error is at most ~(adds per lane + tree depth) * eps * sum|x|:
         * 128 + 17 adds, eps = 6e-8; 1e-5 leaves room, 3 ulps of the result too. */
        double tol = 1e-5 * f.abs[o] + 3e-7 * fabs(f.sum[o]);
        close_to(ps[o], f.sum[o], tol, "sum", o);
        double mean = R ? f.sum[o] / (double)R : NAN;
        close_to(pm[o], mean, R ? tol / (double)R : 0, "mean", o);
        double var1 = R > 1 ? f.m2[o] / (double)(R - 1) : NAN;
        double std0 = R > 0 ? sqrt(f.m2[o] / (double)R) : NAN;
        close_to(pv[o], var1, 1e-4 * var1 + 1e-9, "var", o);
        close_to(pd[o], std0, 1e-4 * std0 + 1e-9, "std", o);
        /* std_mean gives exactly the bits of std and mean. */
        nnf_test_assert_bits_equal(&pm2[o], &pm[o], 1);
        close_to(ps2[o], R > 1 ? sqrt(var1) : NAN, 1e-4 * sqrt(var1) + 1e-9, "std_mean", o);
        assert_int_equal(pal[o], f.all[o]);
        assert_int_equal(pan[o], f.any[o]);
    }
    nnf_tensor *sd1 = NULL;
    NNF_ASSERT_OK(nnf_std(&sd1, a, ndims, dims, 1, keepdim));
    nnf_test_assert_bits_equal(nnf_tensor_data(sd1), ps2, (size_t)f.nout);
    if (R > 0) {
        NNF_ASSERT_OK(nnf_max(&mx, a, ndims, dims, keepdim));
        NNF_ASSERT_OK(nnf_min(&mn, a, ndims, dims, keepdim));
        expect_shape(mx, nd, shape, mask, keepdim);
        for (int64_t o = 0; o < f.nout; o++) {
            close_to(nnf_tensor_data(mx)[o], f.max[o], 0, "max", o);
            close_to(nnf_tensor_data(mn)[o], f.min[o], 0, "min", o);
        }
        if (ndims == 1) {
            nnf_tensor *am = NULL;
            NNF_ASSERT_OK(nnf_argmax(&am, a, dim0, keepdim));
            assert_int_equal(nnf_tensor_dtype(am), NNF_I64);
            expect_shape(am, nd, shape, mask, keepdim);
            const int64_t *pa = nnf_tensor_raw(am);
            for (int64_t o = 0; o < f.nout; o++)
                if (pa[o] != f.argmax[o])
                    fail_msg("argmax[%lld]: got %lld, want %lld", (long long)o,
                             (long long)pa[o], (long long)f.argmax[o]);
            nnf_tensor_free(am);
        }
    }
    NNF_TEST_FREE(s, m, va, sd, s2, m2, mx, mn, al, an, sd1);
    ref_free(&f);
    free(v);
}

static nnf_tensor *uniform(int nd, const int64_t *shape, uint64_t seed)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    float *x = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    nnf_test_fill_uniform(x, (size_t)n, seed, -1.0f, 1.0f);
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_from_data(&t, x, nd, shape));
    free(x);
    return t;
}

/* ---- cases ---- */

/* Every subset of the dims of 4-D tensors, keepdim or not: runs of 64 (in place, lane
 * aligned), 37 (gathered), and shapes whose reduced dims sit on either side of kept ones. */
static void test_all_dim_subsets(void **state)
{
    (void)state;
    static const int64_t shapes[][4] = {{2, 3, 5, 64}, {3, 4, 5, 37}, {5, 1, 7, 33}};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            nnf_tensor *a = uniform(4, shapes[s], 10 + s);
            for (unsigned mask = 0; mask < 16; mask++)
                for (int keepdim = 0; keepdim < 2; keepdim++)
                    check_all_ops(a, mask, keepdim);
            nnf_tensor_free(a);
        }
    }
    nnf_test_restore_isa();
}

/* Transposed, sliced and expanded inputs: strided runs and column reads. */
static void test_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = uniform(4, (const int64_t[]){4, 3, 6, 70}, 21);
        nnf_tensor *p = NULL, *sl = NULL, *e = NULL, *row = NULL, *t2 = NULL;
        NNF_ASSERT_OK(nnf_permute(&p, a, (const int[]){3, 1, 0, 2}));
        NNF_ASSERT_OK(nnf_slice(&sl, a, 3, 1, 69, 2));
        NNF_ASSERT_OK(nnf_select(&row, a, 0, 1));
        NNF_ASSERT_OK(nnf_expand(&e, row, NNF_SHAPE(2, 3, 6, 70)));
        NNF_ASSERT_OK(nnf_transpose(&t2, a, 0, 3));
        nnf_tensor *views[] = {p, sl, e, t2};
        for (size_t i = 0; i < 4; i++)
            for (unsigned mask = 1; mask < 16; mask++)
                check_all_ops(views[i], mask, (int)(mask & 1));
        NNF_TEST_FREE(a, p, sl, e, row, t2);
    }
    nnf_test_restore_isa();
}

/* Lengths 0 .. 3*32+1 from misaligned starts: every lane tail of every kernel. */
static void test_tails(void **state)
{
    (void)state;
    float buf[3 * 32 + 1 + 3];
    nnf_test_fill_uniform(buf, sizeof buf / sizeof buf[0], 5, -2.0f, 3.0f);
    NNF_FOR_EACH_ISA(isa) {
        for (int start = 0; start < 4; start++)
            for (int64_t n = 1; n <= 3 * 32 + 1; n++) {
                nnf_tensor *a = NULL;
                NNF_ASSERT_OK(nnf_wrap(&a, buf + start, 1, &n, NULL));
                check_all_ops(a, 1u, 0);
                nnf_tensor_free(a);
                /* The same span read as a column of a [n, 1] view of [n, 2] data. */
                nnf_tensor *c = NULL;
                NNF_ASSERT_OK(nnf_wrap(&c, buf, 2, (const int64_t[]){n / 2 + 1, 2}, NULL));
                check_all_ops(c, 1u, 1);
                nnf_tensor_free(c);
            }
    }
    nnf_test_restore_isa();
}

/* Several blocks per result, runs that are and are not lane multiples. */
static void test_multi_block(void **state)
{
    (void)state;
    static const int64_t shapes[][3] = {{2, 3, 4096 * 2 + 77}, {3, 700, 33}, {9000, 3, 7}};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t s = 0; s < 3; s++) {
            nnf_tensor *a = uniform(3, shapes[s], 30 + s);
            for (unsigned mask = 1; mask < 8; mask++)
                check_all_ops(a, mask, 0);
            nnf_tensor_free(a);
        }
    }
    nnf_test_restore_isa();
}

static float item(const nnf_tensor *t)
{
    float v;
    NNF_ASSERT_OK(nnf_value(&v, t));
    return v;
}

static void test_nan_inf(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        float x[40];
        for (int i = 0; i < 40; i++)
            x[i] = (float)i;
        nnf_tensor *a = NULL, *r = NULL;
        NNF_ASSERT_OK(nnf_wrap(&a, x, 1, (const int64_t[]){40}, NULL));
        x[33] = INFINITY;
        NNF_ASSERT_OK(nnf_sum(&r, a, NNF_ALL_DIMS, 0));
        assert_true(isinf(item(r)) && item(r) > 0);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_var(&r, a, NNF_ALL_DIMS, 1, 0));
        assert_true(isnan(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_max(&r, a, NNF_ALL_DIMS, 0));
        assert_true(isinf(item(r)));
        nnf_tensor_free(r), r = NULL;
        x[5] = -INFINITY;
        NNF_ASSERT_OK(nnf_sum(&r, a, NNF_ALL_DIMS, 0));
        assert_true(isnan(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_min(&r, a, NNF_ALL_DIMS, 0));
        assert_true(isinf(item(r)) && item(r) < 0);
        nnf_tensor_free(r), r = NULL;
        /* NaN propagates through max and min and is argmax's answer (its first one). */
        x[20] = -NAN;
        x[30] = NAN;
        NNF_ASSERT_OK(nnf_max(&r, a, NNF_ALL_DIMS, 0));
        uint32_t bits;
        float v = item(r);
        memcpy(&bits, &v, sizeof bits);
        assert_int_equal(bits, 0x7fc00000u);   /* the canonical NaN, whatever the input's */
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_min(&r, a, NNF_ALL_DIMS, 0));
        assert_true(isnan(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_argmax(&r, a, 0, 0));
        assert_int_equal(*(int64_t *)nnf_tensor_raw(r), 20);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_all(&r, a, NNF_ALL_DIMS, 0));   /* x[0] == 0 */
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(r), 0);
        nnf_tensor_free(r), r = NULL;
        /* max of -0 and +0 is +0 wherever the zeros are; min is -0. */
        float z[37] = {0};
        for (int i = 0; i < 37; i += 2)
            z[i] = -0.0f;
        nnf_tensor *zt = NULL;
        NNF_ASSERT_OK(nnf_wrap(&zt, z, 1, (const int64_t[]){37}, NULL));
        NNF_ASSERT_OK(nnf_max(&r, zt, NNF_ALL_DIMS, 0));
        assert_false(signbit(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_min(&r, zt, NNF_ALL_DIMS, 0));
        assert_true(signbit(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_argmax(&r, zt, 0, 0));   /* -0 == +0: the first zero */
        assert_int_equal(*(int64_t *)nnf_tensor_raw(r), 0);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_any(&r, zt, NNF_ALL_DIMS, 0));
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(r), 0);
        nnf_tensor_free(r), r = NULL;
        z[36] = NAN;   /* NaN is nonzero */
        NNF_ASSERT_OK(nnf_any(&r, zt, NNF_ALL_DIMS, 0));
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(r), 1);
        nnf_tensor_free(r), r = NULL;
        nnf_tensor_free(zt);
        nnf_tensor_free(a);
    }
    nnf_test_restore_isa();
}

static void test_bool(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int64_t n = 1; n <= 200; n += 13) {
            nnf_tensor *b = NULL, *r = NULL;
            NNF_ASSERT_OK(nnf_empty_typed(&b, 2, (const int64_t[]){2, n}, NNF_BOOL));
            uint8_t *p = nnf_tensor_raw(b);
            memset(p, 1, (size_t)(2 * n));
            p[n + n / 2] = 0;   /* row 1 has one false */
            NNF_ASSERT_OK(nnf_all(&r, b, NNF_DIMS(1), 0));
            assert_int_equal(((uint8_t *)nnf_tensor_raw(r))[0], 1);
            assert_int_equal(((uint8_t *)nnf_tensor_raw(r))[1], 0);
            nnf_tensor_free(r), r = NULL;
            memset(p, 0, (size_t)(2 * n));
            p[n - 1] = 2;   /* any nonzero byte is true */
            NNF_ASSERT_OK(nnf_any(&r, b, NNF_DIMS(-1), 1));
            assert_int_equal(nnf_tensor_shape(r)[1], 1);
            assert_int_equal(((uint8_t *)nnf_tensor_raw(r))[0], 1);
            assert_int_equal(((uint8_t *)nnf_tensor_raw(r))[1], 0);
            nnf_tensor_free(r), r = NULL;
            /* Over dim 0: strided bytes (gathered). */
            NNF_ASSERT_OK(nnf_any(&r, b, NNF_DIMS(0), 0));
            for (int64_t i = 0; i < n; i++)
                assert_int_equal(((uint8_t *)nnf_tensor_raw(r))[i], i == n - 1);
            nnf_tensor_free(r);
            nnf_tensor_free(b);
        }
    }
    nnf_test_restore_isa();
}

static void test_empty(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *e = NULL, *e2 = NULL, *r = NULL, *r2 = NULL;
        NNF_ASSERT_OK(nnf_empty(&e, 1, (const int64_t[]){0}));
        NNF_ASSERT_OK(nnf_sum(&r, e, NNF_ALL_DIMS, 0));
        assert_true(item(r) == 0.0f);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_mean(&r, e, NNF_ALL_DIMS, 0));
        assert_true(isnan(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_std_mean(&r, &r2, e, NNF_ALL_DIMS, 1, 0));
        assert_true(isnan(item(r)) && isnan(item(r2)));
        nnf_tensor_free(r), r = NULL;
        nnf_tensor_free(r2), r2 = NULL;
        NNF_ASSERT_OK(nnf_all(&r, e, NNF_ALL_DIMS, 0));
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(r), 1);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_any(&r, e, NNF_ALL_DIMS, 0));
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(r), 0);
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_FAILS(nnf_max(&r, e, NNF_ALL_DIMS, 0), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_max: Expected reduction dim to be specified for input.numel() == 0. "
                            "Specify the reduction dim with the 'dim' argument.");
        assert_null(r);
        NNF_ASSERT_OK(nnf_empty(&e2, 2, (const int64_t[]){0, 3}));
        NNF_ASSERT_FAILS(nnf_min(&r, e2, NNF_DIMS(0), 0), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_min: Expected reduction dim 0 to have non-zero size.");
        NNF_ASSERT_FAILS(nnf_argmax(&r, e2, 0, 0), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_argmax: Expected reduction dim 0 to have non-zero size.");
        NNF_ASSERT_OK(nnf_sum(&r, e2, NNF_DIMS(0), 0));
        assert_int_equal(nnf_tensor_numel(r), 3);
        for (int i = 0; i < 3; i++)
            assert_true(nnf_tensor_data(r)[i] == 0.0f);
        nnf_tensor_free(r), r = NULL;
        /* Results of an empty kept dim: an empty tensor, no error even for max. */
        NNF_ASSERT_OK(nnf_max(&r, e2, NNF_DIMS(1), 1));
        assert_int_equal(nnf_tensor_numel(r), 0);
        assert_int_equal(nnf_tensor_shape(r)[1], 1);
        nnf_tensor_free(r), r = NULL;
        /* var of one value: unbiased is NaN (0/0), biased is 0. */
        nnf_tensor *one = NULL;
        NNF_ASSERT_OK(nnf_full(&one, 1, (const int64_t[]){1}, 3.0f));
        NNF_ASSERT_OK(nnf_var(&r, one, NNF_ALL_DIMS, 1, 0));
        assert_true(isnan(item(r)));
        nnf_tensor_free(r), r = NULL;
        NNF_ASSERT_OK(nnf_var(&r, one, NNF_ALL_DIMS, 0, 0));
        assert_true(item(r) == 0.0f);
        nnf_tensor_free(r), r = NULL;
        /* A 0-d tensor reduces to itself; dims 0 and -1 are allowed. */
        nnf_tensor *sc = NULL;
        NNF_ASSERT_OK(nnf_full(&sc, 0, (const int64_t[]){1}, 2.5f));
        NNF_ASSERT_OK(nnf_sum(&r, sc, NNF_DIMS(-1), 1));
        assert_int_equal(nnf_tensor_ndim(r), 0);
        assert_true(item(r) == 2.5f);
        nnf_tensor_free(r), r = NULL;
        nnf_tensor_free(sc);
        nnf_tensor_free(one);
        nnf_tensor_free(e);
        nnf_tensor_free(e2);
    }
    nnf_test_restore_isa();
}

static void test_errors(void **state)
{
    (void)state;
    nnf_tensor *a = uniform(2, (const int64_t[]){2, 3}, 1), *r = NULL, *r2 = NULL;
    NNF_ASSERT_FAILS(nnf_sum(&r, a, NNF_DIMS(1, 1), 0), NNF_ERR_INVALID);
    assert_string_equal(nnf_last_error(), "nnf_sum: dim 1 appears multiple times in the list of dims");
    NNF_ASSERT_FAILS(nnf_mean(&r, a, NNF_DIMS(1, -1), 0), NNF_ERR_INVALID);
    assert_string_equal(nnf_last_error(), "nnf_mean: dim 1 appears multiple times in the list of dims");
    NNF_ASSERT_FAILS(nnf_var(&r, a, NNF_DIMS(3), 1, 0), NNF_ERR_INDEX);
    assert_string_equal(nnf_last_error(),
                        "nnf_var: Dimension out of range (expected to be in range of [-2, 1], but got 3)");
    NNF_ASSERT_FAILS(nnf_argmax(&r, a, -3, 0), NNF_ERR_INDEX);
    NNF_ASSERT_FAILS(nnf_sum(&r, NULL, NNF_ALL_DIMS, 0), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_sum(NULL, a, NNF_ALL_DIMS, 0), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_std(&r, a, NNF_ALL_DIMS, -1, 0), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_sum(&r, a, -1, NULL, 0), NNF_ERR_INVALID);
    assert_null(r);
    /* dtypes */
    nnf_tensor *b = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&b, 1, (const int64_t[]){4}, NNF_BOOL));
    NNF_ASSERT_FAILS(nnf_sum(&r, b, NNF_ALL_DIMS, 0), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_max(&r, b, NNF_ALL_DIMS, 0), NNF_ERR_DTYPE);
    /* Outputs of the wrong shape or dtype are rejected and left alone. */
    nnf_tensor *o = NULL;
    NNF_ASSERT_OK(nnf_full(&o, 1, (const int64_t[]){3}, 7.0f));
    NNF_ASSERT_FAILS(nnf_sum(&o, a, NNF_DIMS(1), 0), NNF_ERR_SHAPE);
    assert_string_equal(nnf_last_error(), "nnf_sum: out has shape [3] but the result has shape [2]");
    NNF_ASSERT_FAILS(nnf_all(&o, a, NNF_DIMS(0), 0), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_argmax(&o, a, 0, 0), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_std_mean(&o, &o, a, NNF_DIMS(0), 1, 0), NNF_ERR_INVALID);
    for (int i = 0; i < 3; i++)
        assert_true(nnf_tensor_data(o)[i] == 7.0f);
    /* std_mean with a bad second output creates nothing. */
    nnf_tensor *bad = NULL;
    NNF_ASSERT_OK(nnf_empty(&bad, 1, (const int64_t[]){5}));
    long live = nnf__alloc_live();
    NNF_ASSERT_FAILS(nnf_std_mean(&r2, &bad, a, NNF_DIMS(0), 1, 0), NNF_ERR_SHAPE);
    assert_null(r2);
    assert_int_equal(nnf__alloc_live(), live);
    nnf_tensor_free(bad);
    nnf_tensor_free(o);
    nnf_tensor_free(b);
    nnf_tensor_free(a);
}

/* Every allocation a reduction makes can fail: the call reports NOMEM, leaks nothing
 * and leaves *out alone. */
static void test_alloc_failures(void **state)
{
    (void)state;
    nnf_tensor *a = uniform(3, (const int64_t[]){3, 2, 5000}, 2);
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_transpose(&t, a, 0, 2));
    for (long n = 1; n <= 10; n++) {
        nnf_tensor *r = NULL, *r2 = NULL, *r3 = NULL, *o = NULL;
        NNF_ASSERT_OK(nnf_empty(&o, 2, (const int64_t[]){2, 5000}));
        nnf_tensor *ot = NULL;
        NNF_ASSERT_OK(nnf_transpose(&ot, o, 0, 1));   /* non-contiguous: scratch */
        long live = nnf__alloc_live();
        nnf__alloc_fail_after(n);
        nnf_status s1 = nnf_std_mean(&r, &r2, a, NNF_DIMS(0, 2), 1, 0);
        nnf_status s2 = nnf_max(&r3, t, NNF_DIMS(2), 0);
        nnf_status s3 = nnf_sum(&ot, t, NNF_DIMS(2), 0);
        nnf__alloc_fail_after(0);
        assert_true(s1 == NNF_OK || s1 == NNF_ERR_NOMEM);
        assert_true(s2 == NNF_OK || s2 == NNF_ERR_NOMEM);
        assert_true(s3 == NNF_OK || s3 == NNF_ERR_NOMEM);
        if (s1 != NNF_OK)
            assert_true(r2 == NULL);
        nnf_tensor_free(r);
        nnf_tensor_free(r2);
        nnf_tensor_free(r3);
        assert_int_equal(nnf__alloc_live(), live);
        nnf_tensor_free(ot);
        nnf_tensor_free(o);
    }
    nnf_tensor_free(t);
    nnf_tensor_free(a);
}

/* Results into a given tensor: contiguous, non-contiguous, and the input itself. */
static void test_out(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = uniform(2, (const int64_t[]){40, 50}, 3);
        nnf_tensor *want = NULL, *o = NULL, *ot = NULL, *big = NULL;
        NNF_ASSERT_OK(nnf_mean(&want, a, NNF_DIMS(1), 0));
        NNF_ASSERT_OK(nnf_empty(&o, 1, (const int64_t[]){40}));
        nnf_tensor *keep = o;
        NNF_ASSERT_OK(nnf_mean(&o, a, NNF_DIMS(1), 0));
        assert_ptr_equal(o, keep);
        nnf_test_assert_bits_equal(nnf_tensor_data(o), nnf_tensor_data(want), 40);
        /* A strided view as out: every other element of an [80] tensor. */
        NNF_ASSERT_OK(nnf_zeros(&big, 1, (const int64_t[]){80}));
        NNF_ASSERT_OK(nnf_slice(&ot, big, 0, 0, 80, 2));
        NNF_ASSERT_OK(nnf_mean(&ot, a, NNF_DIMS(-1), 0));
        for (int i = 0; i < 40; i++) {
            assert_true(nnf_tensor_data(big)[2 * i] == nnf_tensor_data(want)[i]);
            assert_true(nnf_tensor_data(big)[2 * i + 1] == 0.0f);
        }
        /* In place: reducing size-1 dims with keepdim gives the input's shape. */
        nnf_tensor *c = uniform(2, (const int64_t[]){40, 1}, 4), *c0 = NULL;
        NNF_ASSERT_OK(nnf_clone(&c0, c));
        NNF_ASSERT_OK(nnf_sum(&c, c, NNF_DIMS(1), 1));
        nnf_test_assert_bits_equal(nnf_tensor_data(c), nnf_tensor_data(c0), 40);
        nnf_tensor_free(c0);
        nnf_tensor_free(c);
        /* Into a column of the input itself: every result is computed from the original
         * values before any is written. */
        nnf_tensor *a2 = NULL, *col0 = NULL;
        NNF_ASSERT_OK(nnf_clone(&a2, a));
        NNF_ASSERT_OK(nnf_select(&col0, a2, 1, 0));
        NNF_ASSERT_OK(nnf_mean(&col0, a2, NNF_DIMS(1), 0));
        for (int64_t i = 0; i < 40; i++) {
            float got;
            NNF_ASSERT_OK(nnf_value_at(&got, a2, (const int64_t[]){i, 0}));
            nnf_test_assert_bits_equal(&got, &nnf_tensor_data(want)[i], 1);
        }
        nnf_tensor_free(col0);
        nnf_tensor_free(a2);
        NNF_TEST_FREE(a, want, o, ot, big);
    }
    nnf_test_restore_isa();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_dim_subsets),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_tails),
        cmocka_unit_test(test_multi_block),
        cmocka_unit_test(test_nan_inf),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
