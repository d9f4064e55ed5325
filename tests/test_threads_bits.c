/* The same bits for 1, 2, 3, 5, 8 and 16 threads (more threads than this machine has
 * cores is part of the test), on every ISA: sgemm on every path, elementwise ops,
 * every reduction, and training steps. nnf__runtime_set_test_spread makes every size
 * threshold 0 and every item its smallest, and has each participant take an item
 * before any takes a second, so every case asserts that all the threads took work. */
#include "nnf_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"
#include "src/runtime/pool.h"

static const int counts[] = {1, 2, 3, 5, 8, 16};
enum { NCOUNTS = sizeof counts / sizeof counts[0] };

/* A case computes into a fresh buffer of *nbytes bytes (malloc'd). */
typedef void *(*case_fn)(const void *arg, size_t *nbytes);

/* Runs fn once per ISA and thread count: every result bitwise equal to the first, and
 * each run with N threads had N of them take items. */
static void each_count(const char *what, case_fn fn, const void *arg)
{
    void *first = NULL;
    size_t first_bytes = 0;
    NNF_FOR_EACH_ISA(isa) {
        for (int c = 0; c < NCOUNTS; c++) {
            NNF_ASSERT_OK(nnf_set_num_threads(counts[c]));
            nnf__runtime_set_test_spread(counts[c] > 1);
            nnf__runtime_max_participants(1);
            size_t nbytes;
            void *got = fn(arg, &nbytes);
            int took = nnf__runtime_max_participants(0);
            nnf__runtime_set_test_spread(0);
            if (took != counts[c])
                fail_msg("%s on %s: %d threads took work, %d wanted", what, nnf_isa_name(isa),
                         took, counts[c]);
            if (!nnf_test_isa_exact()) {
                free(got);   /* not compared across ISAs (nnf_test_isa_exact) */
                continue;
            }
            if (first == NULL) {
                first = got;
                first_bytes = nbytes;
                continue;
            }
            assert_int_equal(nbytes, first_bytes);
            if (memcmp(got, first, nbytes) != 0)
                fail_msg("%s on %s with %d threads: bits differ from the first run", what,
                         nnf_isa_name(isa), counts[c]);
            free(got);
        }
    }
    free(first);
    nnf_test_restore_isa();
    NNF_ASSERT_OK(nnf_set_num_threads(1));
}

/* ---- sgemm ---- */

typedef struct {
    const char *name;
    nnf__sgemm_path path;
    nnf_trans ta, tb;
    size_t m, n, k;
    float beta;
} gemm_case;

static void *run_gemm(const void *arg, size_t *nbytes)
{
    const gemm_case *g = arg;
    size_t lda = g->ta == NNF_NO_TRANS ? g->k : g->m, ldb = g->tb == NNF_NO_TRANS ? g->n : g->k;
    float *a = malloc(g->m * g->k * sizeof *a), *b = malloc(g->k * g->n * sizeof *b);
    float *c = malloc(g->m * g->n * sizeof *c), *c0 = malloc(g->m * g->n * sizeof *c0);
    nnf_test_fill_uniform(a, g->m * g->k, 1, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, g->k * g->n, 2, -1.0f, 1.0f);
    nnf_test_fill_uniform(c0, g->m * g->n, 3, -1.0f, 1.0f);
    memcpy(c, c0, g->m * g->n * sizeof *c);
    nnf__sgemm_force_path(g->path);
    NNF_ASSERT_OK(nnf_sgemm(g->ta, g->tb, g->m, g->n, g->k, 0.75f, a, lda, b, ldb, g->beta, c,
                            g->n));
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    /* The 1-thread result's accuracy is test_sgemm's; a loose double reference here
     * catches a wrong split that every thread count would share. */
    for (size_t i = 0; i < g->m; i += 7) {
        for (size_t j = 0; j < g->n; j += 5) {
            double want = (double)g->beta * c0[i * g->n + j];
            for (size_t p = 0; p < g->k; p++)
                want += 0.75 * (g->ta == NNF_NO_TRANS ? a[i * lda + p] : a[p * lda + i]) *
                        (g->tb == NNF_NO_TRANS ? b[p * ldb + j] : b[j * ldb + p]);
            if (fabs(c[i * g->n + j] - want) > 1e-5 * (double)g->k)
                fail_msg("%s: C[%zu][%zu] = %.7g, want %.7g", g->name, i, j,
                         (double)c[i * g->n + j], want);
        }
    }
    free(a);
    free(b);
    free(c0);
    *nbytes = g->m * g->n * sizeof *c;
    return c;
}

