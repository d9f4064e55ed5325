/* nnf_sgemm: argument checks, the degenerate cases, and the split of C among threads.
 * The loops around the kernels are in sgemm_paths.c and sgemm_packed.c; the numerics
 * contract (why every path, ISA and thread count gives the same bits) is in
 * kernels/sgemm_kernels.h. */
#include <stdint.h>
#include <stdio.h>

#include "dispatch/dispatch.h"
#include "nnf/linalg.h"
#include "src/core/error.h"
#include "src/core/plant.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_view.h"
#include "src/runtime/threads.h"

/* 4 MFLOP is ~40 us on one core at 100 GFLOPS, where waking the team (a few us) costs
 * under 10%. The chapter's products (at most 2 MFLOP) stay on the calling thread. */
#define PARALLEL_MIN_FLOPS (4.0 * 1024 * 1024)

static double parallel_min_flops = PARALLEL_MIN_FLOPS;

void nnf__sgemm_set_parallel_min_flops(double flops)
{
    parallel_min_flops = flops < 0 ? PARALLEL_MIN_FLOPS : flops;
}

static const char *trans_name(nnf_trans t)
{
    return t == NNF_NO_TRANS ? "NNF_NO_TRANS" : "NNF_TRANS";
}

typedef struct {
    nnf_trans ta, tb;
    size_t m, n, k;
} call;

/* How the shape of A, B or C arose, for messages: "ta = NNF_TRANS with m = 3, k = 5". */
static void describe(char *buf, size_t len, char which, const call *x)
{
    if (which == 'A')
        snprintf(buf, len, "ta = %s with m = %zu, k = %zu", trans_name(x->ta), x->m, x->k);
    else if (which == 'B')
        snprintf(buf, len, "tb = %s with k = %zu, n = %zu", trans_name(x->tb), x->k, x->n);
    else
        snprintf(buf, len, "m = %zu, n = %zu", x->m, x->n);
}

/* Checks A, B or C, stored as rows x cols with row stride ld. Messages are formatted
 * only on failure: this runs on every call, including sub-microsecond ones. */
static nnf_status check_operand(char which, const void *p, size_t rows, size_t cols,
                                size_t ld, const call *x)
{
    char what[80];
    const char *ldname = which == 'A' ? "lda" : which == 'B' ? "ldb" : "ldc";
    /* fuzz_sgemm's planted bug (src/core/plant.h): rows of C one float too close. */
    size_t need = cols > 1 ? cols - (which == 'C' && NNF_PLANTED("sgemm")) : 1;
    const size_t max_elems = (size_t)PTRDIFF_MAX / sizeof(float);
    if (ld < need) {
        describe(what, sizeof what, which, x);
        return nnf__fail(NNF_ERR_STRIDE,
                         "nnf_sgemm: %s (%zu) must be at least %zu, the row length of %c "
                         "as stored (%zu x %zu, %s)",
                         ldname, ld, need, which, rows, cols, what);
    }
    if (p == NULL && rows > 0 && cols > 0) {
        describe(what, sizeof what, which, x);
        return nnf__fail(NNF_ERR_NULL, "nnf_sgemm: %c is NULL but has %zu x %zu elements (%s)",
                         which, rows, cols, what);
    }
    if (rows > 0 && cols > 0 && (cols > max_elems || (rows - 1) > (max_elems - cols) / ld)) {
        describe(what, sizeof what, which, x);
        return nnf__fail(NNF_ERR_OVERFLOW,
                         "nnf_sgemm: %c spans (%zu - 1) * %s (%zu) + %zu floats, more than "
                         "PTRDIFF_MAX bytes (%s)",
                         which, rows, ldname, ld, cols, what);
    }
    return NNF_OK;
}

/* 1 for the common call, which every check below accepts: known transposes, operands
 * not NULL, each leading dimension at least 1 and its row's length, and every size
 * under 2^30, so that no operand spans more than 2^60 floats (< PTRDIFF_MAX bytes).
 * Tested with no division and no call (the full checks' three divisions and calls were
 * ~5 of the 1x1x1 call's 26 ns, loaded); any other call takes the full checks, which
 * name what is wrong. */
