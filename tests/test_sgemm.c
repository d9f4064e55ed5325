/* nnf_sgemm against a double-precision reference, and bit for bit across ISAs, code
 * paths (direct, packed, GEMV) and 1 vs 2 threads; plus argument errors.
 *
 * Every product is computed once per (ISA, threads, path) and compared with the
 * first result bit for bit: that is the numerics contract of kernels/sgemm_kernels.h. The
 * path and the threshold for threads are forced through test hooks so the packed
 * path and the 2-thread split run on shapes small enough for qemu.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "src/core/alloc.h"
#include "dispatch/kernel_table.h"
#include "src/linalg/matmul.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_scratch.h"

#define SENTINEL 12345.0f

typedef struct {
    size_t m, n, k;
    nnf_trans ta, tb;
    size_t pad;          /* added to every minimal leading dimension */
    float alpha, beta;
    int nan_c;           /* C starts as NaN (only meaningful with beta == 0) */
} problem;

typedef struct {
    float *a, *b, *c0;   /* inputs; c0 is C before the call */
    size_t lda, ldb, ldc, na, nb, nc;
    double *want, *bound;
} fixture;

static size_t max1(size_t x)
{
    return x > 1 ? x : 1;
}

static float a_at(const fixture *f, const problem *p, size_t i, size_t q)
{
    return p->ta == NNF_NO_TRANS ? f->a[i * f->lda + q] : f->a[q * f->lda + i];
}

static float b_at(const fixture *f, const problem *p, size_t q, size_t j)
{
    return p->tb == NNF_NO_TRANS ? f->b[q * f->ldb + j] : f->b[j * f->ldb + q];
}

static void fixture_init(fixture *f, const problem *p, uint64_t seed)
{
    size_t ra = p->ta == NNF_NO_TRANS ? p->m : p->k, ca = p->ta == NNF_NO_TRANS ? p->k : p->m;
    size_t rb = p->tb == NNF_NO_TRANS ? p->k : p->n, cb = p->tb == NNF_NO_TRANS ? p->n : p->k;
    f->lda = max1(ca) + p->pad;
    f->ldb = max1(cb) + p->pad;
    f->ldc = max1(p->n) + p->pad;
    f->na = max1(ra * f->lda);
    f->nb = max1(rb * f->ldb);
    f->nc = max1(p->m * f->ldc);
    f->a = malloc(f->na * sizeof(float));
    f->b = malloc(f->nb * sizeof(float));
    f->c0 = malloc(f->nc * sizeof(float));
    f->want = malloc(max1(p->m * p->n) * sizeof(double));
    f->bound = malloc(max1(p->m * p->n) * sizeof(double));
    assert_non_null(f->a);
    assert_non_null(f->b);
    assert_non_null(f->c0);
    nnf_test_fill_uniform(f->a, f->na, seed, -1.0f, 1.0f);
    nnf_test_fill_uniform(f->b, f->nb, seed + 1, -1.0f, 1.0f);
    nnf_test_fill_uniform(f->c0, f->nc, seed + 2, -1.0f, 1.0f);
    for (size_t i = 0; i < p->m; i++)
        for (size_t j = p->n; j < f->ldc; j++)
            f->c0[i * f->ldc + j] = SENTINEL;   /* padding that must survive */
    if (p->nan_c)
        for (size_t i = 0; i < p->m; i++)
            for (size_t j = 0; j < p->n; j++)
                f->c0[i * f->ldc + j] = NAN;

    /* Each KC-block sum has error <= kc * eps * sum |a b|, and the blocks are combined
     * with at most k / KC + 2 more roundings: (k + 4) eps bounds the whole. */
    for (size_t i = 0; i < p->m; i++)
        for (size_t j = 0; j < p->n; j++) {
            double s = 0.0, sabs = 0.0;
            for (size_t q = 0; q < p->k; q++) {
                double t = (double)a_at(f, p, i, q) * (double)b_at(f, p, q, j);
                s += t;
                sabs += fabs(t);
            }
            double c = p->beta == 0.0f ? 0.0 : (double)p->beta * f->c0[i * f->ldc + j];
            f->want[i * p->n + j] = (double)p->alpha * s + c;
            f->bound[i * p->n + j] =
                ((double)p->k + 4.0) * FLT_EPSILON * (fabs(p->alpha) * sabs + fabs(c)) +
                FLT_MIN;
        }
}

static void fixture_free(fixture *f)
{
    free(f->a);
    free(f->b);
    free(f->c0);
    free(f->want);
    free(f->bound);
}

static void describe(char *buf, size_t len, const problem *p, nnf_isa isa, int threads,
                     nnf__sgemm_path path)
{
    snprintf(buf, len, "m=%zu n=%zu k=%zu ta=%d tb=%d pad=%zu alpha=%g beta=%g isa=%s "
             "threads=%d path=%d", p->m, p->n, p->k, (int)p->ta, (int)p->tb, p->pad,
             (double)p->alpha, (double)p->beta, nnf_isa_name(isa), threads, (int)path);
}

/* Runs p into a fresh copy of C and checks it against the reference and the padding. */
static float *run_checked(const fixture *f, const problem *p, nnf_isa isa, int threads,
                          nnf__sgemm_path path)
{
    char what[200];
    describe(what, sizeof what, p, isa, threads, path);
    float *c = malloc(f->nc * sizeof(float));
    assert_non_null(c);
    memcpy(c, f->c0, f->nc * sizeof(float));
    nnf_status st = nnf_sgemm(p->ta, p->tb, p->m, p->n, p->k, p->alpha, f->a, f->lda, f->b,
                              f->ldb, p->beta, c, f->ldc);
    if (st != NNF_OK)
        fail_msg("%s: %s: %s", what, nnf_status_str(st), nnf_last_error());
    for (size_t i = 0; i < p->m; i++) {
        for (size_t j = 0; j < p->n; j++) {
            double got = c[i * f->ldc + j], want = f->want[i * p->n + j];
            double err = fabs(got - want);
            if (!(err <= f->bound[i * p->n + j]))
                fail_msg("%s: C[%zu][%zu] = %.9g, want %.9g (error %.3g > bound %.3g)",
                         what, i, j, got, want, err, f->bound[i * p->n + j]);
        }
        for (size_t j = p->n; j < f->ldc; j++)
            if (c[i * f->ldc + j] != SENTINEL)
                fail_msg("%s: padding C[%zu][%zu] was overwritten", what, i, j);
    }
    return c;
}

