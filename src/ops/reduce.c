/* Sums and moments: nnf_sum, nnf_mean, nnf_var, nnf_std, nnf_std_mean.
 *
 * THE CANONICAL ORDER. Each result reduces R values v[0..R): its input elements in the
 * row-major order of the reduced dims (the logical order, whatever the strides). Then
 *   1. v is cut into blocks of NNF__RED_BLOCK = 4096 values;
 *   2. in a block, lane j (0..31) sums the values with index = j mod 32, in increasing
 *      index, from +0.0f, one float add each (kernels/<isa>/reduce_sum.c);
 *   3. the 32 lanes fold by halving, l[j] += l[j + h] for h = 16, 8, 4, 2, 1 (lane_tree);
 *   4. the block results are combined in double by the pairwise tree that splits a run
 *      of blocks at the largest power of two below its length (block_tree).
 * Variance uses the same blocks: a block's mean is m = (its sum) / (its count) in float,
 * its M2 = sum of (v - m)^2 in the same lane order, read again while the block is still
 * in L1 (16 KiB); blocks merge in the same tree with Chan et al.'s formula
 *   M2 = M2a + M2b + (mean_b - mean_a)^2 * na * nb / (na + nb)
 * in double, so var is stable (no sum-of-squares cancellation) yet reads memory once.
 * Nothing above depends on the vector width or on which thread ran a block: threads
 * take whole blocks, and steps 3-4 run on the finished block results. The lane error of
 * step 2 grows with 4096 / 32 = 128 adds per lane; steps 3-4 add log2 terms, which is
 * as accurate as PyTorch's cascade sum on 1e7 uniform floats (tests/test_reduce_accuracy.c).
 *
 * Two ways to read the input give the same arithmetic:
 * - rows: a result's runs (the innermost reduced dim) go to the lane kernels; a run of
 *   a length that is not a multiple of 32, or strided, is first gathered into a
 *   block-sized buffer so that lane j still gets index j mod 32;
 * - columns: when the innermost memory dim is kept (e.g. sum over dim 0 of a row-major
 *   matrix), 64 neighbouring results are read together, one input row at a time, each
 *   row added into lane row (index mod 32) of a 32 x 64 accumulator.
 */
#include <math.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/ops/reduce_plan.h"

/* Results read as columns per pass: 64 columns x 4096 rows = 1 MiB, the L2, holds a
 * block for var's second pass; the 32 x 64 accumulator is 8 KiB of L1. */
#define COLS 64

typedef enum { K_SUM, K_MEAN, K_VAR, K_STD, K_STD_MEAN } kind;

typedef struct {
    float sum, m2;
} blockstat;

typedef struct {
    double n, sum, m2;
} node;

static float lane_tree(float *acc)
{
    for (int h = NNF__RED_LANES / 2; h > 0; h /= 2)
        for (int j = 0; j < h; j++)
            acc[j] += acc[j + h];
    return acc[0];
}

/* lane_tree for w columns at once: acc holds 32 rows of w. */
static void lane_tree_cols(const nnf__reduce_kernels *k, float *acc, int64_t w)
{
    for (int h = NNF__RED_LANES / 2; h > 0; h /= 2)
        for (int j = 0; j < h; j++)
            k->sum_cols((size_t)w, acc + (j + h) * w, acc + j * w);
}

static int64_t block_len(const nnf__red_plan *p, int64_t b)
{
    int64_t rest = p->R - b * NNF__RED_BLOCK;
    return rest < NNF__RED_BLOCK ? rest : NNF__RED_BLOCK;
}

static node merge(node a, node b)
{
    double delta = b.sum / b.n - a.sum / a.n;
    node r = {a.n + b.n, a.sum + b.sum, 0.0};
    r.m2 = a.m2 + b.m2 + delta * delta * (a.n * b.n / r.n);
    return r;
}

/* Blocks [b0, b0 + cnt) of one result, split at the largest power of two below cnt. */
static node block_tree(const nnf__red_plan *p, const blockstat *bs, int64_t b0, int64_t cnt)
{
    if (cnt == 1)
        return (node){(double)block_len(p, b0), bs[b0].sum, bs[b0].m2};
    int64_t h = 1;
    while (h * 2 < cnt)
        h *= 2;
    return merge(block_tree(p, bs, b0, h), block_tree(p, bs, b0 + h, cnt - h));
}

static void finish(kind kd, const nnf__red_plan *p, int correction, node nd, float *v0,
                   float *v1, int64_t o)
{
    double dof = (double)p->R - correction > 0 ? (double)p->R - correction : 0.0;
    switch (kd) {
    case K_SUM: v0[o] = (float)nd.sum; break;
    case K_MEAN: v0[o] = (float)(nd.sum / (double)p->R); break;
    case K_VAR: v0[o] = (float)(nd.m2 / dof); break;
    case K_STD: v0[o] = (float)sqrt(nd.m2 / dof); break;
    case K_STD_MEAN:
        v0[o] = (float)sqrt(nd.m2 / dof);
        v1[o] = (float)(nd.sum / (double)p->R);
        break;
    }
}

