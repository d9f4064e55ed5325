/* How a strided matrix view is handed to nnf_sgemm without a copy (shared by matmul,
 * gemm and einsum). */
#ifndef NNF_LINALG_MATMUL_H
#define NNF_LINALG_MATMUL_H

#include <stddef.h>
#include <stdint.h>
#include "nnf/linalg.h"

typedef struct nnf__gemm_layout {
    nnf_trans trans;
    size_t ld;
} nnf__gemm_layout;

/* A rows x cols matrix whose element (i, j) sits at i*row_stride + j*col_stride is
 * either row-major with unit column stride (NO_TRANS, ld = row_stride) or the transpose
 * of one (TRANS, ld = col_stride: what nnf_t(w) gives). Strides of size-1 dims do not
 * matter. Returns 0 for anything else (stride-0 rows, sliced with a step, ...), which
 * the caller must copy into a contiguous buffer first. */
int nnf__gemm_layout_of(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                        nnf__gemm_layout *layout /* OUT */);

/* The same for the last two dims of t (a 1-D t is a 1 x n row). */
int nnf__gemm_layout_of_tensor(const nnf_tensor *t, nnf__gemm_layout *layout /* OUT */);

/* nnf_sgemm, with each element's sum restarted every `period` steps of k instead of every
 * NNF__SGEMM_KC (kernels/sgemm_kernels.h): acc from 0 over steps [p0, p0 + period), then
 * c = alpha * acc (+ beta * c) for the first period and c = fma(alpha, acc, c) for each
 * later one, in k order. period must divide NNF__SGEMM_KC, so the kernels' own restarts
 * fall on period boundaries. With alpha = 1 and k running over a batch, C gets the
 * batch's products one micro-batch of `period` rows at a time, each summed from zero and
 * folded in order: the micro-batch rule of training (src/nn/nn_internal.h). */
nnf_status nnf__sgemm_restart(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                              size_t k, float alpha, const float *a, size_t lda, const float *b,
                              size_t ldb, float beta, float *c, size_t ldc);

/* Post-ops of a product (oneDNN's idea), applied by the sgemm driver tile by tile while
 * the tile is in the L1, never as a pass over the whole C:
 * - bias (or NULL): a row broadcast over C's rows, element j at bias[j * bias_inc],
 *   written into each tile right before its first KC block, so it is the "old C" that
 *   beta multiplies: the bits of filling C's rows with it and calling with that beta;
 * - relu: each tile becomes relu(tile) (nnf_relu's kernel) right after its LAST KC block.
 * Used by the Lin layer's forward (y = relu(x @ w.t() + b) in one sweep). */
typedef struct nnf__sgemm_post {
    const float *bias;
    ptrdiff_t bias_inc;
    int relu;
} nnf__sgemm_post;

/* nnf__sgemm_restart with post-ops (post may be NULL: none). */
nnf_status nnf__sgemm_fused(size_t period, nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                            size_t k, float alpha, const float *a, size_t lda, const float *b,
                            size_t ldb, float beta, float *c, size_t ldc,
                            const nnf__sgemm_post *post);

/* nnf_sgemm_packed_b with post-ops (post may be NULL). */
nnf_status nnf__sgemm_packed_b_fused(nnf_trans ta, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, size_t lda, const nnf_packed_matrix *b,
                                     float beta, float *c, size_t ldc,
                                     const nnf__sgemm_post *post);

/* 1 if no two elements of t share an address, by a sufficient test (dims sorted by
 * stride, each stride at least the extent of the smaller ones). */
int nnf__tensor_non_overlapping(const nnf_tensor *t);

#endif
