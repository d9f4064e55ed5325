/* Lin's fused epilogue: the bias and the ReLU inside the product (nnf__sgemm_post,
 * src/linalg/matmul.h), bit for bit the separate ops they replace: C's rows filled with
 * the bias, nnf_sgemm with beta 1, then nnf_relu. Every ISA, every path the driver can
 * take (forced direct and packed, and the GEMV, dots, outer, sparse-tail and
 * direct-packed-B shapes), k below and above KC = 384 (up to 4 levels, and a packed
 * product cut into several jobs along k), 1-3 threads with the thresholds lowered,
 * the prepacked path, and NaN, -0, +-inf and subnormals in x, w and b. A ReLU applied
 * at any level but a tile's last, or the bias added at any but its first, changes
 * partial sums of random signs and fails here.
 * Then the public nnf_linear_relu and the model's Lin + Relu against the separate
 * functional ops, forward and backward, and nnf_linear_relu's errors. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "dispatch/dispatch.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"

static const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 1e-40f, -1e-40f,
                                 FLT_MIN, -FLT_MAX, 3e-39f};
enum { NSPECIALS = sizeof specials / sizeof specials[0] };

/* Threads for later products, and every product big enough to use them. */
static void use_threads(int n)
{
    nnf_test_threads(n);
    nnf__sgemm_set_parallel_min_flops(n > 1 ? 0.0 : -1.0);
}

static float *alloc_floats(size_t n)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    return x;
}

typedef struct {
    size_t m, n, k;
    nnf_trans ta, tb;
    int ldc_pad;   /* 0: ldc = n (lets a column of C take the transposed-A swap) */
} shape;

/* op(A) m x k and op(B) k x n as stored, with special values in row 1 of op(A) at a few
 * steps, in column 2 of op(B), and a row 3 of op(A) all -0 (its sums are +-0, so its
 * outputs are the bias's specials themselves). */
typedef struct {
    size_t lda, ldb, ldc;
    float *a, *b, *bias;
} operands;

static void set_a(const shape *s, const operands *o, size_t i, size_t p, float v)
{
    o->a[s->ta == NNF_TRANS ? p * o->lda + i : i * o->lda + p] = v;
}

static void set_b(const shape *s, const operands *o, size_t p, size_t j, float v)
{
    o->b[s->tb == NNF_TRANS ? j * o->ldb + p : p * o->ldb + j] = v;
}

static operands make_operands(const shape *s, uint64_t seed)
{
    operands o;
    size_t a_rows = s->ta == NNF_TRANS ? s->k : s->m, a_cols = s->ta == NNF_TRANS ? s->m : s->k;
    size_t b_rows = s->tb == NNF_TRANS ? s->n : s->k, b_cols = s->tb == NNF_TRANS ? s->k : s->n;
    o.lda = a_cols + 1;
    o.ldb = b_cols + 3;
    o.ldc = s->n + (size_t)s->ldc_pad;
    o.a = alloc_floats(a_rows * o.lda);
    o.b = alloc_floats(b_rows * o.ldb);
    o.bias = alloc_floats(2 * s->n);   /* read with increment 1 or 2 */
    nnf_test_fill_uniform(o.a, a_rows * o.lda, seed, -1.0f, 1.0f);
    nnf_test_fill_uniform(o.b, b_rows * o.ldb, seed + 1, -1.0f, 1.0f);
    nnf_test_fill_uniform(o.bias, 2 * s->n, seed + 2, -1.0f, 1.0f);
    for (size_t p = 0; p < s->k; p += 7) {
        if (s->m > 1)
            set_a(s, &o, 1, p, specials[(p / 7) % NSPECIALS]);
        if (s->n > 2)
            set_b(s, &o, p, 2, specials[(p / 7 + 3) % NSPECIALS]);
    }
    if (s->m > 3)
        for (size_t p = 0; p < s->k; p++)
            set_a(s, &o, 3, p, -0.0f);
    for (size_t j = 0; j < 2 * s->n; j += 3)
        o.bias[j] = specials[(j / 3) % NSPECIALS];
    return o;
}

