/* contiguous() and clone(): the tensor layer's copies, done by nnf_copy (the elementwise
 * op, on the active ISA's kernels for float data); and the copy out into a plain buffer. */
#include "src/tensor/tensor_internal.h"

#include <string.h>

#include "nnf/ops.h"
#include "src/core/error.h"

nnf_status nnf_clone(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_clone");
    nnf_tensor *c;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    NNF_FORWARD(nnf__tensor_new(&c, t->dtype, t->ndim, t->shape, 0));
    nnf_status status = nnf_copy(c, t);
    if (status != NNF_OK) {
        nnf_tensor_free(c);
        return status;
    }
    *out = c;
    return NNF_OK;
}

nnf_status nnf_contiguous(nnf_tensor **out, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_contiguous");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    if (nnf_tensor_is_contiguous(t))
        return nnf__make_view(out, t, t->ndim, t->shape, t->stride, t->offset);
    return nnf_clone(out, t);
}

/* n elements of es bytes, stride_bytes apart in src, packed into dst. */
static void gather(char *dst, const char *src, int64_t n, int64_t stride_bytes, size_t es)
{
    for (int64_t j = 0; j < n; j++, dst += es, src += stride_bytes)
        switch (es) {
        case 8: memcpy(dst, src, 8); break;
        case 4: memcpy(dst, src, 4); break;
        default: *dst = *src; break;
        }
}

nnf_status nnf_copy_to_buffer(void *dst, size_t dst_nbytes, const nnf_tensor *t)
{
    NNF_PUBLIC("nnf_copy_to_buffer");
    char s[NNF__SHAPE_STR];
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "t is NULL");
    size_t es = nnf__dtype_size(t->dtype), nbytes = (size_t)nnf_tensor_numel(t) * es;
    NNF_RETURN_IF(dst == NULL && nbytes > 0, NNF_ERR_NULL, "dst is NULL");
    NNF_RETURN_IF(dst_nbytes < nbytes, NNF_ERR_INVALID,
                  "the buffer holds %zu bytes but a tensor of shape %s needs %zu (%zu bytes "
                  "per element)", dst_nbytes, nnf__shape_str(t->ndim, t->shape, s), nbytes, es);
    if (nbytes == 0)
        return NNF_OK;
    if (nnf_tensor_is_contiguous(t)) {
        memcpy(dst, nnf__tensor_bytes(t), nbytes);
        return NNF_OK;
    }
    /* Row by row along the last dim; idx walks the other dims like an odometer. */
    int last = t->ndim - 1;
    int64_t idx[NNF_MAX_DIMS] = {0}, row = t->shape[last];
    char *d = dst;
    for (int k = last - 1;; k = last - 1) {
        int64_t off = 0;
        for (int i = 0; i < last; i++)
            off += idx[i] * t->stride[i];
        gather(d, nnf__tensor_bytes(t) + off * (int64_t)es, row, t->stride[last] * (int64_t)es,
               es);
        d += (size_t)row * es;
        while (k >= 0 && ++idx[k] == t->shape[k])
            idx[k--] = 0;
        if (k < 0)
            return NNF_OK;
    }
}
