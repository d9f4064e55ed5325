/* view and reshape: the same elements under a new shape. A view is possible exactly
 * when each run of old dims that is contiguous in memory ("chunk") maps onto whole new
 * dims; then each new dim's stride follows from its chunk's innermost stride. */
#include "src/tensor/tensor_internal.h"

#include <string.h>

#include "src/core/checked.h"
#include "src/core/error.h"

/* Resolves one -1 in shape against numel, checking the product. */
static nnf_status infer_shape(int ndim, const int64_t *shape, int64_t numel, int64_t *resolved)
{
    char s[NNF__SHAPE_STR];
    NNF_RETURN_IF(ndim < 0 || ndim > NNF_MAX_DIMS, NNF_ERR_INVALID,
                  "number of dims must be in [0, %d], got %d", NNF_MAX_DIMS, ndim);
    NNF_RETURN_IF(ndim > 0 && shape == NULL, NNF_ERR_NULL, "shape is NULL for %d dims", ndim);
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            NNF_RETURN_IF(infer >= 0, NNF_ERR_INVALID, "only one dimension can be inferred");
            infer = i;
            continue;
        }
        NNF_RETURN_IF(shape[i] < 0, NNF_ERR_INVALID, "invalid shape dimension %lld",
                      (long long)shape[i]);
        NNF_RETURN_IF(nnf__mul_ovf(known, shape[i], &known), NNF_ERR_SHAPE,
                      "shape '%s' is invalid for input of size %lld",
                      nnf__shape_str(ndim, shape, s), (long long)numel);
    }
    if (ndim > 0)
        memcpy(resolved, shape, (size_t)ndim * sizeof *shape);
    if (infer >= 0) {
        NNF_RETURN_IF(known == 0 || numel % known != 0, NNF_ERR_SHAPE,
                      "shape '%s' is invalid for input of size %lld",
                      nnf__shape_str(ndim, shape, s), (long long)numel);
        resolved[infer] = numel / known;
    } else {
        NNF_RETURN_IF(known != numel, NNF_ERR_SHAPE, "shape '%s' is invalid for input of size %lld",
                      nnf__shape_str(ndim, shape, s), (long long)numel);
    }
    return NNF_OK;
}

/* Strides for t's elements under new_shape, walking both shapes from the innermost dim
 * chunk by chunk; 0 if some new dim would straddle two chunks. */
static int view_strides(const nnf_tensor *t, int ndim, const int64_t *shape, int64_t *stride)
{
    if (nnf_tensor_numel(t) == 0 || t->ndim == 0) {
        nnf__contiguous_strides(ndim, shape, stride);
        return 1;
    }
    int vd = ndim - 1;
    int64_t base = t->stride[t->ndim - 1], chunk_numel = 1, view_numel = 1;
    for (int td = t->ndim - 1; td >= 0; td--) {
        chunk_numel *= t->shape[td];
        int chunk_ends = td == 0 || (t->shape[td - 1] != 1 &&
                                     t->stride[td - 1] != chunk_numel * base);
        if (!chunk_ends)
            continue;
        while (vd >= 0 && (view_numel < chunk_numel || shape[vd] == 1)) {
            stride[vd] = view_numel * base;
            view_numel *= shape[vd];
            vd--;
        }
        if (view_numel != chunk_numel)
            return 0;
        if (td > 0) {
            base = t->stride[td - 1];
            chunk_numel = 1;
            view_numel = 1;
        }
    }
    return vd == -1;
}

nnf_status nnf_view(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_view");
    int64_t resolved[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_FORWARD(infer_shape(ndim, shape, nnf_tensor_numel(t), resolved));
    NNF_RETURN_IF(!view_strides(t, ndim, resolved, stride), NNF_ERR_STRIDE,
                  "view size is not compatible with input tensor's size and stride (at least one "
                  "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
    return nnf__make_view(out, t, ndim, resolved, stride, t->offset);
}

nnf_status nnf_reshape(nnf_tensor **out, const nnf_tensor *t, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_reshape");
    int64_t resolved[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_FORWARD(infer_shape(ndim, shape, nnf_tensor_numel(t), resolved));
    if (view_strides(t, ndim, resolved, stride))
        return nnf__make_view(out, t, ndim, resolved, stride, t->offset);
    /* A fresh contiguous copy is ours alone, so it can take the new shape in place. */
    nnf_tensor *c;
    NNF_FORWARD(nnf_clone(&c, t));
    c->ndim = ndim;
    memcpy(c->shape, resolved, (size_t)ndim * sizeof *resolved);
    nnf__contiguous_strides(ndim, resolved, c->stride);
    *out = c;
    return NNF_OK;
}
