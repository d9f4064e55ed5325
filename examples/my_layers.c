/* MyRelu and MyLinear: see my_layers.h. Each backward OVERWRITES the input's gradient
 * (in_grad, NULL when the input needs none) and ADDS to the parameters' gradients, as
 * the interface asks; nnf_layer_backward does the bookkeeping around it. */
#include "my_layers.h"

#include <stdlib.h>

/* ---- MyRelu ---- */

static nnf_status my_relu_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    nnf_status st = nnf_layer_save_for_backward(self, 1, &in);   /* ctx.save_for_backward(i) */
    return st != NNF_OK ? st : nnf_relu(out, in);                 /* i.clamp_min(0.) */
}

/* in_grad = grad_output * (i > 0).float() */
static nnf_status my_relu_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                   nnf_tensor *in_grad)
{
    if (in_grad == NULL) return NNF_OK;
    const nnf_tensor *i = nnf_layer_saved(self, 0);
    nnf_tensor *zero = NULL, *positive = NULL;
    nnf_status st = nnf_zeros(&zero, 0, NULL);
    if (st == NNF_OK) st = nnf_gt(&positive, i, zero);       /* bool (i > 0) */
    if (st == NNF_OK) st = nnf_copy(in_grad, positive);       /* .float(), into in_grad */
    if (st == NNF_OK) st = nnf_mul(&in_grad, in_grad, out_grad);
    nnf_tensor_free(zero);
    nnf_tensor_free(positive);
    return st;
}

static const nnf_layer_fn my_relu_fn = {"MyRelu", my_relu_forward, my_relu_backward, NULL, NULL};

nnf_status my_relu(nnf_layer **out)
{
    return nnf_layer_new(out, &my_relu_fn, NULL);
}

/* ---- MyLinear ---- */

typedef struct {
    nnf_tensor *weight;   /* n_out x n_in */
    nnf_tensor *bias;     /* n_out */
    nnf_tensor *weight_t; /* a view: weight.t() */
} linear_state;

static nnf_status my_linear_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    linear_state *s = nnf_layer_state(self);
    nnf_status st = nnf_matmul(out, in, s->weight_t);            /* x @ weight.t() */
    return st != NNF_OK ? st : nnf_add(out, *out, s->bias);      /* + bias */
}

/* in.g = out.g @ weight;  weight.g += out.g.t() @ in;  bias.g += out.g.sum(0) */
static nnf_status my_linear_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                     nnf_tensor *in_grad)
{
    linear_state *s = nnf_layer_state(self);
    const nnf_tensor *in = nnf_layer_input(self);
    nnf_tensor *wg = NULL, *bg = NULL, *og_t = NULL, *bsum = NULL;
    nnf_status st = nnf_tensor_grad_get(s->weight, &wg);
    if (st == NNF_OK) st = nnf_tensor_grad_get(s->bias, &bg);
    if (st == NNF_OK) st = nnf_t(&og_t, out_grad);
    if (st == NNF_OK) st = nnf_gemm(wg, og_t, in, 1.0f, 1.0f);
    if (st == NNF_OK) st = nnf_sum(&bsum, out_grad, NNF_DIMS(0), 0);
    if (st == NNF_OK) st = nnf_add(&bg, bg, bsum);
    if (st == NNF_OK && in_grad) st = nnf_matmul(&in_grad, out_grad, s->weight);
    nnf_tensor_free(og_t);
    nnf_tensor_free(bsum);
    return st;
}

static nnf_tensor *my_linear_parameter(nnf_layer *self, int i)
{
    linear_state *s = nnf_layer_state(self);
    return i == 0 ? s->weight : i == 1 ? s->bias : NULL;
}

static void my_linear_destroy(void *state)
{
    linear_state *s = state;
    nnf_tensor_free(s->weight);
    nnf_tensor_free(s->bias);
    nnf_tensor_free(s->weight_t);
    free(s);
}

static const nnf_layer_fn my_linear_fn = {"MyLinear", my_linear_forward, my_linear_backward,
                                          my_linear_parameter, my_linear_destroy};

nnf_status my_linear(nnf_layer **out, int64_t n_in, int64_t n_out, nnf_rng *rng)
{
    linear_state *s = calloc(1, sizeof *s);
    if (s == NULL) return NNF_ERR_NOMEM;
    /* nn.Parameter(torch.randn(n_out, n_in) * sqrt(2 / n_in)), nn.Parameter(torch.zeros(n_out)) */
    nnf_status st = nnf_empty(&s->weight, NNF_SHAPE(n_out, n_in));
    if (st == NNF_OK) st = nnf_weight_init(s->weight, rng, NNF_INIT_KAIMING);
    if (st == NNF_OK) st = nnf_zeros(&s->bias, NNF_SHAPE(n_out));
    if (st == NNF_OK) st = nnf_t(&s->weight_t, s->weight);
    if (st == NNF_OK) st = nnf_layer_new(out, &my_linear_fn, s);
    if (st != NNF_OK) my_linear_destroy(s);
    return st;
}
