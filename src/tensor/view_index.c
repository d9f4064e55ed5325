/* Views that index or slice one dim: a[i], b[:, j], t[start:end:step], narrow. The
 * result moves the offset and scales a stride; it never copies. */
#include "src/tensor/tensor_internal.h"

#include <string.h>

#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/core/plant.h"

/* fn is PyTorch's name for the op, for its message about 0-d tensors. */
static nnf_status one_dim(nnf_tensor **out, const nnf_tensor *t, int dim, const char *fn, int *d)
{
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_RETURN_IF(t->ndim == 0, NNF_ERR_SHAPE, "%s() cannot be applied to a 0-dim tensor.", fn);
    return nnf__wrap_dim(dim, t->ndim, d);
}

nnf_status nnf_select(nnf_tensor **out, const nnf_tensor *t, int dim, int64_t index)
{
    NNF_PUBLIC("nnf_select");
    char s[NNF__SHAPE_STR];
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int d;
    NNF_FORWARD(one_dim(out, t, dim, "select", &d));
    int64_t size = t->shape[d];
    NNF_RETURN_IF(index < -size || index >= size, NNF_ERR_INDEX,
                  "index %lld out of range for tensor of size %s at dimension %d",
                  (long long)index, nnf__shape_str(t->ndim, t->shape, s), d);
    if (index < 0)
        index += size;
    for (int i = 0, j = 0; i < t->ndim; i++) {
        if (i == d)
            continue;
        shape[j] = t->shape[i];
        stride[j++] = t->stride[i];
    }
    int64_t offset;
    NNF_RETURN_IF(nnf__muladd_ovf(index, t->stride[d], t->offset, &offset), NNF_ERR_OVERFLOW,
                  "the offset of index %lld at stride %lld overflows int64", (long long)index,
                  (long long)t->stride[d]);
    return nnf__make_view(out, t, t->ndim - 1, shape, stride, offset);
}

static nnf_status sub_range(nnf_tensor **out, const nnf_tensor *t, int d, int64_t start,
                            int64_t length, int64_t step)
{
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS], offset;
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    shape[d] = length;
    /* A huge step (t[0::2**62]) leaves at most one element, whose stride addresses
     * nothing: keep the old one. A longer slice of a non-empty tensor has
     * step < size, so the product stays inside the tensor's extent; only an empty
     * tensor's unbounded strides can overflow here. */
    NNF_RETURN_IF(length > 1 && nnf__mul_ovf(t->stride[d], step, &stride[d]), NNF_ERR_OVERFLOW,
                  "step %lld times stride %lld of dim %d overflows int64", (long long)step,
                  (long long)t->stride[d], d);
    NNF_RETURN_IF(nnf__muladd_ovf(start, t->stride[d], t->offset, &offset), NNF_ERR_OVERFLOW,
                  "the offset of start %lld at stride %lld overflows int64", (long long)start,
                  (long long)t->stride[d]);
    return nnf__make_view(out, t, t->ndim, shape, stride, offset);
}

nnf_status nnf_slice(nnf_tensor **out, const nnf_tensor *t, int dim, int64_t start, int64_t end,
                     int64_t step)
{
    NNF_PUBLIC("nnf_slice");
    int d;
    NNF_FORWARD(one_dim(out, t, dim, "slice", &d));
    NNF_RETURN_IF(step <= 0, NNF_ERR_INVALID, "slice step must be positive, got %lld",
                  (long long)step);
    int64_t size = t->shape[d];
    /* Python's clamping; written to avoid overflow for starts and ends near INT64_MIN/MAX. */
    if (start < 0)
        start = start < -size ? 0 : start + size;
    if (end < 0)
        end = end < -size ? 0 : end + size;
    if (start > size)
        start = size;
    if (end > size)
        end = size;
    if (end < start)
        end = start;
    int64_t length = end == start ? 0 : (end - start - 1) / step + 1;
    return sub_range(out, t, d, start, length, step);
}

nnf_status nnf_narrow(nnf_tensor **out, const nnf_tensor *t, int dim, int64_t start,
                      int64_t length)
{
    NNF_PUBLIC("nnf_narrow");
    int d;
    NNF_FORWARD(one_dim(out, t, dim, "narrow", &d));
    int64_t size = t->shape[d];
    NNF_RETURN_IF(length < 0, NNF_ERR_INVALID, "length must be non-negative.");
    NNF_RETURN_IF(start < -size || start > size, NNF_ERR_INDEX,
                  "start out of range (expected to be in range of [%lld, %lld], but got %lld)",
                  (long long)-size, (long long)size, (long long)start);
    if (start < 0)
        start += size;
    /* fuzz_views's planted bug (src/core/plant.h): one element past the end allowed. */
    NNF_RETURN_IF(length > size - start + NNF_PLANTED("views"), NNF_ERR_INDEX,
                  "start (%lld) + length (%lld) exceeds dimension size (%lld).", (long long)start,
                  (long long)length, (long long)size);
    return sub_range(out, t, d, start, length, 1);
}
