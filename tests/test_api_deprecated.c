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
    nnf_tensor *list[] = {t, m, b, one};
    for (size_t i = 0; i < sizeof list / sizeof *list; i++)
        nnf_tensor_free(list[i]);
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
        nnf_tensor *list[] = {ta, tb, c, c2};
        for (size_t i = 0; i < sizeof list / sizeof *list; i++)
            nnf_tensor_free(list[i]);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_renames),
        cmocka_unit_test(test_ops_renames),
        cmocka_unit_test(test_addmm),
        cmocka_unit_test(test_loader_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
