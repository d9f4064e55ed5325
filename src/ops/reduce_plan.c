/* Planning shared by every reduction: dims, result shape, coalesced geometry, outputs. */
#include "src/ops/reduce_plan.h"

#include <string.h>

#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"

static const char *dtype_name(nnf_dtype d)
{
    return d == NNF_F32 ? "float32" : d == NNF_BOOL ? "bool" : d == NNF_I64 ? "int64" : "?";
}

/* Appends dim (size, stride) to a list, merging it into the previous entry when the two
 * are one row-major run in memory (which keeps the logical order of the list). */
static void push_dim(int *n, int64_t *size, int64_t *stride, int64_t s, int64_t st)
{
    int64_t run, merged;
    if (s == 1)
        return;
    /* An empty tensor's sizes and strides are unbounded ([2^32, 2^32, 0] expanded has
     * strides 0): an overflowing product merges nothing. */
    if (*n > 0 && !nnf__mul_ovf(s, st, &run) && stride[*n - 1] == run &&
        !nnf__mul_ovf(size[*n - 1], s, &merged)) {
        size[*n - 1] = merged;
        stride[*n - 1] = st;
        return;
    }
    size[*n] = s;
    stride[*n] = st;
    (*n)++;
}

nnf_status nnf__red_plan_make(nnf__red_plan *p, const char *name, const nnf_tensor *a,
                              int ndims, const int *dims, int keepdim)
{
    NNF_RETURN_IF(a == NULL, NNF_ERR_NULL, "%s: argument a is NULL", name);
    NNF_RETURN_IF(ndims < 0, NNF_ERR_INVALID, "%s: ndims must be >= 0, got %d", name, ndims);
    memset(p, 0, sizeof *p);
    p->name = name;
    int reduced[NNF_MAX_DIMS] = {0};
    if (dims == NULL || ndims == 0) {
        for (int d = 0; d < a->ndim; d++)
            reduced[d] = 1;
    } else {
        int seen[NNF_MAX_DIMS + 1] = {0};
        for (int i = 0; i < ndims; i++) {
            int d;
            NNF_FORWARD(nnf__wrap_dim(dims[i], a->ndim, &d));
            NNF_RETURN_IF(seen[d], NNF_ERR_INVALID,
                          "dim %d appears multiple times in the list of dims", d);
            seen[d] = 1;
            if (d < a->ndim)
                reduced[d] = 1;
        }
    }
    int64_t rsizes[NNF_MAX_DIMS], osizes[NNF_MAX_DIMS];
    int nrs = 0, nos = 0;
    for (int d = 0; d < a->ndim; d++) {
        int64_t s = a->shape[d], st = a->stride[d];
        if (reduced[d]) {
            rsizes[nrs++] = s;
            p->reduced_mask |= 1u << d;
            if (keepdim)
                p->out_shape[p->out_ndim++] = 1;
            push_dim(&p->nr, p->rsize, p->rstride, s, st);
        } else {
            osizes[nos++] = s;
            p->out_shape[p->out_ndim++] = s;
            push_dim(&p->nk, p->ksize, p->kstride, s, st);
        }
    }
    /* A valid tensor's element count fits int64, but an empty one's other sizes need
     * not: summing [2^32, 2^32, 0] over dim 2 asks for 2^64 results. */
    char s[NNF__SHAPE_STR];
    NNF_RETURN_IF(nnf__prod_ovf(nos, osizes, &p->nout), NNF_ERR_OVERFLOW,
                  "%s: the result of shape %s has more elements than int64 holds", name,
                  nnf__shape_str(p->out_ndim, p->out_shape, s));
    /* Overflowing reduced sizes have no 0 among them, so a 0 is among the kept ones:
     * nout is 0 and no result is computed. R saturates, still "not empty". */
    if (nnf__prod_ovf(nrs, rsizes, &p->R))
        p->R = INT64_MAX;
    p->numel = nnf_tensor_numel(a);
    /* These products are at most nout, except when nout is 0 and they are never used. */
    for (int d = p->nk - 1; d >= 0; d--)
        if (d == p->nk - 1 || nnf__mul_ovf(p->kout[d + 1], p->ksize[d + 1], &p->kout[d]))
            p->kout[d] = d == p->nk - 1;
    p->nblk = p->R / NNF__RED_BLOCK + (p->R % NNF__RED_BLOCK != 0);
    p->esize = nnf__dtype_size(a->dtype);
    p->base = (const char *)a->storage->data + a->offset * (int64_t)p->esize;
    p->col = -1;
    if (!nnf__red_inner_unit(p))
        for (int d = p->nk - 1; d >= 0; d--)
            if (p->kstride[d] == 1) {
                p->col = d;
                break;
            }
    return NNF_OK;
}

