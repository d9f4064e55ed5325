/* The linear layer, forward beside backward: the chapter's lin and lin_grad.
 *
 *     forward:   y   = x @ w.t() + b           (x: N x n_in, w: n_out x n_in, b: n_out)
 *     backward:  w.g += y.g.t() @ x     b.g += y.g.sum(0)     x.g = y.g @ w
 *
 * w.g and b.g sum over the batch: they follow the micro-batch rule (nn_internal.h), one
 * sgemm whose sums restart every NNF__MICRO_BATCH rows. y and x.g are row by row: each
 * row's sums never see another row, so any split of the batch gives the same rows.
 *
 * Every product is one nnf_sgemm on the tensors' memory as it lies: w.t() and y.g.t()
 * are TRANS flags, never copies or view objects, so a step allocates nothing. The bias
 * goes in as products with a row of ones, which sgemm does faster than the broadcasting
 * ops (measured, 4096 x 512 / the chapter's 200 x 50):
 *   y = ones(N x 1) @ b(1 x n_out), then y += x @ w.t() (beta 1, like torch.addmm):
 *       0.50 ms / 1.2 us, against 1.5 ms / 2.7 us for nnf_copy broadcasting b;
 *   b.g += ones(1 x N) @ y.g:
 *       0.42 ms / 0.8 us, against 0.86 ms / 4.2 us for nnf_sum over dim 0.
 * ones(N x 1) @ b is exactly b (one product by 1.0 per element). */
#include "src/nn/nn_internal.h"

#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/core/plant.h"
#include "kernels/sgemm_kernels.h"
#include "src/linalg/matmul.h"
#include "src/ops/eltwise_iter.h"

static nnf_trans flip(nnf_trans t)
{
    return t == NNF_TRANS ? NNF_NO_TRANS : NNF_TRANS;
}

/* c = beta * c + op_a(a) @ op_b(b), each element's sum restarting every `period` steps
 * of k (NNF__SGEMM_KC: nnf_sgemm's own blocks; NNF__MICRO_BATCH for the sums over the
 * batch), then the post-ops (NULL: none; only for a c that sgemm can address). Shapes
 * are the caller's to check. */
static nnf_status gemm(size_t period, nnf_trans op_a, const nnf_tensor *a, nnf_trans op_b,
                       const nnf_tensor *b, float beta, nnf_tensor *c,
                       const nnf__sgemm_post *post)
{
    nnf__gemm_layout la, lb, lc;
    int c_ok = nnf__gemm_layout_of_tensor(c, &lc) && lc.trans == NNF_NO_TRANS;
    if (c_ok && nnf__gemm_layout_of_tensor(a, &la) && nnf__gemm_layout_of_tensor(b, &lb)) {
        const int64_t *sa = nnf_tensor_shape(a), *sc = nnf_tensor_shape(c);
        size_t m = (size_t)sc[0], n = (size_t)sc[1];
        size_t k = (size_t)(op_a == NNF_NO_TRANS ? sa[1] : sa[0]);
        /* a tensor stored transposed is read with the opposite flag */
        nnf_trans ta = la.trans == NNF_TRANS ? flip(op_a) : op_a;
        nnf_trans tb = lb.trans == NNF_TRANS ? flip(op_b) : op_b;
        return nnf__sgemm_fused(period, ta, tb, m, n, k, 1.0f, nnf_tensor_const_data(a),
                                la.ld, nnf_tensor_const_data(b), lb.ld, beta,
                                nnf_tensor_data(c), lc.ld, post);
    }
    nnf_tensor *at = NULL, *bt = NULL;
    nnf_status st = NNF_OK;
    if (c_ok) {
        /* Operands sgemm cannot address (stride-0 rows, steps) as contiguous copies,
         * which it can: nnf_gemm knows no restart period. c is a gradient here, and
         * gradients are contiguous. */
        st = nnf_contiguous(&at, a);
        if (st == NNF_OK)
            st = nnf_contiguous(&bt, b);
        if (st == NNF_OK)
            st = gemm(period, op_a, at, op_b, bt, beta, c, post);
        nnf_tensor_free(at);
        nnf_tensor_free(bt);
        return st;
    }
    /* An output sgemm cannot address (a forward's y given as such a view): nnf_gemm
     * copies what it must. */
    if (op_a == NNF_TRANS)
        st = nnf_t(&at, a);
    if (st == NNF_OK && op_b == NNF_TRANS)
        st = nnf_t(&bt, b);
    if (st == NNF_OK)
        st = nnf_gemm(c, at != NULL ? at : a, bt != NULL ? bt : b, 1.0f, beta);
    nnf_tensor_free(at);
    nnf_tensor_free(bt);
    return st;
}

