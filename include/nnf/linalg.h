/* nnf/linalg.h — matrix products: BLAS-style sgemm on raw pointers, and matmul,
 * gemm and einsum on tensors.
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
NNF_API NNF_NODISCARD nnf_status nnf_sgemm(nnf_trans ta, nnf_trans tb,
                                           size_t m, size_t n, size_t k,
                                           float alpha, const float *a, size_t lda,
                                           const float *b, size_t ldb,
                                           float beta, float *c /* IN/OUT */, size_t ldc);

/* ---- Prepacked B: pack a matrix once, multiply by it many times ----
 * (MKL's cblas_sgemm_pack, oneDNN's weight reorder.) nnf_pack_b copies op(B) into the
 * layout the micro-kernels read; nnf_sgemm_packed_b then skips that copy on every
 * call. A layer's weights W (n_out x n_in, stored as PyTorch stores them) are packed
 * as op(B) = W^T: nnf_pack_b(&p, NNF_TRANS, n_in, n_out, w, n_in), or
 * nnf_pack_matrix(&p, wt) with wt = nnf_t(w).
 * Bits: a product through the handle is bitwise the unpacked nnf_sgemm's with the same
 * A, alpha, beta and C, for every m, on every ISA (also one forced after packing) and
 * thread count. The handle is a copy: later writes to B are not seen (repack). It is
 * read-only once made, so any number of threads may multiply by it at once. */
typedef struct nnf_packed_matrix nnf_packed_matrix;

/* Packs op(B), k x n (B stored k x n for NNF_NO_TRANS, n x k for NNF_TRANS, row stride
 * ldb). Errors as nnf_sgemm's for B; NNF_ERR_NOMEM for the k * n floats. */
NNF_API NNF_NODISCARD nnf_status nnf_pack_b(nnf_packed_matrix **packed /* OUT */,
                                            nnf_trans tb, size_t k, size_t n,
                                            const float *b, size_t ldb);
/* The same for a 2-D float tensor b (k x n, any view: nnf_t(w) is read transposed). */
NNF_API NNF_NODISCARD nnf_status nnf_pack_matrix(nnf_packed_matrix **packed /* OUT */,
                                                 const nnf_tensor *b);
/* C = alpha * op(A) B + beta * C, nnf_sgemm's semantics and order with B prepacked;
 * n and k must be the packed B's (NNF_ERR_SHAPE otherwise). */
NNF_API NNF_NODISCARD nnf_status nnf_sgemm_packed_b(nnf_trans ta, size_t m, size_t n,
                                                    size_t k, float alpha, const float *a,
                                                    size_t lda, const nnf_packed_matrix *b,
                                                    float beta, float *c /* IN/OUT */,
                                                    size_t ldc);
/* out = x @ B for a 2-D x (m x k), out m x n (the IN/OUT convention of nnf/ops.h; out
 * must not share memory with x): y = x @ w.t() for weights packed as above. */
NNF_API NNF_NODISCARD nnf_status nnf_matmul_prepacked(nnf_tensor **out /* IN/OUT */,
                                                      const nnf_tensor *x,
                                                      const nnf_packed_matrix *b);
/* op(B)'s k and n (0 for NULL). */
NNF_API size_t nnf_packed_k(const nnf_packed_matrix *packed);
NNF_API size_t nnf_packed_n(const nnf_packed_matrix *packed);
/* NULL is a no-op. */
NNF_API void nnf_packed_free(nnf_packed_matrix *packed /* IN/OUT */);

/* torch.matmul: 1-D x 1-D is a dot product (0-d result), 2-D x 2-D a matrix product,
 * a 1-D operand is a row (left) or a column (right) whose dim leaves the result, and
 * more dims are batches of matrices whose batch dims broadcast:
 * [2, 1, 5, 784] @ [3, 784, 10] -> [2, 3, 5, 10].
 * Works on views directly: a matrix with unit column stride, or its transpose
 * (nnf_t(w), a column select), goes to nnf_sgemm as it is; other layouts (expanded
 * rows, slices with a step) are copied first. `out` follows the IN/OUT convention of
 * nnf/ops.h; an out that shares storage with a or b is computed in a temporary first.
 * Errors (NNF_ERR_SHAPE) read like PyTorch's: "nnf_matmul: mat1 and mat2 shapes cannot be
 * multiplied (5x784 and 10x784)". */
NNF_API NNF_NODISCARD nnf_status nnf_matmul(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                            const nnf_tensor *b);

/* c = alpha * (a @ b) + beta * c for 2-D tensors, into an existing c, in one nnf_sgemm
 * call: BLAS's gemm on tensors, alpha before beta as in nnf_sgemm (torch.addmm(c, a, b,
 * beta=beta, alpha=alpha)). y = x @ w.t() + b is nnf_gemm(y_holding_b, x, wt, 1, 1), the
 * gradient accumulation w.g += g.t() @ x is nnf_gemm(wg, gt, x, 1, 1). beta == 0 does not
 * read c. a, b and c may be transposed views (never copied); a c that sgemm cannot
 * address or that shares storage with a or b goes through a temporary. */
NNF_API NNF_NODISCARD nnf_status nnf_gemm(nnf_tensor *c /* IN/OUT */, const nnf_tensor *a,
                                          const nnf_tensor *b, float alpha, float beta);

/* torch.einsum with its equation grammar: subscripts [a-zA-Z], spaces allowed, terms
 * separated by ',', an optional "->" and output, at most one "..." per term (ellipsis
 * dims broadcast). Without "->" the output is the ellipsis dims, then the subscripts
 * that occur once, in ASCII order ("bA" gives "Ab"). A repeated subscript in one operand
 * takes its diagonal ("ii->i"); subscripts missing from the output are summed; a size-1
 * dim broadcasts. Examples: "ij->ji", "ik,kj->ij", "ij,kj->ik", "bik,bkj->bij", "ii->",
 * "i,j->ij", "ij->i". Products are lowered to nnf_matmul, sums to nnf_sum.
 * `out` follows the IN/OUT convention of nnf/ops.h, except that, as in PyTorch, when
 * *out is NULL and the result needs no arithmetic ("ij->ji", "ii->i") *out becomes a
 * VIEW of the operand, sharing its storage. Errors: NNF_ERR_PARSE for a malformed
 * equation or one that does not fit the operands' ndims, NNF_ERR_SHAPE for sizes that
 * do not match, each with PyTorch's message ("nnf_einsum: the number of subscripts in the
 * equation (2) does not match the number of dimensions (3) for operand 0 and no
 * ellipsis was given"); NNF_ERR_UNSUPPORTED if combining the operands left to right
 * needs an intermediate of more than NNF_MAX_DIMS dims. */
NNF_API NNF_NODISCARD nnf_status nnf_einsum(nnf_tensor **out /* IN/OUT */, const char *spec,
                                            int noperands, const nnf_tensor *const *operands);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
/* c = beta * c + alpha * (a @ b): beta BEFORE alpha, the opposite of nnf_sgemm. */
NNF_API NNF_DEPRECATED("use nnf_gemm(c, a, b, alpha, beta): alpha comes first there")
NNF_NODISCARD nnf_status nnf_addmm(nnf_tensor *c /* IN/OUT */, float beta, float alpha,
                                   const nnf_tensor *a, const nnf_tensor *b);

#ifdef __cplusplus
}
#endif
#endif