static void free_operands(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->bias);
}

/* The separate ops: C's rows = the bias (or C as it was, beta 0, without one), nnf_sgemm
 * with beta 1, then nnf_relu over the m x n result. C's padding is left as it was. */
static void separate_ops(const shape *s, const operands *o, const nnf__sgemm_post *post,
                         float *c)
{
    for (size_t i = 0; i < s->m; i++)
        for (size_t j = 0; post->bias != NULL && j < s->n; j++)
            c[i * o->ldc + j] = post->bias[(ptrdiff_t)j * post->bias_inc];
    NNF_ASSERT_OK(nnf_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, o->a, o->lda, o->b, o->ldb,
                            post->bias != NULL ? 1.0f : 0.0f, c, o->ldc));
    if (!post->relu || s->m * s->n == 0)
        return;
    float *dense = alloc_floats(s->m * s->n);
    for (size_t i = 0; i < s->m; i++)
        memcpy(dense + i * s->n, c + i * o->ldc, s->n * sizeof *dense);
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_from_data(&t, dense, NNF_SHAPE((int64_t)s->m, (int64_t)s->n)));
    NNF_ASSERT_OK(nnf_relu(&t, t));
    for (size_t i = 0; i < s->m; i++)
        memcpy(c + i * o->ldc, nnf_tensor_const_data(t) + i * s->n, s->n * sizeof *dense);
    nnf_tensor_free(t);
    free(dense);
}

/* C before a product: a value no result has, in the elements and the padding alike. */
static void poison(float *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        c[i] = 12345.0f;
}

/* nposts: how many of the post-op variants below to run (all four, or the first: bias
 * and ReLU, the one whose two halves sit at a product's two ends). */
static void check_shape(const shape *s, uint64_t seed, size_t nposts)
{
    operands o = make_operands(s, seed);
    const size_t cn = s->m * o.ldc;
    float *want = alloc_floats(cn), *got = alloc_floats(cn);
    const nnf__sgemm_post posts[] = {{o.bias, 1, 1}, {o.bias, 2, 1}, {NULL, 0, 1},
                                     {o.bias, 1, 0}};
    static const nnf__sgemm_path paths[] = {NNF__SGEMM_PATH_AUTO, NNF__SGEMM_PATH_DIRECT,
                                            NNF__SGEMM_PATH_PACKED};
    nnf_isa start = nnf_isa_active();
    assert_true(nposts >= 1 && nposts <= sizeof posts / sizeof posts[0]);
    for (size_t pi = 0; pi < nposts; pi++) {
        const nnf__sgemm_post *post = &posts[pi];
        /* The separate ops once, on the machine's ISA, one thread, the shape's own path:
         * every other run must give these bits (the sgemm contract, and the ReLU and
         * copies move bits). */
        NNF_ASSERT_OK(nnf_isa_force(start));
        use_threads(1);
        poison(want, cn);
        separate_ops(s, &o, post, want);
        NNF_FOR_EACH_ISA(isa) {
            for (int threads = 1; threads <= 3; threads++) {
                use_threads(threads);
                for (size_t q = 0; q < sizeof paths / sizeof paths[0]; q++) {
                    nnf__sgemm_force_path(paths[q]);
                    poison(got, cn);
                    NNF_ASSERT_OK(nnf__sgemm_fused(NNF__SGEMM_KC, s->ta, s->tb, s->m, s->n,
                                                   s->k, 1.0f, o.a, o.lda, o.b, o.ldb,
                                                   post->bias != NULL ? 1.0f : 0.0f, got,
                                                   o.ldc, post));
                    if (memcmp(got, want, cn * sizeof *got) != 0)
                        print_error("%zux%zux%zu ta %d tb %d post %zu, %s, %d threads, "
                                    "path %zu:\n", s->m, s->n, s->k, (int)s->ta, (int)s->tb,
                                    pi, nnf_isa_name(isa), threads, q);
                    nnf_test_assert_bits_equal(got, want, cn);
                }
                nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
                /* The prepacked path, as the Lin layer's packed-weight cache takes it. */
                nnf_packed_matrix *p = NULL;
                NNF_ASSERT_OK(nnf_pack_b(&p, s->tb, s->k, s->n, o.b, o.ldb));
                poison(got, cn);
                NNF_ASSERT_OK(nnf__sgemm_packed_b_fused(s->ta, s->m, s->n, s->k, 1.0f, o.a,
                                                        o.lda, p,
                                                        post->bias != NULL ? 1.0f : 0.0f, got,
                                                        o.ldc, post));
                if (memcmp(got, want, cn * sizeof *got) != 0)
                    print_error("prepacked %zux%zux%zu ta %d post %zu, %s, %d threads:\n",
                                s->m, s->n, s->k, (int)s->ta, pi, nnf_isa_name(isa), threads);
                nnf_test_assert_bits_equal(got, want, cn);
                nnf_packed_free(p);
            }
        }
    }
    use_threads(1);
    NNF_ASSERT_OK(nnf_isa_force(start));
    free(want);
    free(got);
    free_operands(&o);
}

