/* unfold / fold / conv2d against the definitions written as plain loops in double,
 * the backward pass against finite differences, the same bits on every ISA and thread
 * count, and the error cases. */
#include "nnf_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf/conv.h"
#include "src/core/alloc.h"

typedef struct { int n, c, h, w, cout, kh, kw, stride, pad; } geom;

/* Odd sizes, kernels wider than tall, strides that do not divide, padding past the
 * kernel's reach on one side. */
static const geom cases[] = {
    {2, 3, 7, 6, 4, 3, 3, 1, 0},
    {2, 2, 8, 9, 3, 3, 2, 2, 1},
    {1, 1, 5, 5, 2, 5, 5, 1, 2},
    {3, 4, 6, 7, 5, 1, 1, 1, 0},
    {2, 3, 9, 8, 2, 4, 3, 3, 2},
    {1, 2, 4, 4, 3, 2, 2, 2, 0},
};

static int64_t out_size(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

static nnf_tensor *random_tensor(int ndim, const int64_t *shape, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, -1.0f, 1.0f);
    return t;
}

/* x[n, c, ih, iw] or 0 in the padding, from a contiguous buffer. */
static double pixel(const float *x, const geom *g, int n, int c, int ih, int iw)
{
    if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) return 0.0;
    return x[((n * g->c + c) * g->h + ih) * g->w + iw];
}

static void test_unfold_matches_definition(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
            const geom *g = &cases[ci];
            int64_t oh = out_size(g->h, g->kh, g->stride, g->pad);
            int64_t ow = out_size(g->w, g->kw, g->stride, g->pad);
            int64_t k = (int64_t)g->c * g->kh * g->kw, l = oh * ow;
            nnf_tensor *x = random_tensor(NNF_SHAPE(g->n, g->c, g->h, g->w), 10 + ci);
            nnf_tensor *cols = NULL;
            NNF_ASSERT_OK(nnf_unfold(&cols, x, g->kh, g->kw, g->stride, g->pad));
            assert_int_equal(nnf_tensor_size(cols, 0), g->n);
            assert_int_equal(nnf_tensor_size(cols, 1), k);
            assert_int_equal(nnf_tensor_size(cols, 2), l);
            const float *xd = nnf_tensor_data(x), *cd = nnf_tensor_data(cols);
            for (int n = 0; n < g->n; n++)
                for (int c = 0; c < g->c; c++)
                    for (int i = 0; i < g->kh; i++)
                        for (int j = 0; j < g->kw; j++)
                            for (int y = 0; y < oh; y++)
                                for (int z = 0; z < ow; z++) {
                                    int64_t row = (c * g->kh + i) * g->kw + j;
                                    double want = pixel(xd, g, n, c, y * g->stride - g->pad + i,
                                                        z * g->stride - g->pad + j);
                                    assert_true(cd[(n * k + row) * l + y * ow + z] == want);
                                }

            /* A strided view (channels-last storage seen as NCHW) unfolds the same. */
            nnf_tensor *nhwc = NULL, *view = NULL, *cols2 = NULL;
            NNF_ASSERT_OK(nnf_permute(&nhwc, x, (const int[]){0, 2, 3, 1}));
            nnf_tensor *nhwc_c = NULL;
            NNF_ASSERT_OK(nnf_clone(&nhwc_c, nhwc));
            NNF_ASSERT_OK(nnf_permute(&view, nhwc_c, (const int[]){0, 3, 1, 2}));
            if (g->c > 1) assert_false(nnf_tensor_is_contiguous(view));
            NNF_ASSERT_OK(nnf_unfold(&cols2, view, g->kh, g->kw, g->stride, g->pad));
            nnf_test_assert_bits_equal(nnf_tensor_data(cols2), cd, (size_t)(g->n * k * l));
            /* ... and into an existing output (no allocation). */
            NNF_ASSERT_OK(nnf_fill(cols2, NAN));
            NNF_ASSERT_OK(nnf_unfold(&cols2, x, g->kh, g->kw, g->stride, g->pad));
            nnf_test_assert_bits_equal(nnf_tensor_data(cols2), cd, (size_t)(g->n * k * l));
            nnf_tensor_free(nhwc);
            nnf_tensor_free(nhwc_c);
            nnf_tensor_free(view);
            nnf_tensor_free(cols2);
            nnf_tensor_free(cols);
            nnf_tensor_free(x);
        }
    }
}