static void test_sgemm_paths(void **state)
{
    (void)state;
    const gemm_case cases[] = {
        {"direct", NNF__SGEMM_PATH_DIRECT, NNF_NO_TRANS, NNF_NO_TRANS, 100, 130, 50, 0.0f},
        {"direct, B packed per panel", NNF__SGEMM_PATH_DIRECT, NNF_NO_TRANS, NNF_TRANS, 100,
         130, 450, 0.5f},
        {"direct, A transposed", NNF__SGEMM_PATH_DIRECT, NNF_TRANS, NNF_NO_TRANS, 90, 70, 40,
         1.0f},
        {"GEMV n = 1", NNF__SGEMM_PATH_DIRECT, NNF_NO_TRANS, NNF_NO_TRANS, 2000, 1, 450, 0.0f},
        {"GEMV m = 1", NNF__SGEMM_PATH_DIRECT, NNF_NO_TRANS, NNF_TRANS, 1, 2000, 450, 0.5f},
        {"packed NN, 3 levels", NNF__SGEMM_PATH_PACKED, NNF_NO_TRANS, NNF_NO_TRANS, 100, 130,
         800, 0.0f},
        {"packed NT", NNF__SGEMM_PATH_PACKED, NNF_NO_TRANS, NNF_TRANS, 100, 130, 400, 0.5f},
        {"packed TN", NNF__SGEMM_PATH_PACKED, NNF_TRANS, NNF_NO_TRANS, 70, 200, 390, 1.0f},
        {"packed TT, two MC blocks on scalar", NNF__SGEMM_PATH_PACKED, NNF_TRANS, NNF_TRANS,
         300, 60, 100, 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        each_count(cases[i].name, run_gemm, &cases[i]);
}

/* The cuts of C among threads that come only without the test spread: packed plans
 * whose items are the smallest (B blocks per thread, sgemm_packed.c's OWN_ROWS_MAX, or
 * compute items of two MR panels, PAIRED_MIN_ITEMS), and the unpacked rectangles cut
 * by columns first (nnf__sgemm_b_by_columns). */
typedef enum { OWN_BLOCKS, PAIRED_ITEMS, COLUMNS_FIRST } unspread_cut;

/* Fails unless `cut` is what 2 threads get for g on the active kernels. */
static void check_cut(const gemm_case *g, unspread_cut cut)
{
    const nnf__sgemm_kernels *kr = &nnf__kernels_active()->gemm;
    const char *isa = nnf_isa_name(nnf_isa_active());
    if (cut == COLUMNS_FIRST) {
        const nnf__sgemm_view b = g->tb == NNF_NO_TRANS
                                      ? (nnf__sgemm_view){NULL, (ptrdiff_t)g->n, 1}
                                      : (nnf__sgemm_view){NULL, 1, (ptrdiff_t)g->k};
        if (!nnf__sgemm_b_by_columns(kr, g->m, g->n, g->k, &b))
            fail_msg("%s on %s: B is not taken by column blocks", g->name, isa);
        return;
    }
    const int in_place = g->ta == NNF_NO_TRANS;
    nnf__sgemm_jobs jobs = nnf__sgemm_jobs_make(kr, g->m, g->n, g->k, 2, in_place, 0);
    nnf__sgemm_plan plan;
    const nnf__sgemm_view a = in_place ? (nnf__sgemm_view){NULL, (ptrdiff_t)g->k, 1}
                                       : (nnf__sgemm_view){NULL, 1, (ptrdiff_t)g->m};
    nnf__sgemm_plan_make(&plan, kr, jobs.rows, jobs.cols, 1, 2, 0, 1, a);
    if (cut == OWN_BLOCKS ? !plan.own_blocks : plan.q_rows != 2 * kr->mr)
        fail_msg("%s on %s: not the plan under test (own blocks %lld, items of %lld rows)",
                 g->name, isa, (long long)plan.own_blocks, (long long)plan.q_rows);
}

/* The same bits at 1, 2 and 3 threads (and across ISAs) for a cut that 2 threads get. */
static void unspread_bits(const gemm_case *g, unspread_cut cut)
{
    void *first = NULL;   /* the first ISA's 1-thread result */
    NNF_FOR_EACH_ISA(isa) {
        check_cut(g, cut);
        size_t nbytes;
        NNF_ASSERT_OK(nnf_set_num_threads(1));
        void *one = run_gemm(g, &nbytes);
        for (int threads = 2; threads <= 3; threads++) {
            NNF_ASSERT_OK(nnf_set_num_threads(threads));
            void *got = run_gemm(g, &nbytes);
            if (memcmp(got, one, nbytes) != 0)
                fail_msg("%s on %s with %d threads: bits differ from 1 thread", g->name,
                         nnf_isa_name(isa), threads);
            free(got);
        }
        if (first != NULL && nnf_test_isa_exact() && memcmp(one, first, nbytes) != 0)
            fail_msg("%s on %s: bits differ from the first ISA's", g->name, nnf_isa_name(isa));
        if (first == NULL)
            first = one;
        else
            free(one);
    }
    free(first);
    nnf_test_restore_isa();
    NNF_ASSERT_OK(nnf_set_num_threads(1));
}

/* m = 1500 in A blocks of 1024 rows at most, whatever the caches: two blocks of 750,
 * whose last items hold one panel or a part of one. */
static void test_sgemm_paired_items(void **state)
{
    (void)state;
    const gemm_case g = {"packed NN, two-panel items", NNF__SGEMM_PATH_PACKED, NNF_NO_TRANS,
                         NNF_NO_TRANS, 1500, 100, 70, 0.5f};
    nnf__blocking_force(1024, 0);
    unspread_bits(&g, PAIRED_ITEMS);
    nnf__blocking_force(0, 0);
}

/* 64 rows of A in place, x @ W^T: each thread packs and sweeps whole B blocks, over
 * levels of 384 and 416 steps. */
static void test_sgemm_own_blocks(void **state)
{
    (void)state;
    const gemm_case g = {"packed NT, B blocks per thread", NNF__SGEMM_PATH_PACKED,
                         NNF_NO_TRANS, NNF_TRANS, 64, 520, 800, 0.5f};
    unspread_bits(&g, OWN_BLOCKS);
}

/* 64 rows against a B of 600 x 520, read in place (its rows 2080 bytes apart spread over
 * the L1d) or transposed and packed a panel at a time: rectangles of C cut by columns,
 * each over the whole k (two levels). */
static void test_sgemm_columns_first(void **state)
{
    (void)state;
    const gemm_case nn = {"direct NN, columns first", NNF__SGEMM_PATH_AUTO, NNF_NO_TRANS,
                          NNF_NO_TRANS, 64, 520, 600, 0.5f};
    const gemm_case nt = {"direct NT, columns first", NNF__SGEMM_PATH_AUTO, NNF_NO_TRANS,
                          NNF_TRANS, 64, 520, 600, 0.0f};
    unspread_bits(&nn, COLUMNS_FIRST);
    unspread_bits(&nt, COLUMNS_FIRST);
}

/* ---- elementwise ---- */

static nnf_tensor *uniform(int ndim, const int64_t *shape, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, -2.0f, 2.0f);
    return t;
}

/* The bytes of a tensor (any dtype, made contiguous), freeing it. */
static void *take_bytes(nnf_tensor *t, size_t *nbytes)
{
    nnf_tensor *c = NULL;
    NNF_ASSERT_OK(nnf_contiguous(&c, t));
    size_t size = nnf_tensor_dtype(c) == NNF_F32 ? 4 : nnf_tensor_dtype(c) == NNF_BOOL ? 1 : 8;
    *nbytes = (size_t)nnf_tensor_numel(c) * size;
    void *out = malloc(*nbytes ? *nbytes : 1);
    memcpy(out, nnf_tensor_raw(c), *nbytes);
    nnf_tensor_free(c);
    nnf_tensor_free(t);
    return out;
}

static void *run_eltwise(const void *arg, size_t *nbytes)
{
    (void)arg;
    nnf_tensor *a = uniform(NNF_SHAPE(100, 70), 11), *row = uniform(NNF_SHAPE(70), 12);
    nnf_tensor *at = NULL, *sum = NULL, *prod = NULL, *e = NULL, *et = NULL, *gt = NULL;
    nnf_tensor *all = NULL;
    NNF_ASSERT_OK(nnf_add(&sum, a, a));
    NNF_ASSERT_OK(nnf_mul(&prod, a, row));                 /* broadcast */
    NNF_ASSERT_OK(nnf_t(&at, a));
    NNF_ASSERT_OK(nnf_exp(&e, at));                        /* a strided walk */
    NNF_ASSERT_OK(nnf_t(&et, e));
    NNF_ASSERT_OK(nnf_gt(&gt, prod, sum));                 /* bytes out */
    NNF_ASSERT_OK(nnf_sigmoid(&prod, prod));
    NNF_ASSERT_OK(nnf_add(&sum, sum, prod));
    NNF_ASSERT_OK(nnf_where(&all, gt, sum, et));
    NNF_TEST_FREE(a, row, at, sum, prod, e, et, gt);
    return take_bytes(all, nbytes);
}

static void test_eltwise(void **state)
{
    (void)state;
    each_count("elementwise", run_eltwise, NULL);
}

/* Rows shorter than a few vectors with an operand that does not follow them (a column
 * broadcast along the row, a row repeated down the rows, a transposed operand) run in
 * gathered blocks (eltwise_iter.c, walk_short); every element must be the correctly
 * rounded result of its own operands, as computed here one at a time. */
static void *run_short_rows(const void *arg, size_t *nbytes)
{
    (void)arg;
    nnf_tensor *x = uniform(NNF_SHAPE(3, 50, 7), 31), *col = uniform(NNF_SHAPE(3, 50, 1), 32);
    nnf_tensor *row = uniform(NNF_SHAPE(7), 33), *src = uniform(NNF_SHAPE(7, 50), 34);
    nnf_tensor *col2 = uniform(NNF_SHAPE(50, 1), 35), *mid = uniform(NNF_SHAPE(3, 1, 7), 36);
    nnf_tensor *q = NULL, *r = NULL, *st = NULL, *v = NULL, *w = NULL;
    NNF_ASSERT_OK(nnf_div(&q, x, col));
    NNF_ASSERT_OK(nnf_add(&r, q, row));
    NNF_ASSERT_OK(nnf_t(&st, src));   /* [50, 7] at strides (1, 50) */
    NNF_ASSERT_OK(nnf_sub(&v, st, col2));
    NNF_ASSERT_OK(nnf_mul(&w, x, mid));   /* three dims that do not merge */
    const float *xd = nnf_tensor_data(x), *cd = nnf_tensor_data(col), *rd = nnf_tensor_data(row);
    const float *sd = nnf_tensor_data(src), *c2 = nnf_tensor_data(col2);
    const float *md = nnf_tensor_data(mid), *wd = nnf_tensor_data(w);
    const float *qd = nnf_tensor_data(q), *rr = nnf_tensor_data(r), *vd = nnf_tensor_data(v);
    for (int i = 0; i < 150; i++)
        for (int j = 0; j < 7; j++) {
            float want_q = xd[i * 7 + j] / cd[i], want_r = want_q + rd[j];
            float want_w = xd[i * 7 + j] * md[i / 50 * 7 + j];
            if (memcmp(&qd[i * 7 + j], &want_q, 4) != 0 || memcmp(&rr[i * 7 + j], &want_r, 4) != 0 ||
                memcmp(&wd[i * 7 + j], &want_w, 4) != 0)
                fail_msg("short rows: element (%d, %d) differs", i, j);
        }
    for (int i = 0; i < 50; i++)
        for (int j = 0; j < 7; j++) {
            float want = sd[j * 50 + i] - c2[i];
            if (memcmp(&vd[i * 7 + j], &want, 4) != 0)
                fail_msg("short rows: transposed element (%d, %d) differs", i, j);
        }
    size_t n1 = 1050 * sizeof(float), n2 = 350 * sizeof(float);
    char *out = malloc(2 * n1 + n2);
    memcpy(out, rr, n1);
    memcpy(out + n1, vd, n2);
    memcpy(out + n1 + n2, wd, n1);
    *nbytes = 2 * n1 + n2;
    NNF_TEST_FREE(x, col, row, src, col2, mid, q, r, st, v, w);
    return out;
}

static void test_short_rows(void **state)
{
    (void)state;
    each_count("short rows", run_short_rows, NULL);
}

/* ---- reductions ---- */

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[3];
    int ndims;
    int dims[2];
} red_case;