#define N_ NNF_NO_TRANS
#define T_ NNF_TRANS

/* Shapes that take each of the driver's paths (the comment names the one AUTO takes on
 * AVX-512; forced DIRECT and PACKED run on every shape too). */
static void test_post_ops_bits(void **state)
{
    (void)state;
    static const shape shapes[] = {
        {200, 50, 100, N_, T_, 2},   /* the chapter's Lin: direct with B packed, sparse tail */
        {200, 50, 100, N_, N_, 0},   /* direct tiles */
        {1, 50, 100, N_, T_, 2},     /* one row: GEMV */
        {7, 1, 100, N_, T_, 2},      /* one column: GEMV along m */
        {37, 1, 100, T_, N_, 0},     /* one column of C from A^T: the swap to a row */
        {5, 10, 784, N_, T_, 2},     /* dots_tb, 3 levels */
        {5, 10, 784, N_, N_, 2},     /* dots_nn */
        {5, 10, 784, T_, N_, 1},     /* dots_tn */
        {200, 50, 1, N_, N_, 2},     /* k = 1: the outer-product kernel */
        {3, 7, 1, N_, T_, 0},
        {1, 1, 1000, N_, T_, 0},     /* one element: dot_every */
        {8, 100, 300, N_, N_, 2},    /* direct, 8 rows: one band of the packed kernel */
        {16, 260, 300, N_, N_, 1},   /* direct, B past the budget: column blocks */
        {64, 17, 900, N_, N_, 2},    /* a sparse tail column as GEMV, 3 levels */
        {64, 50, 900, N_, T_, 2},    /* direct with B packed, 3 levels */
        {97, 130, 1000, N_, T_, 1},  /* packed, 3 levels, odd tails */
        {130, 97, 1000, T_, N_, 1},
        {4, 5, 0, N_, T_, 2},        /* k = 0: C = the bias */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i], 10 + i, 4);
}

/* A packed product cut into several jobs along k (4 levels, the last 148 steps: too
 * deep to join the one before; each job holds fewer, at KC x (640 + 64-96) floats a
 * level against 1M of scratch on every ISA), so the ReLU must wait for the last job's
 * last level. A transposed, so that it is packed: A read in place takes no scratch, and
 * its levels would all fit one job. (The shape was 640 x 64 x 1200 with A in place: its
 * short last level joined the one before, 3 levels, and they fit one job.) Bias and
 * ReLU only: the other variants are test_post_ops_bits', and this shape's 53M FMAs per
 * run made it the longest test under valgrind and ASan. */
static void test_post_ops_jobs_along_k(void **state)
{
    (void)state;
    const shape s = {640, 64, 1300, T_, T_, 2};
    assert_int_equal(nnf__sgemm_levels(s.k, 1), 4);
    NNF_FOR_EACH_ISA(isa) {
        const nnf__sgemm_kernels *kr = &nnf__kernels_active()->gemm;
        nnf__sgemm_jobs jobs = nnf__sgemm_jobs_make(kr, s.m, s.n, s.k, 1, 0, 0);
        if (jobs.levels >= 4)
            fail_msg("%s: all %lld levels in one job", nnf_isa_name(isa),
                     (long long)jobs.levels);
    }
    nnf_test_restore_isa();
    check_shape(&s, 99, 1);
}