/* fold is unfold's adjoint: <unfold(x), c> = <x, fold(c)> for every x and c. */
static void test_fold_is_adjoint(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
            const geom *g = &cases[ci];
            nnf_tensor *x = random_tensor(NNF_SHAPE(g->n, g->c, g->h, g->w), 20 + ci);
            nnf_tensor *ux = NULL, *fc = NULL;
            NNF_ASSERT_OK(nnf_unfold(&ux, x, g->kh, g->kw, g->stride, g->pad));
            nnf_tensor *c = random_tensor(3, nnf_tensor_shape(ux), 30 + ci);
            NNF_ASSERT_OK(nnf_fold(&fc, c, g->h, g->w, g->kh, g->kw, g->stride, g->pad));
            assert_int_equal(nnf_tensor_ndim(fc), 4);
            assert_int_equal(nnf_tensor_size(fc, 1), g->c);
            double lhs = 0, rhs = 0, mag = 0;
            const float *a = nnf_tensor_data(ux), *b = nnf_tensor_data(c);
            for (int64_t i = 0; i < nnf_tensor_numel(ux); i++) {
                lhs += (double)a[i] * b[i];
                mag += fabs((double)a[i] * b[i]);
            }
            a = nnf_tensor_data(x);
            b = nnf_tensor_data(fc);
            for (int64_t i = 0; i < nnf_tensor_numel(x); i++) rhs += (double)a[i] * b[i];
            /* fold sums at most kh*kw floats per pixel: error ~ kh*kw * 2^-24 * mag. */
            assert_true(fabs(lhs - rhs) <= 1e-6 * mag);
            /* fold into an existing output overwrites it. */
            NNF_ASSERT_OK(nnf_fill(fc, 1e30f));
            NNF_ASSERT_OK(nnf_fold(&fc, c, g->h, g->w, g->kh, g->kw, g->stride, g->pad));
            rhs = 0;
            for (int64_t i = 0; i < nnf_tensor_numel(x); i++) rhs += (double)a[i] * b[i];
            assert_true(fabs(lhs - rhs) <= 1e-6 * mag);
            nnf_tensor_free(ux);
            nnf_tensor_free(fc);
            nnf_tensor_free(c);
            nnf_tensor_free(x);
        }
    }
}

/* conv2d(x, w, b)[n, o, y, z] = b[o] + sum_{c, i, j} w[o, c, i, j] x[n, c, y*s-p+i, z*s-p+j] */
static double direct_conv(const geom *g, const float *x, const float *w, const float *b, int n,
                          int o, int y, int z)
{
    double s = b ? b[o] : 0.0;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
                s += (double)w[((o * g->c + c) * g->kh + i) * g->kw + j] *
                     pixel(x, g, n, c, y * g->stride - g->pad + i, z * g->stride - g->pad + j);
    return s;
}

