/* Buffers kept across training steps, and where backward writes a gradient.
 *
 * A step on a 4096 x 512 activation touches 8 MiB per pass, so every avoided
 * allocation (page faults) and every avoided zeroing pass is time saved: tensors are
 * made once and written again while the batch shape stays the same. */
#include "src/nn/nn_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/tensor/tensor_internal.h"

/* Per calling thread: a layer's backward runs on the thread that called the model (the
 * pool's threads only run pieces of its products), and two threads may train two models. */
static _Thread_local const nnf__deferred_grads *deferred;

void nnf__deferred_grads_set(const nnf__deferred_grads *t)
{
    deferred = t;
}

nnf__deferred_grad *nnf__deferred_grad_of(const nnf_tensor *param)
{
    for (int i = 0; deferred != NULL && i < deferred->n; i++)
        if (deferred->params[i] == param)
            return &deferred->grads[i];
    return NULL;
}

int nnf__same_shape(const nnf_tensor *t, int ndim, const int64_t *shape)
{
    if (nnf_tensor_ndim(t) != ndim)
        return 0;
    const int64_t *s = nnf_tensor_shape(t);
    for (int d = 0; d < ndim; d++)
        if (s[d] != shape[d])
            return 0;
    return 1;
}

int nnf__one_span(const nnf_tensor *out, int nin, const nnf_tensor *const *in)
{
    enum { SMALL = 1 << 16 };
    const int64_t n = nnf_tensor_numel(out);
    if (n >= SMALL || !nnf_tensor_is_contiguous(out))
        return 0;
    for (int i = 0; i < nin; i++)
        if (nnf_tensor_numel(in[i]) != n || !nnf_tensor_is_contiguous(in[i]) ||
            (nnf_tensor_const_data(in[i]) != nnf_tensor_const_data(out) &&
             nnf_tensor_shares_storage(in[i], out)))
            return 0;
    return 1;
}

nnf_status nnf__reuse(nnf_tensor **t, nnf_dtype dtype, int ndim, const int64_t *shape)
{
    if (*t != NULL && nnf_tensor_dtype(*t) == dtype && nnf_tensor_is_contiguous(*t) &&
        nnf__same_shape(*t, ndim, shape))
        return NNF_OK;
    nnf_tensor *fresh = NULL;
    NNF_FORWARD(nnf_empty_typed(&fresh, ndim, shape, dtype));
    nnf_tensor_free(*t);
    *t = fresh;
    return NNF_OK;
}

int nnf__is_view(const nnf_tensor *view, const nnf_tensor *src, int ndim, const int64_t *shape)
{
    /* Both contiguous, same storage, offset and shape: the same elements. Holding the
     * view keeps its storage alive, so a new tensor at a recycled address cannot pass. */
    return view != NULL && nnf_tensor_shares_storage(view, src) &&
           nnf_tensor_offset(view) == nnf_tensor_offset(src) &&
           nnf_tensor_is_contiguous(view) && nnf_tensor_is_contiguous(src) &&
           nnf__same_shape(view, ndim, shape);
}

nnf_status nnf__view_cached(nnf_tensor **view, const nnf_tensor *src, int ndim,
                            const int64_t *shape)
{
    if (nnf__is_view(*view, src, ndim, shape))
        return NNF_OK;
    nnf_tensor *fresh = NULL;
    NNF_FORWARD(nnf_view(&fresh, src, ndim, shape));
    nnf_tensor_free(*view);
    *view = fresh;
    return NNF_OK;
}

nnf_status nnf__grad_target(nnf_tensor *t, int overwrite, nnf_tensor **tmp,
                            nnf_tensor **target)
{
    if (overwrite)
        return nnf_tensor_grad_get(t, target);
    NNF_FORWARD(nnf__reuse(tmp, NNF_F32, nnf_tensor_ndim(t), nnf_tensor_shape(t)));
    *target = *tmp;
    return NNF_OK;
}

void nnf__grad_commit(nnf_tensor *t, const nnf_tensor *target, nnf_tensor **tmp)
{
    nnf_tensor *g = nnf_tensor_grad(t);
    if (g == target)
        return;
    if (g == NULL) {
        nnf__grad_exchange(t, *tmp);
        *tmp = NULL;
        return;
    }
    nnf_status st = nnf_add(&g, g, target);
    assert(st == NNF_OK);
    (void)st;
}

