/* nnf_max, nnf_min, nnf_argmax.
 *
 * Max and min compare total-order keys of the floats (kernels/reduce.h), which makes
 * them independent of the order values are visited in, hence bit-identical on every
 * ISA and thread count without any lane discipline: +0 is above -0 (PyTorch returns
 * whichever zero its loop met first), and any NaN gives the canonical quiet NaN.
 * argmax returns the first index of the maximum, a NaN counting as the maximum, and
 * -0 and +0 as equal, as in PyTorch; it is a max pass and a find-first pass.
 */
#include <math.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/ops/reduce_plan.h"
#include "src/runtime/pool.h"

#define COLS 64

static int32_t key_of(float f)
{
    int32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return nnf__red_key(bits);
}

static float from_key(int32_t key)
{
    int32_t bits = nnf__red_key(key);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The result of keys {lo, hi}: NaN if either lies outside [key(-inf), key(+inf)]. */
static float extreme(const int32_t keys[2], int is_max)
{
    if (keys[0] < key_of(-INFINITY) || keys[1] > key_of(INFINITY))
        return NAN;
    return from_key(keys[is_max]);
}

typedef struct {
    const nnf__reduce_kernels *k;
    int32_t *keys;
} keys_ctx;

static int64_t keys_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    keys_ctx *c = ctx;
    (void)stride;
    c->k->extrema((size_t)len, (const float *)(const void *)x, c->keys);
    return len;
}

/* Keys of values [r0, r0 + n) (n <= NNF__RED_BLOCK) of one result, merged into keys. */
static void row_keys(const nnf__red_plan *p, const nnf__reduce_kernels *k, const char *obase,
                     int64_t r0, int64_t n, int32_t keys[2])
{
    if (nnf__red_inner_unit(p)) {
        keys_ctx c = {k, keys};
        nnf__red_spans(p, obase, r0, n, keys_span, &c);
    } else {
        float buf[NNF__RED_BLOCK];
        nnf__red_gather(p, obase, r0, n, buf);
        k->extrema((size_t)n, buf, keys);
    }
}

/* Keys of block b for w results read as columns from cbase. */
static void col_keys(const nnf__red_plan *p, const nnf__reduce_kernels *k, const float *cbase,
                     int64_t w, int64_t b, int32_t *kmin, int32_t *kmax)
{
    int64_t r0 = b * NNF__RED_BLOCK;
    int64_t n = p->R - r0 < NNF__RED_BLOCK ? p->R - r0 : NNF__RED_BLOCK;
    nnf__red_odo od;
    nnf__red_odo_seek(&od, p->nr, p->rsize, p->rstride, r0);
    for (int64_t i = 0; i < n; i++, nnf__red_odo_next(&od))
        k->extrema_cols((size_t)w, cbase + od.off, kmin, kmax);
}

typedef struct {
    const nnf__red_plan *p;
    const nnf__reduce_kernels *k;
    int is_max;
    float *v;               /* results, for one-block rows */
    int32_t *keys;          /* per block and result: keys[(o * nblk + b) * 2 + {0, 1}] */
    nnf__red_cols cols;
    int64_t C, nch;
} keys_job;

static int64_t block_len(const nnf__red_plan *p, int64_t r0)
{
    return p->R - r0 < NNF__RED_BLOCK ? p->R - r0 : NNF__RED_BLOCK;
}

/* Results [o0, o1) of one block each, walked with an odometer, written directly. */
static void rows_single(void *ctx, int64_t o0, int64_t o1, int participant)
{
    (void)participant;
    const keys_job *j = ctx;
    const nnf__red_plan *p = j->p;
    nnf__red_odo od;
    nnf__red_odo_seek(&od, p->nk, p->ksize, p->kstride, o0);
    for (int64_t o = o0; o < o1; o++, nnf__red_odo_next(&od)) {
        int32_t keys[2] = {INT32_MAX, INT32_MIN};
        row_keys(p, j->k, p->base + od.off * (int64_t)sizeof(float), 0, p->R, keys);
        j->v[o] = extreme(keys, j->is_max);
    }
}

