/* The deprecated names still compile and compute what they did: each old call, in its old
 * parameter order, against the same computation written another way. The warnings these
 * calls give are the point of the markers, so this file (alone) turns them off. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <math.h>
#include <string.h>

#include "nnf_test.h"

/* ---- tensor.h ---- */

static void test_tensor_renames(void **state)
{
    (void)state;
    nnf_tensor *t = NULL, *b = NULL, *one = NULL;
    NNF_ASSERT_OK(nnf_arange(&t, 0, 6, 1));
    nnf_tensor *m = NULL;
    NNF_ASSERT_OK(nnf_view(&m, t, NNF_SHAPE(2, 3)));
    /* nnf_get(t, index, &value): element [1, 2] of 0..5 is 5 */
    float v = -1;
    NNF_ASSERT_OK(nnf_get(m, (const int64_t[]){1, 2}, &v));
    assert_true(v == 5.0f);
    NNF_ASSERT_OK(nnf_get(m, (const int64_t[]){-2, 0}, &v));
    assert_true(v == 0.0f);
    NNF_ASSERT_FAILS(nnf_get(m, (const int64_t[]){2, 0}, &v), NNF_ERR_INDEX);
    assert_string_equal(nnf_last_error(),
                        "nnf_get: index 2 is out of bounds for dimension 0 with size 2");
    /* nnf_item(t, &value) */
    NNF_ASSERT_OK(nnf_select(&one, t, 0, 4));
    NNF_ASSERT_OK(nnf_item(one, &v));
    assert_true(v == 4.0f);
    NNF_ASSERT_FAILS(nnf_item(m, &v), NNF_ERR_SHAPE);
    /* nnf_empty_dtype(out, dtype, ndim, shape) */
    NNF_ASSERT_OK(nnf_empty_dtype(&b, NNF_I64, NNF_SHAPE(4, 5)));
    assert_int_equal(nnf_tensor_dtype(b), NNF_I64);
    assert_int_equal(nnf_tensor_shape(b)[0], 4);
    assert_int_equal(nnf_tensor_shape(b)[1], 5);
    /* nnf_snprint(buf, size, t, &needed): the text nnf_fprint writes */
    char buf[128], full[128];
    size_t needed = 0;
    NNF_ASSERT_OK(nnf_snprint(buf, sizeof buf, m, &needed));
    assert_string_equal(buf, "tensor([[0., 1., 2.],\n        [3., 4., 5.]])");
    assert_int_equal(needed, strlen(buf));
    FILE *f = tmpfile();
    assert_non_null(f);
    NNF_ASSERT_OK(nnf_fprint(f, m));
    rewind(f);
    size_t n = fread(full, 1, sizeof full - 1, f);
    full[n] = '\0';
    fclose(f);
    assert_string_equal(buf, full);
    NNF_ASSERT_OK(nnf_snprint(buf, 8, m, &needed));
    assert_string_equal(buf, "tensor(");
    assert_int_equal(needed, strlen(full));
    NNF_TEST_FREE(t, m, b, one);
}

/* ---- ops.h ---- */

static void test_ops_renames(void **state)
{
    (void)state;
    enum { N = 37 };
    float x[N], g[N], want[N];
    nnf_test_fill_uniform(x, N, 11, -2.0f, 2.0f);
    nnf_test_fill_uniform(g, N, 12, -1.0f, 1.0f);
    x[3] = 0.0f;
    x[4] = -0.0f;
    x[5] = NAN;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = NULL, *gr = NULL, *r = NULL;
        NNF_ASSERT_OK(nnf_from_data(&a, x, NNF_SHAPE(N)));
        NNF_ASSERT_OK(nnf_from_data(&gr, g, NNF_SHAPE(N)));
        /* nnf_rsub_scalar(out, s, a): s - a */
        NNF_ASSERT_OK(nnf_rsub_scalar(&r, 1.5f, a));
        for (int i = 0; i < N; i++)
            want[i] = 1.5f - x[i];
        nnf_test_assert_bits_equal(nnf_tensor_data(r), want, N);
        /* nnf_rdiv_scalar(out, s, a): s / a, into the same tensor */
        NNF_ASSERT_OK(nnf_rdiv_scalar(&r, -3.0f, a));
        for (int i = 0; i < N; i++)
            want[i] = -3.0f / x[i];
        nnf_test_assert_bits_equal(nnf_tensor_data(r), want, N);
        /* nnf_relu_grad(out, x, grad): x <= 0 ? +0 : grad (a NaN x passes grad) */
        NNF_ASSERT_OK(nnf_relu_grad(&r, a, gr));
        for (int i = 0; i < N; i++)
            want[i] = x[i] <= 0.0f ? 0.0f : g[i];
        nnf_test_assert_bits_equal(nnf_tensor_data(r), want, N);
        nnf_tensor_free(a);
        nnf_tensor_free(gr);
        nnf_tensor_free(r);
    }
    nnf_test_restore_isa();
}