/* ---- The public function and the model ---- */

static nnf_tensor *tensor_2d(int64_t rows, int64_t cols, uint64_t seed, int specials_every)
{
    float *d = alloc_floats((size_t)(rows * cols));
    nnf_test_fill_uniform(d, (size_t)(rows * cols), seed, -1.0f, 1.0f);
    for (int64_t i = specials_every > 0 ? (int64_t)seed % specials_every : rows * cols;
         i < rows * cols; i += specials_every)
        d[i] = specials[(size_t)i % NSPECIALS];
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_from_data(&t, d, NNF_SHAPE(rows, cols)));
    free(d);
    return t;
}

static void assert_same_tensor(const nnf_tensor *a, const nnf_tensor *b)
{
    assert_int_equal(nnf_tensor_numel(a), nnf_tensor_numel(b));
    nnf_test_assert_bits_equal(nnf_tensor_const_data(a), nnf_tensor_const_data(b),
                               (size_t)nnf_tensor_numel(a));
}

/* nnf_linear_relu == nnf_linear then nnf_relu, on every ISA and 1-3 threads; its
 * documented backward (nnf_relu_backward on a view of y) == the separate ops'. */
static void test_linear_relu(void **state)
{
    (void)state;
    /* (300 x 512 and 1100 x 130: outputs past lin.c's FUSE_MIN_BYTES, the post-ops; the
     * rest the separate passes) */
    static const int64_t dims[][3] = {{200, 100, 50}, {1, 784, 512}, {8, 784, 512},
                                      {33, 5, 1}, {3, 1000, 17}, {300, 100, 512},
                                      {1100, 400, 130}};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        const int64_t N = dims[d][0], n_in = dims[d][1], n_out = dims[d][2];
        nnf_tensor *x = tensor_2d(N, n_in, 1 + d, 53), *w = tensor_2d(n_out, n_in, 2 + d, 97);
        /* b a column of b2: a stride of 2 */
        nnf_tensor *b2 = tensor_2d(n_out, 2, 3 + d, 5), *b = NULL;
        NNF_ASSERT_OK(nnf_select(&b, b2, 1, 1));
        NNF_FOR_EACH_ISA(isa) {
            for (int threads = 1; threads <= 3; threads++) {
                use_threads(threads);
                nnf_tensor *z = NULL, *a = NULL, *y = NULL, *y_nobias = NULL, *a_nobias = NULL;
                NNF_ASSERT_OK(nnf_linear(&z, x, w, b));
                NNF_ASSERT_OK(nnf_relu(&a, z));
                NNF_ASSERT_OK(nnf_linear_relu(&y, x, w, b));
                assert_same_tensor(y, a);
                NNF_ASSERT_OK(nnf_linear_relu(&y, x, w, b));   /* into an existing y */
                assert_same_tensor(y, a);
                nnf_tensor_free(z);
                z = NULL;
                NNF_ASSERT_OK(nnf_linear(&z, x, w, NULL));
                NNF_ASSERT_OK(nnf_relu(&a_nobias, z));
                NNF_ASSERT_OK(nnf_linear_relu(&y_nobias, x, w, NULL));
                assert_same_tensor(y_nobias, a_nobias);
                nnf_tensor_free(z);
                nnf_tensor_free(a);
                nnf_tensor_free(y);
                nnf_tensor_free(y_nobias);
                nnf_tensor_free(a_nobias);
            }
        }
        use_threads(1);
        nnf_test_restore_isa();

        /* Backward: the separate ops' gradients, then the fused forward's by the story
         * nn.h tells; the same dloss/dy (g) for both. */
        nnf_tensor *g = tensor_2d(N, n_out, 4 + d, 0);
        nnf_tensor *grads[2][3] = {{NULL}};
        for (int fused = 0; fused < 2; fused++) {
            nnf_tensor *z = NULL, *y = NULL, *r = NULL, *gy = NULL;
            nnf_zero_grad(x);
            nnf_zero_grad(w);
            nnf_zero_grad(b);
            if (fused) {
                NNF_ASSERT_OK(nnf_linear_relu(&y, x, w, b));
                NNF_ASSERT_OK(nnf_view(&r, y, NNF_SHAPE(N, n_out)));
                z = r;
            } else {
                NNF_ASSERT_OK(nnf_linear(&z, x, w, b));
                NNF_ASSERT_OK(nnf_relu(&y, z));
            }
            NNF_ASSERT_OK(nnf_tensor_grad_get(y, &gy));
            NNF_ASSERT_OK(nnf_copy(gy, g));
            NNF_ASSERT_OK(nnf_relu_backward(z, y));
            NNF_ASSERT_OK(nnf_linear_backward(x, z, w, b, 1));
            nnf_tensor *from[3] = {x, w, b};
            for (int t = 0; t < 3; t++)
                NNF_ASSERT_OK(nnf_clone(&grads[fused][t], nnf_tensor_grad(from[t])));
            nnf_tensor_free(z);
            nnf_tensor_free(y);
        }
        for (int t = 0; t < 3; t++) {
            assert_same_tensor(grads[1][t], grads[0][t]);
            nnf_tensor_free(grads[0][t]);
            nnf_tensor_free(grads[1][t]);
        }
        nnf_tensor_free(g);
        nnf_tensor_free(x);
        nnf_tensor_free(w);
        nnf_tensor_free(b);
        nnf_tensor_free(b2);
    }
}

