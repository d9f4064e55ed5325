/* What the files of src/nn share: the layouts behind nnf_layer and nnf_loss, the
 * workers behind the functional API, and the buffer helpers that let a training step
 * run without allocating. Built on the public headers only (tensor, ops, linalg). */
#ifndef NNF_NN_INTERNAL_H
#define NNF_NN_INTERNAL_H

#include <pthread.h>

#include "nnf/linalg.h"
#include "nnf/nn.h"
#include "nnf/ops.h"

/* A transaction over the gradients of several tensors (a layer's or a model's
 * parameters), for backward passes that ADD to them: begin points each `.g` at a
 * zero-filled scratch tensor (allocating everything first, including a zero gradient
 * for a tensor that has none), the backward accumulates there, and commit adds the
 * scratch into the saved gradients, which cannot fail; abort puts the saved ones back.
 * So a backward that fails half-way leaves the caller's gradients bit-identical, and no
 * gradient appears where there was none. The cost is one zeroing and one add pass over
 * the gradients per backward; after the first, a step allocates nothing. The sums are
 * the same as adding into the gradient directly (old + (0 + c) = old + c). */
typedef struct nnf__grad_txn {
    int n, cap;
    nnf_tensor **t;         /* borrowed; a tensor listed twice is handled once */
    nnf_tensor **scratch;   /* owned, kept between calls */
    nnf_tensor **saved;     /* the gradients before begin, or new zero ones */
    unsigned char *created; /* saved[i] is new: t[i] had no gradient */
    int in_place;           /* begun by nnf__grad_txn_begin_sums on +0 gradients */
} nnf__grad_txn;

/* ---- The micro-batch rule ----
 *
 * Every sum over the batch in a training step (the weight and bias gradients of Lin,
 * the loss) is computed one micro-batch of NNF__MICRO_BATCH rows at a time, each from
 * zero, and the partials are folded one after the other in micro-batch order, from zero,
 * before the batch's gradient is added to the one already there (nnf__grad_txn):
 *     G = G0 + ((((0 + P0) + P1) + P2) + ...)      (a last micro-batch may be shorter)
 * so a batch split into blocks of whole micro-batches (over ranks, libnnf_dist) gives
 * the same bits as the whole batch in one process, for any number of blocks. 32 rows:
 * bench_train_step measured 16 at +8-13% of a step (the weight gradient's C tile is read
 * and written every 16 steps of k) and 32 at 0-5% (README, "Beyond one machine"). */
#define NNF__MICRO_BATCH 32

/* ---- Deferred parameter gradients (buffers.c; for libnnf_dist) ----
 *
 * A rank of a data-parallel step adds its micro-batches' gradients, in order, to a
 * running sum that arrives in slices from the rank before it. While a table is active on
 * the calling thread, the backward of a layer under the rule (Lin, Conv2d) computes no
 * gradient for the parameters it lists: it only fills their entries with how to compute
 * them later, from what stays alive until the next forward (the layer's input and output
 * gradient, Conv2d's columns). A parameter is seen as a matrix of size(0) rows (1 for a
 * 1-D one) by numel / rows columns; add(ctx, dst, blk) adds the block `blk` of its
 * gradient to dst (the block's elements, row-major, contiguous), micro-batch by
 * micro-batch in order, each from zero: dst = ((dst + P0) + P1) + ..., the bits of the
 * single-process fold continued from dst. So each slice's products are computed
 * straight into the sum as it passes (a Lin gradient is one restart product with
 * beta = 1, see lin.c): no micro-batch's gradient goes through memory apart. add fails
 * only with NNF_ERR_NOMEM (sgemm's scratch, the first time; dst then holds part of the
 * sum). */
typedef struct nnf__block {
    size_t row, rows, col, cols;
} nnf__block;

typedef struct nnf__deferred_grad {
    nnf_status (*add)(void *ctx, float *dst, nnf__block blk);
    void *ctx;                  /* the layer's, alive while the layer is */
} nnf__deferred_grad;

typedef struct nnf__deferred_grads {
    int n;
    nnf_tensor *const *params;
    nnf__deferred_grad *grads;  /* n entries: the backward fills those of its parameters */
} nnf__deferred_grads;

/* Activates `t` on the calling thread (NULL: off). */
void nnf__deferred_grads_set(const nnf__deferred_grads *t);
/* param's entry in the active table, or NULL when there is none or it does not list
 * param (then the backward computes the gradient itself). */
nnf__deferred_grad *nnf__deferred_grad_of(const nnf_tensor *param);

/* ---- Layers (layer.c) ---- */

struct nnf_layer {
    const nnf_layer_fn *fn;
    void *state;
    nnf_tensor *in;                     /* borrowed: the input of the last forward */
    nnf_tensor *out;                    /* owned: reused while the input shape stays */
    int in_ndim;                        /* the input shape `out` was made for */
    int64_t in_shape[NNF_MAX_DIMS];
    const nnf_tensor *saved[NNF_LAYER_MAX_SAVED];
    int nsaved;
    nnf_tensor *grad_tmp;               /* input gradient before it is added to in.g */
    nnf__grad_txn txn;                  /* its parameters' gradients, nnf_layer_backward */
    int ready;                          /* a forward has run since the output changed */
};

