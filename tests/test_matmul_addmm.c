/* nnf_gemm (c = alpha*(a @ b) + beta*c) against a double-precision reference: alpha and
 * beta (beta = 0 ignores NaN in c), transposed/offset/strided views for a, b and c, c
 * aliasing an operand, the nn layer's two uses (y = x @ w.t() + b, w.g += g.t() @ x),
 * errors leaving c untouched, allocation failures, and no copies of transposed views. */
#include "test_linalg_ref.h"

/* beta*c + alpha*(a@b) in doubles; mag bounds the rounding of each element. */
static void ref_addmm(const nnf_tensor *c, float beta, float alpha, const nnf_tensor *a,
                      const nnf_tensor *b, double **want, double **mag)
{
    int64_t m = nnf_tensor_shape(a)[0], k = nnf_tensor_shape(a)[1], n = nnf_tensor_shape(b)[1];
    double *ga = ref_gather(a), *gb = ref_gather(b), *gc = ref_gather(c);
    *want = calloc((size_t)(m * n + 1), sizeof(double));
    *mag = calloc((size_t)(m * n + 1), sizeof(double));
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0, g = 0;
            for (int64_t p = 0; p < k; p++) {
                s += ga[i * k + p] * gb[p * n + j];
                g += fabs(ga[i * k + p] * gb[p * n + j]);
            }
            double cij = beta == 0.0f ? 0.0 : beta * gc[i * n + j];
            (*want)[i * n + j] = alpha * s + cij;
            (*mag)[i * n + j] = fabs(alpha) * g + fabs(cij);
        }
    free(ga);
    free(gb);
    free(gc);
}

static void check_addmm(nnf_tensor *c, float beta, float alpha, const nnf_tensor *a,
                        const nnf_tensor *b)
{
    double *want, *mag;
    ref_addmm(c, beta, alpha, a, b, &want, &mag);
    NNF_ASSERT_OK(nnf_gemm(c, a, b, alpha, beta));
    ref_assert_near(c, want, mag, nnf_tensor_shape(a)[1] + 2);
    free(want);
    free(mag);
}

static nnf_tensor *filled(int ndim, const int64_t *shape, float value)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_full(&t, ndim, shape, value));
    return t;
}

static void test_scalars_and_sizes(void **state)
{
    (void)state;
    static const int64_t sizes[] = {0, 1, 3, 17, 33};
    static const float ab[][2] = {{0.0f, 1.0f}, {1.0f, 1.0f}, {-2.0f, 0.5f}, {0.0f, 2.0f},
                                  {1.0f, 0.0f}};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < 5; j++) {
                int64_t m = sizes[i], n = sizes[j], k = sizes[(i + 2 * j) % 5];
                nnf_tensor *a = ref_rand(NNF_SHAPE(m, k), i), *b = ref_rand(NNF_SHAPE(k, n), j);
                for (size_t s = 0; s < 5; s++) {
                    float beta = ab[s][0], alpha = ab[s][1];
                    nnf_tensor *c = beta == 0.0f ? filled(NNF_SHAPE(m, n), NAN)
                                                 : ref_rand(NNF_SHAPE(m, n), 7 + s);
                    check_addmm(c, beta, alpha, a, b);
                    nnf_tensor_free(c);
                }
                nnf_tensor_free(a);
                nnf_tensor_free(b);
            }
    }
    nnf_test_restore_isa();
}

/* Views for a, b and c: transposes (TRANS), an offset window (ld > n), a strided c
 * (temporary + copy), c aliasing a. */
