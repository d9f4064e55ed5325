/* nnf/nn.h — neural-net layers with forward beside backward, an interface for your own
 * layers, losses, a sequential model, weight initialisation, SGD and gradient checking.
 *
 * This is the second half of the chapter "A Neural Net from the Foundations" as a C API.
 * It is built in four levels; each uses only the ones above it:
 *
 *   1. Functions (the chapter's lin / relu / mse and lin_grad / relu_grad / mse_grad):
 *      nnf_linear + nnf_linear_backward, nnf_relu (ops.h) + nnf_relu_backward, nnf_mse +
 *      nnf_mse_backward, nnf_cross_entropy + nnf_cross_entropy_backward.
 *   2. Layer functions (the chapter's LayerFunction, torch.autograd.Function): an
 *      nnf_layer keeps its input and output from the last forward, so backward needs no
 *      arguments. Lin and Relu are built on the same public interface (nnf_layer_fn)
 *      you use for your own layers.
 *   3. A sequential model: layers plus a loss; forward returns the loss, backward runs
 *      the loss's backward and then the layers' in reverse; parameters() enumerates the
 *      weights, each with its gradient.
 *   4. SGD (momentum, weight decay) and gradient checking by finite differences.
 *
 * Gradients are the chapter's `.g`: they live with the tensor they belong to
 * (nnf_tensor_grad / nnf_tensor_grad_get in tensor.h) and backward passes ADD to them,
 * so a tensor used twice gets both contributions; nnf_zero_grad clears one, and
 * nnf_model_zero_grad / nnf_sgd_zero_grad clear every parameter.
 *
 * A training loop, with error checks left out for brevity:
 *
 *     nnf_model *m;  nnf_loss *ce;  nnf_layer *l1, *act, *l2;  nnf_sgd *opt;
 *     nnf_loss_cross_entropy(&ce);
 *     nnf_model_new(&m, ce);
 *     nnf_layer_linear(&l1, &rng, 784, 512, NNF_INIT_KAIMING);  nnf_model_add(m, l1);
 *     nnf_layer_relu(&act);                                  nnf_model_add(m, act);
 *     nnf_layer_linear(&l2, &rng, 512, 10, NNF_INIT_KAIMING);   nnf_model_add(m, l2);
 *     nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), 0.1f, 0.9f, 0.0f);
 *     for (int epoch = 0; epoch < 3; epoch++)
 *         for (int64_t i = 0; i < n; i += bs) {         // xb, yb: views of one minibatch
 *             float loss;
 *             nnf_model_call(m, &loss, xb, yb);
 *             nnf_sgd_zero_grad(opt);
 *             nnf_model_backward(m);
 *             nnf_sgd_step(opt);
 *         }
 *
 * Memory: layers, losses, models and optimisers keep their activations, gradients and
 * scratch tensors between calls and write into them again while the batch shape stays
 * the same, so after the first step a training step makes no tensors (a new batch shape,
 * e.g. a smaller last batch, makes them once more). Only scratch that sgemm and the
 * reductions take and give back within one call remains.
 *
 * Numerics: the arithmetic here is done by ops.h and linalg.h, which give the same bits
 * on every ISA and thread count, or by plain C in a fixed order (the cross-entropy's sum
 * over rows, in double); the rest is selection (ReLU's backward) and indexing. So a
 * training step gives the same bits on every ISA and thread count too.
 *
 * Lifetimes: a layer keeps a BORROWED pointer to the input of its last forward (it writes
 * that tensor's gradient in backward); keep the input alive until backward has run.
 * Tensors handed out as "borrowed" belong to the object that returned them.
 */
#ifndef NNF_NN_H
#define NNF_NN_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =====================================================================================
 * 1. The functional layer: forward beside backward.
 *
 * Shapes: x is (N, n_in), a batch of N rows; w is (n_out, n_in) like nn.Linear; b is
 * (n_out). Each backward reads the gradient of the forward's result from that tensor's
 * `.g` (so set it, or let the next backward set it, first) and ADDS to the gradients of
 * the forward's inputs, creating them zero-filled where they do not exist yet. Losses
 * seed their own gradient (dloss/dloss = 1), like torch's loss.backward().
 * ===================================================================================== */

