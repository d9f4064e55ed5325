/* nnf_sgemm: argument checks, the degenerate cases, and the split of C among threads.
 * The loops around the kernels are in sgemm_paths.c; the numerics contract (why every
 * path, ISA and thread count gives the same bits) is in kernels/sgemm.h. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>

#include "dispatch/dispatch.h"
#include "nnf/linalg.h"
#include "src/core/error.h"
#include "src/linalg/sgemm_internal.h"

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
    size_t need = cols > 1 ? cols : 1;
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

static nnf_status check_args(const call *x, const float *a, size_t lda, const float *b,
                             size_t ldb, const float *c, size_t ldc)
{
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
            ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
    }
}

/* Threads get rectangles of C in a tm x tn grid (tm * tn = nt) of whole register
 * tiles, chosen to minimise the largest rectangle; ties go to splitting M, which
 * lets both threads read the same B. K is never split: that would change sums. */
typedef struct {
    int tm, tn;
    size_t mp, np;   /* register tiles along m and n */
} grid;

static grid choose_grid(int nt, size_t m, size_t n, size_t mr, size_t nr)
{
    grid g = {1, 1, (m + mr - 1) / mr, (n + nr - 1) / nr};
    size_t best = SIZE_MAX;
    for (int tm = nt; tm >= 1; tm--) {
        if (nt % tm != 0)
            continue;
        int tn = nt / tm;
        size_t rows = (g.mp + (size_t)tm - 1) / (size_t)tm * mr;
        size_t cols = (g.np + (size_t)tn - 1) / (size_t)tn * nr;
        if (rows * cols < best) {
            best = rows * cols;
            g.tm = tm;
            g.tn = tn;
        }
    }
    return g;
}

static size_t share_begin(size_t tiles, int parts, int idx, size_t tile)
{
    return tiles * (size_t)idx / (size_t)parts * tile;
}

/* Everything a thread needs to compute its rectangle of C. */
typedef struct {
    const nnf__sgemm_kernels *kr;
    nnf__sgemm_path path;
    grid g;
    size_t m, n, k;
    float alpha;
    nnf__sgemm_view a, b;
    float beta;
    float *c;
    size_t ldc;
} share;

/* Rectangle w (row-major in the grid) of C. */
static void run_share(const share *s, int w)
{
    const size_t mr = (size_t)s->kr->direct_mr, nr = (size_t)s->kr->direct_nr;
    int ti = w / s->g.tn, tj = w % s->g.tn;
    size_t m0 = share_begin(s->g.mp, s->g.tm, ti, mr);
    size_t m1 = share_begin(s->g.mp, s->g.tm, ti + 1, mr);
    size_t n0 = share_begin(s->g.np, s->g.tn, tj, nr);
    size_t n1 = share_begin(s->g.np, s->g.tn, tj + 1, nr);
    m1 = m1 < s->m ? m1 : s->m;
    n1 = n1 < s->n ? n1 : s->n;
    if (m0 >= m1 || n0 >= n1)
        return;
    nnf__sgemm_view as = {s->a.p + (ptrdiff_t)m0 * s->a.rs, s->a.rs, s->a.cs};
    nnf__sgemm_view bs = {s->b.p + (ptrdiff_t)n0 * s->b.cs, s->b.rs, s->b.cs};
    nnf__sgemm_run(s->kr, s->path, m1 - m0, n1 - n0, s->k, s->alpha, as, bs, s->beta,
                   s->c + m0 * s->ldc + n0, s->ldc, NULL, 0, 1);
}

nnf_status nnf_sgemm(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc)
{
    NNF_PUBLIC("nnf_sgemm");
    const call x = {ta, tb, m, n, k};
    NNF_FORWARD(check_args(&x, a, lda, b, ldb, c, ldc));
    if (m == 0 || n == 0)
        return NNF_OK;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return NNF_OK;
    }

    nnf__sgemm_view av = {a, ta == NNF_NO_TRANS ? (ptrdiff_t)lda : 1,
                          ta == NNF_NO_TRANS ? 1 : (ptrdiff_t)lda};
    nnf__sgemm_view bv = {b, tb == NNF_NO_TRANS ? (ptrdiff_t)ldb : 1,
                          tb == NNF_NO_TRANS ? 1 : (ptrdiff_t)ldb};
    if (n == 1 && ldc == 1 && av.rs == 1 && av.cs != 1) {
        /* A column of C from a transposed A: the same sums as C^T = B^T A^T, a row
         * vector times a matrix with contiguous rows, which vectorises along m. */
        nnf__sgemm_view t = {bv.p, bv.cs, bv.rs};
        bv = (nnf__sgemm_view){av.p, av.cs, av.rs};
        av = t;
        n = m;
        m = 1;
    }

    const nnf__sgemm_kernels *kr = &nnf__kernels_active()->gemm;
    if (kr->fma != NULL && nnf_isa_supported((nnf_isa)kr->fma_needs))
        kr = kr->fma;
    nnf__sgemm_path path = nnf__sgemm_choose_path(kr, m, n, k);

    int nt = 1;
    if (2.0 * (double)m * (double)n * (double)k >= parallel_min_flops && !omp_in_parallel())
        nt = omp_get_max_threads();

    if (nnf__sgemm_packs(path, m, n, av, bv)) {
        /* The packing buffers up front, so a failed allocation leaves C untouched; they
         * are cached per calling thread (sgemm_scratch.c), and a team shares them
         * (sgemm_paths.c). */
        size_t floats = nnf__sgemm_scratch_floats(kr, path, m, n, k, av, bv);
        float *scratch = nnf__sgemm_scratch(floats);
        NNF_RETURN_IF(scratch == NULL, NNF_ERR_NOMEM,
                      "nnf_sgemm: out of memory for %zu bytes of packing buffers "
                      "(m = %zu, n = %zu, k = %zu)", floats * sizeof(float), m, n, k);
        if (nt == 1) {
            nnf__sgemm_run(kr, path, m, n, k, alpha, av, bv, beta, c, ldc, scratch, 0, 1);
        } else {
#pragma omp parallel num_threads(nt)
            nnf__sgemm_run(kr, path, m, n, k, alpha, av, bv, beta, c, ldc, scratch,
                           omp_get_thread_num(), omp_get_num_threads());
        }
        return NNF_OK;
    }

    /* The unpacked paths: threads take rectangles of C, in whole direct-path tiles. */
    const size_t dmr = (size_t)kr->direct_mr, dnr = (size_t)kr->direct_nr;
    grid g = choose_grid(nt, m, n, dmr, dnr);
    if ((size_t)g.tm > g.mp || (size_t)g.tn > g.np) {
        nt = 1;
        g = choose_grid(1, m, n, dmr, dnr);
    }
    const share sh = {kr, path, g, m, n, k, alpha, av, bv, beta, c, ldc};
    if (nt == 1) {
        /* No OpenMP runtime call at all: an inactive parallel region (if (0)) still
         * costs ~330 ns here, a quarter of the whole 5x784x10 product. */
        run_share(&sh, 0);
    } else {
#pragma omp parallel num_threads(nt)
        {
            int team = omp_get_num_threads();
            for (int w = omp_get_thread_num(); w < nt; w += team)
                run_share(&sh, w);
        }
    }
    return NNF_OK;
}