static int plainly_valid(const call *x, const float *a, size_t lda, const float *b,
                         size_t ldb, const float *c, size_t ldc)
{
    const size_t small = (size_t)1 << 30;
    const int ta = x->ta == NNF_TRANS, tb = x->tb == NNF_TRANS;
    const size_t a_cols = ta ? x->m : x->k, b_cols = tb ? x->k : x->n;
    return (ta || x->ta == NNF_NO_TRANS) && (tb || x->tb == NNF_NO_TRANS) &&
           (x->m | x->n | x->k | lda | ldb | ldc) < small && a != NULL && b != NULL &&
           c != NULL && lda >= a_cols && ldb >= b_cols && ldc >= x->n && lda > 0 && ldb > 0 &&
           ldc > 0;
}

static nnf_status check_args(const call *x, const float *a, size_t lda, const float *b,
                             size_t ldb, const float *c, size_t ldc)
{
    if (plainly_valid(x, a, lda, b, ldb, c, ldc))
        return NNF_OK;
    NNF_RETURN_IF(x->ta != NNF_NO_TRANS && x->ta != NNF_TRANS, NNF_ERR_INVALID,
                  "nnf_sgemm: ta must be NNF_NO_TRANS or NNF_TRANS, got %d", (int)x->ta);
    NNF_RETURN_IF(x->tb != NNF_NO_TRANS && x->tb != NNF_TRANS, NNF_ERR_INVALID,
                  "nnf_sgemm: tb must be NNF_NO_TRANS or NNF_TRANS, got %d", (int)x->tb);
    int ta = x->ta == NNF_TRANS, tb = x->tb == NNF_TRANS;
    NNF_FORWARD(check_operand('A', a, ta ? x->k : x->m, ta ? x->m : x->k, lda, x));
    NNF_FORWARD(check_operand('B', b, tb ? x->n : x->k, tb ? x->k : x->n, ldb, x));
    return check_operand('C', c, x->m, x->n, ldc, x);
}

/* alpha == 0 or k == 0: BLAS reads neither A nor B, and C = beta * C. */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (size_t j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? 0.0f : nnf__canonical_nan(beta * ci[j]);
    }
}

/* The unpacked paths on several threads: C cut into rectangles of whole register tiles,
 * each computed over the whole k by whichever thread claims it (k is never split: that
 * would change sums). Rows are cut first, so every rectangle reads B in full rows;
 * columns only once there are fewer tile rows than rectangles wanted. Where a large B
 * meets few rows (nnf__sgemm_b_by_columns), B is the bulk of what is read, and
 * transposed it is packed by each rectangle that reads it: there C is cut by columns
 * only, and by rows only as far as there are threads to keep busy, so a thread reads
 * or packs its own columns of B once and all of the small A (2 threads, wall time,
 * against the packed path: 64 and 48 x 784 @ 784 x 512 1.71x and 1.90x, 80 x 784 @
 * (512 x 784)^T 1.18x, 64 x 784 @ (512 x 784)^T 1.44x; cut into 8 items a thread
 * instead, the transposed ones 0.75-1.06x, each B panel packed by every row band).
 * Beyond COLUMNS_THREADS_MAX threads the tiles of a row no longer share out evenly
 * (AVX2's 32 columns of tiles among 24 simulated threads: 0.67 of the ideal time,
 * test_partition), and the rows are cut into items as elsewhere. 2 MFLOP per
 * rectangle (~10 us on one AVX-512 core) keeps claiming (~0.1 us) cheap; at least
 * ITEMS_PER_THREAD each lets the others absorb a stalled thread's share and bounds the
 * imbalance of whole items to an eighth of a share (test_partition simulates 16-64
 * threads), and at most 32 each keeps the count bounded. */
#define RECT_FLOPS (2.0 * 1024 * 1024)
#define ITEMS_PER_THREAD 8
#define COLUMNS_THREADS_MAX 4

nnf__sgemm_rects nnf__sgemm_rects_make(size_t m, size_t n, size_t k, size_t mr, size_t nr,
                                       int threads, int fine, int columns_first)
{
    nnf__sgemm_rects r = {m, n, mr, nr, 1, 1};
    size_t mt = (m + mr - 1) / mr, nt = (n + nr - 1) / nr;
    double want = 2.0 * (double)m * (double)n * (double)k / RECT_FLOPS;
    double least = (double)ITEMS_PER_THREAD * threads, most = 32.0 * threads;
    want = want < least ? least : want > most ? most : want;
    /* A multiple of the thread count, so whole items share out evenly. */
    size_t items = ((size_t)want + (size_t)threads - 1) / (size_t)threads * (size_t)threads;
    if (fine)
        items = mt * nt;
    size_t down, across;
    if (columns_first) {
        across = items < nt ? items : nt;
        const size_t want_down = threads <= COLUMNS_THREADS_MAX && !fine ? (size_t)threads
                                                                          : items;
        down = (want_down + across - 1) / across;
        down = down < mt ? down : mt;
    } else {
        down = items < mt ? items : mt;
        across = (items + down - 1) / down;
        across = across < nt ? across : nt;
    }
    r.down = (int64_t)down;
    r.across = (int64_t)across;
    return r;
}