/* ---- linalg.h ---- */

/* nnf_addmm(c, beta, alpha, a, b) is c = beta * c + alpha * (a @ b): beta first. */
static void test_addmm(void **state)
{
    (void)state;
    enum { M = 5, K = 7, N = 6 };
    float a[M * K], b[K * N], c0[M * N], want[M * N];
    nnf_test_fill_uniform(a, M * K, 21, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, K * N, 22, -1.0f, 1.0f);
    nnf_test_fill_uniform(c0, M * N, 23, -1.0f, 1.0f);
    const float beta = 0.25f, alpha = -3.0f;
    double dwant[M * N];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++)
                acc += (double)a[i * K + k] * b[k * N + j];
            dwant[i * N + j] = beta * (double)c0[i * N + j] + alpha * acc;
        }
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *ta = NULL, *tb = NULL, *c = NULL, *c2 = NULL;
        NNF_ASSERT_OK(nnf_from_data(&ta, a, NNF_SHAPE(M, K)));
        NNF_ASSERT_OK(nnf_from_data(&tb, b, NNF_SHAPE(K, N)));
        NNF_ASSERT_OK(nnf_from_data(&c, c0, NNF_SHAPE(M, N)));
        NNF_ASSERT_OK(nnf_from_data(&c2, c0, NNF_SHAPE(M, N)));
        NNF_ASSERT_OK(nnf_addmm(c, beta, alpha, ta, tb));
        nnf_test_assert_close(nnf_tensor_data(c), dwant, M * N, 1e-5, 1e-5);
        NNF_ASSERT_OK(nnf_gemm(c2, ta, tb, alpha, beta));
        memcpy(want, nnf_tensor_data(c2), sizeof want);
        nnf_test_assert_bits_equal(nnf_tensor_data(c), want, M * N);
        NNF_ASSERT_FAILS(nnf_addmm(c, beta, alpha, tb, tb), NNF_ERR_SHAPE);
        assert_true(strncmp(nnf_last_error(), "nnf_addmm: ", 11) == 0);
        NNF_TEST_FREE(ta, tb, c, c2);
    }
    nnf_test_restore_isa();
}

/* ---- data.h ---- */

