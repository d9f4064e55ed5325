/* What the files of src/nn share: the layouts behind nnf_layer and nnf_loss, the
 * workers behind the functional API, and the buffer helpers that let a training step
 * run without allocating. Built on the public headers only (tensor, ops, linalg). */
#ifndef NNF_NN_INTERNAL_H
#define NNF_NN_INTERNAL_H

#include "nnf/linalg.h"
#include "nnf/nn.h"
#include "nnf/ops.h"

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
    int ready;                          /* a forward has run since the output changed */
};

/* The forward and backward behind nnf_layer_forward / nnf_layer_backward, for the model:
 * `fresh_out_grad` 0 leaves the output's old gradient alone (the model overwrites it);
 * `overwrite` 1 writes the input's gradient instead of adding to it (the model's
 * activations have one consumer each, so adding to last step's values would be wrong
 * and zeroing them first would cost a pass over memory). */
nnf_status nnf__layer_forward(nnf_layer *layer, nnf_tensor *in, nnf_tensor **out,
                              int fresh_out_grad);
nnf_status nnf__layer_backward(nnf_layer *layer, int input_grad, int overwrite);

/* The tables of the built-in layers with parameters (lin.c, conv2d_layer.c): a saved
 * state_dict names their parameters "weight" and "bias", as nn.Linear and nn.Conv2d do,
 * which it can only do for layers it knows to be these. */
extern const nnf_layer_fn nnf__lin_fn;
extern const nnf_layer_fn nnf__conv2d_fn;

/* ---- The model (sequential.c) ---- */

/* To be called after every parameter was overwritten in place (nnf_model_load_npz). */
void nnf__model_weights_changed(nnf_model *model);

/* ---- Losses (loss.c, mse.c, cross_entropy.c) ---- */

#define NNF__LOSS_SCRATCH 6

/* A loss's forward computes the value and leaves in scratch[] what its backward needs;
 * its backward OVERWRITES grad (pred's shape) with dloss/dpred. The scratch tensors are
 * reused between calls through nnf__reuse / the ops' IN/OUT convention. */
typedef struct nnf__loss_fn {
    const char *name;
    nnf_status (*forward)(nnf_tensor **scratch, const nnf_tensor *pred, const nnf_tensor *targ,
                          float *value);
    nnf_status (*backward)(nnf_tensor **scratch, const nnf_tensor *pred, const nnf_tensor *targ,
                           nnf_tensor *grad);
} nnf__loss_fn;

extern const nnf__loss_fn nnf__mse_fn;
extern const nnf__loss_fn nnf__cross_entropy_fn;

struct nnf_loss {
    const nnf__loss_fn *fn;
    nnf_tensor *pred;                   /* borrowed, from the last forward */
    const nnf_tensor *targ;             /* borrowed */
    nnf_tensor *scratch[NNF__LOSS_SCRATCH];
    nnf_tensor *grad_tmp;
    int ready;
};

nnf_status nnf__loss_backward(nnf_loss *loss, int overwrite);
/* The functional nnf_mse / nnf_cross_entropy and their backward, on throwaway scratch. */
nnf_status nnf__loss_value(const nnf__loss_fn *fn, const nnf_tensor *pred,
                           const nnf_tensor *targ, float *value);
nnf_status nnf__loss_grad(const nnf__loss_fn *fn, nnf_tensor *pred, const nnf_tensor *targ);

/* ---- Buffers and gradients (buffers.c) ---- */

/* Makes *t a contiguous tensor of this dtype and shape: kept as it is if it already is
 * one, else replaced by a new (uninitialised) one. On failure *t is unchanged. */
nnf_status nnf__reuse(nnf_tensor **t, nnf_dtype dtype, int ndim, const int64_t *shape);

/* Makes *view a view of src with `shape`, created only when *view is not already exactly
 * that view (same storage, offset and shape): a layer's output lives across steps, so
 * its reshaped view does too. src must be contiguous. */
nnf_status nnf__view_cached(nnf_tensor **view, const nnf_tensor *src, int ndim,
                            const int64_t *shape);

/* Where a backward writes the gradient of t: t's own `.g` when `overwrite` is set or t has
 * no gradient yet (a zero gradient plus g is g), else *tmp (reused, t's shape), which
 * nnf__grad_commit then adds to t's `.g`. */
nnf_status nnf__grad_target(nnf_tensor *t, int overwrite, nnf_tensor **tmp,
                            nnf_tensor **target /* OUT, borrowed */);
nnf_status nnf__grad_commit(nnf_tensor *t, const nnf_tensor *target);

/* 1 if t has exactly this shape. */
int nnf__same_shape(const nnf_tensor *t, int ndim, const int64_t *shape);

/* Returns `code` with the current message prefixed, e.g. "layer 2 (Lin): <message>". */
nnf_status nnf__prefix_error(nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
