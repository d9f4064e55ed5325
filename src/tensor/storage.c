/* Storage and handles: refcounted storage shared by every view, and the geometry
 * checks that every creation path goes through. */
#include "src/tensor/tensor_internal.h"

#include <stdio.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"

size_t nnf__dtype_size(nnf_dtype dtype)
{
    switch (dtype) {
    case NNF_F32: return sizeof(float);
    case NNF_BOOL: return 1;
    case NNF_I64: return sizeof(int64_t);
    }
    return 0;
}

const char *nnf__shape_str(int ndim, const int64_t *shape, char *buf)
{
    size_t used = 0;
    buf[used++] = '[';
    for (int i = 0; i < ndim && i < NNF_MAX_DIMS; i++)
        used += (size_t)snprintf(buf + used, NNF__SHAPE_STR - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    snprintf(buf + used, NNF__SHAPE_STR - used, "]");
    return buf;
}

nnf_status nnf__shape_numel(int ndim, const int64_t *shape, int64_t *numel)
{
    char s[NNF__SHAPE_STR];
    NNF_RETURN_IF(ndim < 0 || ndim > NNF_MAX_DIMS, NNF_ERR_INVALID,
                  "number of dims must be in [0, %d], got %d", NNF_MAX_DIMS, ndim);
    NNF_RETURN_IF(ndim > 0 && shape == NULL, NNF_ERR_NULL, "shape is NULL for %d dims", ndim);
    int64_t n = 1;
    int overflow = 0, zero = 0;
    for (int i = 0; i < ndim; i++) {
        NNF_RETURN_IF(shape[i] < 0, NNF_ERR_INVALID,
                      "Trying to create tensor with negative dimension %lld: %s",
                      (long long)shape[i], nnf__shape_str(ndim, shape, s));
        zero |= shape[i] == 0;
        if (!overflow && nnf__mul_ovf(n, shape[i], &n))
            overflow = 1;
    }
    /* A zero size makes the count 0 even when the other sizes' product overflows. */
    if (zero)
        n = 0;
    NNF_RETURN_IF(overflow && !zero, NNF_ERR_OVERFLOW,
                  "the number of elements of shape %s overflows int64",
                  nnf__shape_str(ndim, shape, s));
    *numel = n;
    return NNF_OK;
}

nnf_status nnf__check_shape(int ndim, const int64_t *shape, nnf_dtype dtype, int64_t *numel)
{
    char s[NNF__SHAPE_STR];
    int64_t n, nbytes;
    NNF_RETURN_IF(nnf__dtype_size(dtype) == 0, NNF_ERR_DTYPE, "unknown dtype %d", (int)dtype);
    NNF_FORWARD(nnf__shape_numel(ndim, shape, &n));
    NNF_RETURN_IF(nnf__mul_ovf(n, (int64_t)nnf__dtype_size(dtype), &nbytes) ||
                      (uint64_t)nbytes > (uint64_t)SIZE_MAX / 2,
                  NNF_ERR_OVERFLOW, "a tensor of shape %s needs more bytes than size_t holds",
                  nnf__shape_str(ndim, shape, s));
    *numel = n;
    return NNF_OK;
}

nnf_status nnf__wrap_dim(int dim, int ndim, int *wrapped)
{
    /* A 0-d tensor accepts dims -1 and 0, as in PyTorch. */
    int n = ndim > 0 ? ndim : 1;
    NNF_RETURN_IF(dim < -n || dim >= n, NNF_ERR_INDEX,
                  "Dimension out of range (expected to be in range of [%d, %d], but got %d)",
                  -n, n - 1, dim);
    *wrapped = dim < 0 ? dim + n : dim;
    return NNF_OK;
}

void nnf__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        /* Only an empty tensor's strides can overflow here (its other sizes are
         * unchecked); they address nothing, so the wrapped value is harmless. */
        (void)nnf__mul_ovf(s, shape[i] > 1 ? shape[i] : 1, &s);
    }
}

char *nnf__tensor_bytes(const nnf_tensor *t)
{
    return (char *)t->storage->data + t->offset * (int64_t)nnf__dtype_size(t->dtype);
}

static nnf_status new_handle(nnf_tensor **out, nnf_dtype dtype, int ndim, const int64_t *shape,
                             const int64_t *stride, int64_t offset, nnf__storage *storage)
{
    nnf_tensor *t = nnf__alloc(sizeof *t);
    NNF_RETURN_IF(t == NULL, NNF_ERR_NOMEM, "out of memory allocating a tensor handle");
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim > 0) {
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
        memcpy(t->stride, stride, (size_t)ndim * sizeof *stride);
    }
    t->offset = offset;
    t->storage = storage;
    *out = t;
    return NNF_OK;
}

