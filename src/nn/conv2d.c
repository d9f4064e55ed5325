/* conv2d as unfold + matmul, forward beside backward.
 *
 * The batch's columns sit side by side, cols = (K, N*L) with K = C*kh*kw, L = OH*OW, so
 * each pass is ONE matrix product over the whole batch rather than N small ones (for
 * the example CNN's first layer, a single 8x9 @ 9x100352 product instead of 128 of
 * 8x9 @ 9x784, whose narrow shape keeps sgemm far from its peak):
 *
 *   forward:  cols   = unfold(x)                       (K, N*L)
 *             out_cn = W (C_out, K) @ cols + b          (C_out, N*L)
 *             out    = out_cn as (N, C_out, OH, OW)     one transposing copy
 *   backward: dout_cn = dout as (C_out, N*L)            one transposing copy
 *             b.g += dout_cn @ ones                     by the micro-batch rule
 *             W.g += dout_cn @ cols^T                   (C_out, K), by the rule
 *             x.g += fold(W^T @ dout_cn)
 * Every product runs on nnf_sgemm, so the convolution gives the same bits on every ISA
 * and thread count; the parameter gradients sum over images in micro-batches
 * (nn_internal.h), so they are also the same bits however a batch is split over ranks.
 */
#include "nnf/conv.h"

#include <inttypes.h>
#include <string.h>

#include "nnf/linalg.h"
#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/nn/conv_internal.h"
#include "src/nn/nn_internal.h"

nnf_status nnf__conv2d_check(const char *fn, const nnf_tensor *x, const nnf_tensor *w,
                             const nnf_tensor *b, int stride, int pad, nnf__conv_geom *g)
{
    NNF_FORWARD(nnf__conv_check_input(fn, x));
    NNF_RETURN_IF(nnf_tensor_dtype(w) != NNF_F32 || nnf_tensor_ndim(w) != 4, NNF_ERR_SHAPE,
                  "%s: weight must be a 4-d float32 tensor (C_out, C, kh, kw), got %d dims",
                  fn, nnf_tensor_ndim(w));
    const int64_t *ws = nnf_tensor_shape(w);
    NNF_RETURN_IF(ws[1] != nnf_tensor_size(x, 1), NNF_ERR_SHAPE,
                  "%s: weight of shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                  "] expects %" PRId64 " input channels, but the input has %" PRId64, fn,
                  ws[0], ws[1], ws[2], ws[3], ws[1], nnf_tensor_size(x, 1));
    NNF_RETURN_IF(ws[2] > INT32_MAX || ws[3] > INT32_MAX, NNF_ERR_INVALID,
                  "%s: kernel %" PRId64 "x%" PRId64 " is too large", fn, ws[2], ws[3]);
    NNF_RETURN_IF(b && (nnf_tensor_dtype(b) != NNF_F32 || nnf_tensor_ndim(b) != 1 ||
                        nnf_tensor_size(b, 0) != ws[0]), NNF_ERR_SHAPE,
                  "%s: bias must be a 1-d float32 tensor of %" PRId64 " (C_out) elements", fn,
                  ws[0]);
    return nnf__conv_geometry(fn, nnf_tensor_shape(x), (int)ws[2], (int)ws[3], stride, pad, g);
}

void nnf__conv_work_free(nnf__conv_work *wk)
{
    nnf_tensor_free(wk->cols);
    nnf_tensor_free(wk->out_cn);
    nnf_tensor_free(wk->dout_cn);
    nnf_tensor_free(wk->dcols);
    nnf_tensor_free(wk->db);
    nnf_tensor_free(wk->dw);
    nnf_tensor_free(wk->ones);
    *wk = (nnf__conv_work){0};
}

static nnf_status unfold_batch(nnf__conv_work *wk, const nnf_tensor *x)
{
    const nnf__conv_geom *g = &wk->g;
    NNF_FORWARD(nnf__reuse(&wk->cols, NNF_F32, NNF_SHAPE(g->k, g->n * g->l)));
    nnf__unfold_into(g, x, nnf_tensor_data(wk->cols), g->n * g->l, g->l);
    return NNF_OK;
}

/* dst (d0, d1, L) = src (d1, d0, L), the first two dims swapped: rows of L floats move
 * whole, so this is d0 * d1 memcpys. */
static void swap_leading(float *dst, const float *src, int64_t d0, int64_t d1, int64_t l)
{
    for (int64_t i = 0; i < d0; i++)
        for (int64_t j = 0; j < d1; j++)
            memcpy(dst + (i * d1 + j) * l, src + (j * d0 + i) * l, (size_t)l * sizeof *dst);
}

/* The products call nnf_sgemm on the raw buffers: no tensor views to create, so a step
 * allocates nothing once the scratch exists. w is contiguous (checked by the callers). */
