/* The micro-batch rule (src/nn/nn_internal.h), computed another way.
 *
 * - nnf__sgemm_restart against a scalar emulation of its contract (fmaf chains from zero
 *   per period, folded with fmaf(alpha, acc, c)): the same bits on every ISA, path and
 *   thread count, for periods that do and do not divide k.
 * - A training step on a whole batch against the same model run one micro-batch at a
 *   time, each gradient from zero and folded by hand in micro-batch order: the same bits
 *   for the parameters' gradients and the loss, batches of whole and ragged micro-batches,
 *   an MLP and a CNN (Conv2d's gradients sum over images x positions).
 * - The deferred gradients of libnnf_dist's fold (nnf__deferred_grads): computed block by
 *   block (of columns, of rows) into a buffer that already holds a sum, they continue the
 *   fold by hand from that sum, bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_nn_util.h"
#include "kernels/canonical_nan.h"
#include "src/linalg/matmul.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"
#include "src/nn/nn_internal.h"

/* C = alpha op(A) op(B) + beta C by the contract, element by element (NaNs canonical,
 * the NaN rule). */
static void restart_reference(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda,
                              const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float cij = c[i * ldc + j];
            for (size_t p0 = 0; p0 < k; p0 += period) {
                float acc = 0.0f;
                for (size_t p = p0; p < k && p < p0 + period; p++) {
                    float x = ta == NNF_NO_TRANS ? a[i * lda + p] : a[p * lda + i];
                    float y = tb == NNF_NO_TRANS ? b[p * ldb + j] : b[j * ldb + p];
                    acc = fmaf(x, y, acc);
                }
                if (p0 > 0)
                    cij = fmaf(alpha, acc, cij);
                else
                    cij = beta == 0.0f ? alpha * acc : fmaf(alpha, acc, beta * cij);
            }
            c[i * ldc + j] = nnf__canonical_nan(cij);
        }
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Infinities and NaNs that meet in the chunks before a call's last, where the kernels
 * fold by an add with no NaN rule (kernels/sgemm_epilogue.h): in C[0][0] +inf (chunk 1)
 * and -inf (chunk 3) make a NaN that three more chunks carry; a NaN with a payload in
 * chunk 0 of row 1; a NaN with another payload in C[2][3] (beta 1 reads it); -0 in
 * C[3][1]. Needs m >= 4, n >= 4 and k > 4 periods; A and B as stored. */
static void plant_specials(size_t period, float *a, size_t lda, float *b, size_t ldb, float *c,
                           size_t ldc)
{
    a[period + 3] = INFINITY;
    b[(period + 3) * ldb] = 1.0f;
    a[3 * period + 5] = -INFINITY;
    b[(3 * period + 5) * ldb] = 1.0f;
    a[lda + 7] = from_bits(0xFFC00001u);
    c[2 * ldc + 3] = from_bits(0x7FC00005u);
    c[3 * ldc + 1] = -0.0f;
}

static void check_restart(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                          size_t k, float beta, int specials)
{
    size_t lda = (ta == NNF_NO_TRANS ? k : m) + 1, ldb = (tb == NNF_NO_TRANS ? n : k) + 2;
    size_t na = (ta == NNF_NO_TRANS ? m : k) * lda, nb = (tb == NNF_NO_TRANS ? k : n) * ldb;
    size_t ldc = n + 1, nc = m * ldc;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c0 = malloc(nc * sizeof *c0), *want = malloc(nc * sizeof *want);
    float *got = malloc(nc * sizeof *got);
    assert_true(a && b && c0 && want && got);
    nnf_test_fill_uniform(a, na, 11 + k, -1, 1);
    nnf_test_fill_uniform(b, nb, 12 + n, -1, 1);
    nnf_test_fill_uniform(c0, nc, 13 + m, -1, 1);
    if (specials)
        plant_specials(period, a, lda, b, ldb, c0, ldc);
    memcpy(want, c0, nc * sizeof *want);
    restart_reference(period, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, want, ldc);
    nnf__sgemm_set_parallel_min_flops(0.0);
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                memcpy(got, c0, nc * sizeof *got);
                NNF_ASSERT_OK(nnf__sgemm_restart(period, ta, tb, m, n, k, 1.0f, a, lda, b,
                                                 ldb, beta, got, ldc));
                print_message("period %zu %dx%dx%d ta %d tb %d beta %g %s threads %d path %d\n",
                              period, (int)m, (int)n, (int)k, (int)ta, (int)tb, (double)beta,
                              nnf_isa_name(isa), threads, path);
                nnf_test_assert_bits_equal(want, got, nc);
            }
        }
    }
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    nnf__sgemm_set_parallel_min_flops(-1.0);
    nnf_test_threads(1);
    nnf_test_restore_isa();
    free(a);
    free(b);
    free(c0);
    free(want);
    free(got);
}

