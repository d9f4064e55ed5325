/* The sequential model: the chapter's Model.
 *
 *     def __call__(self, x, targ):
 *         for l in self.layers: x = l(x)
 *         return self.loss(x, targ)
 *     def backward(self):
 *         self.loss.backward()
 *         for l in reversed(self.layers): l.backward()
 *
 * The model knows what a lone layer cannot: each activation feeds exactly one layer, so
 * backward overwrites activation gradients instead of adding to last step's (no zeroing
 * pass); the first layer with parameters needs no input gradient, and the layers in
 * front of it no backward at all (nothing upstream would use it). */
#include "src/nn/nn_internal.h"

#include <limits.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/tensor/tensor_internal.h"

/* Every layer index is below it: no layer needs an input gradient. */
#define NO_PARAMS_YET INT_MAX

struct nnf_model {
    nnf_loss *loss;                     /* owned, may be NULL */
    nnf_layer **layers;                 /* owned */
    int nlayers, layers_cap;
    nnf_tensor **params;                /* borrowed from the layers */
    int nparams, params_cap;
    int first_param_layer;              /* index of the first layer with parameters */
    int lin_params_only;                /* every layer with parameters is a Lin */
    nnf__grad_txn txn;                  /* over params, for backward */
    int ready;                          /* forward with a loss ran; backward allowed */
};

nnf_status nnf_model_new(nnf_model **out, nnf_loss *loss)
{
    NNF_PUBLIC("nnf_model_new");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_model_new: out is NULL");
    nnf_model *m = nnf__calloc(sizeof *m);
    NNF_RETURN_IF(m == NULL, NNF_ERR_NOMEM, "nnf_model_new: out of memory");
    m->loss = loss;
    m->first_param_layer = NO_PARAMS_YET;
    m->lin_params_only = 1;
    *out = m;
    return NNF_OK;
}

nnf_loss *nnf__model_loss(nnf_model *model)
{
    return model->loss;
}

void nnf_model_free(nnf_model *model)
{
    if (model == NULL)
        return;
    for (int i = 0; i < model->nlayers; i++)
        nnf_layer_free(model->layers[i]);
    nnf__dealloc(model->layers, (size_t)model->layers_cap * sizeof *model->layers);
    nnf__dealloc(model->params, (size_t)model->params_cap * sizeof *model->params);
    nnf__grad_txn_free(&model->txn);
    nnf_loss_free(model->loss);
    nnf__dealloc(model, sizeof *model);
}

/* *array (cap elements of `size` bytes) itself if it has room for `need`, else a copy
 * in new memory with room, and its capacity in *new_cap. 0 if out of memory. */
static int with_room(void **array, int cap, int need, size_t size, int *new_cap)
{
    *new_cap = cap;
    if (need <= cap)
        return 1;
    int n = cap > 0 ? cap : 4;
    while (n < need)
        n *= 2;
    void *fresh = nnf__alloc((size_t)n * size);
    if (fresh == NULL)
        return 0;
    if (cap > 0)
        memcpy(fresh, *array, (size_t)cap * size);
    *array = fresh;
    *new_cap = n;
    return 1;
}