/* nnf_loader_batch(loader, i, &xb, &yb): batch i, the rows the order says. */
static void test_loader_batch(void **state)
{
    (void)state;
    nnf_tensor *x = NULL, *x2 = NULL, *y = NULL;
    NNF_ASSERT_OK(nnf_arange(&x, 0, 20, 1));
    NNF_ASSERT_OK(nnf_view(&x2, x, NNF_SHAPE(10, 2)));
    NNF_ASSERT_OK(nnf_from_data_typed(&y, (const int64_t[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                                      NNF_SHAPE(10), NNF_I64));
    nnf_loader *l = NULL;
    NNF_ASSERT_OK(nnf_loader_new(&l, x2, y, 4, 7));
    NNF_ASSERT_OK(nnf_loader_shuffle(l));
    for (int64_t i = 0; i < nnf_loader_len(l); i++) {
        nnf_tensor *xb = NULL, *yb = NULL;
        NNF_ASSERT_OK(nnf_loader_batch(l, i, &xb, &yb));
        int64_t rows = nnf_tensor_shape(xb)[0];
        assert_int_equal(rows, i < 2 ? 4 : 2);
        const float *px = nnf_tensor_data(xb);
        const int64_t *py = nnf_tensor_raw(yb);
        for (int64_t r = 0; r < rows; r++) {   /* row k of x is (2k, 2k + 1), its label k */
            assert_true(px[2 * r] == 2.0f * (float)py[r]);
            assert_true(px[2 * r + 1] == 2.0f * (float)py[r] + 1.0f);
        }
    }
    nnf_tensor *xb = NULL;
    NNF_ASSERT_FAILS(nnf_loader_batch(l, 3, &xb, NULL), NNF_ERR_INDEX);
    assert_string_equal(nnf_last_error(), "nnf_loader_batch: batch 3 is out of range for 3 batches");
    nnf_loader_free(l);
    nnf_tensor_free(x);
    nnf_tensor_free(x2);
    nnf_tensor_free(y);
}

/* ---- nn.h, conv.h ---- */

static void assert_same_bits(const nnf_tensor *a, const nnf_tensor *b)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nnf_tensor_numel(a), nnf_tensor_numel(b));
    assert_memory_equal(nnf_tensor_const_data(a), nnf_tensor_const_data(b),
                        (size_t)nnf_tensor_numel(a) * sizeof(float));
}

static nnf_tensor *uniform(int ndim, const int64_t *shape, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, -1, 1);
    return t;
}

/* Twin tensors: the same values, gradients of their own. */
static void twins(nnf_tensor **a, nnf_tensor **b, int ndim, const int64_t *shape, uint64_t seed)
{
    *a = uniform(ndim, shape, seed);
    *b = uniform(ndim, shape, seed);
}

static void set_grad(nnf_tensor *t, const nnf_tensor *g)
{
    nnf_tensor *tg = NULL;
    NNF_ASSERT_OK(nnf_tensor_grad_get(t, &tg));
    NNF_ASSERT_OK(nnf_copy(tg, g));
}

static void assert_same_report(const nnf_gradcheck_report *a, const nnf_gradcheck_report *b)
{
    assert_int_equal(a->checked, b->checked);
    assert_int_equal(a->skipped, b->skipped);
    assert_int_equal(a->failed, b->failed);
    assert_memory_equal(&a->max_abs_err, &b->max_abs_err, sizeof a->max_abs_err);
}

/* Two models alike: linear 4 -> 3 from the same seed, ReLU, MSE. */
static nnf_model *model_of(uint64_t seed, int old)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_model *m = NULL;
    nnf_loss *mse = NULL;
    nnf_layer *lin = NULL, *relu = NULL;
    NNF_ASSERT_OK(nnf_loss_mse(&mse));
    NNF_ASSERT_OK(nnf_model_new(&m, mse));
    if (old)
        NNF_ASSERT_OK(nnf_layer_lin(&lin, 4, 3, NNF_INIT_KAIMING, &rng));
    else
        NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 4, 3, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, lin));
    NNF_ASSERT_OK(nnf_layer_relu(&relu));
    NNF_ASSERT_OK(nnf_model_add(m, relu));
    return m;
}