nnf_status nnf__conv2d_forward(nnf__conv_work *wk, const nnf_tensor *x, const nnf_tensor *w,
                               const nnf_tensor *b, nnf_tensor *out)
{
    const nnf__conv_geom *g = &wk->g;
    int64_t cout = nnf_tensor_size(w, 0), nl = g->n * g->l;
    NNF_FORWARD(unfold_batch(wk, x));
    NNF_FORWARD(nnf__reuse(&wk->out_cn, NNF_F32, NNF_SHAPE(cout, nl)));
    float *o = nnf_tensor_data(wk->out_cn);
    /* out_cn = b (each row its channel's bias) + W @ cols: the bias rides in as beta = 1 */
    const float *bd = b ? nnf_tensor_const_data(b) : NULL;
    const int64_t bstride = b ? nnf_tensor_strides(b)[0] : 0;
    for (int64_t c = 0; c < cout; c++)
        for (int64_t p = 0; p < nl; p++) o[c * nl + p] = bd ? bd[c * bstride] : 0.0f;
    NNF_FORWARD(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, (size_t)cout, (size_t)nl, (size_t)g->k, 1.0f,
                          nnf_tensor_const_data(w), (size_t)g->k, nnf_tensor_data(wk->cols), (size_t)nl,
                          1.0f, o, (size_t)nl));
    swap_leading(nnf_tensor_data(out), o, g->n, cout, g->l);
    return NNF_OK;
}

/* dst += src, element by element in order (the fold of one micro-batch's partial). */
static void add_into(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

/* Images [n0, n0 + NNF__MICRO_BATCH) as steps of k: their columns of dout_cn and cols. */
static size_t micro_batch_steps(const nnf__conv_geom *g, int64_t n0)
{
    return (size_t)((g->n - n0 < NNF__MICRO_BATCH ? g->n - n0 : NNF__MICRO_BATCH) * g->l);
}

/* Block `blk` of W.g (C_out, K) added to dst by the micro-batch rule, from wk->dout_cn
 * and wk->cols: micro-batch i, NNF__MICRO_BATCH images = that many x L columns, gives
 * dW_i = dout_i @ cols_i^T from zero into wk->dw, added to dst in micro-batch order.
 * A micro-batch spans several KC blocks of k, so dW_i is summed apart before it is
 * added (an sgemm with beta = 1 would add block by block). The single process's
 * backward runs it over the whole gradient, libnnf_dist's fold one slice of it at a
 * time (nnf__deferred_grad). */
static nnf_status add_weight_grad(void *ctx, float *dst, nnf__block blk)
{
    nnf__conv_work *wk = ctx;
    const nnf__conv_geom *g = &wk->g;
    const size_t nl = (size_t)(g->n * g->l);
    const float *d = nnf_tensor_const_data(wk->dout_cn), *cols = nnf_tensor_const_data(wk->cols);
    float *dw = nnf_tensor_data(wk->dw);
    for (int64_t n0 = 0; n0 < g->n; n0 += NNF__MICRO_BATCH) {
        const size_t p0 = (size_t)(n0 * g->l);
        NNF_FORWARD(nnf_sgemm(NNF_NO_TRANS, NNF_TRANS, blk.rows, blk.cols,
                              micro_batch_steps(g, n0), 1.0f, d + blk.row * nl + p0, nl,
                              cols + blk.col * nl + p0, nl, 0.0f, dw, blk.cols));
        add_into(dst, dw, blk.rows * blk.cols);
    }
    return NNF_OK;
}

/* Block `blk` of b.g (1 x C_out) the same way: db_i = dout_i @ ones. */
static nnf_status add_bias_grad(void *ctx, float *dst, nnf__block blk)
{
    nnf__conv_work *wk = ctx;
    const nnf__conv_geom *g = &wk->g;
    const size_t nl = (size_t)(g->n * g->l);
    const float *d = nnf_tensor_const_data(wk->dout_cn);
    float *db = nnf_tensor_data(wk->db);
    for (int64_t n0 = 0; n0 < g->n; n0 += NNF__MICRO_BATCH) {
        NNF_FORWARD(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, blk.cols, 1, micro_batch_steps(g, n0),
                              1.0f, d + blk.col * nl + (size_t)(n0 * g->l), nl,
                              nnf_tensor_const_data(wk->ones), 1, 0.0f, db, 1));
        add_into(dst, db, blk.cols);
    }
    return NNF_OK;
}

/* W.g and b.g by the micro-batch rule (nn_internal.h), from wk->dout_cn: added to wg and
 * bg, or, while a table of deferred gradients lists w and b (libnnf_dist), left for its
 * fold to compute slice by slice. The scratch is sized before the first gradient is
 * touched. */