static nnf_status check_f32(const char *fn, const char *name, const nnf_tensor *t)
{
    NNF_RETURN_IF(nnf_tensor_dtype(t) != NNF_F32, NNF_ERR_DTYPE,
                  "%s: %s must be a float32 tensor", fn, name);
    return NNF_OK;
}

/* x (N x n_in), w (n_out x n_in), b (n_out) or NULL. */
static nnf_status check_lin(const char *fn, const nnf_tensor *x, const nnf_tensor *w,
                            const nnf_tensor *b)
{
    NNF_RETURN_IF(x == NULL || w == NULL, NNF_ERR_NULL, "%s: x and w must not be NULL", fn);
    NNF_FORWARD(check_f32(fn, "x", x));
    NNF_FORWARD(check_f32(fn, "w", w));
    NNF_RETURN_IF(nnf_tensor_ndim(x) != 2, NNF_ERR_SHAPE,
                  "%s: x must be 2-D (batch x features), got a %d-D tensor", fn,
                  nnf_tensor_ndim(x));
    NNF_RETURN_IF(nnf_tensor_ndim(w) != 2, NNF_ERR_SHAPE,
                  "%s: w must be 2-D (n_out x n_in), got a %d-D tensor", fn, nnf_tensor_ndim(w));
    const int64_t *xs = nnf_tensor_shape(x), *ws = nnf_tensor_shape(w);
    NNF_RETURN_IF(xs[1] != ws[1], NNF_ERR_SHAPE,
                  "%s: x is %lldx%lld but w is %lldx%lld (n_out x n_in): x's %lld features "
                  "per row must match w's n_in (%lld)", fn, (long long)xs[0], (long long)xs[1],
                  (long long)ws[0], (long long)ws[1], (long long)xs[1], (long long)ws[1]);
    if (b != NULL) {
        NNF_FORWARD(check_f32(fn, "b", b));
        NNF_RETURN_IF(nnf_tensor_ndim(b) != 1 || nnf_tensor_shape(b)[0] != ws[0], NNF_ERR_SHAPE,
                      "%s: b must be 1-D with w's n_out (%lld) elements, got %d-D with %lld",
                      fn, (long long)ws[0], nnf_tensor_ndim(b), (long long)nnf_tensor_numel(b));
    }
    return NNF_OK;
}

/* Scratch kept between calls: a row of N ones, and b.g seen as a 1 x n_out row. The
 * rest is what a deferred w.g and b.g read (nnf__deferred_grad): y.g and x as sgemm
 * addresses them (copies when it cannot), and their shape. */
typedef struct lin_scratch {
    nnf_tensor *ones;
    nnf_tensor *bias_grad_row;
    const float *gd, *xd;
    nnf__gemm_layout lg, lx;
    size_t rows;
    nnf_tensor *gcopy, *xcopy;
} lin_scratch;

static void lin_scratch_free(lin_scratch *s)
{
    nnf_tensor_free(s->ones);
    nnf_tensor_free(s->bias_grad_row);
    nnf_tensor_free(s->gcopy);
    nnf_tensor_free(s->xcopy);
}

