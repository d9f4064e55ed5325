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

/* `ndims, dims` for an inline list of dims: nnf_mean(&m, x, NNF_DIMS(0, 2, 3), 0); in C++
 * too (see NNF_SHAPE in tensor.h). */
#ifdef __cplusplus
#define NNF_DIMS(...) (int)sizeof(nnf_cxx_count_(__VA_ARGS__)), nnf_cxx_list_<int>(__VA_ARGS__).v
#else
#define NNF_DIMS(...) \
    (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}
#endif
/* Reduce over every dim. */
#define NNF_ALL_DIMS 0, NULL

/* ---- Copy and fill ---- */
/* dst[...] = src broadcast to dst's shape; dst may be any (non-self-overlapping) view.
 * Converts between dtypes (bool -> 0/1, nonzero -> true), except float32 -> int64. */
NNF_API NNF_NODISCARD nnf_status nnf_copy(nnf_tensor *dst /* IN/OUT */, const nnf_tensor *src);
/* dst[...] = value; an int64 dst needs an integral value. */
NNF_API NNF_NODISCARD nnf_status nnf_fill(nnf_tensor *dst /* IN/OUT */, float value);

/* ---- Binary, broadcasting: out = a OP b ---- */
NNF_API NNF_NODISCARD nnf_status nnf_add(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_sub(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_mul(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_div(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_maximum(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                             const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_minimum(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                             const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_pow(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         const nnf_tensor *b);

/* ---- Tensor-scalar: out = a OP s ---- */
NNF_API NNF_NODISCARD nnf_status nnf_add_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                                float s);
NNF_API NNF_NODISCARD nnf_status nnf_sub_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                                float s);
NNF_API NNF_NODISCARD nnf_status nnf_mul_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                                float s);
NNF_API NNF_NODISCARD nnf_status nnf_div_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                                float s);
/* x ** 2, 1, 0.5 and -1 are computed exactly (x*x, x, sqrt(x), 1/x) as torch does;
 * other exponents and nnf_pow go through SLEEF's powf (<= 1 ulp, C99 powf's special
 * cases), the same bits on every ISA. */
NNF_API NNF_NODISCARD nnf_status nnf_pow_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                                float s);
/* Reversed: out = s - a (torch.rsub(a, s)), out = s / a (s / x in Python). */
NNF_API NNF_NODISCARD nnf_status nnf_rsub(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                          float s);
NNF_API NNF_NODISCARD nnf_status nnf_rdiv(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                          float s);

/* ---- Comparisons: NNF_BOOL results ---- */
NNF_API NNF_NODISCARD nnf_status nnf_lt(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_le(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_gt(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_ge(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_eq(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
NNF_API NNF_NODISCARD nnf_status nnf_ne(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                        const nnf_tensor *b);
/* out = a OP s, e.g. preds > 0.5. */
NNF_API NNF_NODISCARD nnf_status nnf_lt_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);
NNF_API NNF_NODISCARD nnf_status nnf_le_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);
NNF_API NNF_NODISCARD nnf_status nnf_gt_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);
NNF_API NNF_NODISCARD nnf_status nnf_ge_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);
NNF_API NNF_NODISCARD nnf_status nnf_eq_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);
NNF_API NNF_NODISCARD nnf_status nnf_ne_scalar(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                               float s);

/* ---- Select: out = cond ? a : b (torch.where), the three shapes broadcast together;
 * cond is NNF_BOOL. ---- */
NNF_API NNF_NODISCARD nnf_status nnf_where(nnf_tensor **out /* IN/OUT */, const nnf_tensor *cond,
                                           const nnf_tensor *a, const nnf_tensor *b);

/* ---- Fused: one pass where the formula takes several, with the same bits ---- */
/* out = (x - a) / b, the three shapes broadcast together; the difference is rounded
 * before the division, so the result is bit-identical to nnf_sub then nnf_div. This is
 * the fast form of the chapter's normalisation (x - mean) / std: x [64,3,256,256] with
 * a per-channel mean and std of shape [3,1,1] (or [1,3,1,1]) reads x and writes out
 * once (100 MB of traffic), where the two-op form moves 200 MB. */
NNF_API NNF_NODISCARD nnf_status nnf_sub_div(nnf_tensor **out /* IN/OUT */, const nnf_tensor *x,
                                             const nnf_tensor *a, const nnf_tensor *b);
/* out = x - a * s, x and a broadcast together; the product is rounded before the
 * subtraction (never an FMA), so the result is bit-identical to nnf_mul_scalar then
 * nnf_sub. SGD's update p - lr * g (nnf_sgd_step) in one pass over p and g. */
NNF_API NNF_NODISCARD nnf_status nnf_sub_scaled(nnf_tensor **out /* IN/OUT */,
                                                const nnf_tensor *x, const nnf_tensor *a,
                                                float s);
/* torch's threshold_backward(grad, x, 0): out = x <= 0 ? +0 : grad, broadcast together
 * (so a NaN x passes grad through; grad's bits are copied). One pass where gt + where (or
 * a 0/1 mask and mul) take two to four. ReLU's backward (nnf_relu_backward in nn.h, the
 * chapter's relu_grad) is built on it; this is the primitive, writing rather than adding. */
NNF_API NNF_NODISCARD nnf_status nnf_threshold_backward(nnf_tensor **out /* IN/OUT */,
                                                        const nnf_tensor *x,
                                                        const nnf_tensor *grad);

/* ---- Unary ---- */
NNF_API NNF_NODISCARD nnf_status nnf_neg(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_abs(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_sqrt(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
/* clamp_min(0); NaN stays NaN. */
NNF_API NNF_NODISCARD nnf_status nnf_relu(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_clamp(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                           float lo, float hi); /* +-INFINITY: no bound */
NNF_API NNF_NODISCARD nnf_status nnf_exp(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_log(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_tanh(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);
NNF_API NNF_NODISCARD nnf_status nnf_sigmoid(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a);

/* ---- Reductions over `ndims` dims listed in `dims` (NULL: all dims), with keepdim ---- */
NNF_API NNF_NODISCARD nnf_status nnf_sum(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int keepdim);
NNF_API NNF_NODISCARD nnf_status nnf_mean(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                          int ndims, const int *dims, int keepdim);
/* correction 1: unbiased (PyTorch's default), 0: biased. */
NNF_API NNF_NODISCARD nnf_status nnf_var(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int correction, int keepdim);
NNF_API NNF_NODISCARD nnf_status nnf_std(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int correction, int keepdim);
/* Both at once, reading `a` once (torch.std_mean). */
NNF_API NNF_NODISCARD nnf_status nnf_std_mean(nnf_tensor **std_out /* IN/OUT */,
                                              nnf_tensor **mean_out /* IN/OUT */,
                                              const nnf_tensor *a, int ndims, const int *dims,
                                              int correction, int keepdim);
/* Any NaN gives NaN (the canonical quiet NaN); +0 counts as above -0, so the result
 * never depends on the order elements are visited in. Reducing an empty dim is an
 * NNF_ERR_INDEX error, as in PyTorch (sum of nothing is 0, mean/var/std of nothing NaN). */
NNF_API NNF_NODISCARD nnf_status nnf_max(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int keepdim);
NNF_API NNF_NODISCARD nnf_status nnf_min(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int keepdim);
/* Index (NNF_I64) of the first maximum along `dim` (a NaN counts as the maximum; -0 and
 * +0 are equal). */
NNF_API NNF_NODISCARD nnf_status nnf_argmax(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                            int dim, int keepdim);
/* Logical reductions of NNF_BOOL (or float != 0) tensors, NNF_BOOL results. */
NNF_API NNF_NODISCARD nnf_status nnf_all(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int keepdim);
NNF_API NNF_NODISCARD nnf_status nnf_any(nnf_tensor **out /* IN/OUT */, const nnf_tensor *a,
                                         int ndims, const int *dims, int keepdim);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
NNF_API NNF_DEPRECATED("use nnf_rsub(out, a, s)") NNF_NODISCARD
nnf_status nnf_rsub_scalar(nnf_tensor **out /* IN/OUT */, float s, const nnf_tensor *a);
NNF_API NNF_DEPRECATED("use nnf_rdiv(out, a, s)") NNF_NODISCARD
nnf_status nnf_rdiv_scalar(nnf_tensor **out /* IN/OUT */, float s, const nnf_tensor *a);
NNF_API NNF_DEPRECATED("use nnf_threshold_backward(out, x, grad)") NNF_NODISCARD
nnf_status nnf_relu_grad(nnf_tensor **out /* IN/OUT */, const nnf_tensor *x,
                         const nnf_tensor *grad);

#ifdef __cplusplus
}
#endif
#endif
