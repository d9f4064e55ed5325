/* Prepacked B (nnf_pack_b, nnf_sgemm_packed_b): op(B) packed once into the k-major
 * panels the micro-kernels read, then multiplied by many times.
 *
 * Layout: op(B)'s columns in panels of W (the packing table's NR, 48 on AVX-512); panel
 * p (width w_p, W except for the last, which is exactly as wide as what is left) holds
 * all k steps, step t of its column j at data[p*W*k + t*w_p + j]. Each KC block of a
 * panel is thus exactly the packed path's B panel (rs_b = its width), and the blocks of
 * one panel follow each other, so a batch of at most MR rows is one kernel call per
 * panel over the whole k: the kernel sees every KC block at once (AVX-512 runs two
 * side by side where one row leaves FMA latency exposed) and the panel streams through
 * memory front to back, as a plain read of W does (the 784 -> 512 layer's weights,
 * 1.6 MB, live in the L3 between calls).
 *
 * Taller batches run as nnf_sgemm's packed path (sgemm_packed.c) with the panels where
 * it would pack B: its B blocks and KC levels (a KC slice of a block's panels stays in
 * the L2 while every row panel of A passes over it), its A packing where A is
 * transposed, its items and threads, less B's packing. The sweep of panels this file
 * ran for them before (column block by column block, KC level by level) streamed A once
 * per block and level, and a handle was slower than the plain call on large products
 * (one thread, plain/prepacked: 4096x784x512 with W stored 512 x 784 0.974 -> 1.006,
 * 2048^3 0.993 -> 1.024; from 9 to 40 rows the two took the same time, 64.0 against
 * 64.3 us at 16x784x512; medians of 15).
 *
 * Bits: every element of C gets one kernel call per KC block, in k order, beta for the
 * first block and 1 after: the numerics contract of kernels/sgemm_kernels.h, so the result is
 * the unpacked nnf_sgemm's whichever path that takes (GEMV, direct, packed) for the
 * same m. A kernel table other than the packing one (nnf_isa_force after packing) reads
 * the same panels in column slices as wide as its register block, MR rows at a time
 * over the whole k: the same sums. */
#include <stdint.h>

#include "dispatch/dispatch.h"
#include "nnf/linalg.h"
#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/linalg/matmul.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_view.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"

enum { KC = NNF__SGEMM_KC };
struct nnf_packed_matrix {
    size_t k, n, W;
    float *data;          /* k * n floats (NULL when empty) */
    size_t nbytes;
};

static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

static const nnf__sgemm_kernels *active_kernels(void)
{
    return &nnf__kernels_active()->gemm;
}

/* Checks a rows x cols operand stored with row stride ld (named `what` in messages). */
static nnf_status check_stored(const char *what, const char *ldname, const void *p,
                               size_t rows, size_t cols, size_t ld)
{
    const size_t max_elems = (size_t)PTRDIFF_MAX / sizeof(float), small = (size_t)1 << 30;
    size_t need = cols > 1 ? cols : 1;
    /* Every size under 2^30: no span reaches 2^60 floats, and no division is needed (two
     * were ~0.01 us of a call that takes 0.4 at 32^3). */
    if ((rows | cols | ld) < small && ld >= need && (p != NULL || rows == 0 || cols == 0))
        return NNF_OK;
    NNF_RETURN_IF(ld < need, NNF_ERR_STRIDE,
                  "%s (%zu) must be at least %zu, the row length of %s as stored (%zu x %zu)",
                  ldname, ld, need, what, rows, cols);
    NNF_RETURN_IF(p == NULL && rows > 0 && cols > 0, NNF_ERR_NULL,
                  "%s is NULL but has %zu x %zu elements", what, rows, cols);
    NNF_RETURN_IF(rows > 0 && cols > 0 &&
                      (cols > max_elems || (rows - 1) > (max_elems - cols) / ld),
                  NNF_ERR_OVERFLOW,
                  "%s spans (%zu - 1) * %s (%zu) + %zu floats, more than PTRDIFF_MAX bytes",
                  what, rows, ldname, ld, cols);
    return NNF_OK;
}

static nnf_status check_trans(const char *name, nnf_trans t)
{
    NNF_RETURN_IF(t != NNF_NO_TRANS && t != NNF_TRANS, NNF_ERR_INVALID,
                  "%s must be NNF_NO_TRANS or NNF_TRANS, got %d", name, (int)t);
    return NNF_OK;
}

