/* The sgemm driver's internals, shared by sgemm.c (the public entry: checks, degenerate
 * cases, threads), sgemm_paths.c (the unpacked loops around the kernels) and
 * sgemm_packed.c (the packed path as a job of claimable items). */
#ifndef NNF_LINALG_SGEMM_INTERNAL_H
#define NNF_LINALG_SGEMM_INTERNAL_H

#include <stddef.h>

#include "kernels/sgemm_kernels.h"
#include "nnf/status.h"
#include "src/linalg/matmul.h"
#include "src/runtime/pool.h"

/* A matrix view: element (i, j) is p[i*rs + j*cs]. One of rs, cs is 1. */
typedef struct nnf__sgemm_view {
    const float *p;
    ptrdiff_t rs, cs;
} nnf__sgemm_view;

/* How a (sub-)problem is computed. All paths give bit-identical results. */
typedef enum {
    NNF__SGEMM_PATH_AUTO,    /* chosen by shape (nnf__sgemm_choose_path) */
    NNF__SGEMM_PATH_DIRECT,  /* kernels read A (and B when its rows are contiguous) in place */
    NNF__SGEMM_PATH_PACKED,  /* B in KC x b_block_cols blocks, A in a_block_rows x KC */
} nnf__sgemm_path;

static inline const float *nnf__sgemm_at(nnf__sgemm_view v, size_t i, size_t j)
{
    return v.p + (ptrdiff_t)i * v.rs + (ptrdiff_t)j * v.cs;
}

/* Packs the w x kc block whose element (j, p) is src[j*s_w + p*s_k] into panels of W. */
static inline void nnf__sgemm_pack(const nnf__sgemm_kernels *kr, size_t kc, size_t w, size_t W,
                                   const float *src, ptrdiff_t s_w, ptrdiff_t s_k, float *out)
{
    if (s_w == 1)
        kr->pack_copy(kc, w, W, src, (size_t)s_k, out);
    else
        kr->pack_transpose(kc, w, W, src, (size_t)s_w, out);
}

/* One kernel call over k steps from a restart point, the sums restarting every `period`
 * steps (nnf__sgemm_restart): through the kernel's `every` entry where it has one, else
 * the kernel sees sub-chunks of at most `period` steps, each from offsets into the same
 * operands (packed panels too: a step is cs_a floats of A and rs_b of B), beta for the
 * first and 1 after, so the kernels' KC contract covers it. period == KC hands the
 * whole k to the kernel, which cuts it itself. */