/* Items [i0, i1) of (result, block), read as rows. */
static void row_blocks(void *ctx, int64_t i0, int64_t i1, int participant)
{
    (void)participant;
    const keys_job *j = ctx;
    const nnf__red_plan *p = j->p;
    for (int64_t i = i0; i < i1; i++) {
        int64_t o = i / p->nblk, r0 = i % p->nblk * NNF__RED_BLOCK;
        const char *obase = p->base + nnf__red_out_offset(p, o) * (int64_t)sizeof(float);
        j->keys[2 * i] = INT32_MAX;
        j->keys[2 * i + 1] = INT32_MIN;
        row_keys(p, j->k, obase, r0, block_len(p, r0), j->keys + 2 * i);
    }
}

/* Items [i0, i1) of (outer kept index q, column group ch, block b). */
static void col_blocks(void *ctx, int64_t i0, int64_t i1, int participant)
{
    (void)participant;
    const keys_job *j = ctx;
    const nnf__red_plan *p = j->p;
    int cd = p->col;
    int64_t nblk = p->nblk;
    for (int64_t i = i0; i < i1; i++) {
        int64_t b = i % nblk, ch = (i / nblk) % j->nch, q = i / nblk / j->nch;
        nnf__red_odo in, ou;
        nnf__red_cols_seek(&j->cols, q, &in, &ou);
        int64_t c0 = ch * COLS, w = j->C - c0 < COLS ? j->C - c0 : COLS;
        int32_t kmin[COLS], kmax[COLS];
        for (int64_t c = 0; c < w; c++) {
            kmin[c] = INT32_MAX;
            kmax[c] = INT32_MIN;
        }
        col_keys(p, j->k, (const float *)(const void *)p->base + in.off + c0, w, b, kmin, kmax);
        for (int64_t c = 0; c < w; c++) {
            int64_t o = ou.off + (c0 + c) * p->kout[cd];
            j->keys[2 * (o * nblk + b)] = kmin[c];
            j->keys[2 * (o * nblk + b) + 1] = kmax[c];
        }
    }
}

/* Keys per block and result. */
static void run_keys(keys_job *j)
{
    const nnf__red_plan *p = j->p;
    int threads = nnf__red_threads(p);
    int64_t block = p->R < NNF__RED_BLOCK ? p->R : NNF__RED_BLOCK;
    if (p->col < 0) {
        int64_t items = p->nout * p->nblk;
        nnf__parallel_ranges(threads, items, nnf__red_grain(items, block, threads), row_blocks,
                             j);
        return;
    }
    j->C = p->ksize[p->col];
    j->nch = (j->C + COLS - 1) / COLS;
    nnf__red_cols_make(p, &j->cols);
    int64_t items = p->nout / j->C * j->nch * p->nblk;
    nnf__parallel_ranges(threads, items,
                         nnf__red_grain(items, block * (j->C < COLS ? j->C : COLS), threads),
                         col_blocks, j);
}

static nnf_status extremum(int is_max, const char *name, nnf_tensor **out, const nnf_tensor *a,
                           int ndims, const int *dims, int keepdim)
{
    nnf__red_plan p;
    NNF_FORWARD(nnf__red_plan_make(&p, name, a, ndims, dims, keepdim));
    NNF_RETURN_IF(a->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "%s: expected a float32 tensor but got %s", name,
                  a->dtype == NNF_BOOL ? "bool" : "int64");
    NNF_FORWARD(nnf__red_check_nonempty(&p, a, dims == NULL || ndims == 0));
    nnf__red_out o;
    NNF_FORWARD(nnf__red_out_prepare(&o, out, a, &p, NNF_F32));
    keys_job j = {&p, &nnf__kernels_active()->red, is_max, o.data, NULL, {0}, 0, 0};
    if (p.nout == 0 || (p.col < 0 && p.nblk == 1)) {
        int threads = nnf__red_threads(&p);
        nnf__parallel_ranges(threads, p.nout, nnf__red_grain(p.nout, p.R, threads), rows_single,
                             &j);
        nnf__red_out_commit(&o, &p);
        return NNF_OK;
    }
    size_t keys_bytes = (size_t)(p.nout * p.nblk) * 2 * sizeof(int32_t);
    int32_t *keys = nnf__alloc(keys_bytes);
    if (keys == NULL) {
        nnf__red_out_abort(&o);
        return nnf__fail(NNF_ERR_NOMEM, "%s: out of memory (%zu bytes)", name, keys_bytes);
    }
    j.keys = keys;
    run_keys(&j);
    float *v = o.data;
    for (int64_t i = 0; i < p.nout; i++) {
        int32_t *kb = keys + 2 * i * p.nblk;
        int32_t m[2] = {kb[0], kb[1]};
        for (int64_t b = 1; b < p.nblk; b++) {
            m[0] = kb[2 * b] < m[0] ? kb[2 * b] : m[0];
            m[1] = kb[2 * b + 1] > m[1] ? kb[2 * b + 1] : m[1];
        }
        v[i] = extreme(m, is_max);
    }
    nnf__dealloc(keys, keys_bytes);
    nnf__red_out_commit(&o, &p);
    return NNF_OK;
}