/* Packs op(B) (element (t, j) at b[t*s_k + j*s_n]) panel by panel, block by block. */
static void pack_all(const nnf__sgemm_kernels *kr, nnf_packed_matrix *p, const float *b,
                     ptrdiff_t s_k, ptrdiff_t s_n)
{
    for (size_t j0 = 0; j0 < p->n; j0 += p->W) {
        size_t w = min_size(p->W, p->n - j0);
        float *panel = p->data + j0 * p->k;
        for (size_t t0 = 0; t0 < p->k; t0 += KC)
            nnf__sgemm_pack(kr, min_size(KC, p->k - t0), w, w,
                            b + (ptrdiff_t)t0 * s_k + (ptrdiff_t)j0 * s_n, s_n, s_k,
                            panel + t0 * w);
    }
}

nnf_status nnf_pack_b(nnf_packed_matrix **packed, nnf_trans tb, size_t k, size_t n,
                      const float *b, size_t ldb)
{
    NNF_PUBLIC("nnf_pack_b");
    NNF_RETURN_IF(packed == NULL, NNF_ERR_NULL, "packed is NULL");
    NNF_FORWARD(check_trans("tb", tb));
    int t = tb == NNF_TRANS;
    NNF_FORWARD(check_stored("B", "ldb", b, t ? n : k, t ? k : n, ldb));
    size_t floats;
    NNF_RETURN_IF(__builtin_mul_overflow(k, n, &floats) ||
                      floats > (size_t)PTRDIFF_MAX / sizeof(float),
                  NNF_ERR_OVERFLOW, "a packed %zu x %zu B needs more than PTRDIFF_MAX bytes",
                  k, n);
    const nnf__sgemm_kernels *kr = active_kernels();
    nnf_packed_matrix *p = nnf__calloc(sizeof *p);
    NNF_RETURN_IF(p == NULL, NNF_ERR_NOMEM, "out of memory");
    *p = (nnf_packed_matrix){k, n, (size_t)kr->nr, NULL, floats * sizeof(float)};
    if (floats > 0) {
        p->data = nnf__alloc(p->nbytes);
        if (p->data == NULL) {
            nnf__dealloc(p, sizeof *p);
            return nnf__fail(NNF_ERR_NOMEM, "out of memory for %zu bytes of packed B",
                             floats * sizeof(float));
        }
        pack_all(kr, p, b, t ? 1 : (ptrdiff_t)ldb, t ? (ptrdiff_t)ldb : 1);
    }
    *packed = p;
    return NNF_OK;
}

void nnf_packed_free(nnf_packed_matrix *packed)
{
    if (packed == NULL)
        return;
    nnf__dealloc(packed->data, packed->nbytes);
    nnf__dealloc(packed, sizeof *packed);
}

size_t nnf_packed_k(const nnf_packed_matrix *packed)
{
    return packed != NULL ? packed->k : 0;
}

size_t nnf_packed_n(const nnf_packed_matrix *packed)
{
    return packed != NULL ? packed->n : 0;
}

/* Everything a rectangle of C needs. */
typedef struct {
    const nnf__sgemm_kernels *kr;
    const nnf_packed_matrix *b;
    nnf__sgemm_rects r;
    float alpha;
    nnf__sgemm_view a;
    float beta;
    float *c;
    size_t ldc;
    const nnf__sgemm_post *post;
} prepacked_job;

/* Panel `panel` (width w, its first column col0) against rows [i0, i0 + mr) over the
 * whole k, in slices the kernel's register block holds; the post-ops around each
 * slice's tile. */
static void sweep_panel(const prepacked_job *j, nnf__sgemm_view a, const float *panel,
                        size_t w, size_t col0, size_t i0, size_t mr)
{
    const nnf__sgemm_kernels *kr = j->kr;
    const size_t slice = min_size(w, (size_t)kr->nr);
    for (size_t s = 0; s < w; s += slice) {
        float *tile = j->c + i0 * j->ldc + col0 + s;
        size_t cols = min_size(slice, w - s);
        nnf__sgemm_post_fill(j->post, col0 + s, tile, j->ldc, mr, cols);
        kr->ukernel(j->b->k, a.p, a.rs, a.cs, panel + s, (ptrdiff_t)w, tile, j->ldc, mr, cols,
                    j->alpha, j->beta);
        nnf__sgemm_post_relu(j->post, tile, j->ldc, mr, cols);
    }
}

/* A rectangle of C: strip by strip of MR rows (one, but under a kernel table other than
 * the packing one), panel by panel. */