/* y = x @ w.t() + b (b may be NULL: no bias). `y` is IN/OUT as in ops.h: NULL creates a
 * new (N, n_out) tensor, an existing tensor of that shape is overwritten.
 * NNF_ERR_SHAPE names the mismatching sizes, e.g. "nnf_linear: x is 200x100 but w is 50x80
 * (n_out x n_in): x's 100 features per row must match w's n_in (80)". */
NNF_API NNF_NODISCARD nnf_status nnf_linear(nnf_tensor **y /* IN/OUT */, const nnf_tensor *x,
                                            const nnf_tensor *w, const nnf_tensor *b);

/* y = relu(x @ w.t() + b) in one call, bit for bit nnf_linear then nnf_relu (b may be
 * NULL), with y as in nnf_linear. For a large y the bias and the ReLU run inside the
 * product, on each tile of y while it is in the cache (oneDNN's post-ops), rather than
 * as passes over y in memory. Errors are nnf_linear's, named "nnf_linear_relu: ...";
 * on error y is unchanged (a new y is not created).
 * Backward: y holds relu(z) where z = x @ w.t() + b is not kept. nnf_relu_backward
 * selects on the sign of its input, and relu(z) <= 0 exactly where z <= 0, so pass y as
 * both of its tensors' roles: give y a gradient dloss/dy, run nnf_relu_backward(r, y)
 * with r a view of y (nnf_view) to get dloss/dz in r's gradient, then
 * nnf_linear_backward(x, r, w, b, ...) as for nnf_linear. A model (section 3) does this
 * itself for every Relu layer right behind a Lin layer. */
NNF_API NNF_NODISCARD nnf_status nnf_linear_relu(nnf_tensor **y /* IN/OUT */,
                                                 const nnf_tensor *x, const nnf_tensor *w,
                                                 const nnf_tensor *b);

/* The chapter's lin_grad(inp, out, w, b), from y's gradient (y = nnf_linear(x, w, b)):
 *     w.g += y.g.t() @ x        b.g += y.g.sum(0)        x.g += y.g @ w   (if input_grad)
 * input_grad 0 skips x.g, as a training step does for the data (nothing needs it).
 * NNF_ERR_STATE if y has no gradient. b may be NULL. */
NNF_API NNF_NODISCARD nnf_status nnf_linear_backward(nnf_tensor *x /* IN/OUT */,
                                                     const nnf_tensor *y,
                                                     nnf_tensor *w /* IN/OUT */,
                                                     nnf_tensor *b /* IN/OUT */, int input_grad);

/* ReLU's forward is nnf_relu in ops.h (clamp_min(0)). Its backward, the chapter's
 * relu_grad(inp, out):  x.g += (x > 0) * y.g.  NNF_ERR_STATE if y has no gradient. */
NNF_API NNF_NODISCARD nnf_status nnf_relu_backward(nnf_tensor *x /* IN/OUT */, const nnf_tensor *y);

/* Mean squared error, the chapter's mse(output, targ): mean((pred - targ)^2).
 * targ has pred's shape, or pred is (N, 1) and targ is (N) (the chapter squeezes). */
NNF_API NNF_NODISCARD nnf_status nnf_mse(float *loss /* OUT */, const nnf_tensor *pred,
                                         const nnf_tensor *targ);
/* pred.g += 2 (pred - targ) / numel(targ), the chapter's mse_grad. */
NNF_API NNF_NODISCARD nnf_status nnf_mse_backward(nnf_tensor *pred /* IN/OUT */,
                                                  const nnf_tensor *targ);

/* Softmax cross-entropy (F.cross_entropy): logits (N, C), targ an NNF_I64 tensor (N) of
 * class indices in [0, C). loss = mean_i (logsumexp(logits[i]) - logits[i, targ[i]]),
 * with the row maximum subtracted before exp so large logits do not overflow.
 * NNF_ERR_INDEX names the first label outside [0, C). */
NNF_API NNF_NODISCARD nnf_status nnf_cross_entropy(float *loss /* OUT */, const nnf_tensor *logits,
                                                   const nnf_tensor *targ);
