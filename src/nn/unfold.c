/* unfold (im2col) and its adjoint fold (col2im): the data movement that turns a 2-D
 * convolution into one matrix product, as the chapter's "further research" suggests.
 *
 * Column layout is PyTorch's F.unfold: cols[n, (c * kh + i) * kw + j, oh * OW + ow]
 * = x[n, c, oh * stride - pad + i, ow * stride - pad + j], zero outside the image.
 * Both directions walk the same fixed loop order, so fold's sums come out the same on
 * every ISA and thread count (threads split images, never one image's sums).
 */
#include "nnf/conv.h"

#include <inttypes.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/nn/conv_internal.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"

nnf_status nnf__conv_check_input(const char *fn, const nnf_tensor *x)
{
    NNF_RETURN_IF(nnf_tensor_dtype(x) != NNF_F32, NNF_ERR_DTYPE, "%s: input must be float32", fn);
    NNF_RETURN_IF(nnf_tensor_ndim(x) != 4, NNF_ERR_SHAPE,
                  "%s: expected a 4-d input (N, C, H, W), got %d dims", fn, nnf_tensor_ndim(x));
    return NNF_OK;
}

nnf_status nnf__conv_geometry(const char *fn, const int64_t *nchw, int kh, int kw, int stride,
                              int pad, nnf__conv_geom *g)
{
    NNF_RETURN_IF(kh < 1 || kw < 1, NNF_ERR_INVALID,
                  "%s: kernel size must be >= 1, got %dx%d", fn, kh, kw);
    NNF_RETURN_IF(stride < 1, NNF_ERR_INVALID, "%s: stride must be >= 1, got %d", fn, stride);
    NNF_RETURN_IF(pad < 0, NNF_ERR_INVALID, "%s: padding must be >= 0, got %d", fn, pad);
    g->n = nchw[0];
    g->c = nchw[1];
    g->h = nchw[2];
    g->w = nchw[3];
    int64_t ph, pw, nl, kl;
    /* Sizes come from the caller (fold's h and w, a layer's kernel): every product and
     * sum is checked, up to the (K, N*L) column matrix the convolution allocates. */
    NNF_RETURN_IF(nnf__add_ovf(g->h, 2 * (int64_t)pad, &ph) ||
                      nnf__add_ovf(g->w, 2 * (int64_t)pad, &pw),
                  NNF_ERR_OVERFLOW, "%s: the padded input size overflows int64", fn);
    NNF_RETURN_IF(ph < kh || pw < kw, NNF_ERR_SHAPE,
                  "%s: kernel %dx%d is larger than the padded input %" PRId64 "x%" PRId64, fn,
                  kh, kw, ph, pw);
    g->kh = kh;
    g->kw = kw;
    g->stride = stride;
    g->pad = pad;
    g->oh = (ph - kh) / stride + 1;
    g->ow = (pw - kw) / stride + 1;
    NNF_RETURN_IF(nnf__mul_ovf(g->c, (int64_t)kh * kw, &g->k) ||
                      nnf__mul_ovf(g->oh, g->ow, &g->l) || nnf__mul_ovf(g->n, g->l, &nl) ||
                      nnf__mul_ovf(g->k, nl, &kl),
                  NNF_ERR_OVERFLOW,
                  "%s: the unfolded input, %" PRId64 " channels x %dx%d kernel by %" PRId64
                  " images x %" PRId64 "x%" PRId64 " positions, has more elements than int64 "
                  "holds", fn, g->c, kh, kw, g->n, g->oh, g->ow);
    return NNF_OK;
}

/* The ow range [lo, hi) whose input column ow * stride - pad + j lies inside [0, w). */
static void valid_range(const nnf__conv_geom *g, int64_t j, int64_t *lo, int64_t *hi)
{
    int64_t first = g->pad - j;   /* need ow * stride >= pad - j */
    *lo = first <= 0 ? 0 : (first + g->stride - 1) / g->stride;
    int64_t last = g->w - 1 + g->pad - j;   /* need ow * stride <= w - 1 + pad - j */
    *hi = last < 0 ? 0 : last / g->stride + 1;
    if (*hi > g->ow) *hi = g->ow;
    if (*lo > *hi) *lo = *hi;
}

typedef struct {
    const nnf__conv_geom *g;
    const float *xd;
    const int64_t *xs;
    float *cols, *x;
    const float *cols_in;
    int64_t row_stride, image_stride;
} images_job;

/* Threads for a whole batch of images: more than 64K column elements. */
static int image_threads(const nnf__conv_geom *g)
{
    return g->n * g->k * g->l > 65536 ? nnf__threads_for_call() : 1;
}