/* The forward and backward behind nnf_layer_call / nnf_layer_backward, for the model:
 * `fresh_out_grad` 0 leaves the output's old gradient alone (the model overwrites it);
 * `overwrite` 1 writes the input's gradient instead of adding to it (the model's
 * activations have one consumer each, so adding to last step's values would be wrong
 * and zeroing them first would cost a pass over memory). */
nnf_status nnf__layer_forward(nnf_layer *layer, nnf_tensor *in, nnf_tensor **out,
                              int fresh_out_grad);
/* The same through another table's forward (`fn` instead of layer->fn): how a model runs
 * a Lin and the Relu behind it as one (nnf__lin_relu_fn, nnf__relu_in_place_fn) without
 * changing either layer, which called on its own does what it always did. */
nnf_status nnf__layer_forward_as(nnf_layer *layer, const nnf_layer_fn *fn, nnf_tensor *in,
                                 nnf_tensor **out, int fresh_out_grad);
/* nnf__layer_backward writes the parameters' gradients directly: the model runs one
 * transaction over all of its layers' (nnf_layer_backward runs one per call). */
nnf_status nnf__layer_backward(nnf_layer *layer, int input_grad, int overwrite);

/* The tables of the built-in layers with parameters (lin.c, conv2d_layer.c): a saved
 * state_dict names their parameters "weight" and "bias", as nn.Linear and nn.Conv2d do,
 * which it can only do for layers it knows to be these. */
extern const nnf_layer_fn nnf__lin_fn;
/* A Lin layer's table with the forward of nnf_linear_relu (lin.c), for a model's Lin
 * with a Relu behind it. */
extern const nnf_layer_fn nnf__lin_relu_fn;
extern const nnf_layer_fn nnf__conv2d_fn;
/* The Relu layer's table, and the one a model runs a Relu behind a Lin with: its output
 * is a view of the Lin's, which nnf__lin_relu_fn has rectified already (relu.c). */
extern const nnf_layer_fn nnf__relu_fn, nnf__relu_in_place_fn;

/* ---- A Lin layer's prepacked weight (lin_packed.c) ---- */

typedef struct nnf__lin_packed {
    pthread_rwlock_t lock;          /* read: a product through `packed`; write: a swap */
    nnf_packed_matrix *packed;      /* w^T, or NULL */
    uint64_t packed_version;        /* w's nnf_tensor_version when packed */
    uint64_t seen_version;          /* ... at the last forward that did not pack */
    int seen;
} nnf__lin_packed;

nnf_status nnf__lin_packed_init(nnf__lin_packed *c);
void nnf__lin_packed_destroy(nnf__lin_packed *c);
/* y = x @ w.t() + beta * y, then the post-ops (src/linalg/matmul.h; NULL: none), through
 * the packed weight, packing it first if due; *done 0 (and nothing written) when the
 * caller is to run the unpacked product instead. Shapes are the caller's to check. Safe
 * on several threads at once for one cache. */
struct nnf__sgemm_post;
nnf_status nnf__lin_packed_product(nnf__lin_packed *c, nnf_tensor *y, const nnf_tensor *x,
                                   const nnf_tensor *w, float beta,
                                   const struct nnf__sgemm_post *post, int *done);
/* Test hook: 1 if `layer` is a Lin layer holding a packed weight (lin.c). */
int nnf__lin_is_packed(const nnf_layer *layer);

/* ---- The model (sequential.c) ---- */

/* To be called after every parameter was overwritten in place (nnf_model_load_npz). */
void nnf__model_weights_changed(nnf_model *model);

/* The model's loss (borrowed, may be NULL): libnnf_dist reads its micro-batch sums and
 * sets the batch its backward means over. */
nnf_loss *nnf__model_loss(nnf_model *model);

/* ---- Losses (loss.c, mse.c, cross_entropy.c) ---- */

#define NNF__LOSS_SCRATCH 6

/* A loss's forward computes the mean of its terms as *sum / *count: *sum is the fold of
 * the terms by the micro-batch rule in double (per micro-batch from zero, in row order,
 * the partials folded in order; each partial also to parts[i] unless parts is NULL),
 * *count how many terms there are (rows, or elements for MSE); it leaves in scratch[] what its backward needs. Its backward OVERWRITES grad
 * (pred's shape) with the gradient of sum / count for this `count` (a micro-batch's
 * terms count towards the whole batch's mean in libnnf_dist). The scratch tensors are
 * reused between calls through nnf__reuse / the ops' IN/OUT convention. */
typedef struct nnf__loss_fn {
    const char *name;
    nnf_status (*forward)(nnf_tensor **scratch, const nnf_tensor *pred, const nnf_tensor *targ,
                          double *sum, int64_t *count, double *parts);
    nnf_status (*backward)(nnf_tensor **scratch, const nnf_tensor *pred, const nnf_tensor *targ,
                           int64_t count, nnf_tensor *grad);
} nnf__loss_fn;

extern const nnf__loss_fn nnf__mse_fn;
extern const nnf__loss_fn nnf__cross_entropy_fn;

