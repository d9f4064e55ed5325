/* nnf/ops.h — elementwise arithmetic with broadcasting, and reductions.
 *
 * Output convention (all ops here): `nnf_tensor **out` is IN/OUT.
 *   - *out == NULL: a new contiguous tensor of the result shape is created and stored
 *     in *out (on success only).
 *   - *out != NULL: the result is written into that tensor, which must have exactly the
 *     result shape and dtype; it may be one of the inputs (in place, e.g.
 *     nnf_add(&a, a, b) is a += b). An output that partially overlaps an input is
 *     rejected with NNF_ERR_INVALID.
 * Broadcasting follows numpy/PyTorch: shapes are aligned at the trailing dim, and sizes
 * must be equal or one of them 1.
 *
 * Numerics: every op gives the same bits on every ISA and thread count. Reductions use
 * one fixed summation order (see src/ops/reduce.c) that does not depend on either.
 */
#ifndef NNF_OPS_H
#define NNF_OPS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `ndims, dims` for an inline list of dims: nnf_mean(&m, x, NNF_DIMS(0, 2, 3), 0). */
#define NNF_DIMS(...) \
    (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}
/* Reduce over every dim. */
#define NNF_ALL_DIMS 0, NULL

/* ---- Copy and fill ---- */
/* dst[...] = src broadcast to dst's shape; dst may be any (non-self-overlapping) view.
 * Converts between dtypes (bool -> 0/1, nonzero -> true), except float32 -> int64. */
nnf_status nnf_copy(nnf_tensor *dst, const nnf_tensor *src);
nnf_status nnf_fill(nnf_tensor *dst, float value);   /* int64 dst: value must be integral */

/* ---- Binary, broadcasting: out = a OP b ---- */
nnf_status nnf_add(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_sub(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_mul(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_div(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_maximum(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_minimum(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_pow(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);

/* ---- Tensor-scalar: out = a OP s ---- */
nnf_status nnf_add_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_sub_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_mul_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_div_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
/* x ** 2, 1, 0.5 and -1 are computed exactly (x*x, x, sqrt(x), 1/x) as torch does;
 * other exponents and nnf_pow go through SLEEF's powf (<= 1 ulp, C99 powf's special
 * cases), the same bits on every ISA. */
nnf_status nnf_pow_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
/* Scalar first: out = s - a, out = s / a (torch.rsub, 1 / x). */
nnf_status nnf_rsub_scalar(nnf_tensor **out, float s, const nnf_tensor *a);
nnf_status nnf_rdiv_scalar(nnf_tensor **out, float s, const nnf_tensor *a);

/* ---- Comparisons: NNF_BOOL results ---- */
nnf_status nnf_lt(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_le(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_gt(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_ge(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_eq(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
nnf_status nnf_ne(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b);
/* out = a OP s, e.g. preds > 0.5. */
nnf_status nnf_lt_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_le_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_gt_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_ge_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_eq_scalar(nnf_tensor **out, const nnf_tensor *a, float s);
nnf_status nnf_ne_scalar(nnf_tensor **out, const nnf_tensor *a, float s);

/* ---- Select: out = cond ? a : b (torch.where), the three shapes broadcast together;
 * cond is NNF_BOOL. ---- */
nnf_status nnf_where(nnf_tensor **out, const nnf_tensor *cond, const nnf_tensor *a,
                     const nnf_tensor *b);

/* ---- Fused: one pass where the formula takes several, with the same bits ---- */
/* out = (x - a) / b, the three shapes broadcast together; the difference is rounded
 * before the division, so the result is bit-identical to nnf_sub then nnf_div. This is
 * the fast form of the chapter's normalisation (x - mean) / std: x [64,3,256,256] with
 * a per-channel mean and std of shape [3,1,1] (or [1,3,1,1]) reads x and writes out
 * once (100 MB of traffic), where the two-op form moves 200 MB. */
nnf_status nnf_sub_div(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *a,
                       const nnf_tensor *b);
/* ReLU's gradient: out = x > 0 ? grad : 0, broadcast together; a NaN x passes grad
 * through (torch's threshold_backward(grad, x, 0)); grad's bits are copied, zeros are +0.
 * The chapter's relu_grad (x.g = (x > 0).float() * y.g) in one pass, where
 * gt + where (or a 0/1 mask and mul) take two to four. */
nnf_status nnf_relu_grad(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *grad);

/* ---- Unary ---- */
nnf_status nnf_neg(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_abs(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_sqrt(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_relu(nnf_tensor **out, const nnf_tensor *a);   /* clamp_min(0); NaN stays NaN */
nnf_status nnf_clamp(nnf_tensor **out, const nnf_tensor *a, float lo, float hi); /* +-INFINITY: no bound */
nnf_status nnf_exp(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_log(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_tanh(nnf_tensor **out, const nnf_tensor *a);
nnf_status nnf_sigmoid(nnf_tensor **out, const nnf_tensor *a);

/* ---- Reductions over `ndims` dims listed in `dims` (NULL: all dims), with keepdim ---- */
nnf_status nnf_sum(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);
nnf_status nnf_mean(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);
/* correction 1: unbiased (PyTorch's default), 0: biased. */
nnf_status nnf_var(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim);
nnf_status nnf_std(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim);
/* Both at once, reading `a` once (torch.std_mean). */
nnf_status nnf_std_mean(nnf_tensor **std_out, nnf_tensor **mean_out, const nnf_tensor *a,
                        int ndims, const int *dims, int correction, int keepdim);
/* Any NaN gives NaN (the canonical quiet NaN); +0 counts as above -0, so the result
 * never depends on the order elements are visited in. Reducing an empty dim is an
 * NNF_ERR_INDEX error, as in PyTorch (sum of nothing is 0, mean/var/std of nothing NaN). */
nnf_status nnf_max(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);
nnf_status nnf_min(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);
/* Index (NNF_I64) of the first maximum along `dim` (a NaN counts as the maximum; -0 and
 * +0 are equal). */
nnf_status nnf_argmax(nnf_tensor **out, const nnf_tensor *a, int dim, int keepdim);
/* Logical reductions of NNF_BOOL (or float != 0) tensors, NNF_BOOL results. */
nnf_status nnf_all(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);
nnf_status nnf_any(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim);

#ifdef __cplusplus
}
#endif
#endif