static void *run_reductions(const void *arg, size_t *nbytes)
{
    const red_case *r = arg;
    nnf_tensor *x = uniform(r->ndim, r->shape, 21);
    const int *dims = r->ndims ? r->dims : NULL;
    nnf_tensor *out[10] = {0};
    NNF_ASSERT_OK(nnf_sum(&out[0], x, r->ndims, dims, 0));
    NNF_ASSERT_OK(nnf_mean(&out[1], x, r->ndims, dims, 0));
    NNF_ASSERT_OK(nnf_var(&out[2], x, r->ndims, dims, 1, 0));
    NNF_ASSERT_OK(nnf_std_mean(&out[3], &out[4], x, r->ndims, dims, 0, 0));
    NNF_ASSERT_OK(nnf_max(&out[5], x, r->ndims, dims, 0));
    NNF_ASSERT_OK(nnf_min(&out[6], x, r->ndims, dims, 0));
    nnf_tensor *pos = NULL;
    NNF_ASSERT_OK(nnf_gt_scalar(&pos, x, -1.9f));
    NNF_ASSERT_OK(nnf_all(&out[7], pos, r->ndims, dims, 0));
    NNF_ASSERT_OK(nnf_any(&out[8], x, r->ndims, dims, 0));
    if (r->ndims == 1)
        NNF_ASSERT_OK(nnf_argmax(&out[9], x, r->dims[0], 0));
    size_t total = 0, sizes[10];
    void *bytes[10];
    for (int i = 0; i < 10; i++) {
        bytes[i] = out[i] ? take_bytes(out[i], &sizes[i]) : NULL;
        total += out[i] ? sizes[i] : 0;
    }
    char *all = malloc(total), *p = all;
    for (int i = 0; i < 10; i++) {
        if (bytes[i] != NULL)
            memcpy(p, bytes[i], sizes[i]);
        p += bytes[i] ? sizes[i] : 0;
        free(bytes[i]);
    }
    nnf_tensor_free(pos);
    nnf_tensor_free(x);
    *nbytes = total;
    return all;
}

