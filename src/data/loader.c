/* Minibatches: rows of (x, y) gathered in a (shuffled) order into buffers allocated once. */
#include "nnf/data.h"

#include <inttypes.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/tensor/tensor_internal.h"

struct nnf_loader {
    nnf_tensor *x, *y;            /* contiguous handles onto the caller's data (y may be NULL) */
    int64_t n, batch_size, nbatches;
    size_t x_row_nbytes, y_row_nbytes;
    int64_t *order;               /* n row indices */
    nnf_tensor *xb, *yb;          /* min(batch_size, n) rows each */
    nnf_tensor *xb_last, *yb_last;/* views of the first rows of xb / yb for a short last batch */
    nnf_rng rng;
};

void nnf_loader_free(nnf_loader *l)
{
    if (!l) return;
    nnf_tensor_free(l->x);
    nnf_tensor_free(l->y);
    nnf_tensor_free(l->xb);
    nnf_tensor_free(l->yb);
    nnf_tensor_free(l->xb_last);
    nnf_tensor_free(l->yb_last);
    if (l->order) nnf__dealloc(l->order, (size_t)l->n * sizeof *l->order);
    nnf__dealloc(l, sizeof *l);
}

static size_t row_nbytes(const nnf_tensor *t, int64_t n)
{
    return (size_t)(nnf_tensor_numel(t) / n) * nnf__dtype_size(nnf_tensor_dtype(t));
}

/* A rows x t.shape[1:] buffer of t's dtype, and (if last_rows differs) a view of its
 * first last_rows rows. */
static nnf_status make_buffers(const nnf_tensor *t, int64_t rows, int64_t last_rows,
                               nnf_tensor **buf, nnf_tensor **last)
{
    int ndim = nnf_tensor_ndim(t);
    int64_t shape[NNF_MAX_DIMS];
    memcpy(shape, nnf_tensor_shape(t), (size_t)ndim * sizeof *shape);
    shape[0] = rows;
    NNF_FORWARD(nnf_empty_typed(buf, ndim, shape, nnf_tensor_dtype(t)));
    if (last_rows == rows) return NNF_OK;
    return nnf_narrow(last, *buf, 0, 0, last_rows);
}

nnf_status nnf_loader_new(nnf_loader **out, const nnf_tensor *x, const nnf_tensor *y,
                          int64_t batch_size, uint64_t seed)
{
    NNF_PUBLIC("nnf_loader_new");
    NNF_RETURN_IF(!out || !x, NNF_ERR_NULL, "nnf_loader_new: argument %s is NULL",
                  !out ? "out" : "x");
    NNF_RETURN_IF(nnf_tensor_ndim(x) < 1, NNF_ERR_SHAPE,
                  "nnf_loader_new: x is 0-d; it needs a dim 0 of rows");
    int64_t n = nnf_tensor_size(x, 0);
    NNF_RETURN_IF(n < 1, NNF_ERR_INVALID, "nnf_loader_new: x has no rows");
    NNF_RETURN_IF(batch_size < 1, NNF_ERR_INVALID,
                  "nnf_loader_new: batch_size must be >= 1, got %" PRId64, batch_size);
    NNF_RETURN_IF(y && (nnf_tensor_ndim(y) < 1 || nnf_tensor_size(y, 0) != n), NNF_ERR_SHAPE,
                  "nnf_loader_new: x has %" PRId64 " rows but y has %" PRId64, n,
                  nnf_tensor_ndim(y) < 1 ? (int64_t)0 : nnf_tensor_size(y, 0));

    nnf_loader *l = nnf__calloc(sizeof *l);
    NNF_RETURN_IF(!l, NNF_ERR_NOMEM, "nnf_loader_new: out of memory");
    l->n = n;
    l->batch_size = batch_size;
    /* Not (n + batch_size - 1) / batch_size: that overflows for a huge batch_size. */
    l->nbatches = n / batch_size + (n % batch_size != 0);
    int64_t rows = batch_size < n ? batch_size : n;
    int64_t last_rows = n - (l->nbatches - 1) * batch_size;
    nnf_rng_seed(&l->rng, seed);

    nnf_status st = nnf_contiguous(&l->x, x);
    if (st == NNF_OK && y) st = nnf_contiguous(&l->y, y);
    if (st == NNF_OK) st = make_buffers(x, rows, last_rows, &l->xb, &l->xb_last);
    if (st == NNF_OK && y) st = make_buffers(y, rows, last_rows, &l->yb, &l->yb_last);
    if (st == NNF_OK) {
        l->order = nnf__alloc((size_t)n * sizeof *l->order);
        if (!l->order) st = nnf__fail(NNF_ERR_NOMEM, "nnf_loader_new: out of memory");
    }
    if (st != NNF_OK) {
        nnf_loader_free(l);
        return st;
    }
    for (int64_t i = 0; i < n; i++) l->order[i] = i;
    l->x_row_nbytes = row_nbytes(x, n);
    l->y_row_nbytes = y ? row_nbytes(y, n) : 0;
    *out = l;
    return NNF_OK;
}

