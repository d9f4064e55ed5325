/* Prepacked B (nnf_pack_b, nnf_sgemm_packed_b, nnf_matmul_prepacked): bit for bit the
 * unpacked nnf_sgemm's result for every m, both transpositions, every ISA (also one
 * forced after packing) and 1 or 3 threads; close to a double reference; argument
 * errors leave C alone. And batch invariance: row i of x @ W^T is bitwise the same for
 * any batch and position, through every path of nnf_sgemm and the prepacked one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"
#include "nnf_test.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"

static float *filled(size_t n, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    nnf_test_fill_uniform(x, n, seed, -1.0f, 1.0f);
    return x;
}

/* op(B) for a k x n product stored as tb says, row stride ld. */
static size_t ld_of(nnf_trans t, size_t rows, size_t cols)
{
    (void)rows;
    return (t == NNF_TRANS ? rows : cols) + 3;   /* never the minimal stride */
}

/* Threads for later products, and every product big enough to use them. */
static void use_threads(int n)
{
    nnf_test_threads(n);
    nnf__sgemm_set_parallel_min_flops(n > 1 ? 0.0 : -1.0);
}

typedef struct {
    size_t m, n, k;
    nnf_trans ta, tb;
    float alpha, beta;
} shape;

static void check_shape(const shape *s)
{
    size_t lda = ld_of(s->ta, s->m, s->k), ldb = ld_of(s->tb, s->k, s->n), ldc = s->n + 2;
    size_t na = (s->ta == NNF_TRANS ? s->k : s->m) * lda;
    size_t nb = (s->tb == NNF_TRANS ? s->n : s->k) * ldb;
    float *a = filled(na, 1 + s->m), *b = filled(nb, 2 + s->n), *c0 = filled(s->m * ldc, 3);
    float *want = malloc(s->m * ldc * sizeof *want), *got = malloc(s->m * ldc * sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    /* The unpacked product, scalar kernels, one thread: what every other run must give. */
    nnf_isa start = nnf_isa_active();
    NNF_ASSERT_OK(nnf_isa_force(NNF_ISA_SCALAR));
    use_threads(1);
    memcpy(want, c0, s->m * ldc * sizeof *want);
    NNF_ASSERT_OK(nnf_sgemm(s->ta, s->tb, s->m, s->n, s->k, s->alpha, a, lda, b, ldb, s->beta,
                            want, ldc));
    for (size_t i = 0; i < s->m; i++)
        for (size_t j = 0; j < s->n; j++) {
            double acc = 0;
            for (size_t p = 0; p < s->k; p++) {
                double x = s->ta == NNF_TRANS ? a[p * lda + i] : a[i * lda + p];
                double y = s->tb == NNF_TRANS ? b[j * ldb + p] : b[p * ldb + j];
                acc += x * y;
            }
            double r = s->alpha * acc + (s->beta != 0.0f ? s->beta * c0[i * ldc + j] : 0.0);
            assert_true(fabs(want[i * ldc + j] - r) <= 1e-5 * (double)(s->k + 1) + 1e-6);
        }
    NNF_FOR_EACH_ISA(pack_isa) {
        nnf_packed_matrix *p = NULL;
        NNF_ASSERT_OK(nnf_pack_b(&p, s->tb, s->k, s->n, b, ldb));
        assert_true(nnf_packed_k(p) == s->k && nnf_packed_n(p) == s->n);
        NNF_FOR_EACH_ISA(run_isa) {
            for (int threads = 1; threads <= 3; threads += 2) {
                use_threads(threads);
                memcpy(got, c0, s->m * ldc * sizeof *got);
                NNF_ASSERT_OK(nnf_sgemm_packed_b(s->ta, s->m, s->n, s->k, s->alpha, a, lda, p,
                                                 s->beta, got, ldc));
                nnf_test_assert_bits_equal(got, want, s->m * ldc);
            }
        }
        NNF_ASSERT_OK(nnf_isa_force(pack_isa));
        nnf_packed_free(p);
    }
    use_threads(1);
    NNF_ASSERT_OK(nnf_isa_force(start));
    free(a);
    free(b);
    free(c0);
    free(want);
    free(got);
}

static void test_same_bits_as_sgemm(void **state)
{
    (void)state;
    static const size_t nk[][2] = {{10, 784}, {512, 784}, {1, 5}, {50, 100}, {49, 385},
                                   {97, 769}, {3, 1}, {50, 1}, {1, 50}};
    static const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64};
    for (size_t i = 0; i < sizeof nk / sizeof nk[0]; i++)
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
            /* The big layer only at the batch sizes that matter for it. */
            if (nk[i][0] == 512 && ms[mi] != 1 && ms[mi] != 8)
                continue;
            for (int t = 0; t < 4; t++) {
                shape s = {ms[mi], nk[i][0], nk[i][1], t & 1 ? NNF_TRANS : NNF_NO_TRANS,
                           t & 2 ? NNF_NO_TRANS : NNF_TRANS, 1.0f, 0.0f};
                if (t == 3) {
                    s.alpha = 0.5f;
                    s.beta = 2.0f;
                }
                check_shape(&s);
            }
        }
}

