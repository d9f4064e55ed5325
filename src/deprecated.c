/* The old names, in their old parameter order, kept for one release (0.1.x) so that code
 * written against them still compiles (with a deprecation warning naming the replacement)
 * and computes what it did. Each forwards to its replacement; 0.2 deletes this file. */
#include "nnf/nnf.h"

#include "src/core/error.h"
#include "src/nn/conv_internal.h"

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

/* ---- nn.h ---- */

nnf_status nnf_lin(nnf_tensor **y, const nnf_tensor *x, const nnf_tensor *w, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_lin");
    return nnf_linear(y, x, w, b);
}

nnf_status nnf_lin_backward(nnf_tensor *x, const nnf_tensor *y, nnf_tensor *w, nnf_tensor *b,
                            int input_grad)
{
    NNF_PUBLIC("nnf_lin_backward");
    return nnf_linear_backward(x, y, w, b, input_grad);
}

nnf_status nnf_layer_forward(nnf_layer *layer, nnf_tensor *in, nnf_tensor **out)
{
    NNF_PUBLIC("nnf_layer_forward");
    return nnf_layer_call(layer, out, in);
}

nnf_status nnf_init_weight(nnf_tensor *w, nnf_init init, nnf_rng *rng)
{
    NNF_PUBLIC("nnf_init_weight");
    return nnf_weight_init(w, rng, init);
}

nnf_status nnf_layer_lin(nnf_layer **out, int64_t n_in, int64_t n_out, nnf_init init,
                         nnf_rng *rng)
{
    NNF_PUBLIC("nnf_layer_lin");
    return nnf_layer_linear(out, rng, n_in, n_out, init);
}

nnf_status nnf_loss_forward(nnf_loss *loss, nnf_tensor *pred, const nnf_tensor *targ,
                            float *value)
{
    NNF_PUBLIC("nnf_loss_forward");
    return nnf_loss_call(loss, value, pred, targ);
}

nnf_status nnf_model_forward(nnf_model *model, nnf_tensor *x, const nnf_tensor *targ,
                             float *loss)
{
    NNF_PUBLIC("nnf_model_forward");
    return nnf_model_call(model, loss, x, targ);
}

nnf_status nnf_model_predict(nnf_model *model, nnf_tensor *x, nnf_tensor **out)
{
    NNF_PUBLIC("nnf_model_predict");
    return nnf_model_infer(model, out, x);
}

nnf_status nnf_gradcheck_layer(nnf_layer *layer, nnf_tensor *x, int check_input,
                               const nnf_gradcheck_options *opts, nnf_gradcheck_report *report)
{
    NNF_PUBLIC("nnf_gradcheck_layer");
    return nnf_layer_gradcheck(layer, report, x, opts, check_input);
}

nnf_status nnf_gradcheck_loss(nnf_loss *loss, nnf_tensor *pred, const nnf_tensor *targ,
                              const nnf_gradcheck_options *opts, nnf_gradcheck_report *report)
{
    NNF_PUBLIC("nnf_gradcheck_loss");
    return nnf_loss_gradcheck(loss, report, pred, targ, opts);
}

nnf_status nnf_gradcheck_model(nnf_model *model, nnf_tensor *x, const nnf_tensor *targ,
                               const nnf_gradcheck_options *opts, nnf_gradcheck_report *report)
{
    NNF_PUBLIC("nnf_gradcheck_model");
    return nnf_model_gradcheck(model, report, x, targ, opts);
}

/* ---- conv.h ---- */

nnf_status nnf_conv2d(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *w,
                      const nnf_tensor *b, int stride, int padding)
{
    NNF_PUBLIC("nnf_conv2d");
    return nnf_conv2d_nchw(out, x, w, b, stride, padding);
}

nnf_status nnf_conv2d_backward(const nnf_tensor *dout, nnf_tensor *x, nnf_tensor *w,
                               nnf_tensor *b, int stride, int padding, int need_x_grad)
{
    NNF_PUBLIC("nnf_conv2d_backward");
    return nnf__conv2d_backward_dout("nnf_conv2d_backward", dout, x, w, b, stride, padding,
                                     need_x_grad);
}

nnf_status nnf_layer_conv2d(nnf_layer **out, int64_t c_in, int64_t c_out, int kernel,
                            int stride, int padding, nnf_init init, nnf_rng *rng)
{
    NNF_PUBLIC("nnf_layer_conv2d");
    return nnf_layer_conv2d_nchw(out, rng, c_in, c_out, kernel, stride, padding, init);
}