static void test_conv2d_forward(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
            const geom *g = &cases[ci];
            int64_t oh = out_size(g->h, g->kh, g->stride, g->pad);
            int64_t ow = out_size(g->w, g->kw, g->stride, g->pad);
            nnf_tensor *x = random_tensor(NNF_SHAPE(g->n, g->c, g->h, g->w), 40 + ci);
            nnf_tensor *w = random_tensor(NNF_SHAPE(g->cout, g->c, g->kh, g->kw), 50 + ci);
            nnf_tensor *b = random_tensor(NNF_SHAPE(g->cout), 60 + ci);
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                nnf_tensor *out = NULL;
                NNF_ASSERT_OK(nnf_conv2d_nchw(&out, x, w, with_bias ? b : NULL, g->stride, g->pad));
                assert_int_equal(nnf_tensor_size(out, 1), g->cout);
                assert_int_equal(nnf_tensor_size(out, 2), oh);
                assert_int_equal(nnf_tensor_size(out, 3), ow);
                size_t total = (size_t)(g->n * g->cout * oh * ow);
                double *want = malloc(total * sizeof *want);
                assert_non_null(want);
                size_t idx = 0;
                for (int n = 0; n < g->n; n++)
                    for (int o = 0; o < g->cout; o++)
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++)
                                want[idx++] = direct_conv(g, nnf_tensor_data(x), nnf_tensor_data(w),
                                                          with_bias ? nnf_tensor_data(b) : NULL,
                                                          n, o, y, z);
                /* Sums of <= 36 products of values in [-1, 1]: float error < 1e-5. */
                nnf_test_assert_close(nnf_tensor_data(out), want, total, 1e-5, 1e-5);
                free(want);
                nnf_tensor_free(out);
            }
            nnf_tensor_free(x);
            nnf_tensor_free(w);
            nnf_tensor_free(b);
        }
    }
}

/* loss = sum(conv2d(x, w, b) * r); its gradient is conv2d_backward with dout = r. */
static double loss_of(const nnf_tensor *x, const nnf_tensor *w, const nnf_tensor *b,
                      const nnf_tensor *r, int stride, int pad)
{
    nnf_tensor *out = NULL;
    NNF_ASSERT_OK(nnf_conv2d_nchw(&out, x, w, b, stride, pad));
    const float *o = nnf_tensor_data(out), *rd = nnf_tensor_data(r);
    double s = 0;
    for (int64_t i = 0; i < nnf_tensor_numel(out); i++) s += (double)o[i] * rd[i];
    nnf_tensor_free(out);
    return s;
}

/* conv2d is linear in each of x, w and b, so a central difference with a large step is
 * exact up to rounding: step 0.5 keeps the float error of the loss (~1e-6) small
 * against the difference. */
static void check_fd(nnf_tensor *param, const nnf_tensor *x, const nnf_tensor *w,
                     const nnf_tensor *b, const nnf_tensor *r, const geom *g)
{
    const float step = 0.5f;
    float *p = nnf_tensor_data(param);
    const float *grad = nnf_tensor_data(nnf_tensor_grad(param));
    int64_t n = nnf_tensor_numel(param);
    for (int64_t i = 0; i < n; i += 1 + n / 40) {
        float saved = p[i];
        p[i] = saved + step;
        double up = loss_of(x, w, b, r, g->stride, g->pad);
        p[i] = saved - step;
        double down = loss_of(x, w, b, r, g->stride, g->pad);
        p[i] = saved;
        double fd = (up - down) / (2 * step);
        if (fabs(fd - grad[i]) > 2e-4 * (1 + fabs(fd)))
            fail_msg("element %lld: backward %.7g, finite difference %.7g", (long long)i,
                     (double)grad[i], fd);
    }
}

/* A tensor of dout's shape whose gradient is dout: the y nnf_conv2d_nchw_backward reads
 * dloss/dy from. */
static nnf_tensor *with_grad(const nnf_tensor *dout)
{
    nnf_tensor *y = NULL, *g = NULL;
    NNF_ASSERT_OK(nnf_zeros_like(&y, dout));
    NNF_ASSERT_OK(nnf_tensor_grad_get(y, &g));
    NNF_ASSERT_OK(nnf_copy(g, dout));
    return y;
}