/* A batch taller than MR runs as the packed path's job over the handle's panels: its B
 * blocks, its KC levels (k = 1000: two and a short one) and, for a transposed A, its A
 * packing. Forced B blocks of one, two and three panels (the B block of the running
 * table, whole panels of the packing one) and forced A blocks of 8 and 16 rows leave
 * the bits alone. */
static void test_blocked_job(void **state)
{
    (void)state;
    static const int cols[] = {40, 100, 150};
    static const size_t mk[][2] = {{16, 500}, {40, 1000}};
    for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
        nnf__blocking_force(0, cols[ci]);
        for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++)
            for (int t = 0; t < 4; t++) {
                shape s = {mk[i][0], 150, mk[i][1], t & 1 ? NNF_TRANS : NNF_NO_TRANS,
                           t & 2 ? NNF_NO_TRANS : NNF_TRANS, 1.0f, t == 3 ? 0.5f : 0.0f};
                check_shape(&s);
            }
    }
    static const int rows[] = {8, 16};
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
        nnf__blocking_force(rows[ri], 0);
        shape s = {40, 150, 100, NNF_TRANS, NNF_NO_TRANS, 1.0f, 0.5f};
        check_shape(&s);
    }
    nnf__blocking_force(0, 0);
}

/* The post-ops (bias, ReLU) through every way the handle runs its panels (run_rect, the
 * packed path's job, B read as a plain matrix, panel by panel, two panels as one tile,
 * with and without the sparse tail), against nnf_sgemm's fused product, at every ISA. */
static void test_fused_routes(void **state)
{
    (void)state;
    static const size_t ms[] = {1, 7, 9, 40, 64};
    static const size_t ns[] = {10, 48, 50, 53, 64, 100};
    const size_t k = 70;
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
            const size_t m = ms[mi], n = ns[ni], ldc = n + 1;
            float *a = filled(m * k, 5), *b = filled(k * n, 6), *bias = filled(n, 7);
            float *want = filled(m * ldc, 8), *got = malloc(m * ldc * sizeof *got);
            assert_non_null(got);
            nnf__sgemm_post post = {bias, 1, 1};
            NNF_FOR_EACH_ISA(isa) {
                nnf_packed_matrix *p = NULL;
                NNF_ASSERT_OK(nnf_pack_b(&p, NNF_NO_TRANS, k, n, b, n));
                NNF_ASSERT_OK(nnf__sgemm_fused(NNF__SGEMM_KC, NNF_NO_TRANS, NNF_NO_TRANS, m, n,
                                               k, 1.0f, a, k, b, n, 1.0f, want, ldc, &post));
                memcpy(got, want, m * ldc * sizeof *got);
                for (size_t i = 0; i < m; i++)   /* what the bias overwrites: anything */
                    for (size_t j = 0; j < n; j++)
                        got[i * ldc + j] = -1.0f;
                NNF_ASSERT_OK(nnf__sgemm_packed_b_fused(NNF_NO_TRANS, m, n, k, 1.0f, a, k, p,
                                                        1.0f, got, ldc, &post));
                nnf_test_assert_bits_equal(got, want, m * ldc);
                nnf_packed_free(p);
            }
            free(a);
            free(b);
            free(bias);
            free(want);
            free(got);
        }
}