static void test_sgemm_restart(void **state)
{
    (void)state;
    static const size_t ks[] = {1, 15, 16, 17, 50, 128, 400, 777};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        check_restart(16, NNF_TRANS, NNF_NO_TRANS, 37, 70, ks[i], 1.0f, 0);   /* y.g^T @ x */
        check_restart(32, NNF_NO_TRANS, NNF_NO_TRANS, 1, 45, ks[i], 1.0f, 0); /* bias row */
    }
    check_restart(16, NNF_NO_TRANS, NNF_TRANS, 20, 1, 100, 0.0f, 0);          /* GEMV */
    check_restart(16, NNF_TRANS, NNF_TRANS, 9, 33, 130, 0.5f, 0);
    /* The chapter's g^T @ x; one-vector edges (58 = 48 + 10), whose AVX-512 tiles run
     * two periods side by side, with a beta other than 0 and 1 for the first. */
    check_restart(32, NNF_TRANS, NNF_NO_TRANS, 50, 100, 200, 0.0f, 0);
    check_restart(16, NNF_TRANS, NNF_NO_TRANS, 13, 58, 130, 0.5f, 0);
    check_restart(NNF__SGEMM_KC, NNF_TRANS, NNF_NO_TRANS, 19, 21, 800, 1.0f, 0);
    /* 1-4 columns past a multiple of 16 (AVX-512's dots_cols, one call per period). */
    check_restart(32, NNF_NO_TRANS, NNF_NO_TRANS, 40, 36, 100, 0.5f, 0);
    check_restart(16, NNF_NO_TRANS, NNF_TRANS, 33, 19, 70, 0.0f, 0);
    check_restart(16, NNF_TRANS, NNF_NO_TRANS, 50, 52, 100, 1.0f, 0);
    /* B as stored through AVX-512's 8x48 tiles on the direct path: 8 rows in one band,
     * and few rows against a B past the budget, column block by column block. */
    check_restart(16, NNF_NO_TRANS, NNF_NO_TRANS, 8, 100, 300, 0.5f, 0);
    check_restart(32, NNF_TRANS, NNF_NO_TRANS, 12, 260, 300, 0.0f, 0);
    /* The fold between chunks (alpha and beta 1) against the rule, full tiles of every
     * vector ISA and a partial last vector. */
    check_restart(32, NNF_NO_TRANS, NNF_NO_TRANS, 9, 100, 200, 1.0f, 1);
    check_restart(16, NNF_NO_TRANS, NNF_NO_TRANS, 16, 64, 130, 1.0f, 1);
    float c = 0.0f;
    NNF_ASSERT_FAILS(nnf__sgemm_restart(0, NNF_NO_TRANS, NNF_NO_TRANS, 1, 1, 1, 1.0f, &c, 1,
                                        &c, 1, 0.0f, &c, 1), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf__sgemm_restart(100, NNF_NO_TRANS, NNF_NO_TRANS, 1, 1, 1, 1.0f, &c, 1,
                                        &c, 1, 0.0f, &c, 1), NNF_ERR_INVALID);
    NN_ASSERT_MESSAGE("must divide 384");
}

/* 20 -> 24 -> ReLU -> classes, Kaiming weights from seed 5; with `conv`, the 20 features
 * are a 5x4 image through a 3x3 Conv2d to 2 channels (40 features) first. */
static nnf_model *small_model(int conv, int ce, int64_t classes)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 5);
    nnf_loss *loss = NULL;
    NNF_ASSERT_OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    nnf_model *m = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    nnf_layer *l = NULL;
    if (conv) {
        NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l, &rng, 1, 2, 3, 1, 1, NNF_INIT_KAIMING));
        NNF_ASSERT_OK(nnf_model_add(m, l));
        NNF_ASSERT_OK(nnf_layer_flatten(&l));
        NNF_ASSERT_OK(nnf_model_add(m, l));
    }
    NNF_ASSERT_OK(nnf_layer_linear(&l, &rng, conv ? 40 : 20, 24, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l));
    NNF_ASSERT_OK(nnf_layer_relu(&l));
    NNF_ASSERT_OK(nnf_model_add(m, l));
    NNF_ASSERT_OK(nnf_layer_linear(&l, &rng, 24, classes, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l));
    return m;
}