static void test_conv2d_backward_fd(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
            const geom *g = &cases[ci];
            int64_t oh = out_size(g->h, g->kh, g->stride, g->pad);
            int64_t ow = out_size(g->w, g->kw, g->stride, g->pad);
            nnf_tensor *x = random_tensor(NNF_SHAPE(g->n, g->c, g->h, g->w), 70 + ci);
            nnf_tensor *w = random_tensor(NNF_SHAPE(g->cout, g->c, g->kh, g->kw), 80 + ci);
            nnf_tensor *b = random_tensor(NNF_SHAPE(g->cout), 90 + ci);
            nnf_tensor *r = random_tensor(NNF_SHAPE(g->n, g->cout, oh, ow), 100 + ci);
            nnf_tensor *y = with_grad(r);
            NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x, y, w, b, g->stride, g->pad, 1));
            check_fd(x, x, w, b, r, g);
            check_fd(w, x, w, b, r, g);
            check_fd(b, x, w, b, r, g);

            /* Backward accumulates: a second call doubles every gradient. */
            nnf_tensor *wg1 = NULL;
            NNF_ASSERT_OK(nnf_clone(&wg1, nnf_tensor_grad(w)));
            NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x, y, w, b, g->stride, g->pad, 1));
            const float *g1 = nnf_tensor_data(wg1), *g2 = nnf_tensor_data(nnf_tensor_grad(w));
            for (int64_t i = 0; i < nnf_tensor_numel(w); i++) assert_true(g2[i] == 2 * g1[i]);
            /* input_grad 0 leaves x's gradient alone. */
            nnf_zero_grad(x);
            NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x, y, w, NULL, g->stride, g->pad, 0));
            const float *xg = nnf_tensor_data(nnf_tensor_grad(x));
            for (int64_t i = 0; i < nnf_tensor_numel(x); i++) assert_true(xg[i] == 0.0f);
            nnf_tensor_free(wg1);
            nnf_tensor_free(x);
            nnf_tensor_free(w);
            nnf_tensor_free(b);
            nnf_tensor_free(r);
            nnf_tensor_free(y);
        }
    }
}

/* Forward and backward give the same bits on every ISA and with 1 or 2 threads. */
static void test_conv2d_reproducible(void **state)
{
    (void)state;
    const geom g = {4, 3, 12, 12, 8, 3, 3, 1, 1};
    float *ref = NULL;
    size_t total = 0;
    for (int threads = 1; threads <= 2; threads++) {
        nnf_test_threads(threads);
        NNF_FOR_EACH_ISA(isa) {
            nnf_tensor *x = random_tensor(NNF_SHAPE(g.n, g.c, g.h, g.w), 1);
            nnf_tensor *w = random_tensor(NNF_SHAPE(g.cout, g.c, g.kh, g.kw), 2);
            nnf_tensor *b = random_tensor(NNF_SHAPE(g.cout), 3);
            nnf_tensor *out = NULL;
            NNF_ASSERT_OK(nnf_conv2d_nchw(&out, x, w, b, g.stride, g.pad));
            /* dloss/dout = out itself */
            nnf_tensor *dout = NULL;
            NNF_ASSERT_OK(nnf_tensor_grad_get(out, &dout));
            NNF_ASSERT_OK(nnf_copy(dout, out));
            NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x, out, w, b, g.stride, g.pad, 1));
            size_t no = (size_t)nnf_tensor_numel(out), nx = (size_t)nnf_tensor_numel(x),
                   nw = (size_t)nnf_tensor_numel(w);
            size_t n = no + nx + nw + (size_t)g.cout;
            float *all = malloc(n * sizeof *all);
            assert_non_null(all);
            memcpy(all, nnf_tensor_data(out), no * sizeof *all);
            memcpy(all + no, nnf_tensor_data(nnf_tensor_grad(x)), nx * sizeof *all);
            memcpy(all + no + nx, nnf_tensor_data(nnf_tensor_grad(w)), nw * sizeof *all);
            memcpy(all + no + nx + nw, nnf_tensor_data(nnf_tensor_grad(b)), (size_t)g.cout * 4);
            if (!ref) {
                ref = all;
                total = n;
            } else {
                assert_int_equal(n, total);
                nnf_test_assert_bits_equal(all, ref, n);
                free(all);
            }
            nnf_tensor_free(out);
            nnf_tensor_free(x);
            nnf_tensor_free(w);
            nnf_tensor_free(b);
        }
    }
    nnf_test_threads(2);
    free(ref);
}

