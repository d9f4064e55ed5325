/* nnf/tensor.h — float32 tensors: shape, strides, shared storage, views.
 *
 * A tensor is a handle (nnf_tensor *) onto refcounted storage. Views (expand,
 * transpose, slices, ...) are new handles onto the same storage: they never copy,
 * and writing through one is visible through the other, exactly as in PyTorch.
 * Every handle is freed with nnf_tensor_free(); storage goes when its last handle does.
 *
 * Conventions used throughout nnf:
 * - Shapes and strides are int64_t; strides count ELEMENTS, never bytes.
 * - A dim argument may be negative and counts from the end (-1 is the last dim).
 * - Functions that create a tensor take `nnf_tensor **out` (marked OUT) and store a
 *   new handle there only on success; on failure *out is left as it was.
 * - NNF_SHAPE(2, 3) expands to the `ndim, shape` argument pair: nnf_zeros(&t, NNF_SHAPE(2, 3)).
 */
#ifndef NNF_TENSOR_H
#define NNF_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNF_MAX_DIMS 8

/* `ndim, shape` for an inline list of sizes: NNF_SHAPE(64, 3, 256, 256). */
#define NNF_SHAPE(...) \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

typedef enum {
    NNF_F32,   /* float, the type of all arithmetic */
    NNF_BOOL,  /* one byte per element, 0 or 1: the result of comparisons, masks */
    NNF_I64    /* int64_t: indices (argmax) and class labels */
} nnf_dtype;

typedef struct nnf_tensor nnf_tensor;

/* ---- Creation. ndim is 0..NNF_MAX_DIMS (0 = a scalar); every size >= 0. ---- */

/* Uninitialised float32 tensor, contiguous, 64-byte aligned storage. */
nnf_status nnf_empty(nnf_tensor **out /* OUT */, int ndim, const int64_t *shape);
/* Uninitialised tensor of any dtype. */
nnf_status nnf_empty_dtype(nnf_tensor **out /* OUT */, nnf_dtype dtype, int ndim,
                           const int64_t *shape);