static void test_errors(void **state)
{
    (void)state;
    float b[12] = {0}, a[8] = {0}, c[6] = {7, 7, 7, 7, 7, 7};
    nnf_packed_matrix *p = NULL;
    NNF_ASSERT_FAILS(nnf_pack_b(NULL, NNF_NO_TRANS, 4, 3, b, 3), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_pack_b(&p, (nnf_trans)7, 4, 3, b, 3), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_pack_b(&p, NNF_NO_TRANS, 4, 3, b, 2), NNF_ERR_STRIDE);
    assert_non_null(strstr(nnf_last_error(), "nnf_pack_b: ldb (2)"));
    NNF_ASSERT_FAILS(nnf_pack_b(&p, NNF_NO_TRANS, 4, 3, NULL, 3), NNF_ERR_NULL);
    assert_null(p);
    NNF_ASSERT_OK(nnf_pack_b(&p, NNF_NO_TRANS, 4, 3, b, 3));
    NNF_ASSERT_FAILS(nnf_sgemm_packed_b(NNF_NO_TRANS, 2, 3, 5, 1.0f, a, 5, p, 0.0f, c, 3),
                     NNF_ERR_SHAPE);
    assert_non_null(strstr(nnf_last_error(), "nnf_sgemm_packed_b: the packed B is 4 x 3"));
    NNF_ASSERT_FAILS(nnf_sgemm_packed_b(NNF_NO_TRANS, 2, 3, 4, 1.0f, a, 3, p, 0.0f, c, 3),
                     NNF_ERR_STRIDE);
    NNF_ASSERT_FAILS(nnf_sgemm_packed_b(NNF_NO_TRANS, 2, 3, 4, 1.0f, a, 4, p, 0.0f, c, 2),
                     NNF_ERR_STRIDE);
    NNF_ASSERT_FAILS(nnf_sgemm_packed_b(NNF_NO_TRANS, 2, 3, 4, 1.0f, a, 4, NULL, 0.0f, c, 3),
                     NNF_ERR_NULL);
    for (int i = 0; i < 6; i++)
        assert_true(c[i] == 7.0f);
    /* k == 0 reads nothing and scales C, as nnf_sgemm does. */
    nnf_packed_matrix *empty = NULL;
    NNF_ASSERT_OK(nnf_pack_b(&empty, NNF_NO_TRANS, 0, 3, NULL, 3));
    NNF_ASSERT_OK(nnf_sgemm_packed_b(NNF_NO_TRANS, 2, 3, 0, 1.0f, NULL, 1, empty, 0.5f, c, 3));
    for (int i = 0; i < 6; i++)
        assert_true(c[i] == 3.5f);
    nnf_packed_free(empty);
    nnf_packed_free(p);
    nnf_packed_free(NULL);
}

/* Tensors: y = x @ w.t() through the handle, into a new and into an existing output,
 * against nnf_matmul with the transposed view. */
static void test_matmul_prepacked(void **state)
{
    (void)state;
    nnf_tensor *x = NULL, *w = NULL, *wt = NULL, *want = NULL, *got = NULL, *xs = NULL;
    NNF_ASSERT_OK(nnf_randn(&x, NULL, NNF_SHAPE(7, 300)));
    NNF_ASSERT_OK(nnf_randn(&w, NULL, NNF_SHAPE(70, 300)));
    NNF_ASSERT_OK(nnf_t(&wt, w));
    nnf_packed_matrix *p = NULL;
    NNF_ASSERT_OK(nnf_pack_matrix(&p, wt));
    NNF_FOR_EACH_ISA(isa) {
        NNF_ASSERT_OK(nnf_matmul(&want, x, wt));
        NNF_ASSERT_OK(nnf_matmul_prepacked(&got, x, p));
        nnf_test_assert_bits_equal(nnf_tensor_const_data(got), nnf_tensor_const_data(want),
                                   7 * 70);
        NNF_ASSERT_OK(nnf_fill(got, 0.0f));
        NNF_ASSERT_OK(nnf_matmul_prepacked(&got, x, p));   /* into the existing output */
        nnf_test_assert_bits_equal(nnf_tensor_const_data(got), nnf_tensor_const_data(want),
                                   7 * 70);
    }
    /* A strided x (every other row) is copied first; the rows are the same rows. */
    nnf_tensor *x2 = NULL, *want2 = NULL;
    NNF_ASSERT_OK(nnf_randn(&x2, NULL, NNF_SHAPE(14, 300)));
    NNF_ASSERT_OK(nnf_slice(&xs, x2, 0, 0, 14, 2));
    NNF_ASSERT_OK(nnf_matmul(&want2, xs, wt));
    NNF_ASSERT_OK(nnf_matmul_prepacked(&got, xs, p));
    nnf_test_assert_bits_equal(nnf_tensor_const_data(got), nnf_tensor_const_data(want2), 7 * 70);
    NNF_ASSERT_FAILS(nnf_matmul_prepacked(&got, wt, p), NNF_ERR_SHAPE);
    assert_non_null(strstr(nnf_last_error(), "nnf_matmul_prepacked: mat1 and mat2 shapes"));
    nnf_packed_free(p);
    nnf_tensor_free(x);
    nnf_tensor_free(x2);
    nnf_tensor_free(xs);
    nnf_tensor_free(w);
    nnf_tensor_free(wt);
    nnf_tensor_free(want);
    nnf_tensor_free(want2);
    nnf_tensor_free(got);
}

