/* One element at a time: item(), t[i, j] reads and writes. */
#include "src/tensor/tensor_internal.h"

#include "src/core/error.h"

static float load(const nnf_tensor *t, int64_t offset)
{
    const char *p = (const char *)t->storage->data;
    switch (t->dtype) {
    case NNF_BOOL: return ((const uint8_t *)p)[offset] ? 1.0f : 0.0f;
    case NNF_I64: return (float)((const int64_t *)p)[offset];
    case NNF_F32: break;
    }
    return ((const float *)p)[offset];
}

nnf_status nnf_value(float *value, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_value");
    NNF_RETURN_IF(value == NULL, NNF_ERR_NULL, "value is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    int64_t n = nnf_tensor_numel(t);
    NNF_RETURN_IF(n != 1, NNF_ERR_SHAPE,
                  "a Tensor with %lld elements cannot be converted to Scalar", (long long)n);
    *value = load(t, t->offset);
    return NNF_OK;
}

/* The storage offset of t[index], with negative indices counted from the end. */
static nnf_status locate(const nnf_tensor *t, const int64_t *index, int64_t *offset)
{
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_RETURN_IF(index == NULL && t->ndim > 0, NNF_ERR_NULL, "index is NULL");
    int64_t off = t->offset;
    for (int d = 0; d < t->ndim; d++) {
        int64_t i = index[d], size = t->shape[d];
        NNF_RETURN_IF(i < -size || i >= size, NNF_ERR_INDEX,
                      "index %lld is out of bounds for dimension %d with size %lld", (long long)i,
                      d, (long long)size);
        off += (i < 0 ? i + size : i) * t->stride[d];
    }
    *offset = off;
    return NNF_OK;
}

nnf_status nnf_value_at(float *value, const nnf_tensor *t, const int64_t *index)
{
    NNF_PUBLIC("nnf_value_at");
    int64_t off;
    NNF_RETURN_IF(value == NULL, NNF_ERR_NULL, "value is NULL");
    NNF_FORWARD(locate(t, index, &off));
    *value = load(t, off);
    return NNF_OK;
}

nnf_status nnf_set(nnf_tensor *t, const int64_t *index, float value)
{
    NNF_PUBLIC("nnf_set");
    int64_t off;
    NNF_FORWARD(locate(t, index, &off));
    char *p = (char *)t->storage->data;
    switch (t->dtype) {
    case NNF_BOOL:
        ((uint8_t *)p)[off] = value != 0.0f;
        break;
    case NNF_I64:
        /* 2^63 is exact in float; a NaN fails both comparisons. */
        NNF_RETURN_IF(!(value >= -0x1p63f && value < 0x1p63f), NNF_ERR_INVALID,
                      "%g does not fit an int64 element", (double)value);
        ((int64_t *)p)[off] = (int64_t)value;
        break;
    case NNF_F32:
        ((float *)p)[off] = value;
        break;
    }
    nnf__tensor_written(t);
    return NNF_OK;
}