/* Band b of `bands` over `tiles` tiles of `tile` elements, clipped to `len`. */
static void band(size_t tiles, int64_t bands, int64_t b, size_t tile, size_t len, size_t *lo,
                 size_t *hi)
{
    *lo = tiles * (size_t)b / (size_t)bands * tile;
    *hi = tiles * (size_t)(b + 1) / (size_t)bands * tile;
    *lo = *lo < len ? *lo : len;
    *hi = *hi < len ? *hi : len;
}

void nnf__sgemm_rect(const nnf__sgemm_rects *r, int64_t item, size_t *m0, size_t *m1,
                     size_t *n0, size_t *n1)
{
    band((r->m + r->mr - 1) / r->mr, r->down, item / r->across, r->mr, r->m, m0, m1);
    band((r->n + r->nr - 1) / r->nr, r->across, item % r->across, r->nr, r->n, n0, n1);
}

/* Everything a rectangle needs. */
typedef struct {
    const nnf__sgemm_kernels *kr;
    nnf__sgemm_rects r;
    size_t period;
    size_t m, n, k;
    float alpha;
    nnf__sgemm_view a, b;
    float beta;
    float *c;
    size_t ldc;
    const nnf__sgemm_post *post;
} rects_job;

static void run_rect(void *ctx, int64_t item, int participant)
{
    (void)participant;
    const rects_job *j = ctx;
    size_t m0, m1, n0, n1;
    nnf__sgemm_rect(&j->r, item, &m0, &m1, &n0, &n1);
    if (m0 == m1 || n0 == n1)
        return;
    nnf__sgemm_view as = {j->a.p + (ptrdiff_t)m0 * j->a.rs, j->a.rs, j->a.cs};
    nnf__sgemm_view bs = {j->b.p + (ptrdiff_t)n0 * j->b.cs, j->b.rs, j->b.cs};
    nnf__sgemm_post shifted;
    nnf__sgemm_run(j->kr, j->period, m1 - m0, n1 - n0, j->k, j->alpha, &as, &bs, j->beta,
                   j->c + m0 * j->ldc + n0, j->ldc, nnf__sgemm_post_at(j->post, n0, &shifted));
}

/* Threads pay from parallel_min_flops, and each brings at least half of it. */
int nnf__sgemm_threads(double flops, int available)
{
    if (nnf__runtime_test_spread())
        return available;
    if (flops < parallel_min_flops)
        return 1;
    double most = parallel_min_flops > 0 ? flops / (parallel_min_flops / 2) : available;
    return most < available ? (most < 1.0 ? 1 : (int)most) : available;
}

/* nnf_sgemm with the sums restarting every `period` steps of k (KC or a divisor), then
 * the post-ops (NULL: none), for checked arguments. Inline in both entries below, so
 * the plain call pays no call for it. */