static nnf_status ones_row(lin_scratch *s, int64_t n)
{
    if (s->ones != NULL && nnf_tensor_numel(s->ones) == n)
        return NNF_OK;
    NNF_FORWARD(nnf__reuse(&s->ones, NNF_F32, NNF_SHAPE(1, n)));
    return nnf_fill(s->ones, 1.0f);
}

/* y (N x n_out, contiguous) gets b in every row. nnf_copy's broadcast walks y row by
 * row (2.0 us for the chapter's 200 x 50, 4% of its step); here the first row is b and
 * the rows written so far are copied after themselves, doubling, in chunks of at most
 * ROWS_CHUNK bytes so the source stays in the L1/L2 (0.3 us). Copies: the same bits. */
static void fill_rows(float *y, size_t rows, const float *b, size_t n)
{
    enum { ROWS_CHUNK = 64 * 1024 };
    const size_t row = n * sizeof(float);
    memcpy(y, b, row);
    size_t done = 1, chunk = row > ROWS_CHUNK ? 1 : ROWS_CHUNK / row;
    while (done < rows) {
        size_t take = done < chunk ? done : chunk;
        take = take < rows - done ? take : rows - done;
        memcpy(y + done * n, y + (done - take) * n, take * row);
        done += take;
    }
}

/* b copied into y's rows (see fill_rows; nnf_copy for layouts other than contiguous). */
static nnf_status bias_rows(nnf_tensor *y, const nnf_tensor *b)
{
    if (!nnf_tensor_is_contiguous(y) || !nnf_tensor_is_contiguous(b) ||
        nnf_tensor_numel(y) == 0)
        return nnf_copy(y, b);
    fill_rows(nnf_tensor_data(y), (size_t)nnf_tensor_shape(y)[0], nnf_tensor_const_data(b),
              (size_t)nnf_tensor_shape(y)[1]);
    return NNF_OK;
}

/* relu(y) in place: nnf_relu's kernel without the engine where y is one span. */
static nnf_status relu_in_place(nnf_tensor *y)
{
    if (!nnf_tensor_is_contiguous(y))
        return nnf_relu(&y, y);
    float *d = nnf_tensor_data(y);
    nnf__elt_kernels()->relu((size_t)nnf_tensor_numel(y), d, 1, d, 1);
    return NNF_OK;
}

/* Outputs up to this size take the separate passes, larger ones the post-ops: while y
 * stays in the L2 a pass over it costs no more than the same work tile by tile, whose
 * calls and strided tail columns cost more (the chapter's 200 x 100 -> 50 forward,
 * 40 KiB: fused 13.12 against separate 12.83 us, and its training step 2% slower);
 * beyond, each pass goes to memory (4096 x 784 -> 512, 8 MiB: 18.05 against 18.08 ms).
 * Paired medians of 21 rounds, bench_train_step's lin_relu rows, loaded. */
#define FUSE_MIN_BYTES (512 * 1024)

/* y (N x n_out) = x @ w.t() + b, then relu(y) if `relu`, shapes checked; through the
 * layer's packed weight when `packed` is not NULL (the same bits).
 *
 * Bits: b stands in for y's old value and the product is added with beta 1, y =
 * fma(1, acc, b), the bits of x @ w.t() + b; the ReLU is nnf_relu's select on the
 * finished sums. Either as passes over y (b copied into its rows before, the ReLU
 * after) or inside the product (nnf__sgemm_post: on each tile of y while it is in the
 * L1), which give the same bits; see FUSE_MIN_BYTES for which. */