static void assert_same_bits(const float *want, const float *got, const fixture *f,
                             const problem *p, nnf_isa isa, int threads,
                             nnf__sgemm_path path)
{
    if (memcmp(want, got, f->nc * sizeof(float)) == 0)
        return;
    char what[200];
    describe(what, sizeof what, p, isa, threads, path);
    for (size_t i = 0; i < f->nc; i++) {
        uint32_t x, y;
        memcpy(&x, &want[i], 4);
        memcpy(&y, &got[i], 4);
        if (x != y)
            fail_msg("%s: C element %zu (row %zu, col %zu) is %.9g (0x%08x), the first "
                     "run gave %.9g (0x%08x)", what, i, i / f->ldc, i % f->ldc,
                     (double)got[i], y, (double)want[i], x);
    }
}

/* The product on every ISA x {1, 2 threads} x {direct, packed}: each result within
 * the reference bound, and all of them bitwise equal to the first. */
static void check_everywhere(const problem *p, uint64_t seed)
{
    fixture f;
    fixture_init(&f, p, seed);
    float *first = NULL;
    nnf__sgemm_set_parallel_min_flops(0.0);
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                float *c = run_checked(&f, p, isa, threads, (nnf__sgemm_path)path);
                if (first == NULL) {
                    first = c;
                } else {
                    assert_same_bits(first, c, &f, p, isa, threads, (nnf__sgemm_path)path);
                    free(c);
                }
            }
        }
    }
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    nnf__sgemm_set_parallel_min_flops(-1.0);
    nnf_test_threads(1);
    nnf_test_restore_isa();
    free(first);
    fixture_free(&f);
}

static const nnf_trans trans[2] = {NNF_NO_TRANS, NNF_TRANS};

/* check_everywhere on each of n problems, seeds from seed on. */
static void check_list(const problem *ps, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        check_everywhere(&ps[i], seed + i);
}

static void each_trans(problem p, uint64_t seed)
{
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2; y++) {
            p.ta = trans[x];
            p.tb = trans[y];
            check_everywhere(&p, seed + (uint64_t)(2 * x + y));
        }
}

/* m through every tail of every ISA's MR (4, 6, 8) and past two blocks. */
static void test_m_tails(void **state)
{
    (void)state;
    for (size_t m = 0; m <= 25; m++)
        each_trans((problem){m, 19, 7, 0, 0, 0, 1.0f, 0.0f, 0}, 100 + m);
}

/* n through every tail of every ISA's NR (4, 12, 16, 64) and past two blocks. */
static void test_n_tails(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 133; n++)
        each_trans((problem){7, n, 5, 0, 0, 0, 1.0f, 0.0f, 0}, 200 + n);
}

/* k: empty, tiny, primes, around KC (384) where the per-element sums restart, and 200
 * (a direct-path B panel of 48 columns on AVX-512, cut to fit the stack; n = 70 takes
 * two). */
static void test_k_blocks(void **state)
{
    (void)state;
    static const size_t ks[] = {0, 1, 2, 3, 13, 200, 383, 384, 385, 769};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        each_trans((problem){13, 70, ks[i], 0, 0, 0, 0.7f, 0.0f, 0}, 300 + i);
}

/* The packed path's joined last level (k = 400: 384 + 16 in one kernel call per tile)
 * and AVX-512's unmasked 32-wide panel under 8 rows (n = 80: a panel of 48 and one of
 * 32; m = 17: two 8-row panels and one row), C read or not. */
static void test_joined_level_wide_tail(void **state)
{
    (void)state;
    each_trans((problem){17, 80, 400, 0, 0, 0, 1.0f, 0.0f, 0}, 600);
    each_trans((problem){17, 80, 400, 0, 0, 5, 0.5f, 1.5f, 0}, 604);
}

/* alpha and beta, with leading dimensions larger than needed (padding checked). */
static void test_alpha_beta_ld(void **state)
{
    (void)state;
    static const float ab[][2] = {{1.0f, 1.0f}, {-0.5f, 2.0f}, {3.0f, -1.0f},
                                  {0.25f, 0.0f}, {0.0f, 0.5f}, {0.0f, 0.0f}};
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++)
        each_trans((problem){29, 37, 41, 0, 0, 3, ab[i][0], ab[i][1], 0}, 400 + i);
}

/* beta == 0 must not read C: NaN there is overwritten, on every path. */
static void test_beta_zero_overwrites_nan(void **state)
{
    (void)state;
    each_trans((problem){17, 33, 11, 0, 0, 1, 1.5f, 0.0f, 1}, 500);
    each_trans((problem){17, 1, 11, 0, 0, 0, 1.0f, 0.0f, 1}, 501);   /* GEMV */
    each_trans((problem){3, 5, 0, 0, 0, 0, 1.0f, 0.0f, 1}, 502);     /* k == 0 */
    each_trans((problem){3, 5, 7, 0, 0, 0, 0.0f, 0.0f, 1}, 503);     /* alpha == 0 */
}

/* Primes and random shapes, transposes, padding and alpha/beta. */
static void test_random_shapes(void **state)
{
    (void)state;
    static const size_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int t = 0; t < 24; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        problem p = {primes[(s >> 20) % 16], primes[(s >> 28) % 16] + (s >> 36) % 20,
                     primes[(s >> 44) % 16], trans[(s >> 50) & 1], trans[(s >> 51) & 1],
                     (s >> 52) % 3, (s >> 54) & 1 ? 1.0f : -0.75f,
                     (s >> 55) & 1 ? 0.0f : 0.5f, 0};
        check_everywhere(&p, 600 + (uint64_t)t);
    }
}

/* The chapter's products: the 5x784x10 of its first matmul, the MLP's 200x100x50
 * forward, its backward products x^T @ g (transposed A) and g @ w^T (transposed B),
 * and the 200x50x1 GEMV of the last layer. */
