/* Conv2d as a layer, written against the public layer-function interface (nn.h) like
 * any user's layer: state = weight, bias and the scratch tensors of nnf__conv_work, kept
 * from step to step so training allocates only when the batch shape changes. */
#include "nnf/conv.h"

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/nn/conv_internal.h"
#include "src/nn/nn_internal.h"

typedef struct {
    nnf_tensor *w, *b;   /* (C_out, C_in, k, k), (C_out) */
    int stride, pad;
    nnf__conv_work wk;
} conv_state;

static nnf_status conv_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    conv_state *s = nnf_layer_state(self);
    NNF_FORWARD(nnf__conv2d_check("Conv2d", in, s->w, s->b, s->stride, s->pad, &s->wk.g));
    if (!*out)
        NNF_FORWARD(nnf_empty(out, NNF_SHAPE(s->wk.g.n, nnf_tensor_size(s->w, 0), s->wk.g.oh,
                                              s->wk.g.ow)));
    return nnf__conv2d_forward(&s->wk, in, s->w, s->b, *out);
}

static nnf_status conv_backward(nnf_layer *self, const nnf_tensor *out_grad, nnf_tensor *in_grad)
{
    conv_state *s = nnf_layer_state(self);
    nnf_tensor *wg = NULL, *bg = NULL;
    NNF_FORWARD(nnf_tensor_grad_get(s->w, &wg));
    NNF_FORWARD(nnf_tensor_grad_get(s->b, &bg));
    return nnf__conv2d_backward(&s->wk, out_grad, s->w, s->b, wg, bg, in_grad, 1);
}

static nnf_tensor *conv_parameter(nnf_layer *self, int i)
{
    conv_state *s = nnf_layer_state(self);
    return i == 0 ? s->w : i == 1 ? s->b : NULL;
}

static void conv_destroy(void *state)
{
    conv_state *s = state;
    nnf_tensor_free(s->w);
    nnf_tensor_free(s->b);
    nnf__conv_work_free(&s->wk);
    nnf__dealloc(s, sizeof *s);
}

const nnf_layer_fn nnf__conv2d_fn = {"Conv2d", conv_forward, conv_backward, conv_parameter,
                                     conv_destroy};

nnf_status nnf_layer_conv2d_nchw(nnf_layer **out, nnf_rng *rng, int64_t c_in, int64_t c_out,
                                 int kernel, int stride, int padding, nnf_init init)
{
    NNF_PUBLIC("nnf_layer_conv2d_nchw");
    NNF_RETURN_IF(!out, NNF_ERR_NULL, "nnf_layer_conv2d_nchw: argument out is NULL");
    NNF_RETURN_IF(c_in < 1 || c_out < 1 || kernel < 1 || stride < 1 || padding < 0,
                  NNF_ERR_INVALID,
                  "nnf_layer_conv2d_nchw: need c_in, c_out, kernel, stride >= 1 and padding >= 0, "
                  "got %lld, %lld, %d, %d, %d", (long long)c_in, (long long)c_out, kernel,
                  stride, padding);
    conv_state *s = nnf__calloc(sizeof *s);
    NNF_RETURN_IF(!s, NNF_ERR_NOMEM, "nnf_layer_conv2d_nchw: out of memory");
    s->stride = stride;
    s->pad = padding;
    /* Drawn as the (C_out, C_in*k*k) matrix the forward multiplies by, so Kaiming's
     * fan-in is C_in*k*k, as PyTorch counts it for a convolution. */
    nnf_tensor *w2 = NULL;
    int64_t fan_in;
    nnf_status st = NNF_OK;
    if (nnf__mul_ovf(c_in, (int64_t)kernel * kernel, &fan_in))
        st = nnf__fail(NNF_ERR_OVERFLOW,
                       "nnf_layer_conv2d_nchw: c_in (%lld) x kernel (%d) x kernel overflows int64",
                       (long long)c_in, kernel);
    if (st == NNF_OK) st = nnf_empty(&w2, NNF_SHAPE(c_out, fan_in));
    if (st == NNF_OK) st = nnf_weight_init(w2, rng, init);
    if (st == NNF_OK) st = nnf_view(&s->w, w2, NNF_SHAPE(c_out, c_in, kernel, kernel));
    if (st == NNF_OK) st = nnf_zeros(&s->b, NNF_SHAPE(c_out));
    if (st == NNF_OK) st = nnf_layer_new(out, &nnf__conv2d_fn, s);
    nnf_tensor_free(w2);
    if (st != NNF_OK) conv_destroy(s);
    return st;
}
