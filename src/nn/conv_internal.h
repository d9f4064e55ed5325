/* Shared by unfold.c, conv2d.c and conv2d_layer.c: the geometry of one 2-D convolution,
 * the two data movements (unfold into columns, fold columns back, adding), and the
 * convolution itself on reusable scratch tensors. */
#ifndef NNF_NN_CONV_INTERNAL_H
#define NNF_NN_CONV_INTERNAL_H

#include "nnf/tensor.h"

typedef struct {
    int64_t n, c, h, w;      /* input */
    int64_t kh, kw, stride, pad;
    int64_t oh, ow;          /* output spatial size */
    int64_t k, l;            /* rows (c * kh * kw) and columns (oh * ow) of one image's unfold */
} nnf__conv_geom;

/* x must be a 4-d float32 tensor; messages start with `fn`. */
nnf_status nnf__conv_check_input(const char *fn, const nnf_tensor *x);
/* Validates kernel, stride and padding against an (N, C, H, W) input and fills g. */
nnf_status nnf__conv_geometry(const char *fn, const int64_t *nchw, int kh, int kw, int stride,
                              int pad, nnf__conv_geom *g);

/* Column (row r, position p) of image n lives at cols[n * image_stride + r * row_stride + p].
 * F.unfold's (N, K, L) layout is row_stride L, image_stride K*L; the convolution uses
 * (K, N*L) — row_stride N*L, image_stride L — so that one matrix product covers the
 * whole batch. */
/* cols = unfold(x); x may be any strided view. */
void nnf__unfold_into(const nnf__conv_geom *g, const nnf_tensor *x, float *cols,
                      int64_t row_stride, int64_t image_stride);
/* x (contiguous N x C x H x W) += fold(cols). */
void nnf__fold_add(const nnf__conv_geom *g, const float *cols, int64_t row_stride,
                   int64_t image_stride, float *x);

/* Scratch tensors of one convolution, kept between calls while the shapes stay. */
typedef struct {
    nnf__conv_geom g;
    nnf_tensor *cols;        /* (K, N*L): unfold(x), batch side by side */
    nnf_tensor *out_cn;      /* (C_out, N*L): W @ cols + b */
    nnf_tensor *dout_cn;     /* (C_out, N*L): dout, channels first */
    nnf_tensor *dcols;       /* (K, N*L): W^T @ dout_cn */
    nnf_tensor *dw;          /* (C_out, K): one micro-batch's dL/dw (or a slice of it) */
    nnf_tensor *db;          /* (C_out): one micro-batch's dL/db */
    nnf_tensor *ones;        /* a micro-batch's N*L ones: db = dout @ ones */
} nnf__conv_work;

/* Checks x, w (C_out, C, kh, kw) and b (C_out or NULL) against each other, fills g. */
nnf_status nnf__conv2d_check(const char *fn, const nnf_tensor *x, const nnf_tensor *w,
                             const nnf_tensor *b, int stride, int pad, nnf__conv_geom *g);
/* out (contiguous, N x C_out x OH x OW) = conv2d(x, w, b), with wk->g set by the check
 * and w contiguous. Keeps the unfolded input in wk->cols for the backward pass. */
nnf_status nnf__conv2d_forward(nnf__conv_work *wk, const nnf_tensor *x, const nnf_tensor *w,
                               const nnf_tensor *b, nnf_tensor *out);
/* nnf_conv2d_nchw_backward with dloss/dy given as dout; messages start with fn. */
nnf_status nnf__conv2d_backward_dout(const char *fn, const nnf_tensor *dout, nnf_tensor *x,
                                     nnf_tensor *w, nnf_tensor *b, int stride, int padding,
                                     int need_x_grad);
/* From dout (N, C_out, OH, OW) and the forward's wk->cols: wg (contiguous) += dL/dw and
 * bg (contiguous) += dL/db (bg may be NULL) by the micro-batch rule — or, while a table
 * of deferred gradients lists w and b, their entries filled instead (nn_internal.h: the
 * products read wk until the next forward) — and xg (contiguous, x's shape; may be NULL)
 * gets dL/dx, added to it or, with xg_overwrite, replacing it. w is contiguous; b (NULL
 * without bias) only names the bias for the table. */
nnf_status nnf__conv2d_backward(nnf__conv_work *wk, const nnf_tensor *dout, const nnf_tensor *w,
                                const nnf_tensor *b, nnf_tensor *wg, nnf_tensor *bg,
                                nnf_tensor *xg, int xg_overwrite);
void nnf__conv_work_free(nnf__conv_work *wk);

#endif