/* logits.g += (softmax(logits) - onehot(targ)) / N. */
NNF_API NNF_NODISCARD nnf_status nnf_cross_entropy_backward(nnf_tensor *logits /* IN/OUT */,
                                                            const nnf_tensor *targ);

/* =====================================================================================
 * 2. Layer functions: the interface for your own layers.
 *
 * An nnf_layer is the chapter's LayerFunction: nnf_layer_call keeps the input and
 * the output, and nnf_layer_backward calls your backward with the output's gradient.
 * You supply an nnf_layer_fn (a table of functions) and a state pointer; every built-in
 * layer is made the same way. The chapter's MyRelu, written against this interface:
 *
 *     static nnf_status my_relu_forward(nnf_layer *self, const nnf_tensor *in,
 *                                       nnf_tensor **out)
 *     {
 *         nnf_layer_save_for_backward(self, 1, &in);   // ctx.save_for_backward(i)
 *         return nnf_relu(out, in);                    // *out is reused between calls
 *     }
 *     static nnf_status my_relu_backward(nnf_layer *self, const nnf_tensor *out_grad,
 *                                        nnf_tensor *in_grad)
 *     {
 *         const nnf_tensor *i = nnf_layer_saved(self, 0);
 *         // in_grad = out_grad * (i > 0): nnf_gt, nnf_copy (bool to float), nnf_mul;
 *         // the whole layer is in tests/test_nn_model.c
 *     }
 *     static const nnf_layer_fn my_relu = {"MyRelu", my_relu_forward, my_relu_backward,
 *                                          NULL, NULL};
 *     nnf_layer_new(&layer, &my_relu, NULL);
 * ===================================================================================== */

typedef struct nnf_layer nnf_layer;

typedef struct nnf_layer_fn {
    /* Shown in error messages ("Lin: ..."). Not NULL. */
    const char *name;

    /* Compute the output from `in`. *out is IN/OUT exactly as in ops.h: it is the
     * output tensor of the previous call when `in` has the same shape as then (write into
     * it: no allocation), and NULL otherwise (create it, e.g. by passing `out` on to an
     * op). The layer owns the result. Not NULL. */
    nnf_status (*forward)(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out);

    /* Given the gradient of the loss with respect to the output, `out_grad` (shape of the
     * output), OVERWRITE in_grad (shape of the input) with the gradient with respect to
     * the input, and ADD the parameters' gradients to their `.g`. in_grad is NULL when
     * the input needs no gradient (the data). The input and output of the last forward
     * are nnf_layer_input(self) / nnf_layer_output(self). Not NULL. */
    nnf_status (*backward)(nnf_layer *self, const nnf_tensor *out_grad, nnf_tensor *in_grad);

    /* The i-th trainable tensor (i = 0, 1, ...), NULL past the last one: the chapter's
     * parameters(). The same tensors for the layer's whole life (a model lists them
     * once, when the layer is added). NULL: the layer has no parameters. */
    nnf_tensor *(*parameter)(nnf_layer *self, int i);

    /* Frees `state` (called by nnf_layer_free). NULL: nothing to free. */
    void (*destroy)(void *state);
} nnf_layer_fn;

/* A layer running `fn` with your `state` (which nnf_layer_state returns). `fn` must stay
 * valid for the layer's lifetime (usually a static const table). On success the layer
 * owns `state` and frees it with fn->destroy; on failure the caller still owns it. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_new(nnf_layer **out /* OUT */, const nnf_layer_fn *fn,
                                               void *state /* IN/OUT */);

/* Runs the layer: *out (borrowed, owned by the layer) is valid until the next forward or
 * nnf_layer_free. `in` is kept (borrowed) for backward: keep it alive until then. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_call(nnf_layer *layer /* IN/OUT */,
                                                nnf_tensor **out /* OUT */,
                                                nnf_tensor *in /* IN/OUT */);

/* Backward through the last forward: reads the output's gradient (set it with
 * nnf_tensor_grad_get on the output, or let the next layer's backward set it), adds the
 * parameters' gradients and, if input_grad is 1, adds the input's gradient to the
 * input's `.g`. NNF_ERR_STATE before any forward, or if the output has no gradient. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_backward(nnf_layer *layer /* IN/OUT */, int input_grad);