static void unfold_images(void *ctx, int64_t n0, int64_t n1, int participant)
{
    (void)participant;
    const images_job *jb = ctx;
    const nnf__conv_geom *g = jb->g;
    const float *xd = jb->xd;
    const int64_t *xs = jb->xs;
    float *cols = jb->cols;
    int64_t row_stride = jb->row_stride, image_stride = jb->image_stride;
    for (int64_t n = n0; n < n1; n++) {
        for (int64_t c = 0; c < g->c; c++) {
            for (int64_t i = 0; i < g->kh; i++) {
                for (int64_t j = 0; j < g->kw; j++) {
                    float *o =
                        cols + n * image_stride + ((c * g->kh + i) * g->kw + j) * row_stride;
                    int64_t lo, hi;
                    valid_range(g, j, &lo, &hi);
                    for (int64_t oh = 0; oh < g->oh; oh++, o += g->ow) {
                        int64_t ih = oh * g->stride - g->pad + i;
                        if (ih < 0 || ih >= g->h) {
                            memset(o, 0, (size_t)g->ow * sizeof *o);
                            continue;
                        }
                        /* Element (ih, ow * stride - pad + j); an index, not a pointer,
                         * because it may start left of the row for ow < lo. */
                        int64_t base = n * xs[0] + c * xs[1] + ih * xs[2] + (j - g->pad) * xs[3];
                        int64_t step = g->stride * xs[3];
                        for (int64_t ow = 0; ow < lo; ow++) o[ow] = 0.0f;
                        /* stride 1 over a contiguous row, the common case, is a memcpy */
                        if (step == 1)
                            memcpy(o + lo, xd + base + lo, (size_t)(hi - lo) * sizeof *o);
                        else
                            for (int64_t ow = lo; ow < hi; ow++) o[ow] = xd[base + ow * step];
                        for (int64_t ow = hi; ow < g->ow; ow++) o[ow] = 0.0f;
                    }
                }
            }
        }
    }
}

void nnf__unfold_into(const nnf__conv_geom *g, const nnf_tensor *x, float *cols,
                      int64_t row_stride, int64_t image_stride)
{
    images_job jb = {g, nnf_tensor_const_data(x), nnf_tensor_strides(x), cols, NULL, NULL,
                     row_stride, image_stride};
    nnf__parallel_ranges(image_threads(g), g->n, 1, unfold_images, &jb);
}

static void fold_images(void *ctx, int64_t n0, int64_t n1, int participant)
{
    (void)participant;
    const images_job *jb = ctx;
    const nnf__conv_geom *g = jb->g;
    const float *cols = jb->cols_in;
    float *x = jb->x;
    int64_t row_stride = jb->row_stride, image_stride = jb->image_stride;
    for (int64_t n = n0; n < n1; n++) {
        for (int64_t c = 0; c < g->c; c++) {
            for (int64_t i = 0; i < g->kh; i++) {
                for (int64_t j = 0; j < g->kw; j++) {
                    const float *o =
                        cols + n * image_stride + ((c * g->kh + i) * g->kw + j) * row_stride;
                    int64_t lo, hi;
                    valid_range(g, j, &lo, &hi);
                    for (int64_t oh = 0; oh < g->oh; oh++, o += g->ow) {
                        int64_t ih = oh * g->stride - g->pad + i;
                        if (ih < 0 || ih >= g->h) continue;
                        int64_t base = ((n * g->c + c) * g->h + ih) * g->w + (j - g->pad);
                        float *row = x + base + lo * g->stride;
                        /* a separate stride-1 loop is one the compiler can vectorise */
                        if (g->stride == 1)
                            for (int64_t ow = lo; ow < hi; ow++) row[ow - lo] += o[ow];
                        else
                            for (int64_t ow = lo; ow < hi; ow++)
                                row[(ow - lo) * g->stride] += o[ow];
                    }
                }
            }
        }
    }
}

void nnf__fold_add(const nnf__conv_geom *g, const float *cols, int64_t row_stride,
                   int64_t image_stride, float *x)
{
    images_job jb = {g, NULL, NULL, NULL, x, cols, row_stride, image_stride};
    nnf__parallel_ranges(image_threads(g), g->n, 1, fold_images, &jb);
}

/* *out NULL: a new tensor of `shape`; else it must be contiguous float32 of that shape. */
static nnf_status prepare_out(const char *fn, nnf_tensor **out, int ndim, const int64_t *shape)
{
    if (*out == NULL) return NNF_OK;
    int same = nnf_tensor_ndim(*out) == ndim && nnf_tensor_dtype(*out) == NNF_F32 &&
               nnf_tensor_is_contiguous(*out);
    for (int d = 0; same && d < ndim; d++) same = nnf_tensor_size(*out, d) == shape[d];
    NNF_RETURN_IF(!same, NNF_ERR_SHAPE,
                  "%s: out must be a contiguous float32 tensor of shape [%" PRId64 ", %" PRId64
                  ", %" PRId64 "%s", fn, shape[0], shape[1], shape[2], ndim == 4 ? ", ...]" : "]");
    return NNF_OK;
}