nnf_status nnf_model_add(nnf_model *model, nnf_layer *layer)
{
    NNF_PUBLIC("nnf_model_add");
    NNF_RETURN_IF(model == NULL || layer == NULL, NNF_ERR_NULL,
                  "nnf_model_add: model and layer must not be NULL");
    for (int i = 0; i < model->nlayers; i++)
        NNF_RETURN_IF(model->layers[i] == layer, NNF_ERR_INVALID,
                      "nnf_model_add: this %s layer is already layer %d of the model "
                      "(a layer keeps one input and one output, so it cannot run twice)",
                      nnf_layer_name(layer), i);
    int np = 0;
    while (nnf_layer_parameter(layer, np) != NULL)
        np++;
    /* Make room in both arrays before changing anything: a failure leaves the model as
     * it was. */
    int lcap, pcap;
    void *layers = model->layers, *params = model->params;
    int ok = with_room(&layers, model->layers_cap, model->nlayers + 1, sizeof *model->layers,
                       &lcap);
    ok = ok && with_room(&params, model->params_cap, model->nparams + np,
                         sizeof *model->params, &pcap);
    if (!ok) {
        if (layers != model->layers)
            nnf__dealloc(layers, (size_t)lcap * sizeof *model->layers);
        return nnf__fail(NNF_ERR_NOMEM, "nnf_model_add: out of memory");
    }
    if (layers != model->layers) {
        nnf__dealloc(model->layers, (size_t)model->layers_cap * sizeof *model->layers);
        model->layers = layers;
        model->layers_cap = lcap;
    }
    if (params != model->params) {
        nnf__dealloc(model->params, (size_t)model->params_cap * sizeof *model->params);
        model->params = params;
        model->params_cap = pcap;
    }
    for (int i = 0; i < np; i++)
        model->params[model->nparams++] = nnf_layer_parameter(layer, i);
    if (np > 0 && model->first_param_layer == NO_PARAMS_YET)
        model->first_param_layer = model->nlayers;
    if (np > 0 && layer->fn != &nnf__lin_fn)
        model->lin_params_only = 0;
    model->layers[model->nlayers++] = layer;
    model->ready = 0;
    return NNF_OK;
}

/* 1 if layer i is a built-in Relu right behind a Lin: the model runs the pair as
 * nnf_linear_relu, the Lin applying the ReLU to its output (the model's own activation,
 * which nothing else reads) and the Relu's output a view of it, instead of a second
 * buffer. The layers themselves are not changed: called on their own they do what they
 * always did. */
static int relu_behind_lin(const nnf_model *model, int i)
{
    return i > 0 && model->layers[i]->fn == &nnf__relu_fn &&
           model->layers[i - 1]->fn == &nnf__lin_fn;
}

/* The table whose forward the model runs layer i with. */
static const nnf_layer_fn *run_fn(const nnf_model *model, int i)
{
    if (relu_behind_lin(model, i))
        return &nnf__relu_in_place_fn;
    if (i + 1 < model->nlayers && relu_behind_lin(model, i + 1))
        return &nnf__lin_relu_fn;
    return model->layers[i]->fn;
}

static nnf_status run_layers(nnf_model *model, nnf_tensor *x, nnf_tensor **out)
{
    NNF_RETURN_IF(model->nlayers == 0, NNF_ERR_STATE, "the model has no layers");
    nnf_tensor *cur = x;
    for (int i = 0; i < model->nlayers; i++) {
        nnf_status st =
            nnf__layer_forward_as(model->layers[i], run_fn(model, i), cur, &cur, 0);
        if (st != NNF_OK)
            return nnf__prefix_error(st, "layer %d: ", i);
    }
    *out = cur;
    return NNF_OK;
}

nnf_status nnf_model_call(nnf_model *model, float *loss, nnf_tensor *x, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_model_call");
    NNF_RETURN_IF(model == NULL || x == NULL || targ == NULL || loss == NULL, NNF_ERR_NULL,
                  "nnf_model_call: model, x, targ and loss must not be NULL");
    NNF_RETURN_IF(model->loss == NULL, NNF_ERR_STATE,
                  "nnf_model_call: the model has no loss (use nnf_model_infer)");
    model->ready = 0;
    nnf_tensor *pred = NULL;
    NNF_FORWARD(run_layers(model, x, &pred));
    nnf_status st = nnf_loss_call(model->loss, loss, pred, targ);
    if (st != NNF_OK)
        return nnf__prefix_error(st, "loss (%s): ", nnf_loss_name(model->loss));
    model->ready = 1;
    return NNF_OK;
}