static void expect_msg(const char *frag)
{
    if (!strstr(nnf_last_error(), frag))
        fail_msg("message \"%s\" lacks \"%s\"", nnf_last_error(), frag);
}

static void test_conv_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = random_tensor(NNF_SHAPE(2, 3, 5, 5), 1);
        nnf_tensor *x3 = random_tensor(NNF_SHAPE(3, 5, 5), 1);
        nnf_tensor *w = random_tensor(NNF_SHAPE(4, 3, 3, 3), 2);
        nnf_tensor *w2 = random_tensor(NNF_SHAPE(4, 2, 3, 3), 2);
        nnf_tensor *b5 = random_tensor(NNF_SHAPE(5), 3);
        nnf_tensor *out = NULL, *bad = NULL;
        NNF_ASSERT_FAILS(nnf_unfold(&out, x3, 3, 3, 1, 0), NNF_ERR_SHAPE);
        expect_msg("expected a 4-d input (N, C, H, W), got 3 dims");
        NNF_ASSERT_FAILS(nnf_unfold(&out, x, 8, 3, 1, 1), NNF_ERR_SHAPE);
        expect_msg("kernel 8x3 is larger than the padded input 7x7");
        NNF_ASSERT_FAILS(nnf_unfold(&out, x, 3, 3, 0, 0), NNF_ERR_INVALID);
        expect_msg("stride must be >= 1, got 0");
        NNF_ASSERT_FAILS(nnf_unfold(&out, x, 3, 3, 1, -1), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_unfold(&out, x, 0, 3, 1, 0), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_unfold(NULL, x, 3, 3, 1, 0), NNF_ERR_NULL);
        NNF_ASSERT_OK(nnf_zeros(&bad, NNF_SHAPE(2, 27, 8)));
        NNF_ASSERT_FAILS(nnf_unfold(&bad, x, 3, 3, 1, 0), NNF_ERR_SHAPE);
        expect_msg("out must be a contiguous float32 tensor of shape [2, 27, 9]");
        NNF_ASSERT_FAILS(nnf_fold(&out, bad, 5, 5, 3, 3, 1, 0), NNF_ERR_SHAPE);
        expect_msg("cols has 8 positions but a 5x5 output with kernel 3x3, stride 1, padding 0 "
                   "has 9 (3x3)");
        NNF_ASSERT_FAILS(nnf_fold(&out, bad, 5, 5, 2, 2, 1, 0), NNF_ERR_SHAPE);
        expect_msg("not a multiple of kh*kw (4)");
        NNF_ASSERT_FAILS(nnf_conv2d_nchw(&out, x, w2, NULL, 1, 0), NNF_ERR_SHAPE);
        expect_msg("expects 2 input channels, but the input has 3");
        NNF_ASSERT_FAILS(nnf_conv2d_nchw(&out, x, w, b5, 1, 0), NNF_ERR_SHAPE);
        expect_msg("bias must be a 1-d float32 tensor of 4 (C_out) elements");
        NNF_ASSERT_FAILS(nnf_conv2d_nchw(&out, x, x3, NULL, 1, 0), NNF_ERR_SHAPE);
        nnf_tensor *y = with_grad(x);
        NNF_ASSERT_FAILS(nnf_conv2d_nchw_backward(x, y, w, NULL, 1, 0, 1), NNF_ERR_SHAPE);
        expect_msg("nnf_conv2d_nchw_backward: dout (y's gradient) must have the output's shape "
                   "[2, 4, 3, 3]");
        nnf_tensor_free(y);
        assert_null(out);

        /* Allocation failures anywhere leave nothing behind and *out untouched. */
        long live = nnf__alloc_live();
        nnf_status st = NNF_ERR_NOMEM;
        for (long k = 1; st == NNF_ERR_NOMEM; k++) {
            nnf__alloc_fail_after(k);
            st = nnf_conv2d_nchw(&out, x, w, NULL, 1, 1);
            nnf__alloc_fail_after(0);
            if (st == NNF_ERR_NOMEM) {
                assert_null(out);
                assert_int_equal(nnf__alloc_live(), live);
            }
        }
        NNF_ASSERT_OK(st);
        nnf_tensor_free(out);
        nnf_tensor_free(bad);
        nnf_tensor_free(x);
        nnf_tensor_free(x3);
        nnf_tensor_free(w);
        nnf_tensor_free(w2);
        nnf_tensor_free(b5);
    }
}