static inline void nnf__sgemm_ukernel_every(nnf__sgemm_ukernel_fn ukernel,
                                            nnf__sgemm_ukernel_every_fn every, size_t period,
                                            size_t k, const float *a, ptrdiff_t rs_a,
                                            ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                            float *c, size_t ldc, size_t mr, size_t nr,
                                            float alpha, float beta)
{
    if (period == NNF__SGEMM_KC || k <= period) {
        ukernel(k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
        return;
    }
    if (every != NULL) {
        every(period, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
        return;
    }
    for (size_t p0 = 0; p0 < k; p0 += period)
        ukernel(k - p0 < period ? k - p0 : period, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a,
                b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc, mr, nr, alpha, p0 == 0 ? beta : 1.0f);
}

/* The post-ops (matmul.h) on the rows x cols tile of C at c, whose first column is
 * column j0 of the product `post` describes: the bias before the tile's first KC block,
 * the ReLU after its last. Both do nothing when post (or its part) is absent. */
void nnf__sgemm_post_fill(const nnf__sgemm_post *post, size_t j0, float *c, size_t ldc,
                          size_t rows, size_t cols);
void nnf__sgemm_post_relu(const nnf__sgemm_post *post, float *c, size_t ldc, size_t rows,
                          size_t cols);

/* The post-ops of the sub-product whose column 0 is column j0 of post's, in *shifted
 * (NULL when post is NULL). */
static inline const nnf__sgemm_post *nnf__sgemm_post_at(const nnf__sgemm_post *post,
                                                        size_t j0, nnf__sgemm_post *shifted)
{
    if (post == NULL)
        return NULL;
    *shifted = *post;
    if (shifted->bias != NULL)
        shifted->bias += (ptrdiff_t)j0 * post->bias_inc;
    return shifted;
}

/* Test and benchmark hook: forces a path for later calls (AUTO restores the choice by
 * shape). GEMV-shaped problems (n == 1, or m == 1 with a transposed B) always take the
 * GEMV kernel. Not meant to race with running products. */
void nnf__sgemm_force_path(nnf__sgemm_path path);

/* Test hook: problems of at least this many flops use more than one thread (0: every
 * problem; a negative value restores the default). */
void nnf__sgemm_set_parallel_min_flops(double flops);

/* Threads for a product of `flops` when `available` may run it: 1 below the threshold
 * above, and each at least half the threshold's worth. */
int nnf__sgemm_threads(double flops, int available);

/* The path for an m x n x k problem on these kernels (or the forced one). */
nnf__sgemm_path nnf__sgemm_choose_path(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                       size_t k);

/* The calling thread's cached scratch of at least `floats` floats (sgemm_scratch.c),
 * NULL if it cannot grow to that; valid until this thread's next call. Hand it back
 * with nnf__sgemm_scratch_done when the product is finished. */
float *nnf__sgemm_scratch(size_t floats);
void nnf__sgemm_scratch_done(float *scratch);

/* Frees the calling thread's cached scratch, past the huge-page cache (nnf_trim), and
 * returns the bytes given back to the OS; also lets tests that count live blocks
 * (nnf__alloc_live) or inject allocation failures start from nothing. */
size_t nnf__sgemm_scratch_release(void);

/* Frees every thread's scratch that no product is using and deletes the key whose
 * destructor frees it at thread exit (src/unload.c); later calls get NULL. */
void nnf__sgemm_scratch_unload(void);

/* 1 if the problem takes the packed path (sgemm_packed.c). */
int nnf__sgemm_packs(nnf__sgemm_path path, size_t m, size_t n, nnf__sgemm_view a,
                     nnf__sgemm_view b);

/* C (m x n, row stride ldc) = alpha * A B + beta * C on one thread, on the direct or
 * GEMV path (never the packed one, see nnf__sgemm_packed), the sums restarting every
 * `period` steps of k (a divisor of KC; KC itself for nnf_sgemm), then `post` (NULL:
 * none). m, n, k >= 1, alpha != 0. The views go by address: by value they went on the
 * stack in 8-byte stores that the callee reloaded 16 bytes at a time, and each reload
 * waited for its stores to retire (a failed store-to-load forward, ~4 ns of the 1x1x1
 * call's 34). */
void nnf__sgemm_run(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n, size_t k,
                    float alpha, const nnf__sgemm_view *a, const nnf__sgemm_view *b,
                    float beta, float *c, size_t ldc, const nnf__sgemm_post *post);

/* nnf_sgemm (with a restart period and post-ops, as nnf__sgemm_fused) for arguments its
 * checks would pass: the prepacked handle's calls, checked by nnf_sgemm_packed_b, skip
 * a second pass over them (sgemm_prepacked.c). Fails only as nnf__sgemm_packed does. */
nnf_status nnf__sgemm_checked(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda,
                              const float *b, size_t ldb, float beta, float *c, size_t ldc,
                              const nnf__sgemm_post *post);

/* nnf__sgemm_run's direct path (sums restarting every KC) for a B in two row-major
 * blocks side by side: columns [0, kr->direct_split) from b0 (row stride direct_split),
 * the other n - direct_split from b1 (their row stride), direct_split < n <=
 * direct_nr; kr->direct_ukernel_split not NULL. A prepacked B's two panels then run
 * the tiles and tail nnf_sgemm runs on B as stored. */
void nnf__sgemm_run_split(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                          float alpha, const nnf__sgemm_view *a, const float *b0,
                          const float *b1, float beta, float *c, size_t ldc,
                          const nnf__sgemm_post *post);

/* The same on the packed path, on up to `threads` threads (sgemm_packed.c). Fails
 * only with NNF_ERR_NOMEM for its scratch, before anything is written. */
nnf_status nnf__sgemm_packed(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n,
                             size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b,
                             float beta, float *c, size_t ldc, int threads,
                             const nnf__sgemm_post *post);

/* ---- The packed path as a job of claimable items (sgemm_packed.c) ----
 *
 * One job covers a range of KC levels of the whole product (larger products are cut
 * into several jobs along k, see nnf__sgemm_jobs, so the scratch stays bounded). Its
 * items, in the order threads prefer them (the BLIS loop order):
 *   for each A block ic, each KC level pc, each B block jc:
 *     (ic == 0 only) nbp items packing the B block (pc, jc), a few NR panels each;
 *     nq x nch compute items: rows q (q_rows: one or two MR panels) x column chunk ch of the block,
 *     over this level; the chunk-0 item of jc == 0 at every a_panels-th q packs
 *     the A of its rows and of the a_panels - 1 items' rows after them first
 *     (a transposed A only: A stored by rows is read in place, the packer item
 *     packing nothing).
 * B and A stay packed for the whole job, so nothing is packed twice, however many
 * threads there are. A compute item waits for its B block's pack items, for its
 * A panel's packer, and for the same tile's previous level (k order, so every element
 * of C gets its KC blocks in order: the numerics of kernels/sgemm_kernels.h). */
typedef struct nnf__sgemm_plan {
    int64_t nic, npc, njc, nq, nch, nbp;
    int64_t a_rows, b_cols;            /* A block rows, B block columns (at most) */
    int64_t cw, panels_per_pack;       /* chunk columns, NR panels a pack */
    int64_t a_panels;                  /* items' rows of A one packer packs (1; see plan_a) */
    int64_t per0, per;                 /* items per (pc, jc) group in block ic 0 / later */
    int64_t items0, items;             /* items of block ic 0 / of the job */
    int64_t q_rows;                    /* rows of a compute item: MR or 2 MR (item q: q_rows x cw) */
} nnf__sgemm_plan;

/* Columns [*c0, *c1) of B block jc of a job n columns wide: NR panels shared out as
 * evenly as they go (b_cols wide or one panel less). */
void nnf__sgemm_plan_block(const nnf__sgemm_plan *p, size_t n, size_t nr, int64_t jc,
                           size_t *c0, size_t *c1);

typedef enum { NNF__SGEMM_ITEM_PACK_B, NNF__SGEMM_ITEM_COMPUTE } nnf__sgemm_item_kind;

typedef struct nnf__sgemm_item {
    nnf__sgemm_item_kind kind;
    int64_t ic, pc, jc, q, ch, g;     /* g: pack group; q, ch: compute */
} nnf__sgemm_item;

/* Plans a job over m x n and `levels` KC levels for `threads` threads (fine: the
 * smallest items, for tests). */
void nnf__sgemm_plan_make(nnf__sgemm_plan *p, const nnf__sgemm_kernels *kr, size_t m,
                          size_t n, int64_t levels, int threads, int fine);
/* Sets the plan's a_panels for A (plan_make leaves 1): several panels at once when A's
 * source rows run along i, so a packer reads whole lines. */
void nnf__sgemm_plan_a(nnf__sgemm_plan *p, nnf__sgemm_view a, int threads);
nnf__sgemm_item nnf__sgemm_plan_item(const nnf__sgemm_plan *p, int64_t i);
/* The job's nnf__ready_fn. */
int64_t nnf__sgemm_plan_ready(const void *plan, const nnf__item_state *states, int64_t i);
/* The job's nnf__prefer_fn: each participant keeps to its own share of every B block's
 * tiles (the same rows at every block and level, so their A panels and C tiles stay in
 * its caches), up to the group after the lowest unclaimed item's. */
int64_t nnf__sgemm_plan_prefer(const void *plan, int64_t lo, int64_t i, int participant,
                               int participants);

/* The packed path's levels along k at a thread count: KC steps each, the last what is
 * left, except that with few threads a last level of at most a few steps joins the one
 * before it (sgemm_packed.c says why), which is then deeper than KC; level l starts at
 * step l * KC either way. The depth of level l of `levels`. */
int64_t nnf__sgemm_levels(size_t k, int threads);
size_t nnf__sgemm_level_depth(size_t k, int64_t levels, int64_t level);

/* How the packed path cuts a product into jobs: rows x cols of C per job, `levels` KC
 * levels per job; scratch floats one job needs (none for A where a_in_place: A's rows
 * contiguous, read where they are). */
typedef struct nnf__sgemm_jobs {
    size_t rows, cols;
    int64_t levels;
    size_t scratch_floats;
} nnf__sgemm_jobs;
nnf__sgemm_jobs nnf__sgemm_jobs_make(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                     size_t k, int threads, int a_in_place);

/* ---- The unpacked paths on several threads: C cut into rectangles ---- */
typedef struct nnf__sgemm_rects {
    size_t m, n, mr, nr;    /* C, and the register tile the cuts fall on */
    int64_t down, across;   /* rectangles: row bands x column bands of near-equal tiles */
} nnf__sgemm_rects;
nnf__sgemm_rects nnf__sgemm_rects_make(size_t m, size_t n, size_t k, size_t mr, size_t nr,
                                       int threads, int fine);
/* Rectangle `item`: rows [*m0, *m1) and columns [*n0, *n1) of C. */
void nnf__sgemm_rect(const nnf__sgemm_rects *r, int64_t item, size_t *m0, size_t *m1,
                     size_t *n0, size_t *n1);

#endif
