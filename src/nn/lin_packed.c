/* A Lin layer's weight, prepacked (nnf_pack_b) for its forward product y = x @ w.t().
 *
 * The packed copy is valid while w's storage version (nnf_tensor_version) is the one it
 * was packed at; every write through nnf moves the version, so a changed weight is
 * repacked before its next use. It is packed only once a forward sees the version the
 * previous forward saw: in training every forward follows an SGD step, and packing a
 * weight that is used once would add a copy of it to every step; in inference the
 * second call packs and the rest reuse it. Either way the product has the same bits
 * (nnf/linalg.h), so the choice is only one of speed.
 *
 * Repacking is a write hidden inside a forward, which may run on several threads at
 * once on one layer: the handle is swapped under a write lock, and products through it
 * hold a read lock, so a thread never multiplies by a handle being freed. */
#include "src/nn/nn_internal.h"

#include "src/core/error.h"
#include "src/linalg/matmul.h"

nnf_status nnf__lin_packed_init(nnf__lin_packed *c)
{
    c->packed = NULL;
    c->packed_version = 0;
    c->seen_version = 0;
    c->seen = 0;
    NNF_RETURN_IF(pthread_rwlock_init(&c->lock, NULL) != 0, NNF_ERR_NOMEM,
                  "nnf_layer_linear: cannot create a lock");
    return NNF_OK;
}

void nnf__lin_packed_destroy(nnf__lin_packed *c)
{
    nnf_packed_free(c->packed);
    c->packed = NULL;
    pthread_rwlock_destroy(&c->lock);
}

/* Under the write lock: packs w if this version was seen before, else remembers it. */
static nnf_status refresh(nnf__lin_packed *c, const nnf_tensor *w, uint64_t v)
{
    if (c->packed != NULL && c->packed_version == v)
        return NNF_OK;
    if (!(c->seen && c->seen_version == v)) {
        c->seen = 1;
        c->seen_version = v;
        return NNF_OK;
    }
    const int64_t *ws = nnf_tensor_shape(w);
    nnf__gemm_layout lw;
    if (!nnf__gemm_layout_of_tensor(w, &lw))
        return NNF_OK;   /* a weight view sgemm cannot read: the unpacked path copies it */
    nnf_packed_matrix *fresh = NULL;
    /* op(B) = w^T: n_in x n_out. */
    NNF_FORWARD(nnf_pack_b(&fresh, lw.trans == NNF_TRANS ? NNF_NO_TRANS : NNF_TRANS,
                           (size_t)ws[1], (size_t)ws[0], nnf_tensor_const_data(w), lw.ld));
    nnf_packed_free(c->packed);
    c->packed = fresh;
    c->packed_version = v;
    return NNF_OK;
}

nnf_status nnf__lin_packed_product(nnf__lin_packed *c, nnf_tensor *y, const nnf_tensor *x,
                                   const nnf_tensor *w, float beta,
                                   const nnf__sgemm_post *post, int *done)
{
    *done = 0;
    nnf__gemm_layout lx, ly;
    if (!nnf__gemm_layout_of_tensor(x, &lx) || !nnf__gemm_layout_of_tensor(y, &ly) ||
        ly.trans != NNF_NO_TRANS)
        return NNF_OK;
    const uint64_t v = nnf_tensor_version(w);
    for (int pass = 0; pass < 2; pass++) {
        pthread_rwlock_rdlock(&c->lock);
        if (c->packed != NULL && c->packed_version == v) {
            const int64_t *xs = nnf_tensor_shape(x);
            nnf_status st = nnf__sgemm_packed_b_fused(
                lx.trans, (size_t)xs[0], nnf_packed_n(c->packed), (size_t)xs[1], 1.0f,
                nnf_tensor_const_data(x), lx.ld, c->packed, beta, nnf_tensor_data(y), ly.ld,
                post);
            pthread_rwlock_unlock(&c->lock);
            *done = st == NNF_OK;
            return st;
        }
        pthread_rwlock_unlock(&c->lock);
        if (pass == 1)
            break;
        pthread_rwlock_wrlock(&c->lock);
        nnf_status st = refresh(c, w, v);
        int usable = c->packed != NULL && c->packed_version == v;
        pthread_rwlock_unlock(&c->lock);
        /* Not packed (a version seen once: every training step), or no memory for the
         * copy: the unpacked product, without taking the lock again. */
        if (st != NNF_OK || !usable)
            break;
    }
    return NNF_OK;
}