static void test_nn_renames(void **state)
{
    (void)state;
    /* nnf_init_weight(w, init, rng) */
    nnf_tensor *w1, *w2;
    twins(&w1, &w2, NNF_SHAPE(3, 4), 1);
    nnf_rng r1, r2;
    nnf_rng_seed(&r1, 7);
    nnf_rng_seed(&r2, 7);
    NNF_ASSERT_OK(nnf_init_weight(w1, NNF_INIT_XAVIER, &r1));
    NNF_ASSERT_OK(nnf_weight_init(w2, &r2, NNF_INIT_XAVIER));
    assert_same_bits(w1, w2);
    NNF_ASSERT_FAILS(nnf_init_weight(NULL, NNF_INIT_XAVIER, &r1), NNF_ERR_NULL);
    assert_true(strncmp(nnf_last_error(), "nnf_init_weight: ", 17) == 0);

    /* nnf_lin(y, x, w, b) and nnf_lin_backward(x, y, w, b, input_grad) */
    nnf_tensor *x1, *x2, *b1, *b2, *gy, *y1 = NULL, *y2 = NULL;
    twins(&x1, &x2, NNF_SHAPE(5, 4), 2);
    twins(&b1, &b2, NNF_SHAPE(3), 3);
    gy = uniform(NNF_SHAPE(5, 3), 4);
    NNF_ASSERT_OK(nnf_lin(&y1, x1, w1, b1));
    NNF_ASSERT_OK(nnf_linear(&y2, x2, w2, b2));
    assert_same_bits(y1, y2);
    set_grad(y1, gy);
    set_grad(y2, gy);
    NNF_ASSERT_OK(nnf_lin_backward(x1, y1, w1, b1, 1));
    NNF_ASSERT_OK(nnf_linear_backward(x2, y2, w2, b2, 1));
    assert_same_bits(nnf_tensor_grad(x1), nnf_tensor_grad(x2));
    assert_same_bits(nnf_tensor_grad(w1), nnf_tensor_grad(w2));
    assert_same_bits(nnf_tensor_grad(b1), nnf_tensor_grad(b2));

    /* nnf_layer_lin(out, n_in, n_out, init, rng) and nnf_layer_forward(layer, in, out) */
    nnf_layer *l1 = NULL, *l2 = NULL;
    nnf_rng_seed(&r1, 8);
    nnf_rng_seed(&r2, 8);
    NNF_ASSERT_OK(nnf_layer_lin(&l1, 4, 3, NNF_INIT_KAIMING, &r1));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &r2, 4, 3, NNF_INIT_KAIMING));
    assert_same_bits(nnf_layer_parameter(l1, 0), nnf_layer_parameter(l2, 0));
    nnf_tensor *o1 = NULL, *o2 = NULL;
    NNF_ASSERT_OK(nnf_layer_forward(l1, x1, &o1));
    NNF_ASSERT_OK(nnf_layer_call(l2, &o2, x2));
    assert_same_bits(o1, o2);
    /* nnf_gradcheck_layer(layer, x, check_input, opts, report) */
    nnf_gradcheck_report rep1, rep2;
    NNF_ASSERT_OK(nnf_gradcheck_layer(l1, x1, 1, NULL, &rep1));
    NNF_ASSERT_OK(nnf_layer_gradcheck(l2, &rep2, x2, NULL, 1));
    assert_same_report(&rep1, &rep2);

    /* nnf_loss_forward(loss, pred, targ, value) and nnf_gradcheck_loss */
    nnf_loss *s1 = NULL, *s2 = NULL;
    NNF_ASSERT_OK(nnf_loss_mse(&s1));
    NNF_ASSERT_OK(nnf_loss_mse(&s2));
    float v1 = 0, v2 = 1;
    NNF_ASSERT_OK(nnf_loss_forward(s1, y1, gy, &v1));
    NNF_ASSERT_OK(nnf_loss_call(s2, &v2, y2, gy));
    assert_memory_equal(&v1, &v2, sizeof v1);
    NNF_ASSERT_OK(nnf_gradcheck_loss(s1, y1, gy, NULL, &rep1));
    NNF_ASSERT_OK(nnf_loss_gradcheck(s2, &rep2, y2, gy, NULL));
    assert_same_report(&rep1, &rep2);

    /* nnf_model_forward(model, x, targ, loss), nnf_model_predict(model, x, out),
     * nnf_gradcheck_model */
    nnf_model *m1 = model_of(9, 1), *m2 = model_of(9, 0);
    nnf_tensor *t3 = uniform(NNF_SHAPE(5, 3), 5);
    NNF_ASSERT_OK(nnf_model_forward(m1, x1, t3, &v1));
    NNF_ASSERT_OK(nnf_model_call(m2, &v2, x2, t3));
    assert_memory_equal(&v1, &v2, sizeof v1);
    NNF_ASSERT_OK(nnf_model_predict(m1, x1, &o1));
    NNF_ASSERT_OK(nnf_model_infer(m2, &o2, x2));
    assert_same_bits(o1, o2);
    NNF_ASSERT_OK(nnf_gradcheck_model(m1, x1, t3, NULL, &rep1));
    NNF_ASSERT_OK(nnf_model_gradcheck(m2, &rep2, x2, t3, NULL));
    assert_same_report(&rep1, &rep2);
    NNF_ASSERT_FAILS(nnf_model_predict(m1, NULL, &o1), NNF_ERR_NULL);
    assert_true(strncmp(nnf_last_error(), "nnf_model_predict: ", 19) == 0);

    nnf_model_free(m1);
    nnf_model_free(m2);
    nnf_loss_free(s1);
    nnf_loss_free(s2);
    nnf_layer_free(l1);
    nnf_layer_free(l2);
    NNF_TEST_FREE(w1, w2, x1, x2, b1, b2, gy, y1, y2, t3);
}