/* Trainable tensors, as fn->parameter; NULL past the last one. Borrowed. */
NNF_API nnf_tensor *nnf_layer_parameter(nnf_layer *layer /* IN/OUT */, int i);

/* For implementers. The state given to nnf_layer_new. */
NNF_API void *nnf_layer_state(const nnf_layer *layer);
/* The input and output of the last forward (borrowed); NULL before the first forward. */
NNF_API nnf_tensor *nnf_layer_input(const nnf_layer *layer);
NNF_API nnf_tensor *nnf_layer_output(const nnf_layer *layer);
/* Name of the layer (fn->name). */
NNF_API const char *nnf_layer_name(const nnf_layer *layer);

/* torch's ctx.save_for_backward, for use inside forward: remembers up to
 * NNF_LAYER_MAX_SAVED borrowed tensor pointers (the caller keeps them alive until
 * backward), replacing those saved by earlier calls. NNF_ERR_INVALID if n is too big. */
#define NNF_LAYER_MAX_SAVED 8
NNF_API NNF_NODISCARD
nnf_status nnf_layer_save_for_backward(nnf_layer *layer /* IN/OUT */, int n,
                                       const nnf_tensor *const *tensors);
/* The i-th saved tensor, NULL if there is none. */
NNF_API const nnf_tensor *nnf_layer_saved(const nnf_layer *layer, int i);

/* Frees the layer, its output and its state. NULL is a no-op. */
NNF_API void nnf_layer_free(nnf_layer *layer /* IN/OUT */);

/* ---- Built-in layers ---- */

/* How nnf_layer_linear and nnf_weight_init draw a weight w (n_out x n_in):
 * KAIMING: normal with std sqrt(2 / n_in), the chapter's randn * sqrt(2/n_in), right for
 *          a layer followed by ReLU (He et al. 2015).
 * XAVIER:  normal with std sqrt(2 / (n_in + n_out)) (Glorot and Bengio 2010). */
typedef enum { NNF_INIT_KAIMING, NNF_INIT_XAVIER } nnf_init;

/* Fills a 2-D weight (n_out x n_in) from `rng` (NULL: the default generator). */
NNF_API NNF_NODISCARD nnf_status nnf_weight_init(nnf_tensor *w /* IN/OUT */,
                                                 nnf_rng *rng /* IN/OUT */, nnf_init init);

/* The chapter's Lin / nn.Linear: y = x @ w.t() + b, weight (n_out x n_in) drawn with
 * `init` from `rng` (NULL: the default generator), bias zero. Parameters: 0 the weight,
 * 1 the bias. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_linear(nnf_layer **out /* OUT */,
                                                  nnf_rng *rng /* IN/OUT */, int64_t n_in,
                                                  int64_t n_out, nnf_init init);
/* ReLU, no parameters. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_relu(nnf_layer **out /* OUT */);

/* =====================================================================================
 * Losses: the last step of a model, turning predictions and targets into one number.
 * A loss keeps the predictions of its last forward (borrowed) and writes their gradient.
 * ===================================================================================== */

typedef struct nnf_loss nnf_loss;

/* Mean squared error (nnf_mse). Targets: float, pred's shape, or (N) for pred (N, 1). */
NNF_API NNF_NODISCARD nnf_status nnf_loss_mse(nnf_loss **out /* OUT */);
/* Softmax cross-entropy (nnf_cross_entropy). Targets: NNF_I64 class labels (N). */
NNF_API NNF_NODISCARD nnf_status nnf_loss_cross_entropy(nnf_loss **out /* OUT */);

/* The loss of pred against targ. Both are kept (borrowed) for nnf_loss_backward. */
NNF_API NNF_NODISCARD nnf_status nnf_loss_call(nnf_loss *loss /* IN/OUT */, float *value /* OUT */,
                                               nnf_tensor *pred /* IN/OUT */,
                                               const nnf_tensor *targ);
/* Adds dloss/dpred to pred's `.g`. NNF_ERR_STATE before any forward. */
NNF_API NNF_NODISCARD nnf_status nnf_loss_backward(nnf_loss *loss /* IN/OUT */);
/* "Mse" or "CrossEntropy". */
NNF_API const char *nnf_loss_name(const nnf_loss *loss);
/* NULL is a no-op. */
NNF_API void nnf_loss_free(nnf_loss *loss /* IN/OUT */);