/* A model's Lin + Relu + Lin (the hidden output small and then past lin.c's
 * FUSE_MIN_BYTES): its prediction (through the plain and then the packed
 * weight, and nnf_model_infer_into) and its parameters' gradients equal the functional
 * ops' on the same parameters. */
static void check_model(int64_t N, int64_t hidden)
{
    const int64_t n_in = 100, n_out = 10;
    nnf_rng rng;
    nnf_rng_seed(&rng, 7);
    nnf_loss *mse = NULL;
    NNF_ASSERT_OK(nnf_loss_mse(&mse));
    nnf_model *m = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, mse));
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(nnf_layer_linear(&l1, &rng, n_in, hidden, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &rng, hidden, n_out, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    nnf_tensor *const *p = nnf_model_parameters(m);
    /* specials the hidden layer keeps finite: a NaN there would make every prediction NaN */
    NNF_ASSERT_OK(nnf_fill(p[1], 0.25f));
    nnf_tensor_data(p[1])[3] = -0.0f;
    nnf_tensor_data(p[1])[4] = 1e-40f;
    nnf_tensor_data(p[1])[5] = -1.0f;
    nnf_tensor *x = tensor_2d(N, n_in, 5, 0), *targ = tensor_2d(N, n_out, 6, 0);

    nnf_tensor *h = NULL, *a = NULL, *want = NULL;
    NNF_ASSERT_OK(nnf_linear(&h, x, p[0], p[1]));
    NNF_ASSERT_OK(nnf_relu(&a, h));
    NNF_ASSERT_OK(nnf_linear(&want, a, p[2], p[3]));
    NNF_FOR_EACH_ISA(isa) {
        for (int call = 0; call < 3; call++) {   /* the third runs on the packed weights */
            float loss;
            nnf_tensor *out = NULL;
            NNF_ASSERT_OK(nnf_model_call(m, &loss, x, targ));
            NNF_ASSERT_OK(nnf_model_infer(m, &out, x));
            assert_same_tensor(out, want);
            out = NULL;
            NNF_ASSERT_OK(nnf_model_infer_into(m, &out, x));
            assert_same_tensor(out, want);
            nnf_tensor_free(out);
        }
    }
    nnf_test_restore_isa();

    /* Gradients: the model's against the functional chain's. */
    float loss;
    nnf_model_zero_grad(m);
    NNF_ASSERT_OK(nnf_model_call(m, &loss, x, targ));
    NNF_ASSERT_OK(nnf_model_backward(m));
    nnf_tensor *mg[4];
    for (int i = 0; i < 4; i++)
        NNF_ASSERT_OK(nnf_clone(&mg[i], nnf_tensor_grad(p[i])));
    nnf_model_zero_grad(m);
    nnf_tensor *pred = NULL;
    NNF_ASSERT_OK(nnf_linear(&pred, a, p[2], p[3]));
    float floss;
    NNF_ASSERT_OK(nnf_mse(&floss, pred, targ));
    assert_true(memcmp(&floss, &loss, sizeof loss) == 0 || (isnan(floss) && isnan(loss)));
    NNF_ASSERT_OK(nnf_mse_backward(pred, targ));
    NNF_ASSERT_OK(nnf_linear_backward(a, pred, p[2], p[3], 1));
    NNF_ASSERT_OK(nnf_relu_backward(h, a));
    NNF_ASSERT_OK(nnf_linear_backward(x, h, p[0], p[1], 0));
    for (int i = 0; i < 4; i++) {
        assert_same_tensor(nnf_tensor_grad(p[i]), mg[i]);
        nnf_tensor_free(mg[i]);
    }

    /* The pair runs fused only inside the model: each layer called on its own does what
     * it always did (the Lin no ReLU, h having negatives to show it; the Relu its own
     * output, not a view of its input). */
    int negative = 0;
    for (int64_t i = 0; i < nnf_tensor_numel(h); i++)
        negative |= nnf_tensor_const_data(h)[i] < 0.0f;
    assert_true(negative);
    nnf_tensor *lone = NULL;
    NNF_ASSERT_OK(nnf_layer_call(l1, &lone, x));
    assert_same_tensor(lone, h);
    NNF_ASSERT_OK(nnf_layer_call(act, &lone, h));
    assert_same_tensor(lone, a);
    nnf_tensor_free(pred);
    nnf_tensor_free(h);
    nnf_tensor_free(a);
    nnf_tensor_free(want);
    nnf_tensor_free(x);
    nnf_tensor_free(targ);
    nnf_model_free(m);
}

static void test_model(void **state)
{
    (void)state;
    check_model(64, 50);
    check_model(300, 512);
}

static void test_errors(void **state)
{
    (void)state;
    nnf_tensor *x = tensor_2d(4, 3, 1, 0), *w = tensor_2d(5, 3, 2, 0), *wbad = tensor_2d(5, 2, 3, 0);
    nnf_tensor *y = tensor_2d(4, 5, 4, 0), *before = NULL, *bbad = NULL, *out = NULL;
    NNF_ASSERT_OK(nnf_clone(&before, y));
    NNF_ASSERT_OK(nnf_zeros(&bbad, NNF_SHAPE(4)));
    NNF_ASSERT_FAILS(nnf_linear_relu(&y, x, wbad, NULL), NNF_ERR_SHAPE);
    assert_non_null(strstr(nnf_last_error(), "nnf_linear_relu: x is 4x3 but w is 5x2"));
    NNF_ASSERT_FAILS(nnf_linear_relu(&y, x, w, bbad), NNF_ERR_SHAPE);
    assert_true(strncmp(nnf_last_error(), "nnf_linear_relu: b must be 1-D", 30) == 0);
    NNF_ASSERT_FAILS(nnf_linear_relu(&y, x, NULL, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_linear_relu(NULL, x, w, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_linear_relu(&x, x, w, NULL), NNF_ERR_SHAPE);   /* 4x3, not 4x5 */
    NNF_ASSERT_FAILS(nnf_linear_relu(&out, x, wbad, NULL), NNF_ERR_SHAPE);
    assert_null(out);
    assert_same_tensor(y, before);
    nnf_tensor_free(x);
    nnf_tensor_free(w);
    nnf_tensor_free(wbad);
    nnf_tensor_free(y);
    nnf_tensor_free(before);
    nnf_tensor_free(bbad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_ops_bits),
        cmocka_unit_test(test_post_ops_jobs_along_k),
        cmocka_unit_test(test_linear_relu),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
