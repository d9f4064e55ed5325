/* The packed path (sgemm_packed.c): B and A packed into the micro-kernels' panels, the
 * product a job of claimable items on the thread pool. */
#ifndef NNF_LINALG_SGEMM_PACKED_H
#define NNF_LINALG_SGEMM_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/sgemm_kernels.h"
#include "nnf/status.h"
#include "src/linalg/sgemm_view.h"
#include "src/runtime/pool.h"

/* nnf__sgemm_run (sgemm_paths.h) on the packed path, on up to `threads` threads. Fails
 * only with NNF_ERR_NOMEM for its scratch, before anything is written.
 * b_panels, unless NULL, is op(B) packed already, as a prepacked handle holds it
 * (sgemm_prepacked.c) for this table's NR: the panel of columns [p NR, p NR + w_p) at
 * b_panels + p NR k, its step t at + t w_p (w_p = NR but for a narrower last panel);
 * the kernels read it there, and b is not read. */
nnf_status nnf__sgemm_packed(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n,
                             size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b,
                             const float *b_panels, float beta, float *c, size_t ldc,
                             int threads, const nnf__sgemm_post *post);

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
    int64_t a_panels;                  /* row items whose A one packer item packs */
    int64_t per0, per;                 /* items per (pc, jc) group in block ic 0 / later */
    int64_t items0, items;             /* items of block ic 0 / of the job */
    int64_t q_rows;                    /* rows of a compute item: MR or 2 MR (item q: q_rows x cw) */
    int64_t a_packed;                  /* A is packed (else read in place) */
    int64_t own_blocks;                /* participants keep to whole B blocks (prefer) */
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
 * smallest items, for tests), A laid out as `a` (rows contiguous: read in place);
 * pack_b 0: B is prepacked, no pack items. */
void nnf__sgemm_plan_make(nnf__sgemm_plan *p, const nnf__sgemm_kernels *kr, size_t m,
                          size_t n, int64_t levels, int threads, int fine, int pack_b,
                          nnf__sgemm_view a);
nnf__sgemm_item nnf__sgemm_plan_item(const nnf__sgemm_plan *p, int64_t i);
/* The job's nnf__ready_fn. */
int64_t nnf__sgemm_plan_ready(const void *plan, const nnf__item_state *states, int64_t i);
/* The job's nnf__prefer_fn: each participant keeps to its own share of every B block's
 * tiles (the same rows at every block and level, so their A panels and C tiles stay in
 * its caches), up to the group after the lowest unclaimed item's; or, own_blocks, to
 * its own B blocks, their packing included, up to a level ahead. */
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
 * contiguous, read where they are; none for B where b_prepacked). */
typedef struct nnf__sgemm_jobs {
    size_t rows, cols;
    int64_t levels;
    size_t scratch_floats;
} nnf__sgemm_jobs;
nnf__sgemm_jobs nnf__sgemm_jobs_make(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                     size_t k, int threads, int a_in_place, int b_prepacked);

#endif
