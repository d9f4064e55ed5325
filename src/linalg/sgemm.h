/* The sgemm driver's entry (sgemm.c) as its other files call it: the product for
 * arguments already checked, the thread count for a product, and C cut into rectangles
 * for the unpacked paths on several threads. The driver's parts: sgemm_view.h (what
 * every loop shares), sgemm_paths.h (the unpacked loops), sgemm_packed.h (the packed
 * path), sgemm_scratch.h. */
#ifndef NNF_LINALG_SGEMM_H
#define NNF_LINALG_SGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "nnf/linalg.h"
#include "nnf/status.h"
#include "src/linalg/matmul.h"

/* Test hook: problems of at least this many flops use more than one thread (0: every
 * problem; a negative value restores the default). */
void nnf__sgemm_set_parallel_min_flops(double flops);

/* Threads for a product of `flops` when `available` may run it: 1 below the threshold
 * above, and each at least half the threshold's worth. */
int nnf__sgemm_threads(double flops, int available);

/* nnf_sgemm (with a restart period and post-ops, as nnf__sgemm_fused) for arguments its
 * checks would pass: the prepacked handle's calls, checked by nnf_sgemm_packed_b, skip
 * a second pass over them (sgemm_prepacked.c). Fails only as nnf__sgemm_packed does. */
nnf_status nnf__sgemm_checked(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda,
                              const float *b, size_t ldb, float beta, float *c, size_t ldc,
                              const nnf__sgemm_post *post);

/* ---- The unpacked paths on several threads: C cut into rectangles ---- */
typedef struct nnf__sgemm_rects {
    size_t m, n, mr, nr;    /* C, and the register tile the cuts fall on */
    int64_t down, across;   /* rectangles: row bands x column bands of near-equal tiles */
} nnf__sgemm_rects;
nnf__sgemm_rects nnf__sgemm_rects_make(size_t m, size_t n, size_t k, size_t mr, size_t nr,
                                       int threads, int fine, int columns_first);
/* Rectangle `item`: rows [*m0, *m1) and columns [*n0, *n1) of C. */
void nnf__sgemm_rect(const nnf__sgemm_rects *r, int64_t item, size_t *m0, size_t *m1,
                     size_t *n0, size_t *n1);

#endif