static nnf_status lin_forward(nnf_tensor *y, const nnf_tensor *x, const nnf_tensor *w,
                              const nnf_tensor *b, int relu, nnf__lin_packed *packed)
{
    const float beta = b != NULL ? 1.0f : 0.0f;
    nnf__gemm_layout ly;
    /* (a y sgemm cannot address, a caller's view, takes the passes, nnf_gemm copying) */
    const int fuse = nnf__gemm_layout_of_tensor(y, &ly) && ly.trans == NNF_NO_TRANS &&
                     (uint64_t)nnf_tensor_numel(y) > FUSE_MIN_BYTES / sizeof(float);
    const nnf__sgemm_post fused = {
        .bias = b != NULL ? nnf_tensor_const_data(b) : NULL,
        .bias_inc = b != NULL ? (ptrdiff_t)nnf_tensor_strides(b)[0] : 0, .relu = relu};
    const nnf__sgemm_post *post = fuse ? &fused : NULL;
    if (!fuse && b != NULL)
        NNF_FORWARD(bias_rows(y, b));
    int done = 0;
    if (packed != NULL)
        NNF_FORWARD(nnf__lin_packed_product(packed, y, x, w, beta, post, &done));
    if (!done)
        NNF_FORWARD(gemm(NNF__SGEMM_KC, NNF_NO_TRANS, x, NNF_TRANS, w, beta, y, post));
    return relu && !fuse ? relu_in_place(y) : NNF_OK;
}

/* fn: the public function's name, for messages. */
static nnf_status lin_into(const char *fn, nnf_tensor **y, const nnf_tensor *x,
                           const nnf_tensor *w, const nnf_tensor *b, int relu,
                           nnf__lin_packed *packed)
{
    NNF_RETURN_IF(y == NULL, NNF_ERR_NULL, "%s: y is NULL", fn);
    NNF_FORWARD(check_lin(fn, x, w, b));
    const int64_t shape[2] = {nnf_tensor_shape(x)[0], nnf_tensor_shape(w)[0]};
    nnf_tensor *out = *y;
    if (out != NULL) {
        NNF_FORWARD(check_f32(fn, "y", out));
        NNF_RETURN_IF(!nnf__same_shape(out, 2, shape), NNF_ERR_SHAPE,
                      "%s: y must be %lldx%lld (batch x n_out) to hold the result, "
                      "got a %d-D tensor with %lld elements", fn, (long long)shape[0],
                      (long long)shape[1], nnf_tensor_ndim(out), (long long)nnf_tensor_numel(out));
        NNF_RETURN_IF(nnf_tensor_shares_storage(out, x) || nnf_tensor_shares_storage(out, w) ||
                      (b != NULL && nnf_tensor_shares_storage(out, b)), NNF_ERR_INVALID,
                      "%s: y must not share memory with x, w or b", fn);
    } else {
        NNF_FORWARD(nnf_empty(&out, 2, shape));
    }
    nnf_status st = lin_forward(out, x, w, b, relu, packed);
    if (st != NNF_OK) {
        if (*y == NULL)
            nnf_tensor_free(out);
        return st;
    }
    *y = out;
    return NNF_OK;
}

nnf_status nnf_linear(nnf_tensor **y, const nnf_tensor *x, const nnf_tensor *w,
                      const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_linear");
    return lin_into("nnf_linear", y, x, w, b, 0, NULL);
}

nnf_status nnf_linear_relu(nnf_tensor **y, const nnf_tensor *x, const nnf_tensor *w,
                           const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_linear_relu");
    return lin_into("nnf_linear_relu", y, x, w, b, 1, NULL);
}

/* t, or a contiguous copy in *copy when sgemm cannot address it; its layout in *l. */
static nnf_status addressable(const nnf_tensor **t, nnf_tensor **copy, nnf__gemm_layout *l)
{
    if (nnf__gemm_layout_of_tensor(*t, l))
        return NNF_OK;
    NNF_FORWARD(nnf_contiguous(copy, *t));
    *t = *copy;
    nnf__gemm_layout_of_tensor(*t, l);
    return NNF_OK;
}

_Static_assert(NNF__SGEMM_KC % NNF__MICRO_BATCH == 0,
               "a micro-batch is a restart period and fits in one KC block");

/* Column j, and batch row r, of a matrix as sgemm reads it with layout l: its element
 * (r, j) is p[r * ld + j], or p[j * ld + r] when stored transposed. */