static void run_rect(void *ctx, int64_t item, int participant)
{
    (void)participant;
    const prepacked_job *j = ctx;
    const nnf_packed_matrix *b = j->b;
    const size_t MR = (size_t)j->kr->mr;
    size_t m0, m1, n0, n1;
    nnf__sgemm_rect(&j->r, item, &m0, &m1, &n0, &n1);
    for (size_t r0 = m0; r0 < m1; r0 += MR) {
        nnf__sgemm_view a = {nnf__sgemm_at(j->a, r0, 0), j->a.rs, j->a.cs};
        for (size_t c0 = n0; c0 < n1; c0 += b->W)
            sweep_panel(j, a, b->data + c0 * b->k, min_size(b->W, b->n - c0), c0, r0,
                        min_size(MR, m1 - r0));
    }
}

/* Whether op(B)'s panels, read as plain row-major matrices (panel p is k x w_p with row
 * stride w_p; a single panel is op(B) itself, row stride n), run faster through
 * nnf_sgemm's unpacked paths than through the handle's own ways (run_rect, or the
 * packed path's job over the panels). The bits are the same either way (the k-order
 * contract), so a handle never costs more than the plain call where the plain call
 * reads B in place anyway (paired medians of 21 rounds, one thread, loaded; measured
 * against the sweep that ran batches taller than MR before the job did -> panels; the
 * job, at 256^3: 0.974 -> 0.989 of the plain call's speed):
 * - one panel at most 16 wide: the plain call's dots kernels and narrow tiles,
 *   5x784x10 0.90 -> 0.70 us, 12x784x10 2.34 -> 2.04;
 * - one panel under more than MR rows: the direct path's 8-row tiles, 32^3 0.415 ->
 *   0.353 us; or under at most as many rows as the plain call's tiles take: 1x784x32
 *   0.962 -> 0.853, 4x100x48 0.213 -> 0.191, 8x784x32 1.83 -> 1.75;
 * - several panels under more than 4 MR rows, where nnf_sgemm itself reads B in place
 *   (the direct path), one thread: tiles over the whole k with A in place, the narrow
 *   last panel through the sparse-tail GEMVs, as nnf_sgemm runs the same columns:
 *   200x100x50 12.7 -> 10.0 us, 100x200x50 13.1 -> 9.7, 200x784x50 98.7 -> 77.2,
 *   256^3 168 -> 159.
 * run_rect keeps a panel under 7-8 rows where the plain tiles take 6 (one kernel call
 * per panel over the whole k, the 8x48 tile where the direct path leaves a 1-2 row one:
 * 8x784x48 2.70 against 2.96-3.01 us, 7x784x48 2.39 against 3.01) and several panels
 * under at most MR rows (1x784x512 22.0 against nnf_sgemm's 35.0 on B as stored); the
 * job several panels under up to 4 MR rows (24x784x100 20.3 against 20.6), unless two
 * panels make one tile (two_panels_as_plain). */
static int one_panel_as_plain(const nnf__sgemm_kernels *kr, const nnf_packed_matrix *b,
                              size_t m)
{
    /* The rows of the plain call's direct tiles at this width (sgemm_paths.c,
     * direct_rows): between them and MR, it leaves a 1-2 row tile run_rect does not. */
    const size_t rows = kr->direct_narrow_mr > 0 && 2 * b->n <= (size_t)kr->direct_nr
                            ? (size_t)kr->direct_narrow_mr
                            : (size_t)kr->direct_mr;
    return b->n <= b->W && (b->n <= 16 || m <= rows || m > (size_t)kr->mr);
}

static int panels_as_plain(const nnf__sgemm_kernels *kr, const nnf_packed_matrix *b, size_t m,
                           int threads)
{
    const nnf__sgemm_view panels = {b->data, (ptrdiff_t)b->W, 1};
    return threads == 1 && m > 4 * (size_t)kr->mr &&
           nnf__sgemm_choose_path(kr, m, b->n, b->k, &panels) == NNF__SGEMM_PATH_DIRECT;
}

/* Two panels, the second at most 16 wide (n of 49-64), where nnf_sgemm runs one 64-wide
 * tile per row band: the same tiles with their last vector from the second panel
 * (nnf__sgemm_run_split), at any m: 64^3 2.72 -> 2.44 us, 1x100x50 0.248 -> 0.133,
 * 9x100x50 0.778 -> 0.578, 8x784x50 3.95 against 4.00. */
static int two_panels_as_plain(const nnf__sgemm_kernels *kr, const nnf_packed_matrix *b)
{
    return kr->direct_ukernel_split != NULL && b->W == (size_t)kr->direct_split &&
           b->n > b->W && b->n <= (size_t)kr->direct_nr;
}