static nnf_status param_grads(nnf__conv_work *wk, int64_t cout, const nnf_tensor *w,
                              const nnf_tensor *b, nnf_tensor *wg, nnf_tensor *bg)
{
    const nnf__conv_geom *g = &wk->g;
    const int64_t span = (g->n < NNF__MICRO_BATCH ? g->n : NNF__MICRO_BATCH) * g->l;
    nnf__deferred_grad *w_later = nnf__deferred_grad_of(w);
    nnf__deferred_grad *b_later = w_later != NULL && b != NULL ? nnf__deferred_grad_of(b) : NULL;
    const int bias = w_later != NULL ? b_later != NULL : bg != NULL;
    NNF_FORWARD(nnf__reuse(&wk->dw, NNF_F32, NNF_SHAPE(cout, g->k)));
    if (bias)
        NNF_FORWARD(nnf__reuse(&wk->db, NNF_F32, NNF_SHAPE(cout)));
    if (bias && (wk->ones == NULL || nnf_tensor_numel(wk->ones) != span)) {
        NNF_FORWARD(nnf__reuse(&wk->ones, NNF_F32, NNF_SHAPE(span)));
        NNF_FORWARD(nnf_fill(wk->ones, 1.0f));
    }
    if (w_later != NULL) {
        *w_later = (nnf__deferred_grad){add_weight_grad, wk};
        if (b_later != NULL)
            *b_later = (nnf__deferred_grad){add_bias_grad, wk};
        return NNF_OK;
    }
    NNF_FORWARD(add_weight_grad(wk, nnf_tensor_data(wg),
                                (nnf__block){0, (size_t)cout, 0, (size_t)g->k}));
    return bias ? add_bias_grad(wk, nnf_tensor_data(bg), (nnf__block){0, 1, 0, (size_t)cout})
                : NNF_OK;
}

nnf_status nnf__conv2d_backward(nnf__conv_work *wk, const nnf_tensor *dout, const nnf_tensor *w,
                                const nnf_tensor *b, nnf_tensor *wg, nnf_tensor *bg,
                                nnf_tensor *xg, int xg_overwrite)
{
    const nnf__conv_geom *g = &wk->g;
    int64_t cout = nnf_tensor_size(w, 0), nl = g->n * g->l;
    NNF_RETURN_IF(!nnf_tensor_is_contiguous(wg) || (bg && !nnf_tensor_is_contiguous(bg)) ||
                      (xg && !nnf_tensor_is_contiguous(xg)),
                  NNF_ERR_STRIDE, "conv2d backward: gradients must be contiguous");
    /* Everything that allocates runs before the first gradient is touched. */
    nnf_tensor *dc = NULL;
    nnf_status st = nnf__reuse(&wk->dout_cn, NNF_F32, NNF_SHAPE(cout, nl));
    if (st == NNF_OK && !nnf_tensor_is_contiguous(dout)) st = nnf_contiguous(&dc, dout);
    if (st == NNF_OK && xg) st = nnf__reuse(&wk->dcols, NNF_F32, NNF_SHAPE(g->k, nl));
    if (st != NNF_OK) return st;
    float *d = nnf_tensor_data(wk->dout_cn);
    swap_leading(d, nnf_tensor_data(dc ? dc : dout), cout, g->n, g->l);
    nnf_tensor_free(dc);
    NNF_FORWARD(param_grads(wk, cout, w, b, wg, bg));
    if (!xg) return NNF_OK;
    /* x.g (+)= fold(W^T @ dout_cn) */
    NNF_FORWARD(nnf_sgemm(NNF_TRANS, NNF_NO_TRANS, (size_t)g->k, (size_t)nl, (size_t)cout, 1.0f,
                          nnf_tensor_const_data(w), (size_t)g->k, d, (size_t)nl, 0.0f,
                          nnf_tensor_data(wk->dcols), (size_t)nl));
    if (xg_overwrite) NNF_FORWARD(nnf_fill(xg, 0.0f));
    nnf__fold_add(g, nnf_tensor_data(wk->dcols), nl, g->l, nnf_tensor_data(xg));
    return NNF_OK;
}