static const float *column(const float *p, const nnf__gemm_layout *l, size_t j)
{
    return p + (l->trans == NNF_NO_TRANS ? j : j * l->ld);
}

static const float *row(const float *p, const nnf__gemm_layout *l, size_t r)
{
    return p + (l->trans == NNF_NO_TRANS ? r * l->ld : r);
}

/* Block `blk` of w.g (n_out x n_in) added to dst: y.g_i^T @ x_i for each micro-batch i
 * in order, each with beta = 1. A micro-batch is one restart period, summed from zero in
 * the kernel's accumulator and added to C at its end, fma(1, acc, 1 * c)
 * (kernels/sgemm_kernels.h): dst + P0 + P1 + ... in order, the bits of the single
 * process's fold continued from dst, with no P_i stored. One product per micro-batch
 * rather than one restart product over all rows: on bench_dist's 256 x 199 blocks of
 * the 784-wide weight, the thin products run in place on the C block, which stays in
 * the L2, where the long one packs x's block and y.g for every block (3.1 against
 * 2.7-2.8 ms at 1024 rows, best of 41, thread CPU time). */
static nnf_status lin_add_weight_grad(void *ctx, float *dst, nnf__block blk)
{
    const lin_scratch *s = ctx;
    for (size_t r0 = 0; r0 < s->rows; r0 += NNF__MICRO_BATCH)
        NNF_FORWARD(nnf__sgemm_restart(
            NNF__SGEMM_KC, flip(s->lg.trans), s->lx.trans, blk.rows, blk.cols,
            s->rows - r0 < NNF__MICRO_BATCH ? s->rows - r0 : NNF__MICRO_BATCH, 1.0f,
            column(row(s->gd, &s->lg, r0), &s->lg, blk.row), s->lg.ld,
            column(row(s->xd, &s->lx, r0), &s->lx, blk.col), s->lx.ld, 1.0f, dst, blk.cols));
    return NNF_OK;
}

/* Block `blk` of b.g (1 x n_out) added to dst the same way: ones @ y.g. */
static nnf_status lin_add_bias_grad(void *ctx, float *dst, nnf__block blk)
{
    const lin_scratch *s = ctx;
    return nnf__sgemm_restart(NNF__MICRO_BATCH, NNF_NO_TRANS, s->lg.trans, 1, blk.cols, s->rows,
                              1.0f, nnf_tensor_const_data(s->ones), s->rows,
                              column(s->gd, &s->lg, blk.col), s->lg.ld, 1.0f, dst, blk.cols);
}

/* w.g and b.g left to the fold of libnnf_dist (nnf__deferred_grad): x and y.g stay as
 * they are until the next forward, so only their addresses are kept. */
static nnf_status lin_defer(const nnf_tensor *x, const nnf_tensor *gy, nnf__deferred_grad *w_later,
                            nnf__deferred_grad *b_later, lin_scratch *s)
{
    nnf_tensor_free(s->xcopy);
    nnf_tensor_free(s->gcopy);
    s->xcopy = s->gcopy = NULL;
    NNF_FORWARD(addressable(&x, &s->xcopy, &s->lx));
    NNF_FORWARD(addressable(&gy, &s->gcopy, &s->lg));
    s->rows = (size_t)nnf_tensor_shape(gy)[0];
    if (b_later != NULL)
        NNF_FORWARD(ones_row(s, nnf_tensor_shape(gy)[0]));
    s->xd = nnf_tensor_const_data(x);
    s->gd = nnf_tensor_const_data(gy);
    *w_later = (nnf__deferred_grad){lin_add_weight_grad, s};
    if (b_later != NULL)
        *b_later = (nnf__deferred_grad){lin_add_bias_grad, s};
    return NNF_OK;
}