static void test_reductions(void **state)
{
    (void)state;
    const red_case cases[] = {
        {"all dims, 25 blocks", 1, {100000}, 0, {0}},
        {"rows of 3 blocks", 2, {20, 9000}, 1, {1}},
        {"rows of one block", 2, {500, 30}, 1, {1}},
        {"columns of 2 blocks", 3, {16, 4200, 70}, 1, {1}},
        {"columns and rows", 3, {30, 40, 50}, 2, {0, 2}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        each_count(cases[i].name, run_reductions, &cases[i]);
}

/* ---- training steps ---- */

typedef struct {
    const char *name;
    int64_t n, in, hidden, out;
    int ce;
} net_case;

/* Two steps from one seed; the loss values and every parameter after them. */
static void *run_steps(const void *arg, size_t *nbytes)
{
    const net_case *s = arg;
    nnf_rng rng;
    nnf_rng_seed(&rng, 5);
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(s->ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    NNF_ASSERT_OK(nnf_layer_linear(&l1, &rng, s->in, s->hidden, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &rng, s->hidden, s->out, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    nnf_tensor *x = uniform(NNF_SHAPE(s->n, s->in), 31), *y = NULL;
    if (s->ce) {
        NNF_ASSERT_OK(nnf_empty_typed(&y, NNF_SHAPE(s->n), NNF_I64));
        int64_t *labels = nnf_tensor_raw(y);
        for (int64_t i = 0; i < s->n; i++)
            labels[i] = i * 7 % s->out;
    } else {
        y = uniform(NNF_SHAPE(s->n), 32);
    }
    nnf_sgd *opt = NULL;
    NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), 0.05f,
                              0.9f, 0.0f));
    size_t total = 2 * sizeof(float);
    for (int i = 0; i < nnf_model_num_parameters(m); i++)
        total += (size_t)nnf_tensor_numel(nnf_model_parameters(m)[i]) * sizeof(float);
    char *all = malloc(total), *p = all;
    for (int step = 0; step < 2; step++) {
        float value;
        NNF_ASSERT_OK(nnf_model_call(m, &value, x, y));
        nnf_sgd_zero_grad(opt);
        NNF_ASSERT_OK(nnf_model_backward(m));
        NNF_ASSERT_OK(nnf_sgd_step(opt));
        memcpy(p, &value, sizeof value);
        p += sizeof value;
    }
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        const nnf_tensor *t = nnf_model_parameters(m)[i];
        size_t n = (size_t)nnf_tensor_numel(t) * sizeof(float);
        memcpy(p, nnf_tensor_data(t), n);
        p += n;
    }
    nnf_sgd_free(opt);
    nnf_model_free(m);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    *nbytes = total;
    return all;
}

static void test_training_steps(void **state)
{
    (void)state;
    const net_case cases[] = {
        {"the chapter's step, 200 x 100 -> 50 -> 1, MSE", 200, 100, 50, 1, 0},
        {"a small MLP step, 256 x 196 -> 64 -> 10, cross-entropy", 256, 196, 64, 10, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        each_count(cases[i].name, run_steps, &cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_paths),
        cmocka_unit_test(test_sgemm_paired_items),
        cmocka_unit_test(test_sgemm_own_blocks),
        cmocka_unit_test(test_sgemm_columns_first),
        cmocka_unit_test(test_eltwise),
        cmocka_unit_test(test_short_rows),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_training_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