static void test_chapter_shapes(void **state)
{
    (void)state;
    problem ps[] = {
        {5, 10, 784, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {200, 50, 100, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {100, 50, 200, NNF_TRANS, NNF_NO_TRANS, 0, 1.0f, 1.0f, 0},
        {200, 100, 50, NNF_NO_TRANS, NNF_TRANS, 0, 1.0f, 0.0f, 0},
        {200, 1, 50, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {50, 1, 200, NNF_TRANS, NNF_NO_TRANS, 0, 1.0f, 1.0f, 0},
        {1, 50, 200, NNF_NO_TRANS, NNF_TRANS, 0, 1.0f, 0.0f, 0},
    };
    check_list(ps, sizeof ps / sizeof ps[0], 700);
}

/* x @ w.t() at small batch (AVX-512's dots_tb: B^T's rows transposed in registers):
 * every row count it takes, column groups with a narrow last block (n = 10, 18, 33),
 * k tails of 1-3 steps and pairs of KC blocks with a shorter second one. */
static void test_small_m_trans_b(void **state)
{
    (void)state;
    static const size_t ns[] = {4, 5, 10, 16, 18, 33}, ks[] = {1, 6, 384, 389, 784, 1155};
    uint64_t seed = 850;
    for (size_t m = 2; m <= 13; m++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
            for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++)
                check_everywhere(&(problem){m, ns[i], ks[j], NNF_NO_TRANS, NNF_TRANS, (m + j) % 3,
                                            m % 2 ? 1.0f : -0.75f, j % 2 ? 0.5f : 0.0f, 0},
                                 seed++);
}

/* x @ w.t() with many rows and a narrow w (a classifier's last layer): the B^T panel
 * holds all of a k over KC and each tile runs over it in one call; row bands (AVX-512:
 * 8 rows) whose remainder (67 = 7 x 8 + 6 + 5, 70 = 8 x 8 + 6) shares the last full
 * band's rows. */
static void test_tall_trans_b_narrow(void **state)
{
    (void)state;
    static const size_t ms[] = {67, 70}, ns[] = {10, 29}, ks[] = {390, 900};
    uint64_t seed = 870;
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            for (size_t l = 0; l < 2; l++)
                check_everywhere(&(problem){ms[i], ns[j], ks[l], NNF_NO_TRANS, NNF_TRANS,
                                            l, 1.0f, j ? 0.5f : 0.0f, 0},
                                 seed++);
}

/* One or two columns past a multiple of AVX-512's 16 with 32 rows or more: those
 * columns go through dots_cols (sgemm_paths.c, sparse_tail). */
static void test_sparse_tail_columns(void **state)
{
    (void)state;
    static const size_t ms[] = {32, 47, 200}, ns[] = {17, 18, 19, 50, 66},
                        ks[] = {7, 100, 385};
    uint64_t seed = 900;
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 5; j++)
            for (size_t q = 0; q < 3; q++)
                for (int t = 0; t < 2; t++)
                    check_everywhere(&(problem){ms[i], ns[j], ks[q], NNF_NO_TRANS, trans[t],
                                                (i + q) % 3, q == 1 ? -0.5f : 1.0f,
                                                j % 2 ? 0.0f : 1.5f, 0},
                                     seed++);
}

/* 1-4 columns past a multiple of 16 (or a C of 2-4 columns) go through AVX-512's
 * dots_cols, all of them in one call: every width, A's rows or columns contiguous, row
 * counts through its batches of
 * 1, 2 or 4 groups of 16 and a partial last group (32, 47, 63, 64, 200), k through its
 * 8-step tails and past a KC block. */
static void test_tail_column_groups(void **state)
{
    (void)state;
    static const size_t ms[] = {32, 47, 63, 64, 200}, ns[] = {2, 3, 4, 19, 20, 36, 52, 99, 100},
                        ks[] = {3, 50, 389};
    uint64_t seed = 1100;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
            for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++)
                for (int t = 0; t < 2; t++)
                    check_everywhere(&(problem){ms[i], ns[j], ks[q], trans[t],
                                                trans[(i + j + q) % 2], (i + q) % 2,
                                                q == 1 ? -0.5f : 1.0f, j % 2 ? 0.0f : 1.5f, 0},
                                     seed++);
}

/* Narrow C (up to 32 columns) in row bands of 7 and 8 (AVX-512's direct tiles take 8
 * rows there): 32^3 and 64 x 32, one and two vectors a row with and without a partial
 * last one, and k past one and two KC blocks (one-vector tiles run blocks in pairs). */
static void test_narrow_row_bands(void **state)
{
    (void)state;
    static const size_t ms[] = {7, 8, 15, 32, 64}, ns[] = {16, 20, 32}, ks[] = {32, 385, 769};
    uint64_t seed = 1200;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
            for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++)
                check_everywhere(&(problem){ms[i], ns[j], ks[q], trans[q % 2], NNF_NO_TRANS,
                                            (i + j) % 3, 1.0f, q == 1 ? 0.5f : 0.0f, 0},
                                 seed++);
}

/* GEMV (n = 1, A's rows contiguous) at every row count the AVX-512 kernel cuts
 * differently (batches of 4 groups of 16 rows, the last 1..15 rows beside the last
 * batch) and k through its 8-column steps and 1..7-column tails. */
static void test_gemv_row_batches(void **state)
{
    (void)state;
    static const size_t ms[] = {1, 5, 8, 15, 16, 17, 24, 31, 33, 48, 49, 63, 64, 65,
                                72, 79, 80, 88, 112, 127, 128, 200, 211},
                        ks[] = {1, 3, 7, 8, 9, 50, 385};
    uint64_t seed = 1400;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++)
            check_everywhere(&(problem){ms[i], 1, ks[q], NNF_NO_TRANS, NNF_NO_TRANS,
                                        (i + q) % 3, q % 2 ? 1.0f : -0.75f,
                                        i % 2 ? 0.5f : 0.0f, 0},
                             seed++);
}

/* Depth 1, the outer-product kernel where the ISA has one (Lin's input gradient with
 * n_out = 1): the same bits as the tiles of the ISAs without it, and on every ISA the
 * contract's element, fma(a, b, +0) then the epilogue, computed here one element at a
 * time, for -0 (which the +0 accumulator turns into +0), infinities, NaNs and zeros
 * times infinities in A, B and C, with beta 0, 1 and 0.5. */
