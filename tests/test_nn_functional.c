/* The functional layer (lin, relu, mse, cross-entropy and their backward passes) against
 * double-precision references computed here, on every ISA; accumulation; views; errors;
 * allocation failures. */
#include "test_nn_util.h"

#include "src/core/alloc.h"

enum { N = 7, IN = 5, OUT = 3 };

/* y[i][j] = sum_k x[i][k] w[j][k] + b[j], in double, from strided tensors. */
static void ref_lin(const nnf_tensor *x, const nnf_tensor *w, const nnf_tensor *b, double *y)
{
    int64_t n = nnf_tensor_size(x, 0), k = nnf_tensor_size(x, 1), m = nnf_tensor_size(w, 0);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < m; j++) {
            double s = 0.0;
            float v;
            for (int64_t p = 0; p < k; p++) {
                float a, c;
                NNF_ASSERT_OK(nnf_value_at(&a, x, (const int64_t[]){i, p}));
                NNF_ASSERT_OK(nnf_value_at(&c, w, (const int64_t[]){j, p}));
                s += (double)a * c;
            }
            if (b != NULL) {
                NNF_ASSERT_OK(nnf_value_at(&v, b, (const int64_t[]){j}));
                s += v;
            }
            y[i * m + j] = s;
        }
}

static void check_lin_forward(const nnf_tensor *x, const nnf_tensor *w, const nnf_tensor *b)
{
    nnf_tensor *y = NULL;
    NNF_ASSERT_OK(nnf_linear(&y, x, w, b));
    assert_int_equal(nnf_tensor_size(y, 0), nnf_tensor_size(x, 0));
    assert_int_equal(nnf_tensor_size(y, 1), nnf_tensor_size(w, 0));
    double *want = nn_doubles((size_t)nnf_tensor_numel(y));
    ref_lin(x, w, b, want);
    nnf_test_assert_close(nnf_tensor_data(y), want, (size_t)nnf_tensor_numel(y), 1e-5, 1e-6);
    /* into the existing tensor: same handle, same values */
    nnf_tensor *same = y;
    NNF_ASSERT_OK(nnf_linear(&y, x, w, b));
    assert_ptr_equal(y, same);
    nnf_test_assert_close(nnf_tensor_data(y), want, (size_t)nnf_tensor_numel(y), 1e-5, 1e-6);
    free(want);
    nnf_tensor_free(y);
}

static void test_lin_forward(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = nn_uniform(NNF_SHAPE(N, IN), 1, -1, 1);
        nnf_tensor *w = nn_uniform(NNF_SHAPE(OUT, IN), 2, -1, 1);
        nnf_tensor *b = nn_uniform(NNF_SHAPE(OUT), 3, -1, 1);
        check_lin_forward(x, w, b);
        check_lin_forward(x, w, NULL);
        /* x stored transposed (a t() view), and x with every other column (a view
         * sgemm cannot address, which goes through nnf_gemm's copy) */
        nnf_tensor *xt_store = nn_uniform(NNF_SHAPE(IN, N), 4, -1, 1), *xt = NULL;
        NNF_ASSERT_OK(nnf_t(&xt, xt_store));
        check_lin_forward(xt, w, b);
        nnf_tensor *wide = nn_uniform(NNF_SHAPE(N, 2 * IN), 5, -1, 1), *xs = NULL;
        NNF_ASSERT_OK(nnf_slice(&xs, wide, 1, 0, 2 * IN, 2));
        check_lin_forward(xs, w, b);
        /* one row, one output */
        nnf_tensor *x1 = nn_uniform(NNF_SHAPE(1, IN), 6, -1, 1);
        nnf_tensor *w1 = nn_uniform(NNF_SHAPE(1, IN), 7, -1, 1);
        check_lin_forward(x1, w1, NULL);
        NNF_TEST_FREE(x, w, b, xt_store, xt, wide, xs, x1, w1);
    }
    nnf_test_restore_isa();
}