nnf_status nnf_conv2d_nchw(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *w,
                           const nnf_tensor *b, int stride, int padding)
{
    NNF_PUBLIC("nnf_conv2d_nchw");
    NNF_RETURN_IF(!out || !x || !w, NNF_ERR_NULL, "nnf_conv2d_nchw: argument %s is NULL",
                  !out ? "out" : !x ? "x" : "w");
    nnf__conv_work wk = {0};
    NNF_FORWARD(nnf__conv2d_check("nnf_conv2d_nchw", x, w, b, stride, padding, &wk.g));
    const int64_t shape[4] = {wk.g.n, nnf_tensor_size(w, 0), wk.g.oh, wk.g.ow};
    if (*out) {
        NNF_RETURN_IF(!nnf__same_shape(*out, 4, shape) || nnf_tensor_dtype(*out) != NNF_F32 ||
                      !nnf_tensor_is_contiguous(*out), NNF_ERR_SHAPE,
                      "nnf_conv2d_nchw: out must be a contiguous float32 tensor of shape [%" PRId64
                      ", %" PRId64 ", %" PRId64 ", %" PRId64 "]", shape[0], shape[1], shape[2],
                      shape[3]);
        NNF_RETURN_IF(nnf_tensor_shares_storage(*out, x), NNF_ERR_INVALID,
                      "nnf_conv2d_nchw: out must not share storage with x");
    }
    nnf_tensor *t = *out, *wc = NULL;
    nnf_status st = nnf_contiguous(&wc, w);
    if (st == NNF_OK && !t) st = nnf_empty(&t, 4, shape);
    if (st == NNF_OK) st = nnf__conv2d_forward(&wk, x, wc, b, t);
    nnf_tensor_free(wc);
    nnf__conv_work_free(&wk);
    if (st != NNF_OK) {
        if (t != *out) nnf_tensor_free(t);
        return st;
    }
    *out = t;
    return NNF_OK;
}

/* The backward with dloss/dy given explicitly: nnf_conv2d_nchw_backward's, and the
 * deprecated nnf_conv2d_backward's (src/deprecated.c). */
nnf_status nnf__conv2d_backward_dout(const char *fn, const nnf_tensor *dout, nnf_tensor *x,
                                     nnf_tensor *w, nnf_tensor *b, int stride, int padding,
                                     int need_x_grad)
{
    NNF_RETURN_IF(!dout || !x || !w, NNF_ERR_NULL, "%s: argument %s is NULL", fn,
                  !dout ? "dout" : !x ? "x" : "w");
    nnf__conv_work wk = {0};
    NNF_FORWARD(nnf__conv2d_check(fn, x, w, b, stride, padding, &wk.g));
    const int64_t shape[4] = {wk.g.n, nnf_tensor_size(w, 0), wk.g.oh, wk.g.ow};
    NNF_RETURN_IF(!nnf__same_shape(dout, 4, shape), NNF_ERR_SHAPE,
                  "%s: dout (y's gradient) must have the output's shape [%" PRId64 ", %" PRId64
                  ", %" PRId64 ", %" PRId64 "]", fn, shape[0], shape[1], shape[2], shape[3]);
    /* The gradients are accumulated in a transaction's scratch and added at the end, so a
     * failure leaves them as they were (none appears where there was none). */
    nnf_tensor *wg = NULL, *bg = NULL, *xg = NULL, *wc = NULL;
    nnf_tensor *grads[3] = {w};
    int ngrads = 1;
    if (need_x_grad) grads[ngrads++] = x;
    if (b) grads[ngrads++] = b;
    nnf__grad_txn txn = {0};
    nnf_status st = nnf_contiguous(&wc, w);
    if (st == NNF_OK) st = unfold_batch(&wk, x);
    if (st == NNF_OK)
        st = nnf__grad_txn_begin(&txn, ngrads, nnf__tensor_array_at, grads);
    if (st == NNF_OK) {
        st = nnf_tensor_grad_get(w, &wg);
        if (st == NNF_OK && b) st = nnf_tensor_grad_get(b, &bg);
        if (st == NNF_OK && need_x_grad) st = nnf_tensor_grad_get(x, &xg);
        if (st == NNF_OK) st = nnf__conv2d_backward(&wk, dout, wc, b, wg, bg, xg, 0);
        if (st == NNF_OK)
            nnf__grad_txn_commit(&txn);
        else
            nnf__grad_txn_abort(&txn);
    }
    nnf__grad_txn_free(&txn);
    nnf_tensor_free(wc);
    nnf__conv_work_free(&wk);
    return st;
}

nnf_status nnf_conv2d_nchw_backward(nnf_tensor *x, const nnf_tensor *y, nnf_tensor *w,
                                    nnf_tensor *b, int stride, int padding, int input_grad)
{
    static const char fn[] = "nnf_conv2d_nchw_backward";
    NNF_PUBLIC(fn);
    NNF_RETURN_IF(!y, NNF_ERR_NULL, "%s: argument y is NULL", fn);
    const nnf_tensor *gy = nnf_tensor_grad(y);
    NNF_RETURN_IF(!gy, NNF_ERR_STATE,
                  "%s: y has no gradient; set y's gradient (nnf_tensor_grad_get) or run the "
                  "backward of what consumed y first", fn);
    return nnf__conv2d_backward_dout(fn, gy, x, w, b, stride, padding, input_grad);
}