nnf_tensor *nnf__tensor_array_at(void *array, int i)
{
    return ((nnf_tensor **)array)[i];
}

/* Whether x->t[i] already appeared before i (its gradient is redirected once). */
static int listed_before(const nnf__grad_txn *x, int i)
{
    for (int j = 0; j < i; j++)
        if (x->t[j] == x->t[i])
            return 1;
    return 0;
}

static nnf_status txn_reserve(nnf__grad_txn *x, int n)
{
    if (n <= x->cap)
        return NNF_OK;
    size_t bytes = (size_t)n * sizeof(nnf_tensor *);
    nnf_tensor **t = nnf__calloc(bytes), **scratch = nnf__calloc(bytes),
               **saved = nnf__calloc(bytes);
    unsigned char *created = nnf__calloc((size_t)n);
    if (t == NULL || scratch == NULL || saved == NULL || created == NULL) {
        nnf__dealloc(t, bytes);
        nnf__dealloc(scratch, bytes);
        nnf__dealloc(saved, bytes);
        nnf__dealloc(created, (size_t)n);
        return nnf__fail(NNF_ERR_NOMEM, "out of memory");
    }
    size_t old = (size_t)x->cap * sizeof(nnf_tensor *);
    if (x->cap > 0)
        memcpy(scratch, x->scratch, old);
    nnf__dealloc(x->t, old);
    nnf__dealloc(x->scratch, old);
    nnf__dealloc(x->saved, old);
    nnf__dealloc(x->created, (size_t)x->cap);
    x->t = t;
    x->scratch = scratch;
    x->saved = saved;
    x->created = created;
    x->cap = n;
    return NNF_OK;
}

/* Frees the zero gradients begin made for tensors without one, up to n. */
static void free_created(nnf__grad_txn *x, int n)
{
    for (int i = 0; i < n; i++) {
        if (x->created[i])
            nnf_tensor_free(x->saved[i]);
        x->created[i] = 0;
    }
}

/* 1 if every element of g is +0, the float whose bytes are all zero. memcmp against a
 * block of zeros reads with the CPU's widest loads (glibc picks them at run time), twice
 * as fast as a loop built for the baseline ISA (20 KiB: 0.23 against 0.5 us); the first
 * block that differs ends the scan, so a gradient that holds values costs one block. */