/* =====================================================================================
 * 3. The sequential model: the chapter's Model (layers, then a loss).
 * ===================================================================================== */

typedef struct nnf_model nnf_model;

/* An empty model ending in `loss` (may be NULL for a model that only predicts). On
 * success the model owns the loss; on failure the caller still does. */
NNF_API NNF_NODISCARD nnf_status nnf_model_new(nnf_model **out /* OUT */,
                                               nnf_loss *loss /* IN/OUT */);
/* Appends a layer; on success the model owns it (and frees it with the model). A
 * built-in Relu appended right behind a Lin is applied by the Lin, as nnf_linear_relu:
 * after a forward both layers' outputs hold the ReLU's result, in one buffer (the
 * outputs and gradients are those of the separate ops, bit for bit). The layers are not
 * changed: either one called on its own (nnf_layer_call) does what it always did. */
NNF_API NNF_NODISCARD nnf_status nnf_model_add(nnf_model *model /* IN/OUT */,
                                               nnf_layer *layer /* IN/OUT */);

/* Runs the layers on x and the loss against targ: the chapter's model(x, targ).
 * x is kept (borrowed) until backward. NNF_ERR_STATE if the model has no loss or no
 * layers. A failing layer's message starts with its position and name ("layer 2: Lin:
 * ..."), the loss's with "loss (Mse): ". */
NNF_API NNF_NODISCARD nnf_status nnf_model_call(nnf_model *model /* IN/OUT */,
                                                float *loss /* OUT */, nnf_tensor *x /* IN/OUT */,
                                                const nnf_tensor *targ);
/* The loss's backward, then every layer's in reverse. Adds to the parameters'
 * gradients; the gradients of the activations are overwritten (each has one consumer).
 * What no parameter depends on is not computed (a training step needs none): the
 * gradient of x, and the backward of layers in front of the first one with parameters.
 * NNF_ERR_STATE unless the last call was a successful nnf_model_call. */
NNF_API NNF_NODISCARD nnf_status nnf_model_backward(nnf_model *model /* IN/OUT */);
/* The layers alone, without a loss (for evaluation): *out (borrowed) is the last layer's
 * output, valid until the next forward. Invalidates a pending backward. */
NNF_API NNF_NODISCARD nnf_status nnf_model_infer(nnf_model *model /* IN/OUT */,
                                                 nnf_tensor **out /* OUT */,
                                                 nnf_tensor *x /* IN/OUT */);
/* The layers alone into the caller's own tensor, leaving the model's kept outputs and a
 * pending backward alone: *out follows the IN/OUT convention of nnf/ops.h (NULL: a new
 * tensor the caller frees; else written, and it must have the result's shape). Several
 * threads may call it at once on one model of Lin, ReLU and Flatten layers (a Lin
 * layer's prepacked weight is swapped under a lock); a Conv2d layer keeps a workspace,
 * and a layer of your own whatever its forward keeps: one thread at a time there. */
NNF_API NNF_NODISCARD nnf_status nnf_model_infer_into(nnf_model *model /* IN/OUT */,
                                                        nnf_tensor **out /* IN/OUT */,
                                                        const nnf_tensor *x);

/* The chapter's parameters(): every layer's trainable tensors, in layer order (a Lin
 * contributes weight, then bias). Each tensor's gradient is nnf_tensor_grad(p) (NULL
 * until the first backward). The array is borrowed and changes with nnf_model_add. */
NNF_API int nnf_model_num_parameters(const nnf_model *model);
NNF_API nnf_tensor *const *nnf_model_parameters(const nnf_model *model);
NNF_API int nnf_model_num_layers(const nnf_model *model);
/* Borrowed; NULL if out of range. */
NNF_API nnf_layer *nnf_model_layer(const nnf_model *model, int i);
/* Sets every parameter's gradient to zero. */
NNF_API void nnf_model_zero_grad(nnf_model *model /* IN/OUT */);
/* Frees the layers, the loss and the model. NULL is a no-op. */
NNF_API void nnf_model_free(nnf_model *model /* IN/OUT */);

