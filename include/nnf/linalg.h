/* nnf/linalg.h — matrix products: BLAS-style sgemm on raw pointers, and matmul,
 * addmm and einsum on tensors.
 *
 * Numerics: every element of C is accumulated in the same order (the k loop in order,
 * in fixed KC blocks, with fused multiply-adds) on every ISA, every code path and every
 * thread count, so results are bit-identical everywhere.
 */
#ifndef NNF_LINALG_H
#define NNF_LINALG_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NNF_NO_TRANS, NNF_TRANS } nnf_trans;

/* C = alpha * op(A) op(B) + beta * C, row-major, BLAS semantics: op(A) is m x k,
 * op(B) is k x n, C is m x n; lda/ldb/ldc are row strides in elements.
 * beta == 0 means C is not read (NaN there is overwritten). Bad arguments (ld too
 * small, NULL with a nonzero size, overflow) return an error and leave C untouched. */
nnf_status nnf_sgemm(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda,
                     const float *b, size_t ldb,
                     float beta, float *c, size_t ldc);

/* torch.matmul: 1-D and 2-D operands, and batched products with broadcast batch dims.
 * Works on views directly (nnf_t(w) is a stride swap, never copied). `out` follows the
 * IN/OUT convention of nnf/ops.h. */
nnf_status nnf_matmul(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);

/* c = beta * c + alpha * (a @ b) for 2-D tensors (torch.addmm), into an existing c. */
nnf_status nnf_addmm(nnf_tensor *c, float beta, float alpha, const nnf_tensor *a,
                     const nnf_tensor *b);

/* torch.einsum: "ik,kj->ij", implicit output ("ij,jk"), traces ("ii->"), diagonals,
 * outer products, sums. `out` follows the IN/OUT convention of nnf/ops.h. */
nnf_status nnf_einsum(nnf_tensor **out, const char *spec, int noperands,
                      const nnf_tensor *const *operands);

#ifdef __cplusplus
}
#endif
#endif
