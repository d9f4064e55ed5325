/* The unpacked paths (sgemm_paths.c): the choice of path by shape, the direct and GEMV
 * loops around the kernels on one thread, and the post-ops on a tile of C. */
#ifndef NNF_LINALG_SGEMM_PATHS_H
#define NNF_LINALG_SGEMM_PATHS_H

#include <stddef.h>

#include "kernels/sgemm_kernels.h"
#include "src/linalg/sgemm_view.h"

/* How a (sub-)problem is computed. All paths give bit-identical results. */
typedef enum {
    NNF__SGEMM_PATH_AUTO,    /* chosen by shape (nnf__sgemm_choose_path) */
    NNF__SGEMM_PATH_DIRECT,  /* kernels read A (and B when its rows are contiguous) in place */
    NNF__SGEMM_PATH_PACKED,  /* B in KC x b_block_cols blocks, A in a_block_rows x KC */
} nnf__sgemm_path;

/* Test and benchmark hook: forces a path for later calls (AUTO restores the choice by
 * shape). GEMV-shaped problems (n == 1, or m == 1 with a transposed B) always take the
 * GEMV kernel. Not meant to race with running products. */
void nnf__sgemm_force_path(nnf__sgemm_path path);

/* The path for an m x n x k problem with B as `b` on these kernels (or the forced one).
 * B's view by address, as nnf__sgemm_run takes its views: passed by value, its copy into
 * the argument area was one 16-byte load of the caller's two 8-byte stores, which waits
 * for them to retire (20.3 -> 19.0 ns per 1x1x1 nnf_sgemm call). */
nnf__sgemm_path nnf__sgemm_choose_path(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                       size_t k, const nnf__sgemm_view *b);

/* 1 where A is small (5 row panels to 256 rows, within a quarter of the L2) against a
 * B larger than that, and the direct path takes B column block by column block anyway:
 * in place as stored, packed a panel at a time transposed. Several threads then share
 * C by columns (nnf__sgemm_rects_make). sgemm_paths.c says when, and why. */
int nnf__sgemm_b_by_columns(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                            const nnf__sgemm_view *b);

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

/* nnf__sgemm_run's direct path (sums restarting every KC) for a B in two row-major
 * blocks side by side: columns [0, kr->direct_split) from b0 (row stride direct_split),
 * the other n - direct_split from b1 (their row stride), direct_split < n <=
 * direct_nr; kr->direct_ukernel_split not NULL. A prepacked B's two panels then run
 * the tiles and tail nnf_sgemm runs on B as stored. */
void nnf__sgemm_run_split(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                          float alpha, const nnf__sgemm_view *a, const float *b0,
                          const float *b1, float beta, float *c, size_t ldc,
                          const nnf__sgemm_post *post);

/* The post-ops (matmul.h) on the rows x cols tile of C at c, whose first column is
 * column j0 of the product `post` describes: the bias before the tile's first KC block,
 * the ReLU after its last. Both do nothing when post (or its part) is absent. */
void nnf__sgemm_post_fill(const nnf__sgemm_post *post, size_t j0, float *c, size_t ldc,
                          size_t rows, size_t cols);
void nnf__sgemm_post_relu(const nnf__sgemm_post *post, float *c, size_t ldc, size_t rows,
                          size_t cols);

#endif