static void test_depth_one(void **state)
{
    (void)state;
    each_trans((problem){200, 50, 1, 0, 0, 0, 1.0f, 0.0f, 0}, 1300);
    each_trans((problem){37, 33, 1, 0, 0, 3, -0.5f, 1.0f, 0}, 1301);
    each_trans((problem){1, 70, 1, 0, 0, 1, 1.0f, 0.5f, 0}, 1302);
    each_trans((problem){19, 1, 1, 0, 0, 0, 2.0f, 1.0f, 0}, 1303);
    each_trans((problem){9, 17, 1, 0, 0, 0, 1.0f, 0.0f, 1}, 1304);

    /* Infinities and NaNs in A and B, only in A, only in B (the kernels check A, B and
     * alpha before taking beta 0's finite rows), in neither (products that overflow and
     * underflow). */
    enum { M = 9, N = 21 };
    static const float specials[] = {0.0f, -0.0f, 1.0f, -2.5f, INFINITY, -INFINITY, NAN,
                                     -NAN, 1e-30f, -1e-30f, -3e38f};
    static const float finite[] = {0.0f, -0.0f, 1.0f, -2.5f, 1e-30f, -1e-30f, -3e38f, 3e38f};
    const size_t ns = sizeof specials / sizeof specials[0], nf = sizeof finite / sizeof finite[0];
    float a[M], b[N], c0[M * N], c[M * N], want[M * N];
    for (size_t q = 0; q < M * N; q++)
        c0[q] = specials[(q * 7 + 2) % ns];
    static const float betas[] = {0.0f, 1.0f, 0.5f}, alphas[] = {1.0f, -1.5f};
    for (int t = 0; t < 4 * 3 * 2; t++) {
        const int set = t / 6, x = t / 2 % 3, y = t % 2;   /* operands, beta, alpha */
        for (size_t i = 0; i < M; i++)
            a[i] = set < 2 ? specials[i % ns] : finite[i % nf];
        for (size_t j = 0; j < N; j++)
            b[j] = set % 2 == 0 && set < 3 ? specials[(j * 3 + 1) % ns]
                                            : finite[(j * 3 + 1) % nf];
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++)
                want[i * N + j] = nnf__sgemm_epilogue1(fmaf(a[i], b[j], 0.0f),
                                                       &c0[i * N + j], alphas[y], betas[x]);
        /* A as a column (lda 1) and strided (lda 2: its finiteness checked apart). */
        float a2[2 * M];
        for (size_t i = 0; i < M; i++)
            a2[2 * i] = a2[2 * i + 1] = a[i];
        NNF_FOR_EACH_ISA(isa) {
            for (size_t lda = 1; lda <= 2; lda++) {
                memcpy(c, c0, sizeof c);
                NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, M, N, 1, alphas[y],
                                        lda == 1 ? a : a2, lda, b, N, betas[x], c, N));
                for (size_t q = 0; q < M * N; q++)
                    if (memcmp(&c[q], &want[q], sizeof c[q]) != 0)
                        fail_msg("depth 1 on %s, set %d, lda %zu, alpha %g beta %g: "
                                 "C[%zu][%zu] = %a, want %a (a %g, b %g, c %g)",
                                 nnf_isa_name(isa), set, lda, (double)alphas[y],
                                 (double)betas[x], q / N, q % N, (double)c[q],
                                 (double)want[q], (double)a[q / N], (double)b[q % N],
                                 (double)c0[q]);
            }
        }
    }
    nnf_test_restore_isa();
}

/* One row of C (a Lin's bias gradient ones @ y.g, its weight gradient with n_out = 1),
 * where the vector ISAs run one element's period sums side by side (dot_every) and more
 * columns take the tiles: on every ISA the contract's element computed here chain by
 * chain, for restart periods 1, 3, 32 and KC, k from 1 to past 8 chains, 1 to 50
 * columns (whole and partial vectors), a strided A, beta 0, 1 and 0.5, and -0,
 * infinities and NaNs among the inputs and in C. */
static float one_element(size_t period, size_t k, const float *a, size_t inca, const float *x,
                         size_t incx, float c, float alpha, float beta)
{
    for (size_t p0 = 0; p0 < k; p0 += period) {
        float acc = 0.0f;
        for (size_t p = p0; p < k && p < p0 + period; p++)
            acc = fmaf(a[p * inca], x[p * incx], acc);
        c = p0 == 0 ? nnf__sgemm_epilogue1(acc, &c, alpha, beta)
                    : nnf__canonical_nan(fmaf(alpha, acc, c));
    }
    return c;
}

static void check_one_row(size_t period, size_t k, size_t n, size_t inc, float beta, int sp,
                          float *a, float *b)
{
    static const float specials[] = {-0.0f, INFINITY, -INFINITY, NAN};
    enum { NMAX = 50 };
    float c0[NMAX], want[NMAX], c[NMAX];
    nnf_test_fill_uniform(a, k * inc, 40 + k, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, k * n, 50 + period, -1.0f, 1.0f);
    nnf_test_fill_uniform(c0, n, 60 + n, -1.0f, 1.0f);
    if (sp >= 0) {  /* in the middle of the last chain, in column 0 and n - 1 */
        a[(k - 1 - (k - 1) % period / 2) * inc] = specials[sp];
        b[(k / 2) * n] = sp == 0 ? -1.0f : 0.0f;
        b[(k / 3) * n + n - 1] = specials[(sp + 1) % 4];
        c0[0] = sp == 0 ? -0.0f : specials[sp];
    }
    for (size_t j = 0; j < n; j++)
        want[j] = one_element(period, k, a, inc, b + j, n, c0[j], 1.5f, beta);
    NNF_FOR_EACH_ISA(isa) {
        memcpy(c, c0, n * sizeof *c);
        /* a strided row of A is a column of A^T */
        NNF_ASSERT_OK(nnf__sgemm_restart(period, inc == 1 ? NNF_NO_TRANS : NNF_TRANS,
                                         NNF_NO_TRANS, 1, n, k, 1.5f, a, inc == 1 ? k : inc,
                                         b, n, beta, c, n));
        for (size_t j = 0; j < n; j++)
            if (memcmp(&c[j], &want[j], sizeof c[j]) != 0)
                fail_msg("1x%zux%zu period %zu inc %zu beta %g special %d on %s: C[0][%zu] "
                         "= %a, want %a", n, k, period, inc, (double)beta, sp,
                         nnf_isa_name(isa), j, (double)c[j], (double)want[j]);
    }
}

static void test_one_row_restarts(void **state)
{
    (void)state;
    enum { K = 3100, INC = 3 };
    float *a = malloc(K * INC * sizeof *a), *b = malloc(K * 50 * sizeof *b);
    assert_true(a && b);
    static const size_t periods[] = {1, 3, 32, NNF__SGEMM_KC}, ks[] = {1, 31, 33, 200, 385, K},
                        ns[] = {1, 2, 17, 50};
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int sp = -1; sp < 4; sp++)
        for (size_t pi = 0; pi < 4; pi++)
            for (size_t ki = 0; ki < 6; ki++)
                for (size_t ni = 0; ni < 4; ni++)
                    for (size_t inc = 1; inc <= INC; inc += INC - 1)
                        check_one_row(periods[pi], ks[ki], ns[ni], inc,
                                      betas[(sp + 1 + (int)ki) % 3], sp, a, b);
    nnf_test_restore_isa();
    free(a);
    free(b);
}