int64_t nnf_loader_len(const nnf_loader *l) { return l ? l->nbatches : 0; }
int64_t nnf_loader_size(const nnf_loader *l) { return l ? l->n : 0; }

nnf_status nnf_loader_shuffle(nnf_loader *l)
{
    NNF_PUBLIC("nnf_loader_shuffle");
    NNF_RETURN_IF(!l, NNF_ERR_NULL, "nnf_loader_shuffle: argument loader is NULL");
    if (l->n < 2) return NNF_OK;
    /* Two 24-bit uniforms per swap make a 48-bit one: floor(u * (i + 1)) then favours
     * no index by more than (i + 1) / 2^48, ~2e-10 for Fashion-MNIST's 60000 rows. */
    nnf_tensor *u = NULL;
    NNF_FORWARD(nnf_rand(&u, &l->rng, NNF_SHAPE(l->n - 1, 2)));
    const float *r = nnf_tensor_const_data(u);
    for (int64_t i = l->n - 1; i > 0; i--) {
        const float *ri = r + 2 * (i - 1);
        double v = (double)ri[0] + (double)ri[1] * 0x1p-24;
        int64_t j = (int64_t)(v * (double)(i + 1));
        if (j > i) j = i;   /* v * (i + 1) can round up to i + 1 when v is within 2^-48 of 1 */
        int64_t t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
    nnf_tensor_free(u);
    return NNF_OK;
}

static void gather(const nnf_tensor *src, nnf_tensor *dst, size_t row, const int64_t *idx,
                   int64_t count)
{
    const char *s = nnf_tensor_raw(src);
    char *d = nnf_tensor_raw(dst);
    for (int64_t r = 0; r < count; r++) memcpy(d + (size_t)r * row, s + (size_t)idx[r] * row, row);
}

nnf_status nnf_loader_get_batch(nnf_loader *l, nnf_tensor **xb, nnf_tensor **yb, int64_t i)
{
    NNF_PUBLIC("nnf_loader_get_batch");
    NNF_RETURN_IF(!l || !xb, NNF_ERR_NULL, "argument %s is NULL", !l ? "loader" : "xb");
    NNF_RETURN_IF(i < 0 || i >= l->nbatches, NNF_ERR_INDEX,
                  "batch %" PRId64 " is out of range for %" PRId64 " batches", i, l->nbatches);
    int64_t start = i * l->batch_size;
    int64_t count = l->n - start < l->batch_size ? l->n - start : l->batch_size;
    int last = i == l->nbatches - 1 && l->xb_last;
    gather(l->x, l->xb, l->x_row_nbytes, l->order + start, count);
    *xb = last ? l->xb_last : l->xb;
    if (l->y) gather(l->y, l->yb, l->y_row_nbytes, l->order + start, count);
    if (yb) *yb = !l->y ? NULL : last ? l->yb_last : l->yb;
    return NNF_OK;
}