/* The fold by hand: fold[p] += each micro-batch's gradient of parameter p, each from a
 * zero gradient, in micro-batch order; the loss's sum and count likewise. */
static void fold_by_hand(nnf_model *parts, const nnf_tensor *x, const nnf_tensor *y,
                         int64_t rows, float **fold, double *sum, int64_t *count)
{
    nnf_loss *pl = nnf__model_loss(parts);
    pl->mean_rows = rows;
    for (int64_t r0 = 0; r0 < rows; r0 += NNF__MICRO_BATCH) {
        int64_t r1 = rows - r0 < NNF__MICRO_BATCH ? rows : r0 + NNF__MICRO_BATCH;
        nnf_tensor *xs = NULL, *ys = NULL;
        NNF_ASSERT_OK(nnf_narrow(&xs, x, 0, r0, r1 - r0));
        NNF_ASSERT_OK(nnf_narrow(&ys, y, 0, r0, r1 - r0));
        float part_loss;
        NNF_ASSERT_OK(nnf_model_call(parts, &part_loss, xs, ys));
        nnf_model_zero_grad(parts);
        NNF_ASSERT_OK(nnf_model_backward(parts));
        *sum += pl->sum;
        *count += pl->count;
        for (int p = 0; p < nnf_model_num_parameters(parts); p++) {
            const nnf_tensor *t = nnf_model_parameters(parts)[p];
            const float *g = nn_grad(t);
            for (int64_t i = 0; i < nnf_tensor_numel(t); i++)
                fold[p][i] += g[i];
        }
        nnf_tensor_free(xs);
        nnf_tensor_free(ys);
    }
}

static nnf_tensor *batch_x(int conv, int64_t rows)
{
    return conv ? nn_uniform(NNF_SHAPE(rows, 1, 5, 4), 31, -1, 1)
                : nn_uniform(NNF_SHAPE(rows, 20), 31, -1, 1);
}

static void check_model(int conv, int ce, int64_t rows)
{
    const int64_t classes = ce ? 7 : 3;
    nnf_tensor *x = batch_x(conv, rows);
    nnf_tensor *y = ce ? nn_labels(rows, classes, 32) : nn_uniform(NNF_SHAPE(rows, 3), 33, -1, 1);
    NNF_FOR_EACH_ISA(isa) {
        nnf_model *whole = small_model(conv, ce, classes);
        nnf_model *parts = small_model(conv, ce, classes);
        const int np = nnf_model_num_parameters(whole);
        float loss;
        NNF_ASSERT_OK(nnf_model_call(whole, &loss, x, y));
        nnf_model_zero_grad(whole);
        NNF_ASSERT_OK(nnf_model_backward(whole));

        /* G = ((0 + P0) + P1) + ..., each P from a zero gradient */
        float *fold[8] = {0};
        for (int p = 0; p < np; p++)
            fold[p] = calloc((size_t)nnf_tensor_numel(nnf_model_parameters(whole)[p]),
                             sizeof(float));
        double sum = 0.0;
        int64_t count = 0;
        fold_by_hand(parts, x, y, rows, fold, &sum, &count);
        print_message("%s%s rows %lld on %s: loss %.9g\n", conv ? "cnn " : "", ce ? "ce" : "mse",
                      (long long)rows, nnf_isa_name(isa), (double)loss);
        float folded = nnf__loss_mean(sum, count);
        nnf_test_assert_bits_equal(&loss, &folded, 1);
        for (int p = 0; p < np; p++) {
            const nnf_tensor *t = nnf_model_parameters(whole)[p];
            nnf_test_assert_bits_equal(fold[p], nn_grad(t), (size_t)nnf_tensor_numel(t));
            free(fold[p]);
        }
        nnf_model_free(whole);
        nnf_model_free(parts);
    }
    nnf_test_restore_isa();
    nnf_tensor_free(x);
    nnf_tensor_free(y);
}

/* Adds the deferred gradient g of a rows x cols parameter to `got` (holding a sum) in
 * blocks of `width` columns, or of `height` rows when width is 0, each gathered into a
 * buffer of its own as libnnf_dist's flat buffer holds it. */