static void test_conv_renames(void **state)
{
    (void)state;
    nnf_tensor *x1, *x2, *w1, *w2, *b1, *b2, *o1 = NULL, *o2 = NULL;
    twins(&x1, &x2, NNF_SHAPE(2, 3, 6, 5), 11);
    twins(&w1, &w2, NNF_SHAPE(4, 3, 3, 3), 12);
    twins(&b1, &b2, NNF_SHAPE(4), 13);
    /* nnf_conv2d(out, x, w, b, stride, padding) */
    NNF_ASSERT_OK(nnf_conv2d(&o1, x1, w1, b1, 2, 1));
    NNF_ASSERT_OK(nnf_conv2d_nchw(&o2, x2, w2, b2, 2, 1));
    assert_same_bits(o1, o2);
    /* nnf_conv2d_backward(dout, x, w, b, stride, padding, need_x_grad): dout given, where
     * the new one reads y's gradient */
    nnf_tensor *dout = uniform(nnf_tensor_ndim(o1), nnf_tensor_shape(o1), 14);
    set_grad(o2, dout);
    NNF_ASSERT_OK(nnf_conv2d_backward(dout, x1, w1, b1, 2, 1, 1));
    NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x2, o2, w2, b2, 2, 1, 1));
    assert_same_bits(nnf_tensor_grad(x1), nnf_tensor_grad(x2));
    assert_same_bits(nnf_tensor_grad(w1), nnf_tensor_grad(w2));
    assert_same_bits(nnf_tensor_grad(b1), nnf_tensor_grad(b2));
    NNF_ASSERT_FAILS(nnf_conv2d_backward(x1, x1, w1, NULL, 1, 0, 1), NNF_ERR_SHAPE);
    assert_true(strncmp(nnf_last_error(), "nnf_conv2d_backward: dout ", 26) == 0);
    /* nnf_layer_conv2d(out, c_in, c_out, kernel, stride, padding, init, rng) */
    nnf_rng r1, r2;
    nnf_rng_seed(&r1, 15);
    nnf_rng_seed(&r2, 15);
    nnf_layer *l1 = NULL, *l2 = NULL;
    NNF_ASSERT_OK(nnf_layer_conv2d(&l1, 3, 4, 3, 1, 1, NNF_INIT_KAIMING, &r1));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l2, &r2, 3, 4, 3, 1, 1, NNF_INIT_KAIMING));
    assert_same_bits(nnf_layer_parameter(l1, 0), nnf_layer_parameter(l2, 0));
    nnf_layer_free(l1);
    nnf_layer_free(l2);
    NNF_TEST_FREE(x1, x2, w1, w2, b1, b2, o1, o2, dout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_renames),
        cmocka_unit_test(test_ops_renames),
        cmocka_unit_test(test_addmm),
        cmocka_unit_test(test_loader_batch),
        cmocka_unit_test(test_nn_renames),
        cmocka_unit_test(test_conv_renames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