/* The panels as plain matrices (panels_as_plain), one nnf_sgemm product per panel. */
static void run_as_plain(const nnf__sgemm_kernels *kr, const nnf_packed_matrix *b, size_t m,
                         float alpha, nnf__sgemm_view a, float beta, float *c, size_t ldc,
                         const nnf__sgemm_post *post)
{
    for (size_t j0 = 0; j0 < b->n; j0 += b->W) {
        size_t w = min_size(b->W, b->n - j0);
        nnf__sgemm_view panel = {b->data + j0 * b->k, (ptrdiff_t)w, 1};
        nnf__sgemm_post shifted;
        nnf__sgemm_run(kr, KC, m, w, b->k, alpha, &a, &panel, beta, c + j0, ldc,
                       nnf__sgemm_post_at(post, j0, &shifted));
    }
}

nnf_status nnf_sgemm_packed_b(nnf_trans ta, size_t m, size_t n, size_t k, float alpha,
                              const float *a, size_t lda, const nnf_packed_matrix *b,
                              float beta, float *c, size_t ldc)
{
    NNF_PUBLIC("nnf_sgemm_packed_b");
    return nnf__sgemm_packed_b_fused(ta, m, n, k, alpha, a, lda, b, beta, c, ldc, NULL);
}

nnf_status nnf__sgemm_packed_b_fused(nnf_trans ta, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, size_t lda, const nnf_packed_matrix *b,
                                     float beta, float *c, size_t ldc,
                                     const nnf__sgemm_post *post)
{
    NNF_RETURN_IF(b == NULL, NNF_ERR_NULL, "b is NULL");
    NNF_FORWARD(check_trans("ta", ta));
    NNF_RETURN_IF(k != b->k || n != b->n, NNF_ERR_SHAPE,
                  "the packed B is %zu x %zu (k x n), the call asks for k = %zu, n = %zu",
                  b->k, b->n, k, n);
    int t = ta == NNF_TRANS;
    NNF_FORWARD(check_stored("A", "lda", a, t ? k : m, t ? m : k, lda));
    NNF_FORWARD(check_stored("C", "ldc", c, m, n, ldc));
    if (m == 0 || n == 0)
        return NNF_OK;
    if (k == 0 || alpha == 0.0f) {   /* as nnf_sgemm: C = beta * C, nothing else read */
        nnf__sgemm_post_fill(post, 0, c, ldc, m, n);
        for (size_t i = 0; i < m; i++)
            for (size_t jj = 0; jj < n; jj++) {
                float *cij = &c[i * ldc + jj];
                *cij = beta == 0.0f ? 0.0f : nnf__canonical_nan(beta * *cij);
            }
        nnf__sgemm_post_relu(post, c, ldc, m, n);
        return NNF_OK;
    }
    /* One column, one step of k or one panel: the panels are op(B) itself, row-major
     * k x n (one panel of width 1, every panel's single step side by side, or a single
     * panel), and nnf_sgemm's GEMV and outer-product paths beat a sweep of 1-wide or
     * 1-deep kernel calls (200x50x1: 0.68 against 2.53 us; 200x1x50: 0.51 against
     * 1.53 us) — with its bits, which are the promise anyway. */
    const nnf__sgemm_kernels *kr = active_kernels();
    if (n == 1 || k == 1 || one_panel_as_plain(kr, b, m))
        return nnf__sgemm_checked(KC, ta, NNF_NO_TRANS, m, n, k, alpha, a, lda, b->data, n, beta,
                                c, ldc, post);
    nnf__sgemm_view av = {a, t ? 1 : (ptrdiff_t)lda, t ? (ptrdiff_t)lda : 1};
    int fine = nnf__runtime_test_spread();
    int nt = nnf__sgemm_threads(2.0 * (double)m * (double)n * (double)k,
                                nnf__threads_for_call());
    if (!fine && nt == 1 && two_panels_as_plain(kr, b)) {
        nnf__sgemm_run_split(kr, m, n, k, alpha, &av, b->data, b->data + b->W * k, beta, c,
                             ldc, post);
        return NNF_OK;
    }
    if (!fine && panels_as_plain(kr, b, m, nt)) {
        run_as_plain(kr, b, m, alpha, av, beta, c, ldc, post);
        return NNF_OK;
    }
    /* Taller than MR rows: the packed path's job over the panels (see the top). */
    const size_t MR = (size_t)kr->mr;
    if (m > MR && b->W == (size_t)kr->nr)
        return nnf__sgemm_packed(kr, KC, m, n, k, alpha, av, (nnf__sgemm_view){NULL, 0, 0},
                                 b->data, beta, c, ldc, nt, post);
    prepacked_job j = {kr, b, nnf__sgemm_rects_make(m, n, k, MR, b->W, nt, fine, 0),
                       alpha, av, beta, c, ldc, post};
    if (nt == 1 && !fine) {
        j.r = (nnf__sgemm_rects){m, n, MR, b->W, 1, 1};
        run_rect(&j, 0, 0);
    } else
        nnf__parallel_for(nt, j.r.down * j.r.across, run_rect, &j);
    return NNF_OK;
}