nnf_status nnf_unfold(nnf_tensor **out, const nnf_tensor *x, int kh, int kw, int stride, int pad)
{
    NNF_PUBLIC("nnf_unfold");
    NNF_RETURN_IF(!out || !x, NNF_ERR_NULL, "nnf_unfold: argument %s is NULL", !out ? "out" : "x");
    NNF_FORWARD(nnf__conv_check_input("nnf_unfold", x));
    nnf__conv_geom g;
    NNF_FORWARD(nnf__conv_geometry("nnf_unfold", nnf_tensor_shape(x), kh, kw, stride, pad, &g));
    const int64_t shape[3] = {g.n, g.k, g.l};
    NNF_FORWARD(prepare_out("nnf_unfold", out, 3, shape));
    NNF_RETURN_IF(*out && nnf_tensor_shares_storage(*out, x), NNF_ERR_INVALID,
                  "nnf_unfold: out must not share storage with x");
    nnf_tensor *t = *out;
    if (!t) NNF_FORWARD(nnf_empty(&t, 3, shape));
    nnf__unfold_into(&g, x, nnf_tensor_data(t), g.l, g.k * g.l);
    *out = t;
    return NNF_OK;
}

nnf_status nnf_fold(nnf_tensor **out, const nnf_tensor *cols, int64_t h, int64_t w, int kh,
                    int kw, int stride, int pad)
{
    NNF_PUBLIC("nnf_fold");
    NNF_RETURN_IF(!out || !cols, NNF_ERR_NULL, "nnf_fold: argument %s is NULL",
                  !out ? "out" : "cols");
    NNF_RETURN_IF(nnf_tensor_dtype(cols) != NNF_F32, NNF_ERR_DTYPE,
                  "nnf_fold: cols must be float32");
    NNF_RETURN_IF(nnf_tensor_ndim(cols) != 3, NNF_ERR_SHAPE,
                  "nnf_fold: expected 3-d cols (N, C*kh*kw, L), got %d dims",
                  nnf_tensor_ndim(cols));
    NNF_RETURN_IF(h < 1 || w < 1, NNF_ERR_INVALID,
                  "nnf_fold: output size must be >= 1, got %" PRId64 "x%" PRId64, h, w);
    NNF_RETURN_IF(kh < 1 || kw < 1, NNF_ERR_INVALID,
                  "nnf_fold: kernel size must be >= 1, got %dx%d", kh, kw);
    const int64_t *cs = nnf_tensor_shape(cols);
    NNF_RETURN_IF(cs[1] % ((int64_t)kh * kw) != 0, NNF_ERR_SHAPE,
                  "nnf_fold: cols dim 1 (%" PRId64 ") is not a multiple of kh*kw (%d)", cs[1],
                  kh * kw);
    /* The geometry of the image being folded into, checked as unfold would check it. */
    const int64_t shape[4] = {cs[0], cs[1] / ((int64_t)kh * kw), h, w};
    nnf__conv_geom g;
    NNF_FORWARD(nnf__conv_geometry("nnf_fold", shape, kh, kw, stride, pad, &g));
    NNF_RETURN_IF(cs[2] != g.l, NNF_ERR_SHAPE,
                  "nnf_fold: cols has %" PRId64 " positions but a %" PRId64 "x%" PRId64
                  " output with kernel %dx%d, stride %d, padding %d has %" PRId64 " (%" PRId64
                  "x%" PRId64 ")", cs[2], h, w, kh, kw, stride, pad, g.l, g.oh, g.ow);
    NNF_FORWARD(prepare_out("nnf_fold", out, 4, shape));
    NNF_RETURN_IF(*out && nnf_tensor_shares_storage(*out, cols), NNF_ERR_INVALID,
                  "nnf_fold: out must not share storage with cols");
    nnf_tensor *c = NULL, *t = *out;
    NNF_FORWARD(nnf_contiguous(&c, cols));
    nnf_status st = t ? nnf_fill(t, 0.0f) : nnf_zeros(&t, 4, shape);
    if (st == NNF_OK) nnf__fold_add(&g, nnf_tensor_const_data(c), g.l, g.k * g.l, nnf_tensor_data(t));
    nnf_tensor_free(c);
    if (st != NNF_OK) return st;
    *out = t;
    return NNF_OK;
}
