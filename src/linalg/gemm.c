/* c = alpha * (a @ b) + beta * c in one nnf_sgemm call: the nn layer's y = x @ w.t() + b
 * (c pre-filled with the bias, beta = 1) and its gradient accumulation
 * w.g += g.t() @ x. Transposed views of a, b and c are passed as TRANS, never copied;
 * only a c that sgemm cannot address (or that shares storage with a or b) goes through
 * a temporary. */
#include <stdio.h>

#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/linalg/matmul.h"
#include "src/tensor/tensor_internal.h"

static nnf_trans flip(nnf_trans t)
{
    return t == NNF_TRANS ? NNF_NO_TRANS : NNF_TRANS;
}

static nnf_status check_args(const nnf_tensor *c, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_RETURN_IF(c == NULL || a == NULL || b == NULL, NNF_ERR_NULL,
                  "c, a and b must not be NULL");
    NNF_RETURN_IF(c->dtype != NNF_F32 || a->dtype != NNF_F32 || b->dtype != NNF_F32,
                  NNF_ERR_DTYPE, "expected float32 tensors");
    NNF_RETURN_IF(a->ndim != 2, NNF_ERR_SHAPE, "mat1 must be a matrix, got %d-D tensor",
                  a->ndim);
    NNF_RETURN_IF(b->ndim != 2, NNF_ERR_SHAPE, "mat2 must be a matrix, got %d-D tensor",
                  b->ndim);
    NNF_RETURN_IF(c->ndim != 2, NNF_ERR_SHAPE, "self must be a matrix, got %d-D tensor",
                  c->ndim);
    NNF_RETURN_IF(a->shape[1] != b->shape[0], NNF_ERR_SHAPE,
                  "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                  (long long)a->shape[0], (long long)a->shape[1], (long long)b->shape[0],
                  (long long)b->shape[1]);
    NNF_RETURN_IF(c->shape[0] != a->shape[0] || c->shape[1] != b->shape[1], NNF_ERR_SHAPE,
                  "Bad in-place call: input tensor size [%lld, %lld] and output tensor size "
                  "[%lld, %lld] should match", (long long)c->shape[0], (long long)c->shape[1],
                  (long long)a->shape[0], (long long)b->shape[1]);
    return NNF_OK;
}

/* One sgemm into c, whose layout lc sgemm can address. */
static nnf_status gemm_into(nnf_tensor *c, const nnf__gemm_layout *lc, const nnf_tensor *a,
                            const nnf__gemm_layout *la, const nnf_tensor *b,
                            const nnf__gemm_layout *lb, float alpha, float beta)
{
    size_t m = (size_t)a->shape[0], k = (size_t)a->shape[1], n = (size_t)b->shape[1];
    const float *pa = nnf_tensor_const_data(a), *pb = nnf_tensor_const_data(b);
    if (lc->trans == NNF_NO_TRANS)
        return nnf_sgemm(la->trans, lb->trans, m, n, k, alpha, pa, la->ld, pb, lb->ld, beta,
                         nnf_tensor_data(c), lc->ld);
    /* c is a transposed view: c^T = alpha * op(b)^T op(a)^T + beta * c^T */
    return nnf_sgemm(flip(lb->trans), flip(la->trans), n, m, k, alpha, pb, lb->ld, pa, la->ld,
                     beta, nnf_tensor_data(c), lc->ld);
}

/* a itself if sgemm can read it, else a contiguous copy in *copy. */
static nnf_status readable(const nnf_tensor **t, nnf_tensor **copy, nnf__gemm_layout *l)
{
    if (nnf__gemm_layout_of_tensor(*t, l))
        return NNF_OK;
    NNF_FORWARD(nnf_contiguous(copy, *t));
    *t = *copy;
    nnf__gemm_layout_of_tensor(*t, l);
    return NNF_OK;
}

nnf_status nnf_gemm(nnf_tensor *c, const nnf_tensor *a, const nnf_tensor *b, float alpha,
                    float beta)
{
    NNF_PUBLIC("nnf_gemm");
    NNF_FORWARD(check_args(c, a, b));
    nnf_tensor *ca = NULL, *cb = NULL, *tmp = NULL;
    nnf__gemm_layout la, lb, lc;
    nnf_status st = readable(&a, &ca, &la);
    if (st == NNF_OK)
        st = readable(&b, &cb, &lb);
    if (st == NNF_OK) {
        int direct = nnf__gemm_layout_of_tensor(c, &lc) && !nnf_tensor_shares_storage(c, a)
                     && !nnf_tensor_shares_storage(c, b);
        if (direct) {
            st = gemm_into(c, &lc, a, &la, b, &lb, alpha, beta);
        } else {
            /* beta == 0 never reads c, so the temporary need not hold its values */
            st = beta == 0.0f ? nnf_empty_like(&tmp, c) : nnf_clone(&tmp, c);
            if (st == NNF_OK) {
                nnf__gemm_layout_of_tensor(tmp, &lc);
                st = gemm_into(tmp, &lc, a, &la, b, &lb, alpha, beta);
            }
            if (st == NNF_OK)
                st = nnf_copy(c, tmp);
        }
    }
    nnf_tensor_free(tmp);
    nnf_tensor_free(ca);
    nnf_tensor_free(cb);
    return st;
}