/* The chapter's lin_grad in double: w.g = G^T x, b.g = G.sum(0), x.g = G w. */
static void check_lin_backward(nnf_tensor *x, nnf_tensor *w, nnf_tensor *b)
{
    nnf_tensor *y = NULL;
    NNF_ASSERT_OK(nnf_linear(&y, x, w, b));
    nnf_tensor *g = nn_uniform(NNF_SHAPE(N, OUT), 11, -1, 1);
    nn_set_grad(y, g);
    nnf_zero_grad(x);
    nnf_zero_grad(w);
    nnf_zero_grad(b);
    NNF_ASSERT_OK(nnf_linear_backward(x, y, w, b, 1));
    const float *gp = nnf_tensor_data(g);
    double wg[OUT * IN] = {0}, bg[OUT] = {0}, xg[N * IN] = {0};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < OUT; j++) {
            bg[j] += gp[i * OUT + j];
            for (int k = 0; k < IN; k++) {
                float xv, wv;
                NNF_ASSERT_OK(nnf_value_at(&xv, x, (const int64_t[]){i, k}));
                NNF_ASSERT_OK(nnf_value_at(&wv, w, (const int64_t[]){j, k}));
                wg[j * IN + k] += (double)gp[i * OUT + j] * xv;
                xg[i * IN + k] += (double)gp[i * OUT + j] * wv;
            }
        }
    nnf_test_assert_close(nn_grad(w), wg, OUT * IN, 1e-5, 1e-6);
    nnf_test_assert_close(nn_grad(b), bg, OUT, 1e-5, 1e-6);
    nnf_test_assert_close(nn_grad(x), xg, N * IN, 1e-5, 1e-6);
    /* a second backward adds the same again (the chapter's .g accumulates) */
    NNF_ASSERT_OK(nnf_linear_backward(x, y, w, b, 1));
    for (int i = 0; i < OUT * IN; i++)
        wg[i] *= 2;
    for (int i = 0; i < OUT; i++)
        bg[i] *= 2;
    for (int i = 0; i < N * IN; i++)
        xg[i] *= 2;
    nnf_test_assert_close(nn_grad(w), wg, OUT * IN, 1e-5, 1e-6);
    nnf_test_assert_close(nn_grad(b), bg, OUT, 1e-5, 1e-6);
    nnf_test_assert_close(nn_grad(x), xg, N * IN, 1e-5, 1e-6);
    nnf_tensor_free(g);
    nnf_tensor_free(y);
}

static void test_lin_backward(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = nn_uniform(NNF_SHAPE(N, IN), 1, -1, 1);
        nnf_tensor *w = nn_uniform(NNF_SHAPE(OUT, IN), 2, -1, 1);
        nnf_tensor *b = nn_uniform(NNF_SHAPE(OUT), 3, -1, 1);
        check_lin_backward(x, w, b);
        /* w stored transposed: its gradient still has w's (view's) shape */
        nnf_tensor *wt_store = nn_uniform(NNF_SHAPE(IN, OUT), 8, -1, 1), *wt = NULL;
        NNF_ASSERT_OK(nnf_t(&wt, wt_store));
        check_lin_backward(x, wt, b);

        /* input_grad 0: the data gets no gradient */
        nnf_tensor *x2 = nn_uniform(NNF_SHAPE(N, IN), 9, -1, 1), *y = NULL;
        NNF_ASSERT_OK(nnf_linear(&y, x2, w, NULL));
        nnf_tensor *g = nn_uniform(NNF_SHAPE(N, OUT), 10, -1, 1);
        nn_set_grad(y, g);
        NNF_ASSERT_OK(nnf_linear_backward(x2, y, w, NULL, 0));
        assert_null(nnf_tensor_grad(x2));
        NNF_TEST_FREE(x, w, b, wt_store, wt, x2, y, g);
    }
    nnf_test_restore_isa();
}

static void test_relu_backward(void **state)
{
    (void)state;
    /* the kink and its neighbours: zero of both signs, the smallest subnormal, NaN-free */
    const float xs[] = {-2.0f, -0.0f, 0.0f, 0x1p-149f, -0x1p-149f, 1e-30f, 3.5f, -1e30f,
                        1e30f, 0.25f, -0.25f, 7.0f};
    enum { n = sizeof xs / sizeof *xs };
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *y = NULL;
        NNF_ASSERT_OK(nnf_from_data(&x, xs, NNF_SHAPE(3, 4)));
        NNF_ASSERT_OK(nnf_relu(&y, x));
        nnf_tensor *g = nn_uniform(NNF_SHAPE(3, 4), 21, -2, 2);
        nn_set_grad(y, g);
        NNF_ASSERT_OK(nnf_relu_backward(x, y));
        const float *gp = nnf_tensor_data(g);
        float want[n];
        for (int i = 0; i < n; i++)
            want[i] = xs[i] > 0 ? gp[i] : 0.0f;
        const float *got = nn_grad(x);
        for (int i = 0; i < n; i++)   /* exact, up to the sign of zero */
            if (!(got[i] == want[i]))
                fail_msg("x = %g: x.g = %g, want %g", (double)xs[i], (double)got[i],
                         (double)want[i]);
        /* accumulates */
        NNF_ASSERT_OK(nnf_relu_backward(x, y));
        got = nn_grad(x);
        for (int i = 0; i < n; i++)
            assert_true(got[i] == 2 * want[i]);
        /* x a transposed view (the path for non-contiguous tensors): x.g[i][j] pairs
         * with the stored element [j][i] */
        nnf_tensor *store = NULL, *xt = NULL, *yt = NULL, *gt = NULL;
        NNF_ASSERT_OK(nnf_from_data(&store, xs, NNF_SHAPE(4, 3)));
        NNF_ASSERT_OK(nnf_t(&xt, store));
        NNF_ASSERT_OK(nnf_relu(&yt, xt));
        NNF_ASSERT_OK(nnf_clone(&gt, g));
        nn_set_grad(yt, gt);
        NNF_ASSERT_OK(nnf_relu_backward(xt, yt));
        got = nn_grad(xt);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) {
                float w = xs[j * 3 + i] > 0 ? gp[i * 4 + j] : 0.0f;
                if (!(got[i * 4 + j] == w))
                    fail_msg("view: x.g[%d][%d] = %g, want %g", i, j, (double)got[i * 4 + j],
                             (double)w);
            }
        nnf_tensor_free(store);
        nnf_tensor_free(xt);
        nnf_tensor_free(yt);
        nnf_tensor_free(gt);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
        nnf_tensor_free(g);
    }
    nnf_test_restore_isa();
}