/* Few rows of op(A) @ B as stored, up to 16 columns (AVX-512's dots_nn and dots_tn: the
 * few-row groups above on B's rows as they are, A as stored or transposed): every row
 * count they take and one past, 1 to 17 columns, k tails and pairs of KC blocks; then
 * with the sums restarting every 32 or 128 steps (nnf__sgemm_restart), against the
 * contract's element computed here. */
static void test_small_m_no_trans(void **state)
{
    (void)state;
    static const size_t ns[] = {1, 3, 10, 16, 17}, ks[] = {2, 6, 384, 389, 784, 1155};
    uint64_t seed = 1850;
    for (size_t m = 1; m <= 7; m++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
            for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++)
                check_everywhere(&(problem){m, ns[i], ks[j], trans[(i + j) % 2], NNF_NO_TRANS,
                                            (m + j) % 3, m % 2 ? 1.0f : -0.75f,
                                            j % 2 ? 0.5f : 0.0f, 0},
                                 seed++);

    enum { M = 5, N = 10, K = 300, LDB = 13 };
    float *a = malloc(M * K * sizeof *a), *b = malloc(K * LDB * sizeof *b);
    float c0[M * N], c[M * N], want[M * N];
    assert_true(a && b);
    nnf_test_fill_uniform(a, M * K, 1860, -1, 1);
    nnf_test_fill_uniform(b, K * LDB, 1861, -1, 1);
    nnf_test_fill_uniform(c0, M * N, 1862, -1, 1);
    static const size_t periods[] = {32, 128};
    for (int t = 0; t < 2 * 2 * 2; t++) {
        const size_t period = periods[t / 4];
        const float beta = t / 2 % 2 ? 0.5f : 0.0f;
        const int ta = t % 2;   /* A read as M x K (lda K) or as its transpose (lda M) */
        for (size_t q = 0; q < M * N; q++)
            want[q] = one_element(period, K, ta ? a + q / N : a + q / N * K, ta ? M : 1,
                                  b + q % N, LDB, c0[q], -1.25f, beta);
        NNF_FOR_EACH_ISA(isa) {
            memcpy(c, c0, sizeof c);
            NNF_ASSERT_OK(nnf__sgemm_restart(period, trans[ta], NNF_NO_TRANS, M, N, K, -1.25f,
                                             a, ta ? M : K, b, LDB, beta, c, N));
            for (size_t q = 0; q < M * N; q++)
                if (memcmp(&c[q], &want[q], sizeof c[q]) != 0)
                    fail_msg("%s ta %d period %zu beta %g: C[%zu][%zu] = %a, want %a",
                             nnf_isa_name(isa), ta, period, (double)beta, q / N, q % N,
                             (double)c[q], (double)want[q]);
        }
    }
    nnf_test_restore_isa();
    free(a);
    free(b);
}

/* B as stored on the direct path, through the packed path's register block where it
 * has more rows than the direct one (AVX-512: 8x48 against 6x64; sgemm_paths.c,
 * run_direct): 7-8 rows at any width, fewer bands with a full enough last tile (56 and
 * 40 rows; 40 x 160 keeps 6x64, its last tile 16 wide, as does k = 10), and few rows
 * against a B past the budget (k * n > 64K floats), which go column block by column
 * block: row counts through one, two and three bands with partial ones, widths with a
 * partial last block and a sparse tail, k past a KC block, A as stored and transposed;
 * and B transposed, whose panels the same rule gives the 8x48 block (run_direct_packed_b). */
