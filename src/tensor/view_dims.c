/* Views that add, remove, broadcast or reorder dims: new shape and strides onto the
 * same storage, never a copy. */
#include "src/tensor/tensor_internal.h"

#include <string.h>

#include "src/core/checked.h"
#include "src/core/error.h"

#define CHECK_ARGS()                                               \
    do {                                                           \
        NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");   \
        NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");       \
    } while (0)

static nnf_status expand(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape)
{
    char want[NNF__SHAPE_STR], have[NNF__SHAPE_STR];
    int64_t new_shape[NNF_MAX_DIMS], new_stride[NNF_MAX_DIMS];
    CHECK_ARGS();
    NNF_RETURN_IF(ndim < 0 || ndim > NNF_MAX_DIMS, NNF_ERR_INVALID,
                  "number of sizes must be in [0, %d], got %d", NNF_MAX_DIMS, ndim);
    NNF_RETURN_IF(ndim > 0 && shape == NULL, NNF_ERR_NULL, "shape is NULL");
    NNF_RETURN_IF(ndim < t->ndim, NNF_ERR_SHAPE,
                  "expand(%s, size=%s): the number of sizes provided (%d) must be greater or "
                  "equal to the number of dimensions in the tensor (%d)",
                  nnf__shape_str(t->ndim, t->shape, have), nnf__shape_str(ndim, shape, want),
                  ndim, t->ndim);
    int lead = ndim - t->ndim;
    for (int i = 0; i < ndim; i++) {
        int64_t size = shape[i];
        if (i < lead) {
            NNF_RETURN_IF(size < 0, NNF_ERR_SHAPE,
                          "The expanded size of the tensor (%lld) isn't allowed in a leading, "
                          "non-existing dimension %d", (long long)size, i);
            new_shape[i] = size;
            new_stride[i] = 0;
            continue;
        }
        int64_t old = t->shape[i - lead];
        if (size == -1)
            size = old;
        NNF_RETURN_IF(size < 0, NNF_ERR_SHAPE,
                      "The expanded size of the tensor (%lld) isn't allowed", (long long)size);
        NNF_RETURN_IF(old != 1 && size != old, NNF_ERR_SHAPE,
                      "The expanded size of the tensor (%lld) must match the existing size (%lld) "
                      "at non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                      (long long)size, (long long)old, i, nnf__shape_str(ndim, shape, want),
                      nnf__shape_str(t->ndim, t->shape, have));
        new_shape[i] = size;
        new_stride[i] = old == size ? t->stride[i - lead] : 0;
    }
    int64_t numel;
    NNF_FORWARD(nnf__shape_numel(ndim, new_shape, &numel));
    return nnf__make_view(out, t, ndim, new_shape, new_stride, t->offset);
}

nnf_status nnf_expand(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_expand");
    return expand(out, t, ndim, shape);
}

nnf_status nnf_expand_as(nnf_tensor **out, const nnf_tensor *t, const nnf_tensor *other)
{
    NNF_PUBLIC("nnf_expand_as");
    NNF_RETURN_IF(other == NULL, NNF_ERR_NULL, "other is NULL");
    return expand(out, t, other->ndim, other->shape);
}

nnf_status nnf_unsqueeze(nnf_tensor **out, const nnf_tensor *t, int dim)
{
    NNF_PUBLIC("nnf_unsqueeze");
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int d;
    CHECK_ARGS();
    NNF_RETURN_IF(t->ndim == NNF_MAX_DIMS, NNF_ERR_SHAPE,
                  "the tensor already has the maximum of %d dims", NNF_MAX_DIMS);
    NNF_FORWARD(nnf__wrap_dim(dim, t->ndim + 1, &d));
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == d) {
            shape[i] = 1;
            /* The stride a contiguous tensor would have there, so that unsqueezing a
             * contiguous tensor keeps it contiguous. An empty tensor's stride can be
             * anything, so the product is checked. */
            stride[i] = 1;
            NNF_RETURN_IF(d < t->ndim && nnf__mul_ovf(t->shape[d], t->stride[d], &stride[i]),
                          NNF_ERR_OVERFLOW,
                          "the new dim's stride, size %lld times stride %lld of dim %d, "
                          "overflows int64", (long long)t->shape[d], (long long)t->stride[d], d);
            continue;
        }
        shape[i] = t->shape[j];
        stride[i] = t->stride[j++];
    }
    return nnf__make_view(out, t, t->ndim + 1, shape, stride, t->offset);
}

static nnf_status drop_dims(nnf_tensor **out, const nnf_tensor *t, unsigned drop_mask)
{
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (drop_mask & (1u << i))
            continue;
        shape[n] = t->shape[i];
        stride[n++] = t->stride[i];
    }
    return nnf__make_view(out, t, n, shape, stride, t->offset);
}

nnf_status nnf_squeeze(nnf_tensor **out, const nnf_tensor *t, int dim)
{
    NNF_PUBLIC("nnf_squeeze");
    int d;
    CHECK_ARGS();
    NNF_FORWARD(nnf__wrap_dim(dim, t->ndim, &d));
    return drop_dims(out, t, t->ndim > 0 && t->shape[d] == 1 ? 1u << d : 0u);
}

nnf_status nnf_squeeze_all(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_squeeze_all");
    CHECK_ARGS();
    unsigned mask = 0;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 1)
            mask |= 1u << i;
    return drop_dims(out, t, mask);
}

nnf_status nnf_transpose(nnf_tensor **out, const nnf_tensor *t, int dim0, int dim1)
{
    NNF_PUBLIC("nnf_transpose");
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int d0, d1;
    CHECK_ARGS();
    NNF_FORWARD(nnf__wrap_dim(dim0, t->ndim, &d0));
    NNF_FORWARD(nnf__wrap_dim(dim1, t->ndim, &d1));
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    if (t->ndim > 0) {
        shape[d0] = t->shape[d1];
        shape[d1] = t->shape[d0];
        stride[d0] = t->stride[d1];
        stride[d1] = t->stride[d0];
    }
    return nnf__make_view(out, t, t->ndim, shape, stride, t->offset);
}

nnf_status nnf_t(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_t");
    CHECK_ARGS();
    NNF_RETURN_IF(t->ndim > 2, NNF_ERR_SHAPE,
                  "t() expects a tensor with <= 2 dimensions, but self is %dD", t->ndim);
    return nnf_transpose(out, t, 0, t->ndim == 2 ? 1 : 0);
}

nnf_status nnf_permute(nnf_tensor **out, const nnf_tensor *t, const int *dims)
{
    NNF_PUBLIC("nnf_permute");
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    unsigned seen = 0;
    CHECK_ARGS();
    NNF_RETURN_IF(dims == NULL && t->ndim > 0, NNF_ERR_NULL, "dims is NULL");
    for (int i = 0; i < t->ndim; i++) {
        int d;
        NNF_FORWARD(nnf__wrap_dim(dims[i], t->ndim, &d));
        NNF_RETURN_IF(seen & (1u << d), NNF_ERR_INVALID,
                      "duplicate dims are not allowed.");
        seen |= 1u << d;
        shape[i] = t->shape[d];
        stride[i] = t->stride[d];
    }
    return nnf__make_view(out, t, t->ndim, shape, stride, t->offset);
}