static void test_mse(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* the chapter's shapes: pred (N, 1) against targ (N) */
        nnf_tensor *p = nn_uniform(NNF_SHAPE(N, 1), 31, -2, 2);
        nnf_tensor *t = nn_uniform(NNF_SHAPE(N), 32, -2, 2);
        float loss;
        NNF_ASSERT_OK(nnf_mse(&loss, p, t));
        const float *pp = nnf_tensor_data(p), *tp = nnf_tensor_data(t);
        double want = 0.0, grad[N];
        for (int i = 0; i < N; i++) {
            double d = (double)pp[i] - tp[i];
            want += d * d / N;
            grad[i] = 2.0 * d / N;
        }
        nnf_test_assert_close(&loss, &want, 1, 1e-6, 0);
        NNF_ASSERT_OK(nnf_mse_backward(p, t));
        assert_int_equal(nnf_tensor_ndim(nnf_tensor_grad(p)), 2);
        nnf_test_assert_close(nn_grad(p), grad, N, 1e-6, 1e-7);

        /* same shapes (N, 3) */
        nnf_tensor *p3 = nn_uniform(NNF_SHAPE(N, 3), 33, -2, 2);
        nnf_tensor *t3 = nn_uniform(NNF_SHAPE(N, 3), 34, -2, 2);
        NNF_ASSERT_OK(nnf_mse(&loss, p3, t3));
        const float *p3p = nnf_tensor_data(p3), *t3p = nnf_tensor_data(t3);
        double grad3[N * 3];
        want = 0.0;
        for (int i = 0; i < N * 3; i++) {
            double d = (double)p3p[i] - t3p[i];
            want += d * d / (N * 3);
            grad3[i] = 2.0 * d / (N * 3);
        }
        nnf_test_assert_close(&loss, &want, 1, 1e-6, 0);
        NNF_ASSERT_OK(nnf_mse_backward(p3, t3));
        nnf_test_assert_close(nn_grad(p3), grad3, N * 3, 1e-6, 1e-7);
        /* the same bits with the targets in a transposed view (the elementwise engine's
         * path; contiguous ones go to the kernels directly) */
        nnf_tensor *tt = NULL, *t3t = NULL, *t3s = NULL, *p3c = NULL;
        NNF_ASSERT_OK(nnf_transpose(&tt, t3, 0, 1));
        NNF_ASSERT_OK(nnf_contiguous(&t3t, tt));
        NNF_ASSERT_OK(nnf_transpose(&t3s, t3t, 0, 1));
        NNF_ASSERT_OK(nnf_clone(&p3c, p3));
        float loss_s;
        NNF_ASSERT_OK(nnf_mse(&loss_s, p3c, t3s));
        nnf_test_assert_bits_equal(&loss_s, &loss, 1);
        NNF_ASSERT_OK(nnf_mse_backward(p3c, t3s));
        nnf_test_assert_bits_equal(nn_grad(p3c), nn_grad(p3), N * 3);
        NNF_TEST_FREE(tt, t3t, t3s, p3c);

        /* (N, 3) against (N): PyTorch would broadcast to (N, N); here it is an error */
        NNF_ASSERT_FAILS(nnf_mse(&loss, p3, t), NNF_ERR_SHAPE);
        NN_ASSERT_MESSAGE("targ must have pred's shape");
        /* the real shapes, not the first two sizes of each */
        nnf_tensor *p4 = nn_uniform(NNF_SHAPE(2, 3, 4, 5), 35, -2, 2);
        NNF_ASSERT_FAILS(nnf_mse(&loss, p4, p3), NNF_ERR_SHAPE);
        char want_msg[160];
        snprintf(want_msg, sizeof want_msg, "nnf_mse: the target size [%d, 3] is different from "
                 "the input size [2, 3, 4, 5]", (int)N);
        if (strncmp(nnf_last_error(), want_msg, strlen(want_msg)) != 0)
            fail_msg("message \"%s\" does not start with \"%s\"", nnf_last_error(), want_msg);
        nnf_tensor_free(p4);
        NNF_TEST_FREE(p, t, p3, t3);
    }
    nnf_test_restore_isa();
}