static void test_direct_wide_bands(void **state)
{
    (void)state;
    static const problem ps[] = {
        {7, 70, 385, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {8, 100, 50, NNF_TRANS, NNF_NO_TRANS, 1, -0.5f, 1.5f, 0},
        {8, 200, 200, NNF_NO_TRANS, NNF_NO_TRANS, 2, 1.0f, 0.5f, 0},
        {56, 96, 70, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {40, 80, 33, NNF_TRANS, NNF_NO_TRANS, 1, 1.0f, 1.5f, 0},
        {40, 160, 20, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 0.0f, 0},
        {30, 96, 10, NNF_NO_TRANS, NNF_NO_TRANS, 1, 1.0f, 0.5f, 0},
        {7, 250, 300, NNF_NO_TRANS, NNF_NO_TRANS, 1, 1.0f, 0.0f, 0},
        {12, 260, 300, NNF_TRANS, NNF_NO_TRANS, 0, -0.5f, 0.5f, 0},
        {16, 288, 400, NNF_NO_TRANS, NNF_NO_TRANS, 2, 1.0f, 0.0f, 0},
        {23, 250, 300, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 1.5f, 0},
        {8, 100, 300, NNF_NO_TRANS, NNF_TRANS, 1, 1.0f, 0.0f, 0},
        {7, 70, 385, NNF_TRANS, NNF_TRANS, 0, -0.5f, 0.5f, 0},
        {56, 96, 70, NNF_NO_TRANS, NNF_TRANS, 2, 1.0f, 1.5f, 0},
    };
    check_list(ps, sizeof ps / sizeof ps[0], 1900);
}

/* Shapes with several MC (2048 on x86, 960 on NEON), NC (240-384) and KC (384) blocks
 * in the packed path, kept thin in the other dimensions for qemu. */
static void test_many_blocks(void **state)
{
    (void)state;
    check_everywhere(&(problem){2100, 21, 13, NNF_TRANS, NNF_NO_TRANS, 1, 1.0f, 0.5f, 0},
                     800);
    check_everywhere(&(problem){27, 530, 390, NNF_NO_TRANS, NNF_TRANS, 2, -1.0f, 0.5f, 0},
                     801);
}

/* The GEMV kernel (n == 1) gives the same bits as the first column of a GEMM. */
static void test_gemv_matches_gemm(void **state)
{
    (void)state;
    const size_t m = 45, k = 777;
    float *a = malloc(m * k * sizeof(float)), *b2 = malloc(k * 2 * sizeof(float));
    float *b1 = malloc(k * sizeof(float));
    float c1[45], c2[90];
    nnf_test_fill_uniform(a, m * k, 1, -1.0f, 1.0f);
    nnf_test_fill_uniform(b2, k * 2, 2, -1.0f, 1.0f);
    for (size_t q = 0; q < k; q++)
        b1[q] = b2[q * 2];
    NNF_FOR_EACH_ISA(isa) {
        for (int ta = 0; ta < 2; ta++) {
            size_t lda = ta ? m : k;
            NNF_ASSERT_OK(nnf_sgemm(trans[ta], NNF_NO_TRANS, m, 1, k, 1.0f, a, lda, b1, 1,
                                    0.0f, c1, 1));
            NNF_ASSERT_OK(nnf_sgemm(trans[ta], NNF_NO_TRANS, m, 2, k, 1.0f, a, lda, b2, 2,
                                    0.0f, c2, 2));
            for (size_t i = 0; i < m; i++)
                if (memcmp(&c1[i], &c2[2 * i], sizeof(float)) != 0)
                    fail_msg("%s ta=%d row %zu: GEMV %.9g, GEMM %.9g", nnf_isa_name(isa),
                             ta, i, (double)c1[i], (double)c2[2 * i]);
        }
    }
    nnf_test_restore_isa();
    free(a);
    free(b1);
    free(b2);
}

static uint64_t fnv1a(const float *x, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *bytes = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof(float); i++)
        h = (h ^ bytes[i]) * 0x100000001b3ull;
    return h;
}

/* The same bits on x86 and aarch64: hashes of C recorded on x86 (every ISA there
 * agrees, see above) must come out of every ISA here too, whatever the platform. */
static void test_golden_bits_across_platforms(void **state)
{
    (void)state;
    static const struct {
        problem p;
        uint64_t hash;
    } golden[] = {
        {{13, 35, 769, NNF_NO_TRANS, NNF_NO_TRANS, 0, 0.7f, 0.3f, 0}, 0x6e5a521569807b05ull},
        {{37, 29, 401, NNF_TRANS, NNF_TRANS, 0, -1.5f, 0.0f, 0}, 0xe0f2994dddb795bbull},
        {{41, 1, 390, NNF_NO_TRANS, NNF_NO_TRANS, 0, 1.0f, 2.0f, 0}, 0x9c1aabfa42bd2449ull},
    };
    for (size_t g = 0; g < sizeof golden / sizeof golden[0]; g++) {
        const problem *p = &golden[g].p;
        fixture f;
        fixture_init(&f, p, 900 + g);
        NNF_FOR_EACH_ISA(isa) {
            for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                float *c = run_checked(&f, p, isa, 1, (nnf__sgemm_path)path);
                uint64_t h = fnv1a(c, f.nc);
                if (h != golden[g].hash)
                    fail_msg("golden product %zu on %s, path %d: hash 0x%016llxull, recorded "
                             "0x%016llxull", g, nnf_isa_name(isa), path,
                             (unsigned long long)h, (unsigned long long)golden[g].hash);
                free(c);
            }
        }
        nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
        fixture_free(&f);
    }
    nnf_test_restore_isa();
}

/* OMP_NUM_THREADS-style thread counts on problems above the parallel threshold, split
 * along M (tall) and along N (wide): the same bits as one thread. */
static void test_threads_default_threshold(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {{300, 40, 200}, {12, 900, 300}};
    for (size_t s = 0; s < 2; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
        float *c1 = malloc(m * n * sizeof(float)), *c2 = malloc(m * n * sizeof(float));
        nnf_test_fill_uniform(a, m * k, 3, -1.0f, 1.0f);
        nnf_test_fill_uniform(b, k * n, 4, -1.0f, 1.0f);
        NNF_FOR_EACH_ISA(isa) {
            nnf_test_threads(1);
            NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, m, n, k, 1.0f, a, k, b, n,
                                    0.0f, c1, n));
            nnf_test_threads(2);
            NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, m, n, k, 1.0f, a, k, b, n,
                                    0.0f, c2, n));
            nnf_test_assert_bits_equal(c1, c2, m * n);
        }
        nnf_test_threads(1);
        nnf_test_restore_isa();
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
}

/* Inside a parallel region nnf_sgemm runs serially and still gives the same bits. */
static void test_inside_parallel_region(void **state)
{
    (void)state;
    enum { M = 40, N = 70, K = 90 };
    float a[M * K], b[K * N], want[M * N], got[2][M * N];
    nnf_test_fill_uniform(a, M * K, 5, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, K * N, 6, -1.0f, 1.0f);
    nnf__sgemm_set_parallel_min_flops(0.0);
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, M, N, K, 1.0f, a, K, b, N, 0.0f,
                            want, N));
    nnf_status st[2] = {NNF_OK, NNF_OK};
#pragma omp parallel for num_threads(2)
    for (int t = 0; t < 2; t++)
        st[t] = nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, M, N, K, 1.0f, a, K, b, N, 0.0f,
                          got[t], N);
    nnf__sgemm_set_parallel_min_flops(-1.0);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(st[t], NNF_OK);
        nnf_test_assert_bits_equal(want, got[t], M * N);
    }
}

/* Every bad argument is an error with a message, and C is left as it was. */
static void test_errors_leave_c_untouched(void **state)
{
    (void)state;
    float a[64], b[64], c[64], keep[64];
    nnf_test_fill_uniform(a, 64, 7, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, 64, 8, -1.0f, 1.0f);
    nnf_test_fill_uniform(c, 64, 9, -1.0f, 1.0f);
    memcpy(keep, c, sizeof c);
    const size_t huge = (size_t)PTRDIFF_MAX / 2;
#define FAILS(call, code)                                                              \
    do {                                                                               \
        NNF_ASSERT_FAILS(call, code);                                                  \
        assert_true(strstr(nnf_last_error(), "nnf_sgemm: ") == nnf_last_error());      \
        assert_memory_equal(c, keep, sizeof c);                                        \
    } while (0)
    /* lda, ldb, ldc below the stored row length, for each transpose. */
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 3, b, 3, 0, c, 3),
          NNF_ERR_STRIDE);
    assert_non_null(strstr(nnf_last_error(), "lda (3) must be at least 4"));
    FAILS(nnf_sgemm(NNF_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 1, b, 3, 0, c, 3),
          NNF_ERR_STRIDE);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, b, 2, 0, c, 3),
          NNF_ERR_STRIDE);
    assert_non_null(strstr(nnf_last_error(), "ldb (2) must be at least 3"));
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_TRANS, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3),
          NNF_ERR_STRIDE);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, b, 3, 0, c, 2),
          NNF_ERR_STRIDE);
    assert_non_null(strstr(nnf_last_error(), "ldc (2) must be at least 3"));
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 0, 0, 0, 1, a, 0, b, 1, 0, c, 1),
          NNF_ERR_STRIDE);
    /* NULL with a nonzero size. */
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, NULL, 4, b, 3, 0, c, 3),
          NNF_ERR_NULL);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, NULL, 3, 0, c, 3),
          NNF_ERR_NULL);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, b, 3, 0, NULL, 3),
          NNF_ERR_NULL);
    /* Bad transpose flags. */
    FAILS(nnf_sgemm((nnf_trans)7, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3),
          NNF_ERR_INVALID);
    FAILS(nnf_sgemm(NNF_NO_TRANS, (nnf_trans)-1, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3),
          NNF_ERR_INVALID);
    /* (rows - 1) * ld + cols past PTRDIFF_MAX bytes: m * lda, k * ldb, m * ldc. */
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 3, 3, 4, 1, a, huge, b, 3, 0, c, 3),
          NNF_ERR_OVERFLOW);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, huge, 3, 4, 1, a, 4, b, 3, 0, c, 3),
          NNF_ERR_OVERFLOW);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 4, 1, a, 4, b, huge, 0, c, 3),
          NNF_ERR_OVERFLOW);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, huge, 1, 1, a, 1, b, huge, 0, c, huge),
          NNF_ERR_OVERFLOW);
    FAILS(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 3, 3, 4, 1, a, 4, b, 3, 0, c, huge),
          NNF_ERR_OVERFLOW);