static void add_by_blocks(const nnf__deferred_grad *g, float *got, size_t rows, size_t cols,
                          size_t width, size_t height)
{
    float *buf = malloc(rows * cols * sizeof *buf);
    assert_non_null(buf);
    for (size_t at = 0; at < (width > 0 ? cols : rows); at += width > 0 ? width : height) {
        nnf__block b = width > 0 ? (nnf__block){0, rows, at, cols - at < width ? cols - at : width}
                                 : (nnf__block){at, rows - at < height ? rows - at : height, 0, cols};
        for (size_t r = 0; r < b.rows; r++)
            memcpy(buf + r * b.cols, got + (b.row + r) * cols + b.col, b.cols * sizeof *buf);
        NNF_ASSERT_OK(g->add(g->ctx, buf, b));
        for (size_t r = 0; r < b.rows; r++)
            memcpy(got + (b.row + r) * cols + b.col, buf + r * b.cols, b.cols * sizeof *buf);
    }
    free(buf);
}

static void check_deferred(int conv, int64_t rows)
{
    enum { CLASSES = 7 };
    nnf_tensor *x = batch_x(conv, rows), *y = nn_labels(rows, CLASSES, 32);
    NNF_FOR_EACH_ISA(isa) {
        nnf_model *later = small_model(conv, 1, CLASSES), *parts = small_model(conv, 1, CLASSES);
        const int np = nnf_model_num_parameters(later);
        float *want[8] = {0}, *start[8] = {0};
        for (int p = 0; p < np; p++) {
            size_t n = (size_t)nnf_tensor_numel(nnf_model_parameters(later)[p]);
            start[p] = malloc(n * sizeof(float));
            want[p] = malloc(n * sizeof(float));
            assert_true(start[p] != NULL && want[p] != NULL);
            nnf_test_fill_uniform(start[p], n, 40 + (uint64_t)p, -1, 1);
            memcpy(want[p], start[p], n * sizeof(float));
        }
        double sum = 0.0;
        int64_t count = 0;
        fold_by_hand(parts, x, y, rows, want, &sum, &count);

        nnf__deferred_grad g[8] = {{0}};
        const nnf__deferred_grads table = {np, nnf_model_parameters(later), g};
        float loss;
        NNF_ASSERT_OK(nnf_model_call(later, &loss, x, y));
        nnf__deferred_grads_set(&table);
        NNF_ASSERT_OK(nnf_model_backward(later));
        nnf__deferred_grads_set(NULL);
        for (int p = 0; p < np; p++) {
            const nnf_tensor *t = nnf_model_parameters(later)[p];
            size_t n = (size_t)nnf_tensor_numel(t);
            size_t r = nnf_tensor_ndim(t) >= 2 ? (size_t)nnf_tensor_size(t, 0) : 1;
            assert_non_null(g[p].add);
            print_message("%s rows %lld on %s: parameter %d (%zu x %zu) by blocks\n",
                          conv ? "cnn" : "mlp", (long long)rows, nnf_isa_name(isa), p, r, n / r);
            float *got = malloc(n * sizeof *got);
            assert_non_null(got);
            memcpy(got, start[p], n * sizeof *got);
            add_by_blocks(&g[p], got, r, n / r, 3, 0);
            nnf_test_assert_bits_equal(want[p], got, n);
            memcpy(got, start[p], n * sizeof *got);
            add_by_blocks(&g[p], got, r, n / r, 0, 5);
            nnf_test_assert_bits_equal(want[p], got, n);
            free(got);
            free(start[p]);
            free(want[p]);
        }
        nnf_model_free(later);
        nnf_model_free(parts);
    }
    nnf_test_restore_isa();
    nnf_tensor_free(x);
    nnf_tensor_free(y);
}

static void test_model_step_is_the_fold(void **state)
{
    (void)state;
    static const int64_t rows[] = {1, 7, 16, 40, 128, 130};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        check_model(0, 1, rows[i]);
        check_model(0, 0, rows[i]);
        check_model(1, 1, rows[i]);
    }
}

static void test_deferred_grads_continue_the_fold(void **state)
{
    (void)state;
    static const int64_t rows[] = {7, 40, 130};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        check_deferred(0, rows[i]);
        check_deferred(1, rows[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_restart),
        cmocka_unit_test(test_model_step_is_the_fold),
        cmocka_unit_test(test_deferred_grads_continue_the_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