nnf_status nnf_zeros(nnf_tensor **out /* OUT */, int ndim, const int64_t *shape);
nnf_status nnf_ones(nnf_tensor **out /* OUT */, int ndim, const int64_t *shape);
nnf_status nnf_full(nnf_tensor **out /* OUT */, int ndim, const int64_t *shape, float value);
/* A new contiguous tensor of t's shape and dtype (uninitialised / zero-filled). */
nnf_status nnf_empty_like(nnf_tensor **out /* OUT */, const nnf_tensor *t);
nnf_status nnf_zeros_like(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* Copies numel(shape) floats from `data` (row-major) into a new tensor. */
nnf_status nnf_from_data(nnf_tensor **out /* OUT */, const float *data, int ndim,
                         const int64_t *shape);
/* Wraps the caller's buffer WITHOUT copying: the caller keeps ownership and must keep
 * `data` alive until every handle onto it is freed. strides NULL means contiguous.
 * Strides must be >= 0 and `data` must hold every addressed element. */
nnf_status nnf_wrap(nnf_tensor **out /* OUT */, float *data, int ndim, const int64_t *shape,
                    const int64_t *strides);
/* 1-D [start, start+step, ...) stopping before `end`, like torch.arange. step != 0. */
nnf_status nnf_arange(nnf_tensor **out /* OUT */, float start, float end, float step);

/* ---- Random numbers: a documented generator with the same stream everywhere. ----
 * xoshiro128** seeded through splitmix64; uniform floats are the top 24 bits / 2^24,
 * normals come from Box-Muller computed in double. The same seed gives the same
 * tensor on every platform, ISA and thread count. */
typedef struct { uint32_t s[4]; } nnf_rng;
void nnf_rng_seed(nnf_rng *rng, uint64_t seed);
/* Sets the seed of the default generator used when an `rng` argument is NULL
 * (like torch.manual_seed; the default generator is not thread-safe). */
void nnf_manual_seed(uint64_t seed);
/* Uniform on [0, 1). */
nnf_status nnf_rand(nnf_tensor **out /* OUT */, nnf_rng *rng, int ndim, const int64_t *shape);
/* Standard normal. */
nnf_status nnf_randn(nnf_tensor **out /* OUT */, nnf_rng *rng, int ndim, const int64_t *shape);

/* Frees the handle (and the storage with its last handle) and its gradient. NULL is a no-op. */
void nnf_tensor_free(nnf_tensor *t);

/* ---- Introspection. These never fail on a valid tensor. ---- */
int nnf_tensor_ndim(const nnf_tensor *t);
const int64_t *nnf_tensor_shape(const nnf_tensor *t);     /* ndim entries */
const int64_t *nnf_tensor_strides(const nnf_tensor *t);   /* ndim entries, in elements */
int64_t nnf_tensor_size(const nnf_tensor *t, int dim);    /* -1 if dim is out of range */
int64_t nnf_tensor_numel(const nnf_tensor *t);
nnf_dtype nnf_tensor_dtype(const nnf_tensor *t);
int64_t nnf_tensor_offset(const nnf_tensor *t);           /* first element, in elements */
/* Number of elements the shared storage holds (the chapter's t.storage(): a 3x3
 * tensor expanded from 3 values reports 3). */
int64_t nnf_tensor_storage_numel(const nnf_tensor *t);
int nnf_tensor_is_contiguous(const nnf_tensor *t);
/* 1 if a and b share storage. */
int nnf_tensor_shares_storage(const nnf_tensor *a, const nnf_tensor *b);
/* Pointer to element [0,...,0] (float32 tensors; NULL for other dtypes).
 * Address element i with the strides. */
float *nnf_tensor_data(const nnf_tensor *t);
/* Pointer to element [0,...,0] of any dtype (uint8_t for NNF_BOOL, int64_t for NNF_I64). */
void *nnf_tensor_raw(const nnf_tensor *t);

/* Value of a 0-d or one-element tensor (bool reads as 0.0f / 1.0f). */
nnf_status nnf_item(const nnf_tensor *t, float *value /* OUT */);
/* Read / write one element at a full index (ndim entries, negative counts from the end). */
nnf_status nnf_get(const nnf_tensor *t, const int64_t *index, float *value /* OUT */);
nnf_status nnf_set(nnf_tensor *t, const int64_t *index, float value);

/* ---- Views: new handles onto the same storage; never copy. ---- */

/* Broadcast to `shape` (numpy rules: sizes of 1 become stride-0 dims; new leading dims;
 * -1 keeps a size). */
nnf_status nnf_expand(nnf_tensor **out /* OUT */, const nnf_tensor *t, int ndim,
                      const int64_t *shape);
nnf_status nnf_expand_as(nnf_tensor **out /* OUT */, const nnf_tensor *t, const nnf_tensor *other);
/* Insert a size-1 dim at `dim` (-ndim-1 <= dim <= ndim), like t[:, None]. */
nnf_status nnf_unsqueeze(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim);
/* Remove dim if its size is 1 (otherwise the view is the same shape, as in PyTorch). */
nnf_status nnf_squeeze(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim);
/* Remove every size-1 dim. */
nnf_status nnf_squeeze_all(nnf_tensor **out /* OUT */, const nnf_tensor *t);
nnf_status nnf_transpose(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim0, int dim1);
/* Reverse the dims of a <= 2-d tensor (t.t()). */
nnf_status nnf_t(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* `dims` is a permutation of 0..ndim-1. */
nnf_status nnf_permute(nnf_tensor **out /* OUT */, const nnf_tensor *t, const int *dims);
/* Index `index` along `dim`, removing that dim: a[i] is select(a, 0, i), b[:, j] is
 * select(b, 1, j). Negative index counts from the end. */
nnf_status nnf_select(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim, int64_t index);
/* Python's t[start:end:step] along dim: start/end are clamped like Python slices
 * (negative counts from the end); step >= 1. */
nnf_status nnf_slice(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim, int64_t start,
                     int64_t end, int64_t step);
/* `length` elements from `start` along dim (no clamping: out of range is an error). */
nnf_status nnf_narrow(nnf_tensor **out /* OUT */, const nnf_tensor *t, int dim, int64_t start,
                      int64_t length);
/* Same elements, new shape, without copying; NNF_ERR_STRIDE if the strides do not allow
 * it (like torch.view). One size may be -1. */
nnf_status nnf_view(nnf_tensor **out /* OUT */, const nnf_tensor *t, int ndim, const int64_t *shape);

/* ---- Copies where needed. ---- */

/* A view when nnf_view would succeed, otherwise a contiguous copy (torch.reshape). */
nnf_status nnf_reshape(nnf_tensor **out /* OUT */, const nnf_tensor *t, int ndim,
                       const int64_t *shape);
/* t itself (a new handle, no copy) if already contiguous, else a contiguous copy. */
nnf_status nnf_contiguous(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* Always a new contiguous copy with its own storage. */
nnf_status nnf_clone(nnf_tensor **out /* OUT */, const nnf_tensor *t);

/* ---- Gradients: the chapter's `.g`, stored with the tensor it belongs to. ----
 * nn's backward passes ACCUMULATE into t's gradient (allocating it, zero-filled,
 * on first use); nnf_zero_grad sets it back to zero. Views do not share gradients. */
nnf_tensor *nnf_tensor_grad(const nnf_tensor *t);   /* borrowed; NULL if none yet */
/* The gradient, created zero-filled with t's shape if it does not exist yet. */
nnf_status nnf_tensor_grad_get(nnf_tensor *t, nnf_tensor **grad /* OUT, borrowed */);
void nnf_zero_grad(nnf_tensor *t);                   /* NULL or no gradient: no-op */

/* ---- Printing, in PyTorch's format: tensor([[11., 22., 33.], ...]). ---- */
nnf_status nnf_fprint(FILE *f, const nnf_tensor *t);
nnf_status nnf_print(const nnf_tensor *t);           /* to stdout, with a newline */
/* Writes at most `size` bytes including the NUL; *needed (if not NULL) gets the full length. */
nnf_status nnf_snprint(char *buf, size_t size, const nnf_tensor *t, size_t *needed /* OUT */);

#ifdef __cplusplus
}
#endif
#endif