static void shape_str(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %lld" : "%lld",
                                 (long long)shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

nnf_status nnf__red_out_prepare(nnf__red_out *o, nnf_tensor **out, const nnf_tensor *a,
                                const nnf__red_plan *p, nnf_dtype dtype)
{
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "%s: out is NULL", p->name);
    memset(o, 0, sizeof *o);
    o->user = out;
    if (*out == NULL) {
        NNF_FORWARD(nnf_empty_typed(&o->t, p->out_ndim, p->out_shape, dtype));
        o->fresh = 1;
    } else {
        nnf_tensor *t = *out;
        NNF_RETURN_IF(t->dtype != dtype, NNF_ERR_DTYPE,
                      "%s: expected out to have dtype %s but got %s", p->name,
                      dtype_name(dtype), dtype_name(t->dtype));
        int same = t->ndim == p->out_ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = t->shape[d] == p->out_shape[d];
        if (!same) {
            char want[160], got[160];
            shape_str(want, sizeof want, p->out_ndim, p->out_shape);
            shape_str(got, sizeof got, t->ndim, t->shape);
            return nnf__fail(NNF_ERR_SHAPE, "%s: out has shape %s but the result has shape %s",
                             p->name, got, want);
        }
        o->t = t;
    }
    size_t esize = nnf__dtype_size(dtype);
    if (o->fresh || (nnf_tensor_is_contiguous(o->t) && !nnf_tensor_shares_storage(o->t, a))) {
        o->data = (char *)o->t->storage->data + o->t->offset * (int64_t)esize;
    } else {
        o->scratch_bytes = (size_t)p->nout * esize;
        o->scratch = nnf__alloc(o->scratch_bytes);
        NNF_RETURN_IF(o->scratch == NULL, NNF_ERR_NOMEM, "%s: out of memory (%zu bytes)",
                      p->name, o->scratch_bytes);
        o->data = o->scratch;
    }
    return NNF_OK;
}

void nnf__red_out_commit(nnf__red_out *o, const nnf__red_plan *p)
{
    if (o->scratch != NULL) {
        nnf_tensor *t = o->t;
        size_t esize = nnf__dtype_size(t->dtype);
        char *dst = (char *)t->storage->data + t->offset * (int64_t)esize;
        nnf__red_odo od;
        nnf__red_odo_seek(&od, t->ndim, t->shape, t->stride, 0);
        for (int64_t i = 0; i < p->nout; i++, nnf__red_odo_next(&od))
            memcpy(dst + od.off * (int64_t)esize, (char *)o->scratch + i * (int64_t)esize, esize);
        nnf__dealloc(o->scratch, o->scratch_bytes);
        o->scratch = NULL;
    }
    nnf__tensor_written(o->t);
    if (o->fresh)
        *o->user = o->t;
}

void nnf__red_out_abort(nnf__red_out *o)
{
    nnf__dealloc(o->scratch, o->scratch_bytes);
    o->scratch = NULL;
    if (o->fresh)
        nnf_tensor_free(o->t);
    o->t = NULL;
}

int64_t nnf__red_spans(const nnf__red_plan *p, const char *obase, int64_t r0, int64_t n,
                       nnf__red_span_fn fn, void *ctx)
{
    if (p->nr == 0)   /* every reduced dim has size 1: one value */
        return n == 0 ? 0 : fn(ctx, obase, n, 1);
    int last = p->nr - 1;
    int64_t L = p->rsize[last], sL = p->rstride[last];
    if (last == 0 && r0 + n <= L)   /* one run: no odometer, no divisions */
        return fn(ctx, obase + r0 * sL * (int64_t)p->esize, n, sL);
    nnf__red_odo od;
    nnf__red_odo_seek(&od, last, p->rsize, p->rstride, r0 / L);
    int64_t inner = r0 % L, done = 0;
    int64_t es = (int64_t)p->esize;
    while (done < n) {
        int64_t len = L - inner < n - done ? L - inner : n - done;
        int64_t got = fn(ctx, obase + (od.off + inner * sL) * es, len, sL);
        if (got < len)
            return done + got;
        done += len;
        inner = 0;
        nnf__red_odo_next(&od);
    }
    return n;
}

typedef struct {
    char *dst;
    size_t esize;
} gather_ctx;

static int64_t gather_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    gather_ctx *g = ctx;
    if (g->esize == sizeof(float)) {
        float *d = (float *)(void *)g->dst;
        const float *s = (const float *)(const void *)x;
        for (int64_t i = 0; i < len; i++)
            d[i] = s[i * stride];
    } else {
        for (int64_t i = 0; i < len; i++)
            memcpy(g->dst + i * (int64_t)g->esize, x + i * stride * (int64_t)g->esize, g->esize);
    }
    g->dst += len * (int64_t)g->esize;
    return len;
}

void nnf__red_gather(const nnf__red_plan *p, const char *obase, int64_t r0, int64_t n,
                     void *buf)
{
    gather_ctx g = {buf, p->esize};
    nnf__red_spans(p, obase, r0, n, gather_span, &g);
}

int nnf__red_threads(const nnf__red_plan *p)
{
    if (p->numel < NNF__RED_PARALLEL_MIN && !nnf__runtime_test_spread())
        return 1;
    return nnf__threads_for_call();
}

/* 32K elements (8 blocks, 128 KiB of floats: 5-15 us) per range; at least 4 ranges per
 * thread where the items allow. */
int64_t nnf__red_grain(int64_t items, int64_t elems, int threads)
{
    if (nnf__runtime_test_spread())
        return 1;
    int64_t g = ((int64_t)1 << 15) / (elems > 0 ? elems : 1);
    int64_t even = items / (4 * (int64_t)threads);
    g = g < even ? g : even;
    return g > 0 ? g : 1;
}

nnf_status nnf__red_check_nonempty(const nnf__red_plan *p, const nnf_tensor *a, int all_dims)
{
    if (p->R != 0)
        return NNF_OK;
    NNF_RETURN_IF(all_dims, NNF_ERR_INDEX,
                  "%s: Expected reduction dim to be specified for input.numel() == 0. "
                  "Specify the reduction dim with the 'dim' argument.", p->name);
    int d = 0;
    while (!((p->reduced_mask >> d) & 1u) || a->shape[d] != 0)
        d++;
    return nnf__fail(NNF_ERR_INDEX, "%s: Expected reduction dim %d to have non-zero size.",
                     p->name, d);
}