/* w.g += y.g^T @ x and b.g += ones @ y.g, by the micro-batch rule. */
static nnf_status lin_param_grads(const nnf_tensor *x, const nnf_tensor *gy, nnf_tensor *w,
                                  nnf_tensor *b, lin_scratch *s)
{
    nnf_tensor *wg = NULL;
    NNF_FORWARD(nnf_tensor_grad_get(w, &wg));
    if (b != NULL) {
        nnf_tensor *bg = NULL;
        NNF_FORWARD(ones_row(s, nnf_tensor_shape(gy)[0]));
        NNF_FORWARD(nnf_tensor_grad_get(b, &bg));
        NNF_FORWARD(nnf__view_cached(&s->bias_grad_row, bg, NNF_SHAPE(1, nnf_tensor_numel(bg))));
        NNF_FORWARD(gemm(NNF__MICRO_BATCH, NNF_NO_TRANS, s->ones, NNF_NO_TRANS, gy, 1.0f,
                         s->bias_grad_row, NULL));
    }
    return gemm(NNF__MICRO_BATCH, NNF_TRANS, gy, NNF_NO_TRANS, x, 1.0f, wg, NULL);
}

/* gy is y.g (N x n_out). Adds to w.g and b.g (or defers them, see
 * nnf__deferred_grad); overwrites gx (N x n_in) unless NULL. */
static nnf_status lin_backward(const nnf_tensor *x, const nnf_tensor *gy, nnf_tensor *w,
                               nnf_tensor *b, nnf_tensor *gx, lin_scratch *s)
{
    nnf__deferred_grad *w_later = nnf__deferred_grad_of(w);
    if (w_later != NULL)
        NNF_FORWARD(lin_defer(x, gy, w_later, b != NULL ? nnf__deferred_grad_of(b) : NULL, s));
    else
        NNF_FORWARD(lin_param_grads(x, gy, w, b, s));
    if (gx != NULL)
        NNF_FORWARD(gemm(NNF__SGEMM_KC, NNF_NO_TRANS, gy, NNF_NO_TRANS, w, 0.0f, gx, NULL));
    return NNF_OK;
}

nnf_status nnf_linear_backward(nnf_tensor *x, const nnf_tensor *y, nnf_tensor *w, nnf_tensor *b,
                               int input_grad)
{
    static const char fn[] = "nnf_linear_backward";
    NNF_PUBLIC(fn);
    NNF_FORWARD(check_lin(fn, x, w, b));
    NNF_RETURN_IF(y == NULL, NNF_ERR_NULL, "%s: y is NULL", fn);
    const nnf_tensor *gy = nnf_tensor_grad(y);
    NNF_RETURN_IF(gy == NULL, NNF_ERR_STATE,
                  "%s: y has no gradient; set y's gradient (nnf_tensor_grad_get) or run the "
                  "backward of what consumed y first", fn);
    const int64_t shape[2] = {nnf_tensor_shape(x)[0], nnf_tensor_shape(w)[0]};
    NNF_RETURN_IF(!nnf__same_shape(gy, 2, shape), NNF_ERR_SHAPE,
                  "%s: y must be %lldx%lld (batch x n_out) for this x and w, got a %d-D "
                  "tensor with %lld elements", fn, (long long)shape[0], (long long)shape[1],
                  nnf_tensor_ndim(gy), (long long)nnf_tensor_numel(gy));
    /* w.g and b.g are written through a transaction and x.g through a temporary, so a
     * failure leaves every gradient as it was (none appears where there was none). */
    nnf_tensor *gx = NULL, *tmp = NULL, *params[2] = {w, b};
    lin_scratch scratch = {0};
    nnf__grad_txn txn = {0};
    nnf_status st = input_grad ? nnf__grad_target(x, 0, &tmp, &gx) : NNF_OK;
    if (st == NNF_OK)
        st = nnf__grad_txn_begin(&txn, b != NULL ? 2 : 1, nnf__tensor_array_at, params);
    if (st == NNF_OK) {
        st = lin_backward(x, gy, w, b, gx, &scratch);
        if (st == NNF_OK)
            nnf__grad_txn_commit(&txn);
        else
            nnf__grad_txn_abort(&txn);
    }
    if (st == NNF_OK && gx != NULL)
        nnf__grad_commit(x, gx, &tmp);
    nnf__grad_txn_free(&txn);
    nnf_tensor_free(tmp);
    lin_scratch_free(&scratch);
    return st;
}