static void test_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *at = ref_rand(NNF_SHAPE(7, 6), 1), *bt = ref_rand(NNF_SHAPE(5, 7), 2);
        nnf_tensor *a = NULL, *b = NULL, *store = ref_rand(NNF_SHAPE(5, 6), 3);
        nnf_tensor *ct = NULL, *wide = ref_rand(NNF_SHAPE(6, 12), 4), *cw = NULL, *cs = NULL;
        NNF_ASSERT_OK(nnf_t(&a, at));              /* 6x7, strides (1, 6) */
        NNF_ASSERT_OK(nnf_t(&b, bt));              /* 7x5, strides (1, 7) */
        NNF_ASSERT_OK(nnf_t(&ct, store));          /* 6x5, strides (1, 6) */
        NNF_ASSERT_OK(nnf_narrow(&cw, wide, 1, 3, 5));
        NNF_ASSERT_OK(nnf_slice(&cs, wide, 1, 0, 10, 2));
        check_addmm(ct, 1.0f, 1.0f, a, b);
        check_addmm(cw, 0.5f, -1.0f, a, b);
        check_addmm(cs, 1.0f, 2.0f, a, b);
        check_addmm(ct, 0.0f, 1.0f, a, b);

        nnf_tensor *sq = ref_rand(NNF_SHAPE(6, 6), 5), *sq2 = ref_rand(NNF_SHAPE(6, 6), 6);
        check_addmm(sq, 1.0f, 1.0f, sq, sq2);    /* c is a */
        check_addmm(sq, 1.0f, 1.0f, sq2, sq);    /* c is b */

        NNF_TEST_FREE(at, bt, a, b, store, ct, wide, cw, cs, sq, sq2);
    }
    nnf_test_restore_isa();
}

/* The linear layer: y = x @ w.t() + b, then w.g += g.t() @ x accumulated twice. */
static void test_linear_layer(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = ref_rand(NNF_SHAPE(200, 100), 1), *w = ref_rand(NNF_SHAPE(50, 100), 2);
        nnf_tensor *bias = ref_rand(NNF_SHAPE(50), 3), *wt = NULL, *y = NULL;
        NNF_ASSERT_OK(nnf_t(&wt, w));
        NNF_ASSERT_OK(nnf_empty(&y, NNF_SHAPE(200, 50)));
        NNF_ASSERT_OK(nnf_copy(y, bias));
        check_addmm(y, 1.0f, 1.0f, x, wt);

        nnf_tensor *g = ref_rand(NNF_SHAPE(200, 50), 4), *gt = NULL;
        nnf_tensor *wg = filled(NNF_SHAPE(50, 100), 0.0f);
        NNF_ASSERT_OK(nnf_t(&gt, g));
        check_addmm(wg, 1.0f, 1.0f, gt, x);
        check_addmm(wg, 1.0f, 1.0f, gt, x);

        NNF_TEST_FREE(x, w, bias, wt, y, g, gt, wg);
    }
    nnf_test_restore_isa();
}

/* Transposed views of a, b and c need no memory beyond sgemm's own packing buffers
 * (c = x @ w.t() with c transposed is computed as c^T = w @ x^T). */
static void test_no_copies(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = ref_rand(NNF_SHAPE(5, 784), 1), *w = ref_rand(NNF_SHAPE(10, 784), 2);
        nnf_tensor *wt = NULL, *c = ref_rand(NNF_SHAPE(10, 5), 3), *ct = NULL;
        NNF_ASSERT_OK(nnf_t(&wt, w));
        NNF_ASSERT_OK(nnf_t(&ct, c));
        double *want, *mag;
        ref_addmm(ct, 1.0f, 1.0f, x, wt, &want, &mag);
        nnf__alloc_fail_after(ref_sgemm_allocations(NNF_NO_TRANS, NNF_TRANS, 10, 5, 784));
        nnf_status st = nnf_gemm(ct, x, wt, 1.0f, 1.0f);
        nnf__alloc_fail_after(0);
        NNF_ASSERT_OK(st);
        ref_assert_near(ct, want, mag, 786);
        free(want);
        free(mag);
        NNF_TEST_FREE(x, w, wt, c, ct);
    }
    nnf_test_restore_isa();
}