/* ---- rows ---- */

typedef struct {
    const nnf__reduce_kernels *k;
    float *acc;
    float mean;
} lane_ctx;

static int64_t sum_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    lane_ctx *c = ctx;
    (void)stride;
    c->k->sum_lanes((size_t)len, (const float *)(const void *)x, c->acc);
    return len;
}

static int64_t sqdev_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    lane_ctx *c = ctx;
    (void)stride;
    c->k->sqdev_lanes((size_t)len, (const float *)(const void *)x, c->mean, c->acc);
    return len;
}

static blockstat row_block(const nnf__red_plan *p, const nnf__reduce_kernels *k,
                           const char *obase, int64_t r0, int64_t n, int moments)
{
    float acc[NNF__RED_LANES] = {0};
    float buf[NNF__RED_BLOCK];
    lane_ctx c = {k, acc, 0.0f};
    /* In place only if every run inside the block starts on lane 0. */
    int direct = nnf__red_inner_unit(p) &&
                 (p->nr <= 1 || p->rsize[p->nr - 1] % NNF__RED_LANES == 0);
    if (direct) {
        nnf__red_spans(p, obase, r0, n, sum_span, &c);
    } else {
        nnf__red_gather(p, obase, r0, n, buf);
        k->sum_lanes((size_t)n, buf, acc);
    }
    blockstat bs = {lane_tree(acc), 0.0f};
    if (moments) {
        memset(acc, 0, sizeof acc);
        c.mean = bs.sum / (float)n;
        if (direct)
            nnf__red_spans(p, obase, r0, n, sqdev_span, &c);
        else
            k->sqdev_lanes((size_t)n, buf, c.mean, acc);
        bs.m2 = lane_tree(acc);
    }
    return bs;
}

/* ---- columns ---- */

/* Block b of the w results whose first values start at cbase (stride 1 between them). */
static void col_block(const nnf__red_plan *p, const nnf__reduce_kernels *k, const float *cbase,
                      int64_t w, int64_t b, int moments, blockstat *out, int64_t out_stride)
{
    float acc[NNF__RED_LANES * COLS], mean[COLS];
    int64_t r0 = b * NNF__RED_BLOCK, n = block_len(p, b);
    nnf__red_odo od;
    memset(acc, 0, sizeof(float) * NNF__RED_LANES * (size_t)w);
    nnf__red_odo_seek(&od, p->nr, p->rsize, p->rstride, r0);
    for (int64_t i = 0; i < n; i++, nnf__red_odo_next(&od))
        k->sum_cols((size_t)w, cbase + od.off, acc + (i % NNF__RED_LANES) * w);
    lane_tree_cols(k, acc, w);
    for (int64_t c = 0; c < w; c++) {
        out[c * out_stride].sum = acc[c];
        out[c * out_stride].m2 = 0.0f;
        mean[c] = acc[c] / (float)n;
    }
    if (!moments)
        return;
    memset(acc, 0, sizeof(float) * NNF__RED_LANES * (size_t)w);
    nnf__red_odo_seek(&od, p->nr, p->rsize, p->rstride, r0);
    for (int64_t i = 0; i < n; i++, nnf__red_odo_next(&od))
        k->sqdev_cols((size_t)w, cbase + od.off, mean, acc + (i % NNF__RED_LANES) * w);
    lane_tree_cols(k, acc, w);
    for (int64_t c = 0; c < w; c++)
        out[c * out_stride].m2 = acc[c];
}

/* ---- driver ---- */

static void run(kind kd, const nnf__red_plan *p, int correction, blockstat *parts, float *v0,
                float *v1)
{
    const nnf__reduce_kernels *k = &nnf__kernels_active()->red;
    int moments = kd >= K_VAR;
    int64_t nblk = p->nblk;
    int par = nnf__red_parallel(p);
    if (p->col < 0) {
        int64_t items = p->nout * nblk;
#pragma omp parallel for schedule(static) if (par)
        for (int64_t i = 0; i < items; i++) {
            int64_t o = i / nblk, b = i % nblk;
            const char *obase = p->base + nnf__red_out_offset(p, o) * (int64_t)sizeof(float);
            blockstat bs = row_block(p, k, obase, b * NNF__RED_BLOCK, block_len(p, b), moments);
            if (nblk == 1)
                finish(kd, p, correction, (node){(double)p->R, bs.sum, bs.m2}, v0, v1, o);
            else
                parts[i] = bs;
        }
    } else {
        /* Results as (outer kept index q, column c): o = q's result offset + c * kout. */
        int cd = p->col;
        int64_t C = p->ksize[cd], nch = (C + COLS - 1) / COLS, nq = p->nout / C;
        int64_t osize[NNF_MAX_DIMS], ostride[NNF_MAX_DIMS], oout[NNF_MAX_DIMS];
        int no = 0;
        for (int d = 0; d < p->nk; d++)
            if (d != cd) {
                osize[no] = p->ksize[d];
                ostride[no] = p->kstride[d];
                oout[no++] = p->kout[d];
            }
        int64_t items = nq * nch * nblk;
#pragma omp parallel for schedule(static) if (par)
        for (int64_t i = 0; i < items; i++) {
            int64_t b = i % nblk, ch = (i / nblk) % nch, q = i / nblk / nch;
            nnf__red_odo in, ou;
            nnf__red_odo_seek(&in, no, osize, ostride, q);
            nnf__red_odo_seek(&ou, no, osize, oout, q);
            int64_t c0 = ch * COLS, w = C - c0 < COLS ? C - c0 : COLS;
            int64_t o0 = ou.off + c0 * p->kout[cd];
            const float *cbase = (const float *)(const void *)p->base + in.off + c0;
            blockstat bs[COLS];
            col_block(p, k, cbase, w, b, moments, nblk == 1 ? bs : parts + o0 * nblk + b,
                      nblk == 1 ? 1 : p->kout[cd] * nblk);
            if (nblk == 1)
                for (int64_t c = 0; c < w; c++)
                    finish(kd, p, correction, (node){(double)p->R, bs[c].sum, bs[c].m2}, v0,
                           v1, o0 + c * p->kout[cd]);
        }
    }
    if (nblk > 1) {
#pragma omp parallel for schedule(static) if (par && p->nout > 1)
        for (int64_t o = 0; o < p->nout; o++)
            finish(kd, p, correction, block_tree(p, parts + o * nblk, 0, nblk), v0, v1, o);
    }
}

