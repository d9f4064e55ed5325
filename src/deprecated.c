/* The old names, in their old parameter order, kept for one release (0.1.x) so that code
 * written against them still compiles (with a deprecation warning naming the replacement)
 * and computes what it did. Each forwards to its replacement; 0.2 deletes this file. */
#include "nnf/nnf.h"

#include "src/core/error.h"

/* ---- tensor.h ---- */

nnf_status nnf_empty_dtype(nnf_tensor **out, nnf_dtype dtype, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_empty_dtype");
    return nnf_empty_typed(out, ndim, shape, dtype);
}

nnf_status nnf_item(const nnf_tensor *t, float *value)
{
    NNF_PUBLIC("nnf_item");
    return nnf_value(value, t);
}

nnf_status nnf_get(const nnf_tensor *t, const int64_t *index, float *value)
{
    NNF_PUBLIC("nnf_get");
    return nnf_value_at(value, t, index);
}

nnf_status nnf_snprint(char *buf, size_t size, const nnf_tensor *t, size_t *needed)
{
    NNF_PUBLIC("nnf_snprint");
    return nnf_print_to_buffer(buf, size, needed, t);
}

/* ---- ops.h ---- */

nnf_status nnf_rsub_scalar(nnf_tensor **out, float s, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_rsub_scalar");
    return nnf_rsub(out, a, s);
}

nnf_status nnf_rdiv_scalar(nnf_tensor **out, float s, const nnf_tensor *a)
{
    NNF_PUBLIC("nnf_rdiv_scalar");
    return nnf_rdiv(out, a, s);
}

nnf_status nnf_relu_grad(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *grad)
{
    NNF_PUBLIC("nnf_relu_grad");
    return nnf_threshold_backward(out, x, grad);
}

/* ---- linalg.h ---- */

nnf_status nnf_addmm(nnf_tensor *c, float beta, float alpha, const nnf_tensor *a,
                     const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_addmm");
    return nnf_gemm(c, a, b, alpha, beta);
}

/* ---- data.h ---- */

nnf_status nnf_loader_batch(nnf_loader *loader, int64_t i, nnf_tensor **xb, nnf_tensor **yb)
{
    NNF_PUBLIC("nnf_loader_batch");
    return nnf_loader_get_batch(loader, xb, yb, i);
}
