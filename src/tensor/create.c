/* New tensors with their own storage (and nnf_wrap, onto the caller's). */
#include "src/tensor/tensor_internal.h"

#include <math.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/error.h"

nnf_status nnf_empty_dtype(nnf_tensor **out, nnf_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t numel;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_empty: out is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, dtype, &numel));
    return nnf__tensor_new(out, dtype, ndim, shape, 0);
}

nnf_status nnf_empty(nnf_tensor **out, int ndim, const int64_t *shape)
{
    return nnf_empty_dtype(out, NNF_F32, ndim, shape);
}

nnf_status nnf_zeros(nnf_tensor **out, int ndim, const int64_t *shape)
{
    int64_t numel;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_zeros: out is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, NNF_F32, &numel));
    return nnf__tensor_new(out, NNF_F32, ndim, shape, 1);
}

nnf_status nnf_full(nnf_tensor **out, int ndim, const int64_t *shape, float value)
{
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_full: out is NULL");
    NNF_FORWARD(nnf_empty(&t, ndim, shape));
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
    return nnf_full(out, ndim, shape, 1.0f);
}

nnf_status nnf_empty_like(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "nnf_empty_like: t is NULL");
    return nnf_empty_dtype(out, t->dtype, t->ndim, t->shape);
}

nnf_status nnf_zeros_like(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_zeros_like: out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "nnf_zeros_like: t is NULL");
    return nnf__tensor_new(out, t->dtype, t->ndim, t->shape, 1);
}

nnf_status nnf_from_data(nnf_tensor **out, const float *data, int ndim, const int64_t *shape)
{
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_from_data: out is NULL");
    NNF_RETURN_IF(data == NULL, NNF_ERR_NULL, "nnf_from_data: data is NULL");
    NNF_FORWARD(nnf_empty(&t, ndim, shape));
    memcpy(nnf_tensor_data(t), data, (size_t)nnf_tensor_numel(t) * sizeof(float));
    *out = t;
    return NNF_OK;
}

nnf_status nnf_wrap(nnf_tensor **out, float *data, int ndim, const int64_t *shape,
                    const int64_t *strides)
{
    char s[NNF__SHAPE_STR], st_s[NNF__SHAPE_STR];
    int64_t numel, stride[NNF_MAX_DIMS];
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_wrap: out is NULL");
    NNF_RETURN_IF(data == NULL, NNF_ERR_NULL, "nnf_wrap: data is NULL");
    NNF_FORWARD(nnf__check_shape(ndim, shape, NNF_F32, &numel));
    if (strides == NULL)
        nnf__contiguous_strides(ndim, shape, stride);
    else if (ndim > 0)
        memcpy(stride, strides, (size_t)ndim * sizeof *stride);
    /* The last addressed element is sum((size - 1) * stride); the buffer must hold it. */
    int64_t last = 0;
    for (int i = 0; i < ndim; i++) {
        int64_t step;
        NNF_RETURN_IF(stride[i] < 0, NNF_ERR_STRIDE,
                      "nnf_wrap: strides must be >= 0, got %s for shape %s",
                      nnf__shape_str(ndim, stride, st_s), nnf__shape_str(ndim, shape, s));
        if (numel == 0)
            continue;
        NNF_RETURN_IF(__builtin_mul_overflow(shape[i] - 1, stride[i], &step) ||
                          __builtin_add_overflow(last, step, &last),
                      NNF_ERR_OVERFLOW, "nnf_wrap: strides %s for shape %s address beyond int64",
                      nnf__shape_str(ndim, stride, st_s), nnf__shape_str(ndim, shape, s));
    }
    NNF_RETURN_IF(last >= INT64_MAX / (int64_t)sizeof(float), NNF_ERR_OVERFLOW,
                  "nnf_wrap: strides %s for shape %s address more bytes than fit in int64",
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
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_arange: out is NULL");
    NNF_RETURN_IF(!isfinite(start) || !isfinite(end), NNF_ERR_INVALID,
                  "unsupported range: %g -> %g", (double)start, (double)end);
    NNF_RETURN_IF(step == 0.0f || !isfinite(step), NNF_ERR_INVALID,
                  "step must be nonzero and finite");
    NNF_RETURN_IF((step > 0 && end < start) || (step < 0 && end > start), NNF_ERR_INVALID,
                  "upper bound and larger bound inconsistent with step sign");
    /* PyTorch computes the length and every value in double, then rounds to float. */
    double len = ceil(((double)end - (double)start) / (double)step);
    NNF_RETURN_IF(len > 1e15, NNF_ERR_OVERFLOW, "nnf_arange: %g elements is too many", len);
    NNF_FORWARD(nnf_empty(&t, NNF_SHAPE((int64_t)len)));
    float *p = nnf_tensor_data(t);
    for (int64_t i = 0; i < (int64_t)len; i++)
        p[i] = (float)((double)start + (double)i * (double)step);
    *out = t;
    return NNF_OK;
}