/* The layers, through the layer-function interface: every gradient against finite
 * differences (conv2d is linear in x and in its parameters, so no kinks to skip). */
static void test_conv_layers_gradcheck(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 5);
        nnf_layer *conv = NULL, *flat = NULL;
        NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&conv, &rng, 2, 3, 3, 2, 1, NNF_INIT_KAIMING));
        NNF_ASSERT_OK(nnf_layer_flatten(&flat));
        assert_string_equal(nnf_layer_name(conv), "Conv2d");
        assert_int_equal(nnf_tensor_size(nnf_layer_parameter(conv, 0), 1), 2);
        assert_int_equal(nnf_tensor_numel(nnf_layer_parameter(conv, 1)), 3);
        assert_null(nnf_layer_parameter(conv, 2));
        assert_null(nnf_layer_parameter(flat, 0));
        /* nonzero bias, so its gradient is checked around a value that matters */
        NNF_ASSERT_OK(nnf_fill(nnf_layer_parameter(conv, 1), 0.25f));
        nnf_tensor *x = random_tensor(NNF_SHAPE(2, 2, 7, 6), 8);
        nnf_gradcheck_options opts = {.eps = 0.5, .seed = 3};
        nnf_gradcheck_report r;
        NNF_ASSERT_OK(nnf_layer_gradcheck(conv, &r, x, &opts, 1));
        if (r.failed) fail_msg("Conv2d: %s", r.first_failure);
        assert_true(r.checked > 100);
        assert_int_equal(r.skipped, 0);
        NNF_ASSERT_OK(nnf_layer_gradcheck(flat, &r, x, &opts, 1));
        if (r.failed) fail_msg("Flatten: %s", r.first_failure);
        assert_int_equal(r.checked, nnf_tensor_numel(x));

        nnf_tensor *out = NULL;
        NNF_ASSERT_OK(nnf_layer_call(flat, &out, x));
        assert_int_equal(nnf_tensor_ndim(out), 2);
        assert_int_equal(nnf_tensor_size(out, 1), 2 * 7 * 6);
        assert_true(nnf_tensor_shares_storage(out, x));   /* a view, not a copy */
        nnf_tensor *x3 = random_tensor(NNF_SHAPE(2, 7, 6), 8);
        NNF_ASSERT_FAILS(nnf_layer_call(conv, &out, x3), NNF_ERR_SHAPE);
        if (!strstr(nnf_last_error(), "Conv2d: expected a 4-d input (N, C, H, W), got 3 dims"))
            fail_msg("message: %s", nnf_last_error());
        NNF_ASSERT_FAILS(nnf_layer_conv2d_nchw(&conv, NULL, 0, 3, 3, 1, 0, NNF_INIT_KAIMING),
                         NNF_ERR_INVALID);
        nnf_tensor_free(x);
        nnf_tensor_free(x3);
        nnf_layer_free(conv);
        nnf_layer_free(flat);
    }
}

/* 8x8 images of a horizontal or a vertical bar at a random place, with noise. */
static void bars(nnf_tensor **x, nnf_tensor **y, int n, uint64_t seed)
{
    NNF_ASSERT_OK(nnf_zeros(x, NNF_SHAPE(n, 1, 8, 8)));
    NNF_ASSERT_OK(nnf_empty_typed(y, NNF_SHAPE(n), NNF_I64));
    float *xd = nnf_tensor_data(*x);
    int64_t *yd = nnf_tensor_raw(*y);
    float noise[64];
    for (int i = 0; i < n; i++) {
        yd[i] = i % 2;
        int at = (i / 2 * 5 + 1) % 8;
        nnf_test_fill_uniform(noise, 64, seed + (uint64_t)i, -0.3f, 0.3f);
        for (int p = 0; p < 64; p++) {
            int on = yd[i] ? p % 8 == at : p / 8 == at;
            xd[i * 64 + p] = (on ? 1.0f : 0.0f) + noise[p];
        }
    }
}