/* loss and gradient of softmax cross-entropy in double */
static double ref_ce(const float *x, const int64_t *t, int n, int c, double *grad)
{
    double loss = 0.0;
    for (int i = 0; i < n; i++) {
        double m = -INFINITY, s = 0.0;
        for (int j = 0; j < c; j++)
            m = fmax(m, x[i * c + j]);
        for (int j = 0; j < c; j++)
            s += exp(x[i * c + j] - m);
        loss += (m + log(s) - x[i * c + t[i]]) / n;
        for (int j = 0; j < c; j++)
            grad[i * c + j] = (exp(x[i * c + j] - m) / s - (j == t[i])) / n;
    }
    return loss;
}

static void test_cross_entropy(void **state)
{
    (void)state;
    enum { n = 6, c = 4 };
    NNF_FOR_EACH_ISA(isa) {
        for (int scale = 1; scale <= 1000; scale *= 1000) {   /* 1000: exp would overflow */
            nnf_tensor *x = nn_uniform(NNF_SHAPE(n, c), 41, -3.0f * scale, 3.0f * scale);
            nnf_tensor *t = nn_labels(n, c, 42);
            float loss;
            double grad[n * c];
            NNF_ASSERT_OK(nnf_cross_entropy(&loss, x, t));
            double want = ref_ce(nnf_tensor_data(x), nnf_tensor_raw(t), n, c, grad);
            nnf_test_assert_close(&loss, &want, 1, 1e-5, 1e-6);
            NNF_ASSERT_OK(nnf_cross_entropy_backward(x, t));
            nnf_test_assert_close(nn_grad(x), grad, n * c, 1e-5, 1e-6);
            nnf_tensor_free(x);
            nnf_tensor_free(t);
        }
    }
    nnf_test_restore_isa();
}

/* The NaN rule (kernels/eltwise.h) for the losses, which sum in C: a NaN prediction of
 * any payload and sign gives the loss 0x7FC00000 on every ISA. */
static void test_loss_nan_rule(void **state)
{
    (void)state;
    static const uint32_t payloads[] = {0x7FC12345u, 0xFFC00001u, 0x7F800001u};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
            nnf_tensor *x = nn_uniform(NNF_SHAPE(3, 4), 43, -1.0f, 1.0f);
            nnf_tensor *y = nn_uniform(NNF_SHAPE(3, 4), 44, -1.0f, 1.0f);
            nnf_tensor *t = nn_labels(3, 4, 45);
            float nan, loss[2];
            memcpy(&nan, &payloads[i], sizeof nan);
            ((float *)nnf_tensor_data(x))[5] = nan;
            NNF_ASSERT_OK(nnf_mse(&loss[0], x, y));
            NNF_ASSERT_OK(nnf_cross_entropy(&loss[1], x, t));
            for (int l = 0; l < 2; l++) {
                uint32_t bits;
                memcpy(&bits, &loss[l], sizeof bits);
                if (bits != 0x7FC00000u)
                    fail_msg("%s with a NaN 0x%08x on %s: loss 0x%08x, not 0x7fc00000",
                             l ? "cross_entropy" : "mse", payloads[i], nnf_isa_name(isa), bits);
            }
            nnf_tensor_free(x);
            nnf_tensor_free(y);
            nnf_tensor_free(t);
        }
    }
    nnf_test_restore_isa();
}