/* Row i of x @ W^T, for rows [first, first + batch) of x, into y (batch x n). */
enum { BI_K = 400, BI_N = 53, BI_ROWS = 4097 };
enum { VIA_AUTO, VIA_DIRECT, VIA_PACKED, VIA_PREPACKED, VIA_COUNT };

static void rows_via(int via, const float *x, const float *w, const nnf_packed_matrix *p,
                     size_t first, size_t batch, float *y)
{
    const float *a = x + first * BI_K;
    if (via == VIA_PREPACKED) {
        NNF_ASSERT_OK(nnf_sgemm_packed_b(NNF_NO_TRANS, batch, BI_N, BI_K, 1.0f, a, BI_K, p,
                                         0.0f, y, BI_N));
        return;
    }
    nnf__sgemm_force_path(via == VIA_DIRECT   ? NNF__SGEMM_PATH_DIRECT
                          : via == VIA_PACKED ? NNF__SGEMM_PATH_PACKED
                                              : NNF__SGEMM_PATH_AUTO);
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_TRANS, batch, BI_N, BI_K, 1.0f, a, BI_K, w, BI_K,
                            0.0f, y, BI_N));
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
}

static void test_batch_invariance(void **state)
{
    (void)state;
    static const size_t batches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, BI_ROWS};
    float *x = filled((size_t)BI_ROWS * BI_K, 11), *w = filled((size_t)BI_N * BI_K, 12);
    float *alone = malloc((size_t)BI_ROWS * BI_N * sizeof *alone);
    float *y = malloc((size_t)BI_ROWS * BI_N * sizeof *y);
    assert_non_null(alone);
    assert_non_null(y);
    /* Each row alone (a GEMV), on the scalar kernels: what every row must be. */
    nnf_isa start = nnf_isa_active();
    NNF_ASSERT_OK(nnf_isa_force(NNF_ISA_SCALAR));
    for (size_t r = 0; r < BI_ROWS; r++)
        NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_TRANS, 1, BI_N, BI_K, 1.0f, x + r * BI_K,
                                BI_K, w, BI_K, 0.0f, alone + r * BI_N, BI_N));
    NNF_ASSERT_OK(nnf_isa_force(start));
    NNF_FOR_EACH_ISA(isa) {
        nnf_packed_matrix *p = NULL;
        NNF_ASSERT_OK(nnf_pack_b(&p, NNF_TRANS, BI_K, BI_N, w, BI_K));
        for (int threads = 1; threads <= 3; threads += 2) {
            use_threads(threads);
            for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
                size_t batch = batches[bi];
                /* The batch at the top, at an odd offset and at the bottom of x. */
                size_t firsts[3] = {0, (BI_ROWS - batch) / 3 | 1, BI_ROWS - batch};
                for (int f = 0; f < 3; f++) {
                    if (firsts[f] + batch > BI_ROWS)
                        continue;
                    for (int via = 0; via < VIA_COUNT; via++) {
                        rows_via(via, x, w, p, firsts[f], batch, y);
                        nnf_test_assert_bits_equal(y, alone + firsts[f] * BI_N, batch * BI_N);
                    }
                    if (batch == BI_ROWS)
                        break;
                }
            }
        }
        use_threads(1);
        nnf_packed_free(p);
    }
    free(x);
    free(w);
    free(alone);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bits_as_sgemm),
        cmocka_unit_test(test_blocked_job),
        cmocka_unit_test(test_fused_routes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_matmul_prepacked),
        cmocka_unit_test(test_batch_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