static nnf_status reduce(kind kd, const char *name, nnf_tensor **out0, nnf_tensor **out1,
                         const nnf_tensor *a, int ndims, const int *dims, int correction,
                         int keepdim)
{
    nnf__red_plan p;
    NNF_FORWARD(nnf__red_plan_make(&p, name, a, ndims, dims, keepdim));
    NNF_RETURN_IF(a->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "%s(): expected a float32 tensor but got %s", name,
                  a->dtype == NNF_BOOL ? "bool" : "int64");
    NNF_RETURN_IF(correction < 0, NNF_ERR_INVALID, "%s(): correction must be >= 0, got %d",
                  name, correction);
    if (kd == K_STD_MEAN) {
        NNF_RETURN_IF(out0 == NULL || out1 == NULL, NNF_ERR_NULL, "%s(): out is NULL", name);
        NNF_RETURN_IF(*out0 != NULL && *out0 == *out1, NNF_ERR_INVALID,
                      "%s(): std and mean outputs must be different tensors", name);
    }
    nnf__red_out o0, o1;
    NNF_FORWARD(nnf__red_out_prepare(&o0, out0, a, &p, NNF_F32));
    if (kd == K_STD_MEAN) {
        nnf_status st = nnf__red_out_prepare(&o1, out1, a, &p, NNF_F32);
        if (st != NNF_OK) {
            nnf__red_out_abort(&o0);
            return st;
        }
    }
    float *v0 = o0.data, *v1 = kd == K_STD_MEAN ? o1.data : NULL;
    blockstat *parts = NULL;
    size_t parts_bytes = 0;
    if (p.nblk > 1 && p.nout > 0) {
        parts_bytes = (size_t)(p.nout * p.nblk) * sizeof *parts;
        parts = nnf__alloc(parts_bytes);
        if (parts == NULL) {
            nnf__red_out_abort(&o0);
            if (kd == K_STD_MEAN)
                nnf__red_out_abort(&o1);
            return nnf__fail(NNF_ERR_NOMEM, "%s(): out of memory (%zu bytes)", name,
                             parts_bytes);
        }
    }
    if (p.R == 0) {
        /* PyTorch: the empty sum is 0; mean, var and std of nothing are NaN. */
        for (int64_t i = 0; i < p.nout; i++) {
            v0[i] = kd == K_SUM ? 0.0f : NAN;
            if (v1 != NULL)
                v1[i] = NAN;
        }
    } else if (p.nout > 0) {
        run(kd, &p, correction, parts, v0, v1);
    }
    nnf__dealloc(parts, parts_bytes);
    nnf__red_out_commit(&o0, &p);
    if (kd == K_STD_MEAN)
        nnf__red_out_commit(&o1, &p);
    return NNF_OK;
}

nnf_status nnf_sum(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    return reduce(K_SUM, "sum", out, NULL, a, ndims, dims, 0, keepdim);
}

nnf_status nnf_mean(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    return reduce(K_MEAN, "mean", out, NULL, a, ndims, dims, 0, keepdim);
}

nnf_status nnf_var(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim)
{
    return reduce(K_VAR, "var", out, NULL, a, ndims, dims, correction, keepdim);
}

nnf_status nnf_std(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim)
{
    return reduce(K_STD, "std", out, NULL, a, ndims, dims, correction, keepdim);
}

nnf_status nnf_std_mean(nnf_tensor **std_out, nnf_tensor **mean_out, const nnf_tensor *a,
                        int ndims, const int *dims, int correction, int keepdim)
{
    return reduce(K_STD_MEAN, "std_mean", std_out, mean_out, a, ndims, dims, correction,
                  keepdim);
}