/* =====================================================================================
 * 4a. Stochastic gradient descent, as torch.optim.SGD (dampening 0, not Nesterov):
 *     d = p.g + weight_decay * p
 *     v = momentum * v + d        (v = d on the first step)
 *     p = p - lr * v              (with momentum 0: p = p - lr * d)
 * ===================================================================================== */

typedef struct nnf_sgd nnf_sgd;

/* Optimises the `nparams` tensors in `params` (borrowed: they must outlive the
 * optimiser; the array itself is copied). lr > 0, 0 <= momentum < 1, weight_decay >= 0,
 * else NNF_ERR_INVALID. */
NNF_API NNF_NODISCARD nnf_status nnf_sgd_new(nnf_sgd **out /* OUT */, int nparams,
                                             nnf_tensor *const *params /* IN/OUT */, float lr,
                                             float momentum, float weight_decay);
/* One update of every parameter that has a gradient (others are left alone). */
NNF_API NNF_NODISCARD nnf_status nnf_sgd_step(nnf_sgd *opt /* IN/OUT */);
/* Zeroes the gradient of every parameter. */
NNF_API void nnf_sgd_zero_grad(nnf_sgd *opt /* IN/OUT */);
/* Changes the learning rate for later steps (schedules); NNF_ERR_INVALID unless lr > 0. */
NNF_API NNF_NODISCARD nnf_status nnf_sgd_set_lr(nnf_sgd *opt /* IN/OUT */, float lr);
/* NULL is a no-op. */
NNF_API void nnf_sgd_free(nnf_sgd *opt /* IN/OUT */);

/* =====================================================================================
 * 4b. Gradient checking: every backward against central finite differences.
 *
 * For each checked element v of the input and of each parameter, the function is
 * evaluated at v + eps and v - eps (the steps actually taken in float32 are used as the
 * denominators, and sums are taken in double). A point passes when
 *     |central difference - backward| <= atol + rtol * |central difference|.
 * A point is skipped, and counted, when it sits within eps of a kink (ReLU at 0), where
 * no derivative describes the differences. Kinks are found without knowing where they
 * are, so user layers are covered too: where f is smooth, the central differences with
 * steps eps, eps/2 and eps/4 agree and the gap between the forward difference
 * (f(v+h) - f(v))/h and the backward one (f(v) - f(v-h))/h halves from eps to eps/2;
 * a point where one of these is off by more than 0.4 of the tolerance is skipped, so a
 * kink that goes unnoticed moves the central difference by less than 0.8 of it.
 * Layers are checked through the scalar f = sum(output * R) for a fixed random R
 * (so dL/doutput = R); losses and models through their loss.
 * ===================================================================================== */

typedef struct nnf_gradcheck_options {
    double eps;          /* step; 0: 1e-2 (float32 rounding would swamp much smaller steps) */
    double rtol, atol;   /* tolerance; 0 and 0: rtol 1e-2, atol 1e-4 */
    int64_t max_points;  /* elements checked per tensor, evenly spread; 0: all */
    uint64_t seed;       /* for R */
} nnf_gradcheck_options;

typedef struct nnf_gradcheck_report {
    int64_t checked;     /* points compared */
    int64_t skipped;     /* points at a kink */
    int64_t failed;      /* points outside the tolerance */
    double max_abs_err;  /* over the checked points */
    /* The first failure, e.g. "parameter 0 [3, 7]: backward 0.1234 vs central 0.5678",
     * or "" if none. */
    char first_failure[160];
} nnf_gradcheck_report;

/* Each function returns NNF_OK when the check RAN (then report->failed says whether it
 * passed), or the error of a failing forward/backward. `opts` NULL means the defaults.
 * The gradients of the checked tensors are overwritten with the analytic ones, and the
 * layer, loss or model is left as after a forward on the unperturbed values. */

/* Checks the layer's gradient with respect to x (if check_input is 1) and each
 * parameter. */
NNF_API NNF_NODISCARD nnf_status nnf_layer_gradcheck(nnf_layer *layer /* IN/OUT */,
                                                     nnf_gradcheck_report *report /* OUT */,
                                                     nnf_tensor *x /* IN/OUT */,
                                                     const nnf_gradcheck_options *opts,
                                                     int check_input);