/* ---- The Lin layer ---- */

typedef struct lin_state {
    nnf_tensor *w, *b;
    lin_scratch scratch;
    nnf__lin_packed packed;
    int packed_ready;               /* packed's lock exists */
} lin_state;

static nnf_status lin_layer_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    lin_state *s = nnf_layer_state(self);
    return lin_into("nnf_linear", out, in, s->w, s->b, 0, &s->packed);
}

static nnf_status lin_relu_layer_forward(nnf_layer *self, const nnf_tensor *in,
                                         nnf_tensor **out)
{
    lin_state *s = nnf_layer_state(self);
    return lin_into("nnf_linear_relu", out, in, s->w, s->b, 1, &s->packed);
}

static nnf_status lin_layer_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                     nnf_tensor *in_grad)
{
    lin_state *s = nnf_layer_state(self);
    return lin_backward(nnf_layer_input(self), out_grad, s->w, s->b, in_grad, &s->scratch);
}

static nnf_tensor *lin_layer_parameter(nnf_layer *self, int i)
{
    lin_state *s = nnf_layer_state(self);
    return i == 0 ? s->w : i == 1 ? s->b : NULL;
}

static void lin_layer_destroy(void *state)
{
    lin_state *s = state;
    nnf_tensor_free(s->w);
    nnf_tensor_free(s->b);
    lin_scratch_free(&s->scratch);
    if (s->packed_ready)
        nnf__lin_packed_destroy(&s->packed);
    nnf__dealloc(s, sizeof *s);
}

const nnf_layer_fn nnf__lin_fn = {
    "Lin", lin_layer_forward, lin_layer_backward, lin_layer_parameter, lin_layer_destroy,
};

const nnf_layer_fn nnf__lin_relu_fn = {
    "Lin", lin_relu_layer_forward, lin_layer_backward, lin_layer_parameter,
    lin_layer_destroy,
};

nnf_status nnf_layer_linear(nnf_layer **out, nnf_rng *rng, int64_t n_in, int64_t n_out,
                            nnf_init init)
{
    NNF_PUBLIC("nnf_layer_linear");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_layer_linear: out is NULL");
    NNF_RETURN_IF(n_in < 1 || n_out < 1, NNF_ERR_INVALID,
                  "nnf_layer_linear: n_in and n_out must be >= 1, got %lld and %lld",
                  (long long)n_in, (long long)n_out);
    lin_state *s = nnf__calloc(sizeof *s);
    NNF_RETURN_IF(s == NULL, NNF_ERR_NOMEM, "nnf_layer_linear: out of memory");
    nnf_status st = nnf__lin_packed_init(&s->packed);
    s->packed_ready = st == NNF_OK;
    if (st == NNF_OK)
        st = nnf_empty(&s->w, NNF_SHAPE(n_out, n_in));
    if (st == NNF_OK)
        st = nnf_weight_init(s->w, rng, init);
    if (st == NNF_OK)
        st = nnf_zeros(&s->b, NNF_SHAPE(n_out));
    if (st == NNF_OK)
        st = nnf_layer_new(out, &nnf__lin_fn, s);
    /* fuzz_model's planted bug (src/core/plant.h): a failed construction leaks. */
    if (st != NNF_OK && !NNF_PLANTED("model"))
        lin_layer_destroy(s);
    return st;
}

int nnf__lin_is_packed(const nnf_layer *layer)
{
    const lin_state *s = nnf_layer_state(layer);
    return layer->fn == &nnf__lin_fn && s->packed.packed != NULL;
}