nnf_status nnf_model_infer(nnf_model *model, nnf_tensor **out, nnf_tensor *x)
{
    NNF_PUBLIC("nnf_model_infer");
    NNF_RETURN_IF(model == NULL || x == NULL || out == NULL, NNF_ERR_NULL,
                  "nnf_model_infer: model, x and out must not be NULL");
    model->ready = 0;
    return run_layers(model, x, out);
}

static nnf_tensor *parameter_at(void *model, int i)
{
    return ((nnf_model *)model)->params[i];
}

/* The loss's and the layers' backward, with the parameters' gradients redirected. */
static nnf_status backward_all(nnf_model *model)
{
    nnf_status st = nnf__loss_backward(model->loss, 1);
    if (st != NNF_OK)
        return nnf__prefix_error(st, "loss (%s): ", nnf_loss_name(model->loss));
    /* Layers in front of the first one with parameters have nothing to compute. */
    for (int i = model->nlayers - 1; i >= 0 && i >= model->first_param_layer; i--) {
        st = nnf__layer_backward(model->layers[i], i > model->first_param_layer, 1);
        if (st != NNF_OK)
            return nnf__prefix_error(st, "layer %d: ", i);
    }
    return NNF_OK;
}

nnf_status nnf_model_infer_into(nnf_model *model, nnf_tensor **out, const nnf_tensor *x)
{
    NNF_PUBLIC("nnf_model_infer_into");
    NNF_RETURN_IF(model == NULL || x == NULL || out == NULL, NNF_ERR_NULL,
                  "nnf_model_infer_into: model, x and out must not be NULL");
    NNF_RETURN_IF(model->nlayers == 0, NNF_ERR_STATE,
                  "nnf_model_infer_into: the model has no layers");
    /* Each layer's forward into a tensor of this call's own, never the layer's kept
     * output, so that calls on other threads do not meet. */
    nnf_tensor *cur = NULL;
    nnf_status st = NNF_OK;
    for (int i = 0; i < model->nlayers && st == NNF_OK; i++) {
        nnf_layer *l = model->layers[i];
        nnf_tensor *next = NULL;
        st = run_fn(model, i)->forward(l, cur != NULL ? cur : x, &next);
        if (st != NNF_OK)
            st = nnf__prefix_error(st, "layer %d: %s: ", i, l->fn->name);
        nnf_tensor_free(cur);
        cur = next;
    }
    if (st == NNF_OK && *out != NULL) {
        if (nnf__same_shape(*out, nnf_tensor_ndim(cur), nnf_tensor_shape(cur)))
            st = nnf_copy(*out, cur);
        else
            st = nnf__fail(NNF_ERR_SHAPE, "nnf_model_infer_into: out must have the "
                           "prediction's shape (%d-D, %lld elements), got %d-D with %lld",
                           nnf_tensor_ndim(cur), (long long)nnf_tensor_numel(cur),
                           nnf_tensor_ndim(*out), (long long)nnf_tensor_numel(*out));
    }
    if (st == NNF_OK && *out == NULL) {
        *out = cur;
        return NNF_OK;
    }
    nnf_tensor_free(cur);
    return st;
}

/* A Relu run in place on a Lin's output (relu_behind_lin) takes its backward in
 * place too: its output's gradient is made a view of its input's, so the next layer's
 * backward writes dloss/d(relu) where the ReLU's mask then turns it into dloss/d(lin),
 * one buffer fewer to stream through (the chapter's 200 x 50: 40 KiB; nnf_relu_backward
 * 0.78 -> 0.54 us). As the output's values are the input's after the in-place forward,
 * its gradient is then the input's. Made once, again only when an output is remade. */