static inline __attribute__((always_inline)) nnf_status
sgemm_body(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
           float alpha, const float *a, size_t lda, const float *b, size_t ldb, float beta,
           float *c, size_t ldc, const nnf__sgemm_post *post)
{
    /* A leading dimension across a single stored row is never followed to an element, so
     * any value passes the checks; the kernels still step their pointers by it, and a
     * huge one would carry them past the end of the address space (undefined even
     * unread: fuzz_sgemm). The row's own width does the same job. */
    const size_t a_rows = ta == NNF_NO_TRANS ? m : k, a_cols = ta == NNF_NO_TRANS ? k : m;
    const size_t b_rows = tb == NNF_NO_TRANS ? k : n, b_cols = tb == NNF_NO_TRANS ? n : k;
    if (a_rows <= 1)
        lda = a_cols > 0 ? a_cols : 1;
    if (b_rows <= 1)
        ldb = b_cols > 0 ? b_cols : 1;
    if (m <= 1)
        ldc = n > 0 ? n : 1;
    if (m == 0 || n == 0)
        return NNF_OK;
    if (k == 0 || alpha == 0.0f) {
        nnf__sgemm_post_fill(post, 0, c, ldc, m, n);
        scale_c(m, n, beta, c, ldc);
        nnf__sgemm_post_relu(post, c, ldc, m, n);
        return NNF_OK;
    }

    nnf__sgemm_view av = {a, ta == NNF_NO_TRANS ? (ptrdiff_t)lda : 1,
                          ta == NNF_NO_TRANS ? 1 : (ptrdiff_t)lda};
    nnf__sgemm_view bv = {b, tb == NNF_NO_TRANS ? (ptrdiff_t)ldb : 1,
                          tb == NNF_NO_TRANS ? 1 : (ptrdiff_t)ldb};
    nnf__sgemm_post swapped;
    if (n == 1 && ldc == 1 && av.rs == 1 && av.cs != 1) {
        /* A column of C from a transposed A: the same sums as C^T = B^T A^T, a row
         * vector times a matrix with contiguous rows, which vectorises along m. */
        nnf__sgemm_view t = {bv.p, bv.cs, bv.rs};
        bv = (nnf__sgemm_view){av.p, av.cs, av.rs};
        av = t;
        n = m;
        m = 1;
        /* C's rows are now its columns: each has the one bias element */
        if (post != NULL) {
            swapped = *post;
            swapped.bias_inc = 0;
            post = &swapped;
        }
    }

    const nnf__sgemm_kernels *kr = &nnf__kernels_active()->gemm;
    nnf__sgemm_path path = nnf__sgemm_choose_path(kr, m, n, k, &bv);

    int fine = nnf__runtime_test_spread();
    double flops = 2.0 * (double)m * (double)n * (double)k;
    int nt = 1;
    if (flops >= parallel_min_flops || fine)   /* below: not even a thread-local read */
        nt = nnf__sgemm_threads(flops, nnf__threads_for_call());

    /* The direct paths skip the call: views passed by value are stored and reloaded in
     * pieces of different widths, which stalls the reload (~2 ns). */
    if (path == NNF__SGEMM_PATH_PACKED && nnf__sgemm_packs(path, m, n, av, bv))
        return nnf__sgemm_packed(kr, period, m, n, k, alpha, av, bv, NULL, beta, c, ldc, nt,
                                 post);
    if (nt == 1) {
        nnf__sgemm_run(kr, period, m, n, k, alpha, &av, &bv, beta, c, ldc, post);
        return NNF_OK;
    }
    rects_job j = {kr, nnf__sgemm_rects_make(m, n, k, (size_t)kr->direct_mr,
                                             (size_t)kr->direct_nr, nt, fine,
                                             nnf__sgemm_b_by_columns(kr, m, n, k, &bv)),
                   period, m, n, k, alpha, av, bv, beta, c, ldc, post};
    nnf__parallel_for(nt, j.r.down * j.r.across, run_rect, &j);
    return NNF_OK;
}

static nnf_status sgemm(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                        size_t k, float alpha, const float *a, size_t lda, const float *b,
                        size_t ldb, float beta, float *c, size_t ldc,
                        const nnf__sgemm_post *post)
{
    const call x = {ta, tb, m, n, k};
    NNF_FORWARD(check_args(&x, a, lda, b, ldb, c, ldc));
    return sgemm_body(period, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, post);
}

nnf_status nnf__sgemm_checked(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda,
                              const float *b, size_t ldb, float beta, float *c, size_t ldc,
                              const nnf__sgemm_post *post)
{
    return sgemm_body(period, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, post);
}

nnf_status nnf_sgemm(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc)
{
    NNF_PUBLIC("nnf_sgemm");
    return sgemm(NNF__SGEMM_KC, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
}

nnf_status nnf__sgemm_fused(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                            size_t k, float alpha, const float *a, size_t lda, const float *b,
                            size_t ldb, float beta, float *c, size_t ldc,
                            const nnf__sgemm_post *post)
{
    NNF_PUBLIC("nnf_sgemm");
    /* KC first: the remainder is a division, ~0.005 us of a prepacked 32^3. */
    NNF_RETURN_IF(period != NNF__SGEMM_KC && (period == 0 || NNF__SGEMM_KC % period != 0),
                  NNF_ERR_INVALID,
                  "nnf_sgemm: the restart period (%zu) must divide %d", period, NNF__SGEMM_KC);
    return sgemm(period, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, post);
}

nnf_status nnf__sgemm_restart(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda, const float *b,
                              size_t ldb, float beta, float *c, size_t ldc)
{
    return nnf__sgemm_fused(period, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
}