static nnf_model *small_cnn(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 11);
    nnf_loss *ce = NULL;
    nnf_model *m = NULL;
    nnf_layer *l[6];
    NNF_ASSERT_OK(nnf_loss_cross_entropy(&ce));
    NNF_ASSERT_OK(nnf_model_new(&m, ce));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l[0], &rng, 1, 4, 3, 1, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[1]));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l[2], &rng, 4, 6, 3, 2, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[3]));
    NNF_ASSERT_OK(nnf_layer_flatten(&l[4]));
    NNF_ASSERT_OK(nnf_layer_linear(&l[5], &rng, 6 * 4 * 4, 2, NNF_INIT_KAIMING));
    for (int i = 0; i < 6; i++) NNF_ASSERT_OK(nnf_model_add(m, l[i]));
    return m;
}

/* A CNN built from these layers learns, gives the same bits on every ISA and thread
 * count, and keeps its buffers from step to step. */
static void test_small_cnn_trains(void **state)
{
    (void)state;
    nnf_tensor *x = NULL, *y = NULL;
    bars(&x, &y, 64, 100);
    float *ref = NULL;
    size_t nref = 0;
    for (int threads = 1; threads <= 2; threads++) {
        nnf_test_threads(threads);
        NNF_FOR_EACH_ISA(isa) {
            nnf_model *m = small_cnn();
            nnf_sgd *opt = NULL;
            NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m),
                                      0.05f, 0.9f, 0.0f));
            float first = 0, loss = 0;
            long live = 0;
            for (int step = 0; step < 30; step++) {
                NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
                nnf_sgd_zero_grad(opt);
                NNF_ASSERT_OK(nnf_model_backward(m));
                NNF_ASSERT_OK(nnf_sgd_step(opt));
                if (step == 0) first = loss;
                /* after the first step every buffer exists: what a step holds stays */
                if (step == 1) live = nnf__alloc_live();
                if (step > 1) assert_int_equal(nnf__alloc_live(), live);
            }
            assert_true(loss < 0.2f * first);
            nnf_gradcheck_report r;
            nnf_gradcheck_options opts = {.eps = 1e-2, .max_points = 8, .seed = 2};
            NNF_ASSERT_OK(nnf_model_gradcheck(m, &r, x, y, &opts));
            if (r.failed) fail_msg("model: %s", r.first_failure);

            size_t n = 0;
            for (int i = 0; i < nnf_model_num_parameters(m); i++)
                n += (size_t)nnf_tensor_numel(nnf_model_parameters(m)[i]);
            float *all = malloc(n * sizeof *all);
            assert_non_null(all);
            size_t at = 0;
            for (int i = 0; i < nnf_model_num_parameters(m); i++) {
                const nnf_tensor *p = nnf_model_parameters(m)[i];
                memcpy(all + at, nnf_tensor_data(p), (size_t)nnf_tensor_numel(p) * sizeof *all);
                at += (size_t)nnf_tensor_numel(p);
            }
            if (!nnf_test_isa_exact()) {
                free(all);   /* not compared across ISAs (nnf_test_isa_exact) */
            } else if (!ref) {
                ref = all;
                nref = n;
            } else {
                assert_int_equal(n, nref);
                nnf_test_assert_bits_equal(all, ref, n);
                free(all);
            }
            nnf_sgd_free(opt);
            nnf_model_free(m);
        }
    }
    nnf_test_threads(2);
    free(ref);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unfold_matches_definition),
        cmocka_unit_test(test_fold_is_adjoint),
        cmocka_unit_test(test_conv2d_forward),
        cmocka_unit_test(test_conv2d_backward_fd),
        cmocka_unit_test(test_conv2d_reproducible),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_conv_layers_gradcheck),
        cmocka_unit_test(test_small_cnn_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