static nnf_status share_relu_grads(nnf_model *model)
{
    for (int i = 0; i < model->nlayers; i++) {
        nnf_layer *l = model->layers[i];
        /* only the layers whose backward computes an input gradient (backward_all) */
        if (i <= model->first_param_layer || !relu_behind_lin(model, i) || l->out == NULL)
            continue;
        nnf_tensor *in_grad = NULL, *view = NULL;
        NNF_FORWARD(nnf_tensor_grad_get(l->in, &in_grad));
        int nd = nnf_tensor_ndim(l->out);
        const int64_t *shape = nnf_tensor_shape(l->out);
        if (nnf__is_view(nnf_tensor_grad(l->out), in_grad, nd, shape))
            continue;
        NNF_FORWARD(nnf__view_cached(&view, in_grad, nd, shape));
        nnf_tensor_free(nnf__grad_exchange(l->out, view));
    }
    return NNF_OK;
}

/* 1 when every parameter's gradient is deferred (a data-parallel step, nnf_internal.h):
 * the backward then writes no gradient, so there is nothing to make transactional, and
 * no reason to zero a scratch copy of the gradients and add it back (0.8 MB and ~0.1 ms
 * of each rank's step on the big MLP). */
static int all_deferred(const nnf_model *model)
{
    for (int i = 0; i < model->nparams; i++)
        if (nnf__deferred_grad_of(model->params[i]) == NULL)
            return 0;
    return 1;
}

nnf_status nnf_model_backward(nnf_model *model)
{
    NNF_PUBLIC("nnf_model_backward");
    NNF_RETURN_IF(model == NULL, NNF_ERR_NULL, "nnf_model_backward: model is NULL");
    NNF_RETURN_IF(!model->ready, NNF_ERR_STATE,
                  "nnf_model_backward: no forward to go back through; call nnf_model_call "
                  "first (once per backward)");
    /* One transaction over every parameter: a layer failing after later layers have run
     * must not leave their contributions added (a retry would add them twice). A failed
     * backward keeps the forward's state, so it can simply be called again. Lin's
     * backward only accumulates sgemm sums into its parameters' gradients, so on zeroed
     * gradients it may run in place (nnf__grad_txn_begin_sums); parameters of other
     * layers are written in ways the model does not know. */
    NNF_FORWARD(share_relu_grads(model));
    if (all_deferred(model)) {
        NNF_FORWARD(backward_all(model));
        model->ready = 0;
        return NNF_OK;
    }
    nnf_status st = model->lin_params_only
                        ? nnf__grad_txn_begin_sums(&model->txn, model->nparams, parameter_at,
                                                   model)
                        : nnf__grad_txn_begin(&model->txn, model->nparams, parameter_at, model);
    if (st != NNF_OK)
        return st;
    st = backward_all(model);
    if (st != NNF_OK) {
        nnf__grad_txn_abort(&model->txn);
        return st;
    }
    nnf__grad_txn_commit(&model->txn);
    model->ready = 0;
    return NNF_OK;
}

int nnf_model_num_parameters(const nnf_model *model)
{
    return model != NULL ? model->nparams : 0;
}

nnf_tensor *const *nnf_model_parameters(const nnf_model *model)
{
    return model != NULL ? model->params : NULL;
}

int nnf_model_num_layers(const nnf_model *model)
{
    return model != NULL ? model->nlayers : 0;
}

nnf_layer *nnf_model_layer(const nnf_model *model, int i)
{
    if (model == NULL || i < 0 || i >= model->nlayers)
        return NULL;
    return model->layers[i];
}

void nnf_model_zero_grad(nnf_model *model)
{
    if (model == NULL)
        return;
    for (int i = 0; i < model->nparams; i++)
        nnf_zero_grad(model->params[i]);
}

void nnf__model_weights_changed(nnf_model *model)
{
    /* The one place that learns of weights rewritten behind the layers' backs (loading
     * a file). The activations kept for backward came from the old weights, so a pending
     * backward would mix the two: it is refused until the next forward, as PyTorch
     * refuses a backward through weights modified in place. What is derived from the
     * weights' values and kept between calls (a Lin layer's prepacked weight) needs
     * nothing here: the load moved the weights' versions (nnf_tensor_version). */
    model->ready = 0;
    for (int i = 0; i < model->nlayers; i++)
        model->layers[i]->ready = 0;
}