nnf_status nnf__storage_wrap(nnf__storage **out, void *data, size_t nbytes)
{
    nnf__storage *st = nnf__alloc(sizeof *st);
    NNF_RETURN_IF(st == NULL, NNF_ERR_NOMEM, "out of memory allocating a tensor's storage");
    atomic_init(&st->refcount, 0);
    atomic_init(&st->version, 0);
    st->data = data;
    st->nbytes = nbytes;
    st->owned = 0;
    *out = st;
    return NNF_OK;
}

static void storage_release(nnf__storage *st)
{
    if (atomic_fetch_sub_explicit(&st->refcount, 1, memory_order_acq_rel) != 1)
        return;
    if (st->owned)
        nnf__dealloc(st->data, st->nbytes);
    nnf__dealloc(st, sizeof *st);
}

nnf_status nnf__tensor_on_storage(nnf_tensor **out, nnf_dtype dtype, int ndim,
                                  const int64_t *shape, const int64_t *stride, int64_t offset,
                                  nnf__storage *storage)
{
    NNF_FORWARD(new_handle(out, dtype, ndim, shape, stride, offset, storage));
    atomic_fetch_add_explicit(&storage->refcount, 1, memory_order_relaxed);
    return NNF_OK;
}

nnf_status nnf__tensor_new(nnf_tensor **out, nnf_dtype dtype, int ndim, const int64_t *shape,
                           int zero)
{
    char s[NNF__SHAPE_STR];
    int64_t stride[NNF_MAX_DIMS];
    int64_t numel;
    NNF_FORWARD(nnf__shape_numel(ndim, shape, &numel));
    size_t nbytes = (size_t)numel * nnf__dtype_size(dtype);
    void *data = zero ? nnf__calloc(nbytes) : nnf__alloc(nbytes);
    NNF_RETURN_IF(data == NULL, NNF_ERR_NOMEM,
                  "out of memory allocating %zu bytes for a tensor of shape %s", nbytes,
                  nnf__shape_str(ndim, shape, s));
    nnf__storage *st = NULL;   /* set when status is NNF_OK; gcc cannot tell once inlined */
    nnf_status status = nnf__storage_wrap(&st, data, nbytes);
    if (status != NNF_OK) {
        nnf__dealloc(data, nbytes);
        return status;
    }
    st->owned = 1;
    nnf__contiguous_strides(ndim, shape, stride);
    status = nnf__tensor_on_storage(out, dtype, ndim, shape, stride, 0, st);
    if (status != NNF_OK) {
        nnf__dealloc(data, nbytes);
        nnf__dealloc(st, sizeof *st);
    }
    return status;
}

nnf_status nnf__make_view(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *stride, int64_t offset)
{
    char s[NNF__SHAPE_STR], st_s[NNF__SHAPE_STR];
    int64_t lo, hi, first, last;
    /* Every view op computes its geometry with checked arithmetic; this is the backstop
     * that keeps "a non-empty view addresses only its storage" true (checked.h relies on
     * it), so that no later index * stride can overflow or leave the buffer. */
    int over = nnf__extent_ovf(ndim, shape, stride, &lo, &hi) ||
               nnf__add_ovf(offset, lo, &first) || nnf__add_ovf(offset, hi, &last);
    NNF_RETURN_IF(over, NNF_ERR_OVERFLOW,
                  "a view of shape %s with strides %s at offset %lld addresses beyond int64",
                  nnf__shape_str(ndim, shape, s), nnf__shape_str(ndim, stride, st_s),
                  (long long)offset);
    /* Even an empty view's first element has an address: offset * element size. */
    NNF_RETURN_IF(offset < 0 || offset > INT64_MAX / (int64_t)nnf__dtype_size(t->dtype),
                  NNF_ERR_OVERFLOW, "a view at offset %lld addresses beyond int64 bytes",
                  (long long)offset);
    int64_t held = (int64_t)(t->storage->nbytes / nnf__dtype_size(t->dtype));
    int64_t numel;
    NNF_RETURN_IF(nnf__prod_ovf(ndim, shape, &numel), NNF_ERR_OVERFLOW,
                  "the number of elements of shape %s overflows int64",
                  nnf__shape_str(ndim, shape, s));
    NNF_RETURN_IF(numel > 0 && (first < 0 || last >= held), NNF_ERR_STRIDE,
                  "a view of shape %s with strides %s at offset %lld reaches elements "
                  "[%lld, %lld], outside its storage of %lld elements",
                  nnf__shape_str(ndim, shape, s), nnf__shape_str(ndim, stride, st_s),
                  (long long)offset, (long long)first, (long long)last, (long long)held);
    return nnf__tensor_on_storage(out, t->dtype, ndim, shape, stride, offset, t->storage);
}

void nnf_tensor_free(nnf_tensor *t)
{
    if (t == NULL)
        return;
    nnf_tensor_free(t->grad);
    storage_release(t->storage);
    nnf__dealloc(t, sizeof *t);
}