/* ---- On tensors ---- */

nnf_status nnf_pack_matrix(nnf_packed_matrix **packed, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_pack_matrix");
    NNF_RETURN_IF(b == NULL, NNF_ERR_NULL, "b is NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(b) != NNF_F32 || nnf_tensor_ndim(b) != 2, NNF_ERR_SHAPE,
                  "b must be a 2-D float32 tensor (k x n), got %d-D", nnf_tensor_ndim(b));
    const int64_t *s = nnf_tensor_shape(b);
    nnf__gemm_layout lb;
    if (nnf__gemm_layout_of_tensor(b, &lb))
        return nnf_pack_b(packed, lb.trans, (size_t)s[0], (size_t)s[1],
                          nnf_tensor_const_data(b), lb.ld);
    nnf_tensor *copy = NULL;   /* a view sgemm cannot address: packed from a copy */
    NNF_FORWARD(nnf_contiguous(&copy, b));
    nnf_status st = nnf_pack_b(packed, NNF_NO_TRANS, (size_t)s[0], (size_t)s[1],
                               nnf_tensor_const_data(copy), (size_t)s[1]);
    nnf_tensor_free(copy);
    return st;
}

nnf_status nnf_matmul_prepacked(nnf_tensor **out, const nnf_tensor *x,
                                const nnf_packed_matrix *b)
{
    NNF_PUBLIC("nnf_matmul_prepacked");
    NNF_RETURN_IF(out == NULL || x == NULL || b == NULL, NNF_ERR_NULL,
                  "out, x and b must not be NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(x) != NNF_F32 || nnf_tensor_ndim(x) != 2, NNF_ERR_SHAPE,
                  "x must be a 2-D float32 tensor (m x k), got %d-D", nnf_tensor_ndim(x));
    const int64_t *xs = nnf_tensor_shape(x);
    NNF_RETURN_IF((uint64_t)xs[1] != (uint64_t)b->k, NNF_ERR_SHAPE,
                  "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %zux%zu)",
                  (long long)xs[0], (long long)xs[1], b->k, b->n);
    const int64_t shape[2] = {xs[0], (int64_t)b->n};
    nnf_tensor *dst = *out;
    if (dst != NULL) {
        NNF_RETURN_IF(nnf_tensor_dtype(dst) != NNF_F32 || nnf_tensor_ndim(dst) != 2 ||
                          nnf_tensor_shape(dst)[0] != shape[0] ||
                          nnf_tensor_shape(dst)[1] != shape[1],
                      NNF_ERR_SHAPE, "out must be a %lldx%lld float32 tensor",
                      (long long)shape[0], (long long)shape[1]);
        NNF_RETURN_IF(nnf_tensor_shares_storage(dst, x), NNF_ERR_INVALID,
                      "out must not share memory with x");
    }
    nnf_tensor *xc = NULL, *res = NULL;
    nnf__gemm_layout lx, lc;
    if (!nnf__gemm_layout_of_tensor(x, &lx)) {
        NNF_FORWARD(nnf_contiguous(&xc, x));
        lx = (nnf__gemm_layout){NNF_NO_TRANS, (size_t)(xs[1] > 1 ? xs[1] : 1)};
    }
    /* Straight into out when sgemm can address it, else through a temporary. */
    nnf_tensor *target = dst;
    nnf_status st = NNF_OK;
    if (target == NULL || !nnf__gemm_layout_of_tensor(target, &lc) || lc.trans != NNF_NO_TRANS) {
        st = nnf_empty(&res, 2, shape);
        target = res;
        lc = (nnf__gemm_layout){NNF_NO_TRANS, (size_t)(shape[1] > 1 ? shape[1] : 1)};
    }
    if (st == NNF_OK)
        st = nnf_sgemm_packed_b(lx.trans, (size_t)shape[0], b->n, b->k, 1.0f,
                                nnf_tensor_const_data(xc != NULL ? xc : x), lx.ld, b, 0.0f,
                                nnf_tensor_data(target), lc.ld);
    if (st == NNF_OK && dst != NULL && target != dst)
        st = nnf_copy(dst, res);
    nnf_tensor_free(xc);
    if (st == NNF_OK && dst == NULL) {
        *out = res;
        return NNF_OK;
    }
    nnf_tensor_free(res);
    return st;
}