/* Checks the loss's gradient with respect to pred. */
NNF_API NNF_NODISCARD nnf_status nnf_loss_gradcheck(nnf_loss *loss /* IN/OUT */,
                                                    nnf_gradcheck_report *report /* OUT */,
                                                    nnf_tensor *pred /* IN/OUT */,
                                                    const nnf_tensor *targ,
                                                    const nnf_gradcheck_options *opts);
/* Checks the whole model's backward: the gradient of the loss with respect to every
 * parameter. */
NNF_API NNF_NODISCARD nnf_status nnf_model_gradcheck(nnf_model *model /* IN/OUT */,
                                                     nnf_gradcheck_report *report /* OUT */,
                                                     nnf_tensor *x /* IN/OUT */,
                                                     const nnf_tensor *targ,
                                                     const nnf_gradcheck_options *opts);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
NNF_API NNF_DEPRECATED("use nnf_linear") NNF_NODISCARD
nnf_status nnf_lin(nnf_tensor **y /* IN/OUT */, const nnf_tensor *x, const nnf_tensor *w,
                   const nnf_tensor *b);
NNF_API NNF_DEPRECATED("use nnf_linear_backward") NNF_NODISCARD
nnf_status nnf_lin_backward(nnf_tensor *x /* IN/OUT */, const nnf_tensor *y,
                            nnf_tensor *w /* IN/OUT */, nnf_tensor *b /* IN/OUT */,
                            int input_grad);
NNF_API NNF_DEPRECATED("use nnf_layer_call(layer, out, in)") NNF_NODISCARD
nnf_status nnf_layer_forward(nnf_layer *layer /* IN/OUT */, nnf_tensor *in /* IN/OUT */,
                             nnf_tensor **out /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_weight_init(w, rng, init)") NNF_NODISCARD
nnf_status nnf_init_weight(nnf_tensor *w /* IN/OUT */, nnf_init init, nnf_rng *rng /* IN/OUT */);
NNF_API NNF_DEPRECATED("use nnf_layer_linear(out, rng, n_in, n_out, init)") NNF_NODISCARD
nnf_status nnf_layer_lin(nnf_layer **out /* OUT */, int64_t n_in, int64_t n_out, nnf_init init,
                         nnf_rng *rng /* IN/OUT */);
NNF_API NNF_DEPRECATED("use nnf_loss_call(loss, value, pred, targ)") NNF_NODISCARD
nnf_status nnf_loss_forward(nnf_loss *loss /* IN/OUT */, nnf_tensor *pred /* IN/OUT */,
                            const nnf_tensor *targ, float *value /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_model_call(model, loss, x, targ)") NNF_NODISCARD
nnf_status nnf_model_forward(nnf_model *model /* IN/OUT */, nnf_tensor *x /* IN/OUT */,
                             const nnf_tensor *targ, float *loss /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_model_infer(model, out, x)") NNF_NODISCARD
nnf_status nnf_model_predict(nnf_model *model /* IN/OUT */, nnf_tensor *x /* IN/OUT */,
                             nnf_tensor **out /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_layer_gradcheck(layer, report, x, opts, check_input)")
NNF_NODISCARD nnf_status nnf_gradcheck_layer(nnf_layer *layer /* IN/OUT */,
                                             nnf_tensor *x /* IN/OUT */, int check_input,
                                             const nnf_gradcheck_options *opts,
                                             nnf_gradcheck_report *report /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_loss_gradcheck(loss, report, pred, targ, opts)")
NNF_NODISCARD nnf_status nnf_gradcheck_loss(nnf_loss *loss /* IN/OUT */,
                                            nnf_tensor *pred /* IN/OUT */,
                                            const nnf_tensor *targ,
                                            const nnf_gradcheck_options *opts,
                                            nnf_gradcheck_report *report /* OUT */);
NNF_API NNF_DEPRECATED("use nnf_model_gradcheck(model, report, x, targ, opts)")
NNF_NODISCARD nnf_status nnf_gradcheck_model(nnf_model *model /* IN/OUT */,
                                             nnf_tensor *x /* IN/OUT */,
                                             const nnf_tensor *targ,
                                             const nnf_gradcheck_options *opts,
                                             nnf_gradcheck_report *report /* OUT */);

#ifdef __cplusplus
}
#endif
#endif
