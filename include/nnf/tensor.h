/* nnf/tensor.h — float32 tensors: shape, strides, shared storage, views.
 *
 * A tensor is a handle (nnf_tensor *) onto refcounted storage. Views (expand,
 * transpose, slices, ...) are new handles onto the same storage: they never copy,
 * and writing through one is visible through the other, exactly as in PyTorch.
 * Every handle is freed with nnf_tensor_free(); storage goes when its last handle does.
 *
 * >>> Every nnf_tensor * that receives a result must start as NULL. <<<
 *
 *     nnf_tensor *r = NULL;           // not `nnf_tensor *r;`
 *     nnf_add(&r, a, b);
 *
 * An IN/OUT handle (every op in ops.h, linalg.h, nn.h) that is not NULL is taken to be a
 * live tensor to write the result into: an uninitialised one is read as a tensor, and the
 * program crashes or scribbles over memory.
 *
 * Conventions used throughout nnf (the whole list is at the top of nnf/nnf.h):
 * - Shapes and strides are int64_t; strides count ELEMENTS, never bytes.
 * - A dim argument may be negative and counts from the end (-1 is the last dim).
 * - Functions that create a tensor or a view take `nnf_tensor **out` (marked OUT) and store
 *   a new handle there only on success; on failure *out is left as it was. They do not
 *   read or free what *out held before.
 * - NNF_SHAPE(2, 3) expands to the `ndim, shape` argument pair: nnf_zeros(&t, NNF_SHAPE(2, 3)).
 *   It works in C and in C++.
 */
#ifndef NNF_TENSOR_H
#define NNF_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "status.h"

#define NNF_MAX_DIMS 8

/* `ndim, shape` for an inline list of sizes: NNF_SHAPE(64, 3, 256, 256). In C a compound
 * literal; C++ has none (-Wpedantic rejects it), so there the sizes go into a temporary
 * array that lives until the end of the call's full expression. In both, each size is
 * evaluated once and the count is taken without evaluating them. At least one size. */
#ifdef __cplusplus
extern "C++" {   /* also when the header is included inside an extern "C" block */
template <typename E, int N> struct nnf_cxx_array_ { E v[N]; };
template <typename... T> char (&nnf_cxx_count_(T &&...))[sizeof...(T)];
template <typename E, typename... T> inline nnf_cxx_array_<E, sizeof...(T)> nnf_cxx_list_(T... x)
{
    return {{static_cast<E>(x)...}};
}
}
#define NNF_SHAPE(...) \
    (int)sizeof(nnf_cxx_count_(__VA_ARGS__)), nnf_cxx_list_<int64_t>(__VA_ARGS__).v
#else
#define NNF_SHAPE(...) \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNF_F32,   /* float, the type of all arithmetic */
    NNF_BOOL,  /* one byte per element, 0 or 1: the result of comparisons, masks */
    NNF_I64    /* int64_t: indices (argmax) and class labels */
} nnf_dtype;

typedef struct nnf_tensor nnf_tensor;

/* ---- Creation. ndim is 0..NNF_MAX_DIMS (0 = a scalar); every size >= 0. ---- */

/* Uninitialised float32 tensor, contiguous, 64-byte aligned storage. */
NNF_API NNF_NODISCARD nnf_status nnf_empty(nnf_tensor **out /* OUT */, int ndim,
                                           const int64_t *shape);
/* Uninitialised tensor of any dtype. */
NNF_API NNF_NODISCARD nnf_status nnf_empty_typed(nnf_tensor **out /* OUT */, int ndim,
                                                 const int64_t *shape, nnf_dtype dtype);
NNF_API NNF_NODISCARD nnf_status nnf_zeros(nnf_tensor **out /* OUT */, int ndim,
                                           const int64_t *shape);
NNF_API NNF_NODISCARD nnf_status nnf_ones(nnf_tensor **out /* OUT */, int ndim,
                                          const int64_t *shape);
NNF_API NNF_NODISCARD nnf_status nnf_full(nnf_tensor **out /* OUT */, int ndim,
                                          const int64_t *shape, float value);