static int all_plus_zero(const nnf_tensor *g)
{
    enum { BLOCK = 1024 };
    static const float zeros[BLOCK];
    if (!nnf_tensor_is_contiguous(g))
        return 0;
    const float *p = nnf_tensor_const_data(g);
    const size_t n = (size_t)nnf_tensor_numel(g);
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t len = n - i < BLOCK ? n - i : BLOCK;
        if (memcmp(p + i, zeros, len * sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

/* The in-place transaction of nnf__grad_txn_begin_sums, if every gradient is +0 (known
 * from nnf_zero_grad while nothing wrote to it since, else scanned): the missing ones are
 * made (+0) and installed. 0 and nothing changed otherwise. */
static int begin_in_place(nnf__grad_txn *x, int n, nnf_status *st)
{
    for (int i = 0; i < n; i++) {
        nnf_tensor *g = nnf_tensor_grad(x->t[i]);
        if (g != NULL && !listed_before(x, i) && !nnf__tensor_known_zeros(g) &&
            !all_plus_zero(g))
            return 0;
    }
    for (int i = 0; i < n && *st == NNF_OK; i++) {
        x->created[i] = 0;
        x->saved[i] = nnf_tensor_grad(x->t[i]);
        if (x->saved[i] == NULL && !listed_before(x, i)) {
            *st = nnf_zeros(&x->saved[i], nnf_tensor_ndim(x->t[i]), nnf_tensor_shape(x->t[i]));
            x->created[i] = *st == NNF_OK;
        }
    }
    if (*st != NNF_OK) {
        free_created(x, n);
        return 1;
    }
    for (int i = 0; i < n; i++)
        if (x->created[i])
            nnf__grad_exchange(x->t[i], x->saved[i]);
    x->in_place = 1;
    x->n = n;
    return 1;
}

static nnf_status begin(nnf__grad_txn *x, int n, nnf_tensor *(*t)(void *ctx, int i), void *ctx,
                        int sums)
{
    x->n = 0;
    x->in_place = 0;
    NNF_FORWARD(txn_reserve(x, n));
    for (int i = 0; i < n; i++) {
        x->t[i] = t(ctx, i);
        NNF_RETURN_IF(nnf_tensor_dtype(x->t[i]) != NNF_F32, NNF_ERR_DTYPE,
                      "only float32 tensors have gradients");
    }
    nnf_status in_place_st = NNF_OK;
    if (sums && begin_in_place(x, n, &in_place_st))
        return in_place_st;
    /* Everything that can fail first: the scratch tensors, the missing gradients, then
     * zeroing the scratch. */
    nnf_status st = NNF_OK;
    for (int i = 0; i < n && st == NNF_OK; i++) {
        x->created[i] = 0;
        if (listed_before(x, i))
            continue;
        int nd = nnf_tensor_ndim(x->t[i]);
        const int64_t *shape = nnf_tensor_shape(x->t[i]);
        st = nnf__reuse(&x->scratch[i], NNF_F32, nd, shape);
        x->saved[i] = nnf_tensor_grad(x->t[i]);
        if (st == NNF_OK && x->saved[i] == NULL) {
            st = nnf_zeros(&x->saved[i], nd, shape);
            x->created[i] = st == NNF_OK;
        }
        if (st == NNF_OK)
            st = nnf_fill(x->scratch[i], 0.0f);
    }
    if (st != NNF_OK) {
        free_created(x, n);
        return st;
    }
    for (int i = 0; i < n; i++)
        if (!listed_before(x, i))
            nnf__grad_exchange(x->t[i], x->scratch[i]);
    x->n = n;
    return NNF_OK;
}

nnf_status nnf__grad_txn_begin(nnf__grad_txn *x, int n, nnf_tensor *(*t)(void *ctx, int i),
                               void *ctx)
{
    return begin(x, n, t, ctx, 0);
}

nnf_status nnf__grad_txn_begin_sums(nnf__grad_txn *x, int n,
                                    nnf_tensor *(*t)(void *ctx, int i), void *ctx)
{
    return begin(x, n, t, ctx, 1);
}

void nnf__grad_txn_commit(nnf__grad_txn *x)
{
    for (int i = 0; i < x->n; i++) {
        if (x->in_place) {
            x->created[i] = 0;   /* t owns it now */
            continue;
        }
        if (listed_before(x, i))
            continue;
        nnf_tensor *g = x->saved[i];
        nnf_status st = nnf_add(&g, g, x->scratch[i]);
        assert(st == NNF_OK);   /* into an existing tensor of the same shape: no failure */
        (void)st;
        nnf__grad_exchange(x->t[i], g);
        x->created[i] = 0;   /* t owns it now */
    }
    x->n = 0;
}

void nnf__grad_txn_abort(nnf__grad_txn *x)
{
    for (int i = 0; i < x->n; i++) {
        if (listed_before(x, i))
            continue;
        if (x->in_place && !x->created[i])
            nnf_zero_grad(x->t[i]);   /* it was +0 throughout */
        else
            nnf__grad_exchange(x->t[i], x->created[i] ? NULL : x->saved[i]);
    }
    free_created(x, x->n);
    x->n = 0;
}

void nnf__grad_txn_free(nnf__grad_txn *x)
{
    size_t bytes = (size_t)x->cap * sizeof(nnf_tensor *);
    for (int i = 0; i < x->cap; i++)
        nnf_tensor_free(x->scratch[i]);
    nnf__dealloc(x->t, bytes);
    nnf__dealloc(x->scratch, bytes);
    nnf__dealloc(x->saved, bytes);
    nnf__dealloc(x->created, (size_t)x->cap);
    x->t = x->scratch = x->saved = NULL;
    x->created = NULL;
    x->n = x->cap = 0;
}

nnf_status nnf__prefix_error(nnf_status code, const char *fmt, ...)
{
    char prefix[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    return nnf__fail_context(code, "%s", prefix);   /* after the public function's name */
}