#undef FAILS
    /* Empty operands may be NULL; k == 0 scales C by beta without reading A or B. */
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 0, 3, 4, 1, NULL, 4, b, 3, 0,
                            NULL, 3));
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 3, 0, 1, NULL, 1, NULL, 3, 2.0f,
                            c, 3));
    for (size_t i = 0; i < 6; i++)
        assert_true(c[i] == 2.0f * keep[i]);
    /* Strides past the quick acceptance's 2^30 take the full checks, which pass them
     * across single rows. */
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 1, 3, 4, 1, a, (size_t)1 << 30, b,
                            3, 0, c, (size_t)1 << 31));
}

/* The direct path (every small product) never allocates: with every allocation failing
 * it still gives the packed path's bits, for all four transpose combinations. The
 * packed path's scratch is cached per thread: a failure to get it is NNF_ERR_NOMEM with
 * C untouched and nothing leaked; once cached, later calls allocate nothing. */
static void test_alloc_failure(void **state)
{
    (void)state;
    enum { M = 100, N = 100, K = 100 };
    float *a = malloc(M * K * sizeof(float)), *b = malloc(K * N * sizeof(float));
    float *c = malloc(M * N * sizeof(float)), *keep = malloc(M * N * sizeof(float));
    float *want = malloc(M * N * sizeof(float));
    nnf_test_fill_uniform(a, M * K, 10, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, K * N, 11, -1.0f, 1.0f);
    nnf_test_fill_uniform(keep, M * N, 12, -1.0f, 1.0f);
    NNF_FOR_EACH_ISA(isa) {
        for (int t = 0; t < 4; t++) {
            nnf_trans ta = t & 1 ? NNF_TRANS : NNF_NO_TRANS;
            nnf_trans tb = t & 2 ? NNF_TRANS : NNF_NO_TRANS;
            nnf__sgemm_scratch_release();
            long live = nnf__alloc_live();

            nnf__sgemm_force_path(NNF__SGEMM_PATH_PACKED);
            memcpy(c, keep, M * N * sizeof(float));
            nnf__alloc_fail_after(1);
            nnf_status st = nnf_sgemm(ta, tb, M, N, K, 1, a, K, b, K, 0.5f, c, N);
            nnf__alloc_fail_after(0);
            assert_int_equal(st, NNF_ERR_NOMEM);
            assert_non_null(strstr(nnf_last_error(), "out of memory"));
            assert_memory_equal(c, keep, M * N * sizeof(float));
            assert_int_equal(nnf__alloc_live(), live);

            memcpy(want, keep, M * N * sizeof(float));
            NNF_ASSERT_OK(nnf_sgemm(ta, tb, M, N, K, 1, a, K, b, K, 0.5f, want, N));
            assert_int_equal(nnf__alloc_live(), live + 1);   /* the cached scratch */

            for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                memcpy(c, keep, M * N * sizeof(float));
                nnf__alloc_fail_after(1);
                st = nnf_sgemm(ta, tb, M, N, K, 1, a, K, b, K, 0.5f, c, N);
                nnf__alloc_fail_after(0);
                NNF_ASSERT_OK(st);
                assert_memory_equal(c, want, M * N * sizeof(float));
            }
            nnf__sgemm_scratch_release();
            assert_int_equal(nnf__alloc_live(), live);
        }
    }
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    nnf_test_restore_isa();
    free(a);
    free(b);
    free(c);
    free(keep);
    free(want);
}

/* The scalar_fma table's sgemm kernels (x86: the scalar ones built with -mfma) give the
 * scalar table's bits: micro-kernel over KC-block boundaries with strided A, beta 0 and
 * not, and the GEMV kernel. */
static void test_scalar_fma_build(void **state)
{
    (void)state;
#if defined(__x86_64__)
    if (!nnf_isa_supported(NNF_ISA_SCALAR_FMA))
        return;
    const nnf__sgemm_kernels *base = &nnf__kernels_scalar.gemm;
    const nnf__sgemm_kernels *fma = &nnf__kernels_scalar_fma.gemm;
    enum { K = NNF__SGEMM_KC + 37, LDA = K + 3, LDC = 7 };
    float *a = malloc(4 * LDA * sizeof(float)), *b = malloc(K * 4 * sizeof(float));
    float c[2][4 * LDC], y[2][4];
    nnf_test_fill_uniform(a, 4 * LDA, 13, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, K * 4, 14, -1.0f, 1.0f);
    for (int beta0 = 0; beta0 <= 1; beta0++)
        for (size_t mr = 1; mr <= 4; mr++)
            for (size_t nr = 1; nr <= 4; nr++) {
                float beta = beta0 ? 0.0f : -0.75f;
                const nnf__sgemm_kernels *kr[2] = {base, fma};
                for (int v = 0; v < 2; v++) {
                    nnf_test_fill_uniform(c[v], 4 * LDC, 15, -1.0f, 1.0f);
                    nnf_test_fill_uniform(y[v], 4, 16, -1.0f, 1.0f);
                    kr[v]->direct_ukernel(K, a, LDA, 1, b, 4, c[v], LDC, mr, nr, 1.25f, beta);
                    kr[v]->dots(mr, NNF__SGEMM_KC, a, LDA, b, 4, y[v], 1, 1.25f, beta);
                }
                assert_memory_equal(c[0], c[1], sizeof c[0]);
                assert_memory_equal(y[0], y[1], sizeof y[0]);
            }
    free(a);
    free(b);
#endif
}