/* A new contiguous tensor of t's shape and dtype (uninitialised / zero-filled). */
NNF_API NNF_NODISCARD nnf_status nnf_empty_like(nnf_tensor **out /* OUT */, const nnf_tensor *t);
NNF_API NNF_NODISCARD nnf_status nnf_zeros_like(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* Copies numel(shape) floats from `data` (row-major) into a new tensor. */
NNF_API NNF_NODISCARD nnf_status nnf_from_data(nnf_tensor **out /* OUT */, const float *data,
                                               int ndim, const int64_t *shape);
/* Copies numel(shape) elements of `dtype` from `data` (row-major: float for NNF_F32,
 * int64_t for NNF_I64, one byte 0 or 1 for NNF_BOOL) into a new tensor, e.g. class labels:
 *     nnf_from_data_typed(&y, (int64_t[]){3, 0, 7}, NNF_SHAPE(3), NNF_I64);
 * NNF_ERR_INVALID names the first bool byte that is neither 0 nor 1. */
NNF_API NNF_NODISCARD nnf_status nnf_from_data_typed(nnf_tensor **out /* OUT */,
                                                     const void *data, int ndim,
                                                     const int64_t *shape, nnf_dtype dtype);
/* Wraps the caller's buffer WITHOUT copying: the caller keeps ownership and must keep
 * `data` alive until every handle onto it is freed (nnf writes it through the tensor only
 * when asked to). strides NULL means contiguous. Strides must be >= 0 and `data` must hold
 * every addressed element. */
NNF_API NNF_NODISCARD nnf_status nnf_wrap(nnf_tensor **out /* OUT */,
                                          float *data /* IN/OUT, borrowed */, int ndim,
                                          const int64_t *shape, const int64_t *strides);
/* 1-D [start, start+step, ...) stopping before `end`, like torch.arange. step != 0. */
NNF_API NNF_NODISCARD nnf_status nnf_arange(nnf_tensor **out /* OUT */, float start, float end,
                                            float step);

/* ---- Random numbers: a documented generator with the same stream everywhere. ----
 * xoshiro128** seeded through splitmix64; uniform floats are the top 24 bits / 2^24,
 * normals come from Box-Muller computed in double. The same seed gives the same
 * tensor on every platform, ISA and thread count. An `rng` argument of NULL means the
 * default generator. */
typedef struct { uint32_t s[4]; } nnf_rng;
/* rng NULL: no-op. */
NNF_API void nnf_rng_seed(nnf_rng *rng /* OUT */, uint64_t seed);
/* Sets the seed of the default generator used when an `rng` argument is NULL
 * (like torch.manual_seed; the default generator is not thread-safe). */
NNF_API void nnf_manual_seed(uint64_t seed);
/* Uniform on [0, 1). */
NNF_API NNF_NODISCARD nnf_status nnf_rand(nnf_tensor **out /* OUT */, nnf_rng *rng /* IN/OUT */,
                                          int ndim, const int64_t *shape);
/* Standard normal. */
NNF_API NNF_NODISCARD nnf_status nnf_randn(nnf_tensor **out /* OUT */, nnf_rng *rng /* IN/OUT */,
                                           int ndim, const int64_t *shape);
/* NNF_I64 integers uniform on [low, high), like torch.randint(low, high, size); low < high.
 * Each element takes two 32-bit outputs of the generator as one 64-bit draw (the first is
 * the high half); a draw below 2^64 mod (high - low) is drawn again, so that every value is
 * equally likely, and the element is low + draw mod (high - low). */
NNF_API NNF_NODISCARD nnf_status nnf_randint(nnf_tensor **out /* OUT */,
                                             nnf_rng *rng /* IN/OUT */, int ndim,
                                             const int64_t *shape, int64_t low, int64_t high);

/* Frees the handle (and the storage with its last handle) and its gradient. NULL is a no-op. */
NNF_API void nnf_tensor_free(nnf_tensor *t /* IN/OUT */);

/* ---- Introspection. These never fail on a valid tensor. ---- */
NNF_API int nnf_tensor_ndim(const nnf_tensor *t);
NNF_API const int64_t *nnf_tensor_shape(const nnf_tensor *t);     /* ndim entries */
NNF_API const int64_t *nnf_tensor_strides(const nnf_tensor *t);   /* ndim entries, in elements */
NNF_API int64_t nnf_tensor_size(const nnf_tensor *t, int dim);    /* -1 if dim is out of range */
NNF_API int64_t nnf_tensor_numel(const nnf_tensor *t);
NNF_API nnf_dtype nnf_tensor_dtype(const nnf_tensor *t);
NNF_API int64_t nnf_tensor_offset(const nnf_tensor *t);           /* first element, in elements */
/* Number of elements the shared storage holds (the chapter's t.storage(): a 3x3
 * tensor expanded from 3 values reports 3). */
NNF_API int64_t nnf_tensor_storage_numel(const nnf_tensor *t);
NNF_API int nnf_tensor_is_contiguous(const nnf_tensor *t);
/* 1 if a and b share storage. */
NNF_API int nnf_tensor_shares_storage(const nnf_tensor *a, const nnf_tensor *b);
/* Pointer to element [0,...,0] (float32 tensors; NULL for other dtypes).
 * Address element i with the strides. The pointer is writable, so handing it out counts
 * as a write (nnf_tensor_version moves); to only read, use nnf_tensor_const_data. */
NNF_API float *nnf_tensor_data(const nnf_tensor *t);
/* The same pointer for reading only: the version does not move. */
NNF_API const float *nnf_tensor_const_data(const nnf_tensor *t);
/* Pointer to element [0,...,0] of any dtype (uint8_t for NNF_BOOL, int64_t for NNF_I64);
 * writable, so it counts as a write like nnf_tensor_data. */
NNF_API void *nnf_tensor_raw(const nnf_tensor *t);

/* ---- Versions: how nnf knows that values it derived something from have changed ----
 * Every storage counts the writes made into it (PyTorch's t._version), whichever view
 * they go through: ops writing into an existing output or in place, nnf_copy, nnf_fill,
 * nnf_set, an SGD step, loading weights, nnf_zero_grad (on the gradient), and handing out
 * a writable pointer (nnf_tensor_data, nnf_tensor_raw). What nnf keeps between calls
 * (a Lin layer's prepacked weight, nnf/linalg.h) is rebuilt when the count has moved.
 * The count moves when the pointer is handed out, not when it is written through: a
 * pointer kept from earlier (or a buffer given to nnf_wrap) that is written after nnf
 * has read the tensor again needs nnf_tensor_mark_modified, or the change goes unseen. */
NNF_API uint64_t nnf_tensor_version(const nnf_tensor *t);   /* 0 for NULL */
/* Records a write into t's storage made behind nnf's back. NULL is a no-op. */
NNF_API void nnf_tensor_mark_modified(nnf_tensor *t /* IN/OUT */);

/* ---- Elements ---- */
/* Value of a 0-d or one-element tensor, t.item() (bool reads as 0.0f / 1.0f). */
NNF_API NNF_NODISCARD nnf_status nnf_value(float *value /* OUT */, const nnf_tensor *t);
/* The element at a full index (ndim entries, negative counts from the end), t[i, j].item(). */
NNF_API NNF_NODISCARD nnf_status nnf_value_at(float *value /* OUT */, const nnf_tensor *t,
                                              const int64_t *index);
/* Writes one element. NNF_ERR_INVALID for an int64 tensor if value is not in int64's range. */
NNF_API NNF_NODISCARD nnf_status nnf_set(nnf_tensor *t /* IN/OUT */, const int64_t *index,
                                         float value);

/* ---- Views: new handles onto the same storage; never copy. ---- */

/* Broadcast to `shape` (numpy rules: sizes of 1 become stride-0 dims; new leading dims;
 * -1 keeps a size). */
NNF_API NNF_NODISCARD nnf_status nnf_expand(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                            int ndim, const int64_t *shape);
NNF_API NNF_NODISCARD nnf_status nnf_expand_as(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                               const nnf_tensor *other);
/* Insert a size-1 dim at `dim` (-ndim-1 <= dim <= ndim), like t[:, None]. */
NNF_API NNF_NODISCARD nnf_status nnf_unsqueeze(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                               int dim);
/* Remove dim if its size is 1 (otherwise the view is the same shape, as in PyTorch). */
NNF_API NNF_NODISCARD nnf_status nnf_squeeze(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                             int dim);
/* Remove every size-1 dim. */
NNF_API NNF_NODISCARD nnf_status nnf_squeeze_all(nnf_tensor **out /* OUT */, const nnf_tensor *t);
NNF_API NNF_NODISCARD nnf_status nnf_transpose(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                               int dim0, int dim1);
/* Reverse the dims of a <= 2-d tensor (t.t()). */
NNF_API NNF_NODISCARD nnf_status nnf_t(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* `dims` is a permutation of 0..ndim-1. */
NNF_API NNF_NODISCARD nnf_status nnf_permute(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                             const int *dims);
/* Index `index` along `dim`, removing that dim: a[i] is select(a, 0, i), b[:, j] is
 * select(b, 1, j). Negative index counts from the end. */
NNF_API NNF_NODISCARD nnf_status nnf_select(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                            int dim, int64_t index);
/* Python's t[start:end:step] along dim: start/end are clamped like Python slices
 * (negative counts from the end); step >= 1. */
NNF_API NNF_NODISCARD nnf_status nnf_slice(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                           int dim, int64_t start, int64_t end, int64_t step);
/* `length` elements from `start` along dim (no clamping: out of range is an error). */
NNF_API NNF_NODISCARD nnf_status nnf_narrow(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                            int dim, int64_t start, int64_t length);
/* Same elements, new shape, without copying; NNF_ERR_STRIDE if the strides do not allow
 * it (like torch.view). One size may be -1. */
NNF_API NNF_NODISCARD nnf_status nnf_view(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                          int ndim, const int64_t *shape);

/* ---- Copies where needed. ---- */

/* A view when nnf_view would succeed, otherwise a contiguous copy (torch.reshape). */
NNF_API NNF_NODISCARD nnf_status nnf_reshape(nnf_tensor **out /* OUT */, const nnf_tensor *t,
                                             int ndim, const int64_t *shape);
/* t itself (a new handle, no copy) if already contiguous, else a contiguous copy. */
NNF_API NNF_NODISCARD nnf_status nnf_contiguous(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* Always a new contiguous copy with its own storage. */
NNF_API NNF_NODISCARD nnf_status nnf_clone(nnf_tensor **out /* OUT */, const nnf_tensor *t);
/* Copies the elements of t (any dtype, any view: expanded, transposed, sliced) into the
 * caller's buffer, row-major and packed: numel * element size bytes (4 for NNF_F32, 8 for
 * NNF_I64, 1 for NNF_BOOL, as numpy's tobytes()). NNF_ERR_INVALID, and dst untouched, if
 * dst_nbytes is smaller than that; bytes past it are left alone. */
NNF_API NNF_NODISCARD nnf_status nnf_copy_to_buffer(void *dst /* OUT */, size_t dst_nbytes,
                                                    const nnf_tensor *t);

/* ---- Gradients: the chapter's `.g`, stored with the tensor it belongs to. ----
 * nn's backward passes ACCUMULATE into t's gradient (allocating it, zero-filled,
 * on first use); nnf_zero_grad sets it back to zero. Views do not share gradients. */
NNF_API nnf_tensor *nnf_tensor_grad(const nnf_tensor *t);   /* borrowed; NULL if none yet */
/* The gradient, created zero-filled with t's shape if it does not exist yet. */
NNF_API NNF_NODISCARD nnf_status nnf_tensor_grad_get(nnf_tensor *t /* IN/OUT */,
                                                     nnf_tensor **grad /* OUT, borrowed */);
NNF_API void nnf_zero_grad(nnf_tensor *t /* IN/OUT */);    /* NULL or no gradient: no-op */

/* ---- Printing, in PyTorch's format: tensor([[11., 22., 33.], ...]). ---- */
NNF_API NNF_NODISCARD nnf_status nnf_fprint(FILE *f /* IN/OUT */, const nnf_tensor *t);
/* To stdout, with a newline. */
NNF_API NNF_NODISCARD nnf_status nnf_print(const nnf_tensor *t);
/* Writes at most `size` bytes of the text, including the NUL; *needed (if needed is not
 * NULL) gets the full length without the NUL, as snprintf returns it. */
NNF_API NNF_NODISCARD nnf_status nnf_print_to_buffer(char *buf /* OUT */, size_t size,
                                                     size_t *needed /* OUT */,
                                                     const nnf_tensor *t);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
NNF_API NNF_DEPRECATED("use nnf_empty_typed(out, ndim, shape, dtype)") NNF_NODISCARD
nnf_status nnf_empty_dtype(nnf_tensor **out /* OUT */, nnf_dtype dtype, int ndim,
                           const int64_t *shape);
NNF_API NNF_DEPRECATED("use nnf_value(value, t)") NNF_NODISCARD
nnf_status nnf_item(const nnf_tensor *t, float *value /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_value_at(value, t, index)") NNF_NODISCARD
nnf_status nnf_get(const nnf_tensor *t, const int64_t *index, float *value /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_print_to_buffer(buf, size, needed, t)") NNF_NODISCARD
nnf_status nnf_snprint(char *buf /* OUT */, size_t size, const nnf_tensor *t,
                       size_t *needed /* OUT */);

#ifdef __cplusplus
}
#endif
#endif