static void test_errors(void **state)
{
    (void)state;
    nnf_tensor *x = nn_uniform(NNF_SHAPE(200, 100), 1, -1, 1);
    nnf_tensor *w = nn_uniform(NNF_SHAPE(50, 80), 2, -1, 1);
    nnf_tensor *w_ok = nn_uniform(NNF_SHAPE(50, 100), 2, -1, 1);
    nnf_tensor *b = nn_uniform(NNF_SHAPE(40), 3, -1, 1);
    nnf_tensor *y = NULL, *wrong = NULL, *labels = NULL;
    float loss;
    NNF_ASSERT_FAILS(nnf_linear(&y, x, w, NULL), NNF_ERR_SHAPE);
    NN_ASSERT_MESSAGE("x is 200x100 but w is 50x80");
    assert_null(y);
    NNF_ASSERT_FAILS(nnf_linear(&y, x, w_ok, b), NNF_ERR_SHAPE);
    NN_ASSERT_MESSAGE("b must be 1-D with w's n_out (50) elements");
    NNF_ASSERT_FAILS(nnf_linear(&y, NULL, w_ok, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_linear(NULL, x, w_ok, NULL), NNF_ERR_NULL);
    NNF_ASSERT_OK(nnf_zeros(&wrong, NNF_SHAPE(200, 49)));
    NNF_ASSERT_FAILS(nnf_linear(&wrong, x, w_ok, NULL), NNF_ERR_SHAPE);
    NN_ASSERT_MESSAGE("y must be 200x50");
    /* backward before the forward's result has a gradient */
    NNF_ASSERT_OK(nnf_linear(&y, x, w_ok, NULL));
    NNF_ASSERT_FAILS(nnf_linear_backward(x, y, w_ok, NULL, 1), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("y has no gradient");
    assert_null(nnf_tensor_grad(w_ok));
    NNF_ASSERT_FAILS(nnf_relu_backward(x, y), NNF_ERR_STATE);
    /* cross-entropy: labels' dtype, shape and range */
    NNF_ASSERT_FAILS(nnf_cross_entropy(&loss, y, x), NNF_ERR_DTYPE);
    labels = nn_labels(199, 50, 1);
    NNF_ASSERT_FAILS(nnf_cross_entropy(&loss, y, labels), NNF_ERR_SHAPE);
    nnf_tensor_free(labels);
    labels = nn_labels(200, 50, 1);
    ((int64_t *)nnf_tensor_raw(labels))[17] = 50;
    NNF_ASSERT_FAILS(nnf_cross_entropy(&loss, y, labels), NNF_ERR_INDEX);
    NN_ASSERT_MESSAGE("target 50 of row 17 is out of bounds for 50 classes");
    NNF_ASSERT_FAILS(nnf_cross_entropy_backward(y, labels), NNF_ERR_INDEX);
    assert_null(nnf_tensor_grad(y));
    NNF_ASSERT_FAILS(nnf_mse(NULL, y, y), NNF_ERR_NULL);
    NNF_TEST_FREE(x, w, w_ok, b, y, wrong, labels);
}

/* Every allocation of a forward + backward fails in turn: each failure is reported and
 * leaks nothing. */
static void test_alloc_failures(void **state)
{
    (void)state;
    long base = nnf__alloc_live();
    nnf_tensor *x = nn_uniform(NNF_SHAPE(N, IN), 1, -1, 1);
    nnf_tensor *w = nn_uniform(NNF_SHAPE(OUT, IN), 2, -1, 1);
    nnf_tensor *b = nn_uniform(NNF_SHAPE(OUT), 3, -1, 1);
    nnf_tensor *t = nn_labels(N, OUT, 4);
    int succeeded = 0;
    for (long k = 1; k < 200 && !succeeded; k++) {
        nnf_tensor *y = NULL, *a = NULL;
        float loss;
        nnf__alloc_fail_after(k);
        nnf_status st = nnf_linear(&y, x, w, b);
        if (st == NNF_OK)
            st = nnf_relu(&a, y);
        if (st == NNF_OK)
            st = nnf_cross_entropy(&loss, a, t);
        if (st == NNF_OK)
            st = nnf_cross_entropy_backward(a, t);
        if (st == NNF_OK)
            st = nnf_relu_backward(y, a);
        if (st == NNF_OK)
            st = nnf_linear_backward(x, y, w, b, 1);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK)
            succeeded = 1;
        else
            assert_int_equal(st, NNF_ERR_NOMEM);
        nnf_tensor_free(y);
        nnf_tensor_free(a);
        nnf_zero_grad(x);
        nnf_zero_grad(w);
        nnf_zero_grad(b);
    }
    assert_true(succeeded);
    NNF_TEST_FREE(x, w, b, t);
    /* gradients created on the way were freed with their tensors */
    assert_int_equal(nnf__alloc_live(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lin_forward),
        cmocka_unit_test(test_loss_nan_rule),
        cmocka_unit_test(test_lin_backward),
        cmocka_unit_test(test_relu_backward),
        cmocka_unit_test(test_mse),
        cmocka_unit_test(test_cross_entropy),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