/* The NaN rule (kernels/eltwise.h) for products: NaNs of either sign, any payload and
 * signalling ones in A, B and C, and inf - inf made inside a sum, come out of every path
 * (direct, packed, GEMV, the few-row B^T kernel, prepacked B) on every ISA as the
 * canonical 0x7FC00000; finite results keep the bits the other tests check. */
static float bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void check_nan_rule(size_t m, size_t n, size_t k, nnf_trans tb, float beta)
{
    const size_t lda = k, ldb = tb == NNF_NO_TRANS ? n : k, ldc = n;
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *c0 = malloc(m * n * sizeof *c0), *c = malloc(m * n * sizeof *c);
    assert_true(a && b && c0 && c);
    nnf_test_fill_uniform(a, m * k, 71 + m, -1, 1);
    nnf_test_fill_uniform(b, k * n, 72 + n, -1, 1);
    nnf_test_fill_uniform(c0, m * n, 73 + k, -1, 1);
#define B_AT(p, j) b[tb == NNF_NO_TRANS ? (p) * ldb + (j) : (j) * ldb + (p)]
    a[0 * lda + k / 2] = bits_float(0x7FC12345u);                     /* row 0: payload */
    B_AT(k - 1, n - 1) = bits_float(0xFFC00001u);                      /* column n-1: -NaN */
    if (m > 2) {                                                       /* row 2: inf - inf */
        a[2 * lda + 0] = INFINITY;
        a[2 * lda + 1] = INFINITY;
        for (size_t j = 0; j < n; j++) {
            B_AT(0, j) = 1.0f;
            B_AT(1, j) = -1.0f;
        }
    }
    if (beta != 0.0f)
        c0[(m - 1) * ldc] = bits_float(0x7F800001u);                  /* signalling, in C */
#undef B_AT
    nnf_packed_matrix *pb = NULL;
    NNF_FOR_EACH_ISA(isa) {
        NNF_ASSERT_OK(nnf_pack_b(&pb, tb, k, n, b, ldb));
        for (int path = NNF__SGEMM_PATH_AUTO; path <= NNF__SGEMM_PATH_PACKED + 1; path++) {
            memcpy(c, c0, m * n * sizeof *c);
            if (path <= NNF__SGEMM_PATH_PACKED) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, tb, m, n, k, 1.0f, a, lda, b, ldb, beta,
                                        c, ldc));
            } else {
                NNF_ASSERT_OK(nnf_sgemm_packed_b(NNF_NO_TRANS, m, n, k, 1.0f, a, lda, pb, beta,
                                                 c, ldc));
            }
            size_t nans = 0;
            for (size_t i = 0; i < m * n; i++) {
                uint32_t got;
                memcpy(&got, &c[i], sizeof got);
                if (isnan(c[i])) {
                    nans++;
                    if (got != 0x7FC00000u)
                        fail_msg("%zux%zux%zu tb %d beta %g on %s, path %d: C[%zu][%zu] is "
                                 "NaN 0x%08x, not 0x7fc00000", m, n, k, (int)tb, (double)beta,
                                 nnf_isa_name(isa), path, i / ldc, i % ldc, got);
                }
            }
            /* row 0, column n-1, row 2 and C's NaN at (m-1, 0), counted without overlap */
            size_t want = n + (m - 1) + (m > 2 ? n - 1 : 0) + (beta != 0.0f && n > 1 ? 1 : 0);
            assert_int_equal(nans, want);
        }
        nnf_packed_free(pb);
        pb = NULL;
    }
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    nnf_test_restore_isa();
    free(a);
    free(b);
    free(c0);
    free(c);
}

static void test_nan_rule(void **state)
{
    (void)state;
    check_nan_rule(17, 33, 400, NNF_NO_TRANS, 0.0f);   /* tiles, two KC blocks */
    check_nan_rule(17, 33, 400, NNF_TRANS, 0.5f);
    check_nan_rule(5, 10, 784, NNF_TRANS, 0.0f);       /* the few-row B^T kernel */
    check_nan_rule(5, 10, 784, NNF_NO_TRANS, 0.0f);    /* ... and its B as stored */
    check_nan_rule(6, 16, 400, NNF_NO_TRANS, 0.5f);
    check_nan_rule(9, 10, 784, NNF_TRANS, 1.0f);
    check_nan_rule(40, 1, 50, NNF_NO_TRANS, 0.0f);     /* GEMV */
    check_nan_rule(40, 2, 50, NNF_NO_TRANS, 2.0f);
    check_nan_rule(64, 49, 30, NNF_NO_TRANS, 1.0f);    /* sparse tail columns */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m_tails),
        cmocka_unit_test(test_scalar_fma_build),
        cmocka_unit_test(test_n_tails),
        cmocka_unit_test(test_k_blocks),
        cmocka_unit_test(test_joined_level_wide_tail),
        cmocka_unit_test(test_alpha_beta_ld),
        cmocka_unit_test(test_beta_zero_overwrites_nan),
        cmocka_unit_test(test_nan_rule),
        cmocka_unit_test(test_random_shapes),
        cmocka_unit_test(test_chapter_shapes),
        cmocka_unit_test(test_many_blocks),
        cmocka_unit_test(test_depth_one),
        cmocka_unit_test(test_one_row_restarts),
        cmocka_unit_test(test_small_m_trans_b),
        cmocka_unit_test(test_tall_trans_b_narrow),
        cmocka_unit_test(test_small_m_no_trans),
        cmocka_unit_test(test_direct_wide_bands),
        cmocka_unit_test(test_sparse_tail_columns),
        cmocka_unit_test(test_tail_column_groups),
        cmocka_unit_test(test_narrow_row_bands),
        cmocka_unit_test(test_gemv_row_batches),
        cmocka_unit_test(test_gemv_matches_gemm),
        cmocka_unit_test(test_golden_bits_across_platforms),
        cmocka_unit_test(test_threads_default_threshold),
        cmocka_unit_test(test_inside_parallel_region),
        cmocka_unit_test(test_errors_leave_c_untouched),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
