/* nnf/conv.h — 2-D convolution built the way the chapter's "further research" asks:
 * unfold the image into columns, then one matrix product.
 *
 * For an input x of shape (N, C, H, W), a kernel kh x kw, a stride and a zero padding
 * on every side, the output is OH x OW with
 *     OH = (H + 2 * padding - kh) / stride + 1,   OW likewise.
 * unfold(x) is (N, C*kh*kw, OH*OW) — PyTorch's F.unfold layout — and a convolution
 * with weights w (C_out, C, kh, kw) is w.view(C_out, C*kh*kw) @ unfold(x), viewed as
 * (N, C_out, OH, OW). Its backward pass runs the same product transposed and folds the
 * column gradients back onto the image (fold: overlapping windows add up).
 *
 * Output tensors follow the IN/OUT convention of nnf/ops.h (*out NULL: created).
 */
#ifndef NNF_CONV_H
#define NNF_CONV_H

#include "nn.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cols = unfold(x): x is (N, C, H, W) float32, any strides; cols is (N, C*kh*kw, OH*OW)
 * with cols[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*stride - padding + i,
 * ow*stride - padding + j], or 0 where that falls in the padding.
 * Errors: NNF_ERR_SHAPE (x not 4-d, kernel larger than the padded input, an existing
 * *out of the wrong shape or not contiguous), NNF_ERR_INVALID (kernel < 1, stride < 1,
 * padding < 0, *out sharing x's storage), NNF_ERR_DTYPE, NNF_ERR_NULL, NNF_ERR_NOMEM. */
NNF_API NNF_NODISCARD nnf_status nnf_unfold(nnf_tensor **out /* IN/OUT */, const nnf_tensor *x,
                                            int kh, int kw, int stride, int padding);

/* The adjoint of unfold (PyTorch's F.fold): out is (N, C, h, w) with every column entry
 * added to the pixel it was taken from. cols is (N, C*kh*kw, L) where L must be the
 * number of positions a kh x kw window takes over the padded h x w image.
 * fold(unfold(x)) multiplies each pixel by the number of windows that cover it. */
NNF_API NNF_NODISCARD nnf_status nnf_fold(nnf_tensor **out /* IN/OUT */, const nnf_tensor *cols,
                                          int64_t h, int64_t w, int kh, int kw, int stride,
                                          int padding);

/* out = conv2d(x, w, b): x (N, C, H, W), w (C_out, C, kh, kw), b (C_out) or NULL;
 * out is (N, C_out, OH, OW). Errors as nnf_unfold, plus NNF_ERR_SHAPE when w's channel
 * count is not x's or b is not (C_out). */
NNF_API NNF_NODISCARD nnf_status nnf_conv2d_nchw(nnf_tensor **out /* IN/OUT */, const nnf_tensor *x,
                                                 const nnf_tensor *w, const nnf_tensor *b,
                                                 int stride, int padding);

/* The backward pass of y = nnf_conv2d_nchw(x, w, b), nn.h's one backward pattern: reads
 * dloss/dy from y's gradient (nnf_tensor_grad, shape (N, C_out, OH, OW)) and ADDS to the
 * gradients of w and b (b may be NULL) always, and of x if input_grad (the data of a
 * first layer needs none; skipping it saves the transposed product and the fold).
 * NNF_ERR_STATE if y has no gradient. */
NNF_API NNF_NODISCARD nnf_status nnf_conv2d_nchw_backward(nnf_tensor *x /* IN/OUT */,
                                                          const nnf_tensor *y,
                                                          nnf_tensor *w /* IN/OUT */,
                                                          nnf_tensor *b /* IN/OUT */,
                                                          int stride, int padding,
                                                          int input_grad);

/* ---- As layers (nn.h's layer-function interface) ---- */

/* Conv2d(c_in, c_out, kernel, stride, padding), square kernel, weight (c_out, c_in,
 * kernel, kernel) drawn with `init` over a fan-in of c_in*kernel*kernel from `rng` (NULL:
 * the default generator), bias zero. Parameters: 0 the weight, 1 the bias. The layer
 * keeps its unfolded input and other scratch between steps: no allocation per step
 * while the batch shape stays. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_conv2d_nchw(nnf_layer **out /* OUT */,
                                                       nnf_rng *rng /* IN/OUT */, int64_t c_in,
                                                       int64_t c_out, int kernel, int stride,
                                                       int padding, nnf_init init);

/* Flatten: (N, d1, d2, ...) -> (N, d1*d2*...), between convolutions and a Lin layer.
 * No parameters. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_flatten(nnf_layer **out /* OUT */);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
NNF_API NNF_DEPRECATED("use nnf_conv2d_nchw") NNF_NODISCARD
nnf_status nnf_conv2d(nnf_tensor **out /* IN/OUT */, const nnf_tensor *x, const nnf_tensor *w,
                      const nnf_tensor *b, int stride, int padding);
/* Takes dloss/dout explicitly, where nnf_conv2d_nchw_backward reads it from y's gradient. */
NNF_API NNF_DEPRECATED("use nnf_conv2d_nchw_backward(x, y, w, b, stride, padding, input_grad)")
NNF_NODISCARD nnf_status nnf_conv2d_backward(const nnf_tensor *dout, nnf_tensor *x /* IN/OUT */,
                                             nnf_tensor *w /* IN/OUT */,
                                             nnf_tensor *b /* IN/OUT */, int stride,
                                             int padding, int need_x_grad);
NNF_API NNF_DEPRECATED("use nnf_layer_conv2d_nchw(out, rng, c_in, c_out, kernel, stride, "
                       "padding, init)") NNF_NODISCARD
nnf_status nnf_layer_conv2d(nnf_layer **out /* OUT */, int64_t c_in, int64_t c_out, int kernel,
                            int stride, int padding, nnf_init init, nnf_rng *rng /* IN/OUT */);

#ifdef __cplusplus
}
#endif
#endif
