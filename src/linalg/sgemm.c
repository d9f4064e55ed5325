/* nnf_sgemm: argument checks, the degenerate cases, and the split of C among threads.
 * The loops around the kernels are in sgemm_paths.c; the numerics contract (why every
 * path, ISA and thread count gives the same bits) is in kernels/sgemm.h. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>

#include "dispatch/dispatch.h"
#include "nnf/linalg.h"
#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/linalg/sgemm_internal.h"

/* Below ~4 MFLOP (about 40 us on one Zen 4 core) waking a second thread and sharing
 * the packing costs more than the second core gives back. */
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

/* Checks one operand stored as rows x cols with row stride ld. */
static nnf_status check_operand(const char *name, const char *ldname, const void *p,
                                size_t rows, size_t cols, size_t ld, const char *how)
{
    size_t need = cols > 1 ? cols : 1;
    NNF_RETURN_IF(ld < need, NNF_ERR_STRIDE,
                  "nnf_sgemm: %s (%zu) must be at least %zu, the row length of %s as "
                  "stored (%zu x %zu, %s)",
                  ldname, ld, need, name, rows, cols, how);
    NNF_RETURN_IF(p == NULL && rows > 0 && cols > 0, NNF_ERR_NULL,
                  "nnf_sgemm: %s is NULL but has %zu x %zu elements (%s)", name, rows,
                  cols, how);
    const size_t max_elems = (size_t)PTRDIFF_MAX / sizeof(float);
    NNF_RETURN_IF(rows > 0 && cols > 0 && (cols > max_elems ||
                                           (rows - 1) > (max_elems - cols) / ld),
                  NNF_ERR_OVERFLOW,
                  "nnf_sgemm: %s spans (%zu - 1) * %s (%zu) + %zu floats, more than "
                  "PTRDIFF_MAX bytes (%s)",
                  name, rows, ldname, ld, cols, how);
    return NNF_OK;
}

static nnf_status check_args(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
                             const float *a, size_t lda, const float *b, size_t ldb,
                             const float *c, size_t ldc)
{
    NNF_RETURN_IF(ta != NNF_NO_TRANS && ta != NNF_TRANS, NNF_ERR_INVALID,
                  "nnf_sgemm: ta must be NNF_NO_TRANS or NNF_TRANS, got %d", (int)ta);
    NNF_RETURN_IF(tb != NNF_NO_TRANS && tb != NNF_TRANS, NNF_ERR_INVALID,
                  "nnf_sgemm: tb must be NNF_NO_TRANS or NNF_TRANS, got %d", (int)tb);
    char how[96];
    snprintf(how, sizeof how, "ta = %s with m = %zu, k = %zu", trans_name(ta), m, k);
    NNF_FORWARD(check_operand("A", "lda", a, ta == NNF_NO_TRANS ? m : k,
                              ta == NNF_NO_TRANS ? k : m, lda, how));
    snprintf(how, sizeof how, "tb = %s with k = %zu, n = %zu", trans_name(tb), k, n);
    NNF_FORWARD(check_operand("B", "ldb", b, tb == NNF_NO_TRANS ? k : n,
                              tb == NNF_NO_TRANS ? n : k, ldb, how));
    snprintf(how, sizeof how, "m = %zu, n = %zu", m, n);
    return check_operand("C", "ldc", c, m, n, ldc, how);
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

nnf_status nnf_sgemm(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc)
{
    NNF_FORWARD(check_args(ta, tb, m, n, k, a, lda, b, ldb, c, ldc));
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
    nnf__sgemm_path path = nnf__sgemm_choose_path(kr, m, n, k, av, bv);

    int nt = 1;
    if (!omp_in_parallel() && 2.0 * (double)m * (double)n * (double)k >= parallel_min_flops)
        nt = omp_get_max_threads();
    grid g = choose_grid(nt, m, n, (size_t)kr->mr, (size_t)kr->nr);
    if ((size_t)g.tm > g.mp || (size_t)g.tn > g.np) {
        nt = 1;
        g = choose_grid(1, m, n, (size_t)kr->mr, (size_t)kr->nr);
    }

    /* Scratch for every thread up front, so a failed allocation leaves C untouched.
     * 16 floats of rounding keep each thread's share on its own 64-byte lines. */
    size_t sub_m = (g.mp + (size_t)g.tm - 1) / (size_t)g.tm * (size_t)kr->mr;
    size_t sub_n = (g.np + (size_t)g.tn - 1) / (size_t)g.tn * (size_t)kr->nr;
    size_t per_thread = nnf__sgemm_scratch_floats(kr, path, sub_m < m ? sub_m : m,
                                                  sub_n < n ? sub_n : n, k, av, bv);
    per_thread = (per_thread + 15) / 16 * 16;
    float *scratch = NULL;
    if (per_thread > 0) {
        scratch = nnf__alloc((size_t)nt * per_thread * sizeof(float));
        NNF_RETURN_IF(scratch == NULL, NNF_ERR_NOMEM,
                      "nnf_sgemm: out of memory for %zu bytes of packing buffers "
                      "(m = %zu, n = %zu, k = %zu, %d threads)",
                      (size_t)nt * per_thread * sizeof(float), m, n, k, nt);
    }

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int team = omp_get_num_threads();
        for (int w = omp_get_thread_num(); w < nt; w += team) {
            int ti = w / g.tn, tj = w % g.tn;
            size_t m0 = share_begin(g.mp, g.tm, ti, (size_t)kr->mr);
            size_t m1 = share_begin(g.mp, g.tm, ti + 1, (size_t)kr->mr);
            size_t n0 = share_begin(g.np, g.tn, tj, (size_t)kr->nr);
            size_t n1 = share_begin(g.np, g.tn, tj + 1, (size_t)kr->nr);
            m1 = m1 < m ? m1 : m;
            n1 = n1 < n ? n1 : n;
            if (m0 >= m1 || n0 >= n1)
                continue;
            nnf__sgemm_view as = {av.p + (ptrdiff_t)m0 * av.rs, av.rs, av.cs};
            nnf__sgemm_view bs = {bv.p + (ptrdiff_t)n0 * bv.cs, bv.rs, bv.cs};
            nnf__sgemm_run(kr, path, m1 - m0, n1 - n0, k, alpha, as, bs, beta,
                           c + m0 * ldc + n0, ldc,
                           scratch ? scratch + (size_t)w * per_thread : NULL);
        }
    }
    nnf__dealloc(scratch, (size_t)nt * per_thread * sizeof(float));
    return NNF_OK;
}
