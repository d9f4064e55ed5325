/* The layout behind the opaque nnf_tensor handle, shared by the ISA-free layers
 * (tensor, ops, linalg, nn). Kernels never see it: they get spans.
 */
#ifndef NNF_TENSOR_INTERNAL_H
#define NNF_TENSOR_INTERNAL_H

#include <stdatomic.h>
#include "nnf/tensor.h"

typedef struct nnf__storage {
    atomic_long refcount;   /* number of tensor handles onto this storage */
    void *data;
    size_t nbytes;
    int owned;              /* 0: wraps a caller's buffer (nnf_wrap), never freed by nnf */
    /* Bumped by every write through nnf (nnf_tensor_version), so what is derived from
     * the values and kept (a Lin layer's prepacked weight) knows when to rebuild. */
    atomic_uint_fast64_t version;
} nnf__storage;

struct nnf_tensor {
    nnf_dtype dtype;
    int ndim;
    int64_t shape[NNF_MAX_DIMS];
    int64_t stride[NNF_MAX_DIMS];   /* in elements */
    int64_t offset;                 /* in elements, from storage->data */
    nnf__storage *storage;
    nnf_tensor *grad;               /* the chapter's .g; owned; NULL until needed */
    /* nnf_zero_grad wrote +0 into every element, and the storage's version was then
     * zeroed_version: still all +0 while the version has not moved since (any write to
     * the storage, through this handle or another, moves it). */
    int zeroed;
    uint64_t zeroed_version;
};

size_t nnf__dtype_size(nnf_dtype dtype);
/* Product of sizes with overflow check; NNF_ERR_OVERFLOW / NNF_ERR_INVALID (negative). */
nnf_status nnf__shape_numel(int ndim, const int64_t *shape, int64_t *numel);
/* Maps a possibly negative dim into [0, ndim); NNF_ERR_INDEX with PyTorch's message
 * ("Dimension out of range (expected to be in range of [-2, 1], but got 2)"). */
nnf_status nnf__wrap_dim(int dim, int ndim, int *wrapped);
/* A new handle onto t's storage with the given geometry (refcount + 1). */
nnf_status nnf__make_view(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *stride, int64_t offset);

/* ---- Also used across src/tensor (storage.c unless noted) ---- */
/* Validates ndim (0..NNF_MAX_DIMS) and shape (non-NULL when ndim > 0, sizes >= 0, the
 * element count and byte count fit int64_t and size_t) and returns the element count.
 * The messages name the shape, as PyTorch's do. */
nnf_status nnf__check_shape(int ndim, const int64_t *shape, nnf_dtype dtype, int64_t *numel);
/* Row-major strides for shape (a size-0 or size-1 dim gets the stride it would have). */
void nnf__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* A new contiguous tensor with its own 64-byte aligned storage, uninitialised or
 * zero-filled. The shape must have passed nnf__check_shape. */
nnf_status nnf__tensor_new(nnf_tensor **out, nnf_dtype dtype, int ndim, const int64_t *shape,
                           int zero);
/* nnf__check_shape (NNF_ERR_NULL if out is NULL), then nnf__tensor_new: the body of every
 * creation function (create.c). */
nnf_status nnf__tensor_create(nnf_tensor **out, int ndim, const int64_t *shape, nnf_dtype dtype,
                              int zero);
/* A storage record for data (refcount 0, not owned: the caller sets owned if nnf is to
 * free data with it). */
nnf_status nnf__storage_wrap(nnf__storage **out, void *data, size_t nbytes);
/* A new handle onto storage (refcount + 1). */
nnf_status nnf__tensor_on_storage(nnf_tensor **out, nnf_dtype dtype, int ndim,
                                  const int64_t *shape, const int64_t *stride, int64_t offset,
                                  nnf__storage *storage);
/* Makes grad (NULL, or a float32 tensor of t's shape that t owns from now on) t's
 * gradient and returns the one t had (the caller owns it now): how nn's backward passes
 * keep the caller's gradients untouched until they are sure to succeed (buffers.c). */
nnf_tensor *nnf__grad_exchange(nnf_tensor *t, nnf_tensor *grad);
/* Records a write into t's storage (after the write: a reader that saw the old count
 * then rebuilds from the new values). */
static inline void nnf__tensor_written(const nnf_tensor *t)
{
    atomic_fetch_add_explicit(&t->storage->version, 1, memory_order_release);
}
/* Records nnf_zero_grad's write of +0 into every element of t (after the write). */
static inline void nnf__tensor_written_zeros(nnf_tensor *t)
{
    t->zeroed_version =
        (uint64_t)atomic_fetch_add_explicit(&t->storage->version, 1, memory_order_release) + 1;
    t->zeroed = 1;
}
/* 1 if every element of t is known to be +0: nothing has written to its storage since
 * nnf__tensor_written_zeros(t). A pointer handed out before that write and written
 * through after it is the caller's to report (nnf_tensor_mark_modified), as for every
 * reader of the version. */
static inline int nnf__tensor_known_zeros(const nnf_tensor *t)
{
    return t->zeroed && t->zeroed_version == (uint64_t)atomic_load_explicit(
                                                 &t->storage->version, memory_order_acquire);
}
/* Address of element [0,...,0] in bytes. */
char *nnf__tensor_bytes(const nnf_tensor *t);
/* Writes "[2, 3]" into buf; returns buf. 8 dims of 20 digits fit in NNF__SHAPE_STR. */
#define NNF__SHAPE_STR 192
const char *nnf__shape_str(int ndim, const int64_t *shape, char *buf);

#endif