static void errors_once(void)
{
    nnf_tensor *c = filled(NNF_SHAPE(5, 10), 3.0f), *c9 = filled(NNF_SHAPE(5, 9), 3.0f);
    nnf_tensor *a = ref_rand(NNF_SHAPE(5, 3), 1), *b = ref_rand(NNF_SHAPE(3, 10), 2);
    nnf_tensor *b4 = ref_rand(NNF_SHAPE(4, 10), 3), *a3 = ref_rand(NNF_SHAPE(5, 3, 1), 4);
    nnf_tensor *v = ref_rand(NNF_SHAPE(10), 5);
    NNF_ASSERT_FAILS(nnf_gemm(c, a, b4, 1.0f, 1.0f), NNF_ERR_SHAPE);
    ref_assert_message("mat1 and mat2 shapes cannot be multiplied (5x3 and 4x10)");
    NNF_ASSERT_FAILS(nnf_gemm(c, a3, b, 1.0f, 1.0f), NNF_ERR_SHAPE);
    ref_assert_message("mat1 must be a matrix, got 3-D tensor");
    NNF_ASSERT_FAILS(nnf_gemm(c, a, v, 1.0f, 1.0f), NNF_ERR_SHAPE);
    ref_assert_message("mat2 must be a matrix, got 1-D tensor");
    NNF_ASSERT_FAILS(nnf_gemm(v, a, b, 1.0f, 1.0f), NNF_ERR_SHAPE);
    ref_assert_message("self must be a matrix, got 1-D tensor");
    NNF_ASSERT_FAILS(nnf_gemm(c9, a, b, 1.0f, 1.0f), NNF_ERR_SHAPE);
    ref_assert_message("Bad in-place call: input tensor size [5, 9] and output tensor size "
                       "[5, 10] should match");
    NNF_ASSERT_FAILS(nnf_gemm(NULL, a, b, 1.0f, 1.0f), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_gemm(c, NULL, b, 1.0f, 1.0f), NNF_ERR_NULL);
    double *g = ref_gather(c);
    for (int i = 0; i < 50; i++)
        assert_true(g[i] == 3.0);
    free(g);
    NNF_TEST_FREE(c, c9, a, b, b4, a3, v);
}

static void test_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        errors_once();
    }
    nnf_test_restore_isa();
}

/* Each allocation failing in turn (copies of a strided a and b, c's temporary):
 * NNF_ERR_NOMEM, c unchanged, nothing leaked. */
static void alloc_failure_once(void)
{
    nnf_tensor *wa = ref_rand(NNF_SHAPE(4, 12), 1), *wb = ref_rand(NNF_SHAPE(6, 10), 2);
    nnf_tensor *a = NULL, *b = NULL, *wc = NULL, *c = NULL;
    NNF_ASSERT_OK(nnf_slice(&a, wa, 1, 0, 12, 2));     /* 4x6, col stride 2 */
    NNF_ASSERT_OK(nnf_slice(&b, wb, 1, 0, 10, 2));     /* 6x5 */
    for (long n = 1;; n++) {
        wc = ref_rand(NNF_SHAPE(4, 15), 3);
        NNF_ASSERT_OK(nnf_slice(&c, wc, 1, 0, 15, 3)); /* 4x5, col stride 3 */
        double *before = ref_gather(c), *want, *mag;
        ref_addmm(c, 1.0f, 1.0f, a, b, &want, &mag);
        long live = nnf__alloc_live();
        nnf__alloc_fail_after(n);
        nnf_status st = nnf_gemm(c, a, b, 1.0f, 1.0f);
        nnf__alloc_fail_after(0);
        assert_int_equal(nnf__alloc_live(), live);
        if (st == NNF_OK) {
            ref_assert_near(c, want, mag, 8);
        } else {
            assert_int_equal(st, NNF_ERR_NOMEM);
            double *after = ref_gather(c);
            assert_memory_equal(before, after, 20 * sizeof(double));
            free(after);
        }
        free(before);
        free(want);
        free(mag);
        nnf_tensor_free(c);
        nnf_tensor_free(wc);
        if (st == NNF_OK)
            break;
        assert_true(n < 100);
    }
    nnf_tensor_free(wa);
    nnf_tensor_free(wb);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        alloc_failure_once();
    }
    nnf_test_restore_isa();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_and_sizes),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_linear_layer),
        cmocka_unit_test(test_no_copies),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