nnf_status nnf_max(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_max");
    return extremum(1, "nnf_max", out, a, ndims, dims, keepdim);
}

nnf_status nnf_min(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_min");
    return extremum(0, "nnf_min", out, a, ndims, dims, keepdim);
}

/* ---- argmax ---- */

typedef struct {
    const nnf__reduce_kernels *k;
    float value;
} find_ctx;

static int64_t find_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    find_ctx *c = ctx;
    (void)stride;
    return (int64_t)c->k->find_f32((size_t)len, (const float *)(const void *)x, c->value, 1);
}

static int64_t argmax_one(const nnf__red_plan *p, const nnf__reduce_kernels *k, const char *obase)
{
    int32_t keys[2] = {INT32_MAX, INT32_MIN};
    for (int64_t r0 = 0; r0 < p->R; r0 += NNF__RED_BLOCK)
        row_keys(p, k, obase, r0, p->R - r0 < NNF__RED_BLOCK ? p->R - r0 : NNF__RED_BLOCK, keys);
    find_ctx c = {k, extreme(keys, 1)};
    for (int64_t r0 = 0; r0 < p->R; r0 += NNF__RED_BLOCK) {
        int64_t n = p->R - r0 < NNF__RED_BLOCK ? p->R - r0 : NNF__RED_BLOCK, hit;
        if (nnf__red_inner_unit(p)) {
            hit = nnf__red_spans(p, obase, r0, n, find_span, &c);
        } else {
            float buf[NNF__RED_BLOCK];
            nnf__red_gather(p, obase, r0, n, buf);
            hit = (int64_t)k->find_f32((size_t)n, buf, c.value, 1);
        }
        if (hit < n)
            return r0 + hit;
    }
    return 0;   /* unreachable: the maximum is one of the values */
}

typedef struct {
    const nnf__red_plan *p;
    const nnf__reduce_kernels *k;
    int64_t *v;
} argmax_job;

static void argmax_range(void *ctx, int64_t o0, int64_t o1, int participant)
{
    (void)participant;
    const argmax_job *j = ctx;
    const nnf__red_plan *p = j->p;
    for (int64_t o = o0; o < o1; o++)
        j->v[o] = argmax_one(p, j->k, p->base + nnf__red_out_offset(p, o) * (int64_t)p->esize);
}

nnf_status nnf_argmax(nnf_tensor **out, const nnf_tensor *a, int dim, int keepdim)
{
    NNF_PUBLIC("nnf_argmax");
    nnf__red_plan p;
    NNF_FORWARD(nnf__red_plan_make(&p, "nnf_argmax", a, 1, &dim, keepdim));
    NNF_RETURN_IF(a->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "nnf_argmax: expected a float32 tensor but got %s",
                  a->dtype == NNF_BOOL ? "bool" : "int64");
    NNF_FORWARD(nnf__red_check_nonempty(&p, a, 0));
    nnf__red_out o;
    NNF_FORWARD(nnf__red_out_prepare(&o, out, a, &p, NNF_I64));
    argmax_job j = {&p, &nnf__kernels_active()->red, o.data};
    int threads = nnf__red_threads(&p);
    nnf__parallel_ranges(threads, p.nout, nnf__red_grain(p.nout, p.R, threads), argmax_range,
                         &j);
    nnf__red_out_commit(&o, &p);
    return NNF_OK;
}
