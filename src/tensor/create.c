/* New tensors with their own storage (and nnf_wrap, onto the caller's). */
#include "src/tensor/tensor_internal.h"

#include <math.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"

nnf_status nnf__tensor_create(nnf_tensor **out, int ndim, const int64_t *shape, nnf_dtype dtype,
                              int zero)
{
    int64_t numel;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, dtype, &numel));
    return nnf__tensor_new(out, dtype, ndim, shape, zero);
}

nnf_status nnf_empty_typed(nnf_tensor **out, int ndim, const int64_t *shape, nnf_dtype dtype)
{
    NNF_PUBLIC("nnf_empty_typed");
    return nnf__tensor_create(out, ndim, shape, dtype, 0);
}

nnf_status nnf_empty(nnf_tensor **out, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_empty");
    return nnf__tensor_create(out, ndim, shape, NNF_F32, 0);
}

nnf_status nnf_zeros(nnf_tensor **out, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_zeros");
    return nnf__tensor_create(out, ndim, shape, NNF_F32, 1);
}

nnf_status nnf_full(nnf_tensor **out, int ndim, const int64_t *shape, float value)
{
    NNF_PUBLIC("nnf_full");
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_FORWARD(nnf__tensor_create(&t, ndim, shape, NNF_F32, 0));
    nnf_status status = nnf_fill(t, value);
    if (status != NNF_OK) {
        nnf_tensor_free(t);
        return status;
    }
    *out = t;
    return NNF_OK;
}

nnf_status nnf_ones(nnf_tensor **out, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_ones");
    return nnf_full(out, ndim, shape, 1.0f);
}

nnf_status nnf_empty_like(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_empty_like");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    return nnf__tensor_create(out, t->ndim, t->shape, t->dtype, 0);
}

nnf_status nnf_zeros_like(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_zeros_like");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    return nnf__tensor_create(out, t->ndim, t->shape, t->dtype, 1);
}

static nnf_status from_data(nnf_tensor **out, const void *data, int ndim, const int64_t *shape,
                            nnf_dtype dtype)
{
    int64_t numel;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(data == NULL, NNF_ERR_NULL, "data is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, dtype, &numel));
    if (dtype == NNF_BOOL) {
        const uint8_t *b = data;
        for (int64_t i = 0; i < numel; i++)
            NNF_RETURN_IF(b[i] > 1, NNF_ERR_INVALID,
                          "a bool element is one byte, 0 or 1, but byte %lld of data is %d",
                          (long long)i, b[i]);
    }
    nnf_tensor *t;
    NNF_FORWARD(nnf__tensor_new(&t, dtype, ndim, shape, 0));
    memcpy(nnf__tensor_bytes(t), data, (size_t)numel * nnf__dtype_size(dtype));
    *out = t;
    return NNF_OK;
}

nnf_status nnf_from_data(nnf_tensor **out, const float *data, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_from_data");
    return from_data(out, data, ndim, shape, NNF_F32);
}

nnf_status nnf_from_data_typed(nnf_tensor **out, const void *data, int ndim,
                               const int64_t *shape, nnf_dtype dtype)
{
    NNF_PUBLIC("nnf_from_data_typed");
    return from_data(out, data, ndim, shape, dtype);
}

nnf_status nnf_wrap(nnf_tensor **out, float *data, int ndim, const int64_t *shape,
                    const int64_t *strides)
{
    NNF_PUBLIC("nnf_wrap");
    char s[NNF__SHAPE_STR], st_s[NNF__SHAPE_STR];
    int64_t numel, stride[NNF_MAX_DIMS];
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(data == NULL, NNF_ERR_NULL, "data is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, NNF_F32, &numel));
    if (strides == NULL)
        nnf__contiguous_strides(ndim, shape, stride);
    else if (ndim > 0)
        memcpy(stride, strides, (size_t)ndim * sizeof *stride);
    /* The last addressed element is sum((size - 1) * stride); the buffer must hold it. */
    int64_t last = 0;
    for (int i = 0; i < ndim; i++) {
        NNF_RETURN_IF(stride[i] < 0, NNF_ERR_STRIDE,
                      "strides must be >= 0, got %s for shape %s",
                      nnf__shape_str(ndim, stride, st_s), nnf__shape_str(ndim, shape, s));
        if (numel == 0)
            continue;
        NNF_RETURN_IF(nnf__muladd_ovf(shape[i] - 1, stride[i], last, &last),
                      NNF_ERR_OVERFLOW, "strides %s for shape %s address beyond int64",
                      nnf__shape_str(ndim, stride, st_s), nnf__shape_str(ndim, shape, s));
    }
    NNF_RETURN_IF(last >= INT64_MAX / (int64_t)sizeof(float), NNF_ERR_OVERFLOW,
                  "strides %s for shape %s address more bytes than fit in int64",
                  nnf__shape_str(ndim, stride, st_s), nnf__shape_str(ndim, shape, s));
    size_t nbytes = numel == 0 ? 0 : (size_t)(last + 1) * sizeof(float);
    nnf__storage *st;
    NNF_FORWARD(nnf__storage_wrap(&st, data, nbytes));
    nnf_status status = nnf__tensor_on_storage(out, NNF_F32, ndim, shape, stride, 0, st);
    if (status != NNF_OK)
        nnf__dealloc(st, sizeof *st);
    return status;
}

nnf_status nnf_arange(nnf_tensor **out, float start, float end, float step)
{
    NNF_PUBLIC("nnf_arange");
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(!isfinite(start) || !isfinite(end), NNF_ERR_INVALID,
                  "unsupported range: %g -> %g", (double)start, (double)end);
    NNF_RETURN_IF(step == 0.0f || !isfinite(step), NNF_ERR_INVALID,
                  "step must be nonzero and finite");
    NNF_RETURN_IF((step > 0 && end < start) || (step < 0 && end > start), NNF_ERR_INVALID,
                  "upper bound and larger bound inconsistent with step sign");
    /* PyTorch computes the length and every value in double, then rounds to float. */
    double len = ceil(((double)end - (double)start) / (double)step);
    NNF_RETURN_IF(len > 1e15, NNF_ERR_OVERFLOW, "%g elements is too many", len);
    NNF_FORWARD(nnf__tensor_create(&t, NNF_SHAPE((int64_t)len), NNF_F32, 0));
    float *p = nnf_tensor_data(t);
    for (int64_t i = 0; i < (int64_t)len; i++)
        p[i] = (float)((double)start + (double)i * (double)step);
    *out = t;
    return NNF_OK;
}