struct nnf_loss {
    const nnf__loss_fn *fn;
    nnf_tensor *pred;                   /* borrowed, from the last forward */
    const nnf_tensor *targ;             /* borrowed */
    nnf_tensor *scratch[NNF__LOSS_SCRATCH];
    nnf_tensor *grad_tmp;
    double sum;                         /* the last forward's fold of its terms ... */
    int64_t count;                      /* ... and their number */
    int64_t mean_rows;                  /* > 0: backward takes the mean over this many
                                           rows, not the forward's (libnnf_dist) */
    double *parts;                      /* not NULL: the forward's micro-batch sums */
    int ready;
};

/* (float)(sum / count): a loss's value. */
float nnf__loss_mean(double sum, int64_t count);

nnf_status nnf__loss_backward(nnf_loss *loss, int overwrite);
/* The functional nnf_mse / nnf_cross_entropy and their backward, on throwaway scratch. */
nnf_status nnf__loss_value(const nnf__loss_fn *fn, const nnf_tensor *pred,
                           const nnf_tensor *targ, float *value);
nnf_status nnf__loss_grad(const nnf__loss_fn *fn, nnf_tensor *pred, const nnf_tensor *targ);

/* ---- Buffers and gradients (buffers.c) ---- */

/* Makes *t a contiguous tensor of this dtype and shape: kept as it is if it already is
 * one, else replaced by a new (uninitialised) one. On failure *t is unchanged. */
nnf_status nnf__reuse(nnf_tensor **t, nnf_dtype dtype, int ndim, const int64_t *shape);

/* 1 if view (may be NULL) is exactly a view of src with `shape`: the same storage,
 * offset and shape, both contiguous. */
int nnf__is_view(const nnf_tensor *view, const nnf_tensor *src, int ndim, const int64_t *shape);
/* Makes *view a view of src with `shape`, created only when *view is not already exactly
 * that view (same storage, offset and shape): a layer's output lives across steps, so
 * its reshaped view does too. src must be contiguous. */
nnf_status nnf__view_cached(nnf_tensor **view, const nnf_tensor *src, int ndim,
                            const int64_t *shape);

/* Where a backward writes (overwrites) the gradient of t: t's own `.g` when `overwrite`
 * is set (the model's activations, which it owns), else *tmp (reused, t's shape), which
 * nnf__grad_commit then adds to t's `.g` once everything else has succeeded, so that a
 * failure leaves the caller's gradient as it was, and no gradient where there was none. */
nnf_status nnf__grad_target(nnf_tensor *t, int overwrite, nnf_tensor **tmp,
                            nnf_tensor **target /* OUT, borrowed */);
/* Adds target into t's `.g`, or makes *tmp t's gradient when t has none (then *tmp is
 * NULL: t owns it). Cannot fail: an elementwise add into an existing tensor allocates
 * nothing. */
void nnf__grad_commit(nnf_tensor *t, const nnf_tensor *target, nnf_tensor **tmp);


/* t(ctx, i) for i in [0, n) are the tensors; on failure nothing changed. */
nnf_status nnf__grad_txn_begin(nnf__grad_txn *x, int n, nnf_tensor *(*t)(void *ctx, int i),
                               void *ctx);
/* nnf__grad_txn_begin for a backward whose only writes into these gradients are sgemm
 * accumulations with alpha 1 and beta 1 (Lin's, under the micro-batch rule). When every
 * gradient holds +0 throughout (after nnf_zero_grad, or new), the backward runs on the
 * gradients themselves: such sums started from +0 are never -0 (x + y is -0 only when
 * both are) and store canonical NaNs, so the +0 + S that commit would add is S itself.
 * That saves zeroing the scratch and the add pass (0.6 us of the chapter's 32 us step);
 * commit then does nothing and abort writes +0 back. Otherwise as nnf__grad_txn_begin. */
nnf_status nnf__grad_txn_begin_sums(nnf__grad_txn *x, int n,
                                    nnf_tensor *(*t)(void *ctx, int i), void *ctx);
/* The getter for an array of tensors: ctx is the array. */
nnf_tensor *nnf__tensor_array_at(void *array, int i);
void nnf__grad_txn_commit(nnf__grad_txn *x);
void nnf__grad_txn_abort(nnf__grad_txn *x);
void nnf__grad_txn_free(nnf__grad_txn *x);

/* 1 if an elementwise kernel may run on out and its nin inputs as one span, without the
 * elementwise engine (whose checks and walk cost ~90 ns a call, a third of the
 * chapter's SGD step): all contiguous with out's element count, which is below the
 * engine's threading size (2^17 elements, src/ops/eltwise_iter.c: the engine would run
 * the same kernel on one span), and each input either out's very elements (in place)
 * or sharing no memory with it. */
int nnf__one_span(const nnf_tensor *out, int nin, const nnf_tensor *const *in);

/* 1 if t has exactly this shape. */
int nnf__same_shape(const nnf_tensor *t, int ndim, const int64_t *shape);

/* Returns `code` with the current message prefixed, e.g. "layer 2 (Lin): <message>". */
nnf_status nnf__prefix_error(nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
