/* Sums and moments: nnf_sum, nnf_mean, nnf_var, nnf_std, nnf_std_mean.
 *
 * THE CANONICAL ORDER. Each result reduces R values v[0..R): its input elements in the
 * row-major order of the reduced dims (the logical order, whatever the strides). Then
 *   1. v is cut into blocks of NNF__RED_BLOCK = 4096 values;
 *   2. in a block, lane j (0..31) sums the values with index = j mod 32, in increasing
 *      index, from +0.0f, one float add each (kernels/<isa>/reduce_sum__<isa>.c);
 *   3. the 32 lanes fold by halving, l[j] += l[j + h] for h = 16, 8, 4, 2, 1 (lane_tree);
 *   4. the block results are combined in double by the pairwise tree that splits a run
 *      of blocks at the largest power of two below its length (block_tree);
 *   5. sum = (float)total, mean = (float)(total / R), both from the double total.
 * Variance uses the same blocks: a block's mean is m = (its sum) / (its count) in float,
 * its M2 = sum of (v - m)^2 in the same lane order, read again while the block is still
 * in L1 (16 KiB); blocks merge in the same tree with Chan et al.'s formula
 *   M2 = M2a + M2b + (mean_b - mean_a)^2 * na * nb / (na + nb)
 * in double, so var is stable (no sum-of-squares cancellation) yet reads memory once.
 * Nothing above depends on the vector width or on which thread ran a block: threads
 * take whole blocks, and steps 3-5 run on the finished block results. Accuracy: a lane
 * makes at most 4096 / 32 = 128 float adds, the lane tree 5 more, and everything above
 * a block is double. On 1e7 uniform floats in [0, 1) the sum is off by 0.015 where
 * PyTorch 1.13's float sum is off by 0.52 (tests/test_reduce_repro.c asserts nnf is no
 * worse than PyTorch for sum, mean, var and std on those values).
 *
 * Two ways to read the input give the same arithmetic:
 * - rows: a result's runs (the innermost reduced dim) go to the lane kernels; a run of
 *   a length that is not a multiple of 32, or strided, is first gathered into a
 *   block-sized buffer so that lane j still gets index j mod 32;
 * - columns: when the innermost memory dim is kept (e.g. sum over dim 0 of a row-major
 *   matrix), up to 1024 neighbouring results (64 for var) are read together, one input
 *   row at a time, each row added into lane row (index mod 32) of a 32 x w accumulator.
 */
#include <math.h>
#include <string.h>

#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/ops/reduce_plan.h"
#include "src/runtime/pool.h"

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
    case K_SUM: v0[o] = nnf__red_result((float)nd.sum); break;
    case K_MEAN: v0[o] = nnf__red_result((float)(nd.sum / (double)p->R)); break;
    case K_VAR: v0[o] = nnf__red_result((float)(nd.m2 / dof)); break;
    case K_STD: v0[o] = nnf__red_result((float)sqrt(nd.m2 / dof)); break;
    case K_STD_MEAN:
        v0[o] = nnf__red_result((float)sqrt(nd.m2 / dof));
        v1[o] = nnf__red_result((float)(nd.sum / (double)p->R));
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

/* A result of at most 32 values in one run: each lane gets one add, +0.0f + v[j], so
 * plain C here gives the kernels' bits without the cost of calling them (which is most
 * of the time for, e.g., a sum over the last dim of [1M, 10]). */
static blockstat row_short(const nnf__red_plan *p, const char *obase, int64_t n, int moments)
{
    const float *x = (const float *)(const void *)obase;
    int64_t stride = p->nr ? p->rstride[0] : 1;
    float v[NNF__RED_LANES], acc[NNF__RED_LANES] = {0};
    for (int64_t j = 0; j < n; j++) {
        v[j] = x[j * stride];
        acc[j] += v[j];
    }
    blockstat bs = {lane_tree(acc), 0.0f};
    if (moments) {
        float mean = bs.sum / (float)n;
        memset(acc, 0, sizeof acc);
        for (int64_t j = 0; j < n; j++) {
            float d = v[j] - mean;
            acc[j] += d * d;
        }
        bs.m2 = lane_tree(acc);
    }
    return bs;
}

/* One block of one result. buf (NNF__RED_BLOCK floats) holds the block when its runs
 * cannot be read in place. */
static blockstat row_block(const nnf__red_plan *p, const nnf__reduce_kernels *k,
                           const char *obase, int64_t r0, int64_t n, int moments, float *buf)
{
    if (p->nr <= 1 && p->R <= NNF__RED_LANES)
        return row_short(p, obase, n, moments);
    float acc[NNF__RED_LANES] = {0};
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

/* Columns per pass. Sums read whole rows of up to 1024 results (4 KiB of input per row,
 * a 128 KiB accumulator in L2). Moments read 64: a block of 4096 rows x 64 is 1 MiB,
 * the L2, for the second pass. */
static int64_t col_width(int moments)
{
    return moments ? 64 : 1024;
}

/* Block b of the w results whose first values start at cbase (stride 1 between them);
 * acc holds 32 x w floats and mean w. */
static void col_block(const nnf__red_plan *p, const nnf__reduce_kernels *k, const float *cbase,
                      int64_t w, int64_t b, int moments, float *acc, float *mean,
                      blockstat *out, int64_t out_stride)
{
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

/* Scratch floats per thread: a gather buffer, or a column accumulator, its means and
 * its results (as blockstats, two floats each). */
static size_t scratch_floats(int moments)
{
    size_t w = (size_t)col_width(moments), cols = (NNF__RED_LANES + 3) * w;
    return cols > NNF__RED_BLOCK ? cols : NNF__RED_BLOCK;
}

/* One reduction's parts, for the ranges that threads claim. */
typedef struct {
    kind kd;
    const nnf__red_plan *p;
    const nnf__reduce_kernels *k;
    int correction;
    float *scratch;         /* scratch_floats(moments) per participant */
    blockstat *parts;       /* nout x nblk block results, when nblk > 1 */
    float *v0, *v1;
    nnf__red_cols cols;     /* column reductions: the other kept dims */
    int64_t W, C, nch;      /* columns per pass, columns, passes per outer position */
} sum_job;

static float *participant_scratch(const sum_job *j, int participant)
{
    return j->scratch + (size_t)participant * scratch_floats(j->kd >= K_VAR);
}

/* Results [o0, o1), each one block: walked with an odometer (no divisions per result,
 * which matter when a result has only a few values). */
static void rows_single(void *ctx, int64_t o0, int64_t o1, int participant)
{
    const sum_job *j = ctx;
    const nnf__red_plan *p = j->p;
    float *buf = participant_scratch(j, participant);
    nnf__red_odo od;
    nnf__red_odo_seek(&od, p->nk, p->ksize, p->kstride, o0);
    for (int64_t o = o0; o < o1; o++, nnf__red_odo_next(&od)) {
        blockstat bs = row_block(p, j->k, p->base + od.off * (int64_t)sizeof(float), 0, p->R,
                                 j->kd >= K_VAR, buf);
        finish(j->kd, p, j->correction, (node){(double)p->R, bs.sum, bs.m2}, j->v0, j->v1, o);
    }
}

/* Items [i0, i1) of (result, block), read as rows. */
static void row_blocks(void *ctx, int64_t i0, int64_t i1, int participant)
{
    const sum_job *j = ctx;
    const nnf__red_plan *p = j->p;
    int64_t nblk = p->nblk;
    float *buf = participant_scratch(j, participant);
    for (int64_t i = i0; i < i1; i++) {
        int64_t o = i / nblk, b = i % nblk;
        const char *obase = p->base + nnf__red_out_offset(p, o) * (int64_t)sizeof(float);
        j->parts[i] = row_block(p, j->k, obase, b * NNF__RED_BLOCK, block_len(p, b),
                                j->kd >= K_VAR, buf);
    }
}

/* Items [i0, i1) of (outer kept index q, column pass ch, block b): result o = q's
 * offset + c * kout. */
static void col_blocks(void *ctx, int64_t i0, int64_t i1, int participant)
{
    const sum_job *j = ctx;
    const nnf__red_plan *p = j->p;
    int cd = p->col;
    int64_t nblk = p->nblk, W = j->W;
    float *acc = participant_scratch(j, participant);
    float *mean = acc + NNF__RED_LANES * W;
    blockstat *bs = (blockstat *)(void *)(mean + W);
    for (int64_t i = i0; i < i1; i++) {
        int64_t b = i % nblk, ch = (i / nblk) % j->nch, q = i / nblk / j->nch;
        nnf__red_odo in, ou;
        nnf__red_cols_seek(&j->cols, q, &in, &ou);
        int64_t c0 = ch * W, w = j->C - c0 < W ? j->C - c0 : W;
        int64_t o0 = ou.off + c0 * p->kout[cd];
        const float *cbase = (const float *)(const void *)p->base + in.off + c0;
        col_block(p, j->k, cbase, w, b, j->kd >= K_VAR, acc, mean,
                  nblk == 1 ? bs : j->parts + o0 * nblk + b,
                  nblk == 1 ? 1 : p->kout[cd] * nblk);
        if (nblk == 1)
            for (int64_t c = 0; c < w; c++)
                finish(j->kd, p, j->correction, (node){(double)p->R, bs[c].sum, bs[c].m2},
                       j->v0, j->v1, o0 + c * p->kout[cd]);
    }
}

/* Results [o0, o1) from their blocks, merged in the fixed tree. */
static void merge_blocks(void *ctx, int64_t o0, int64_t o1, int participant)
{
    (void)participant;
    const sum_job *j = ctx;
    int64_t nblk = j->p->nblk;
    for (int64_t o = o0; o < o1; o++)
        finish(j->kd, j->p, j->correction, block_tree(j->p, j->parts + o * nblk, 0, nblk),
               j->v0, j->v1, o);
}

/* Threads take whole blocks (or whole one-block results), so which thread reads which
 * values never changes a sum. */
static void run(kind kd, const nnf__red_plan *p, int correction, blockstat *parts,
                float *scratch, int threads, float *v0, float *v1)
{
    sum_job j = {kd, p, &nnf__kernels_active()->red, correction, scratch, parts, v0, v1,
                 {0}, 0, 0, 0};
    int64_t nblk = p->nblk, block = p->R < NNF__RED_BLOCK ? p->R : NNF__RED_BLOCK;
    if (p->col < 0 && nblk == 1) {
        nnf__parallel_ranges(threads, p->nout, nnf__red_grain(p->nout, p->R, threads),
                             rows_single, &j);
        return;
    }
    if (p->col < 0) {
        int64_t items = p->nout * nblk;
        nnf__parallel_ranges(threads, items, nnf__red_grain(items, block, threads), row_blocks,
                             &j);
    } else {
        j.W = col_width(kd >= K_VAR);
        j.C = p->ksize[p->col];
        j.nch = (j.C + j.W - 1) / j.W;
        nnf__red_cols_make(p, &j.cols);
        int64_t items = p->nout / j.C * j.nch * nblk;
        nnf__parallel_ranges(threads, items,
                             nnf__red_grain(items, block * (j.C < j.W ? j.C : j.W), threads),
                             col_blocks, &j);
    }
    if (nblk > 1)
        nnf__parallel_ranges(threads, p->nout, nnf__red_grain(p->nout, p->R, threads),
                             merge_blocks, &j);
}

static nnf_status reduce(kind kd, const char *name, nnf_tensor **out0, nnf_tensor **out1,
                         const nnf_tensor *a, int ndims, const int *dims, int correction,
                         int keepdim)
{
    nnf__red_plan p;
    NNF_FORWARD(nnf__red_plan_make(&p, name, a, ndims, dims, keepdim));
    NNF_RETURN_IF(a->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "%s: expected a float32 tensor but got %s", name,
                  a->dtype == NNF_BOOL ? "bool" : "int64");
    NNF_RETURN_IF(correction < 0, NNF_ERR_INVALID, "%s: correction must be >= 0, got %d",
                  name, correction);
    if (kd == K_STD_MEAN) {
        NNF_RETURN_IF(out0 == NULL || out1 == NULL, NNF_ERR_NULL, "%s: out is NULL", name);
        NNF_RETURN_IF(*out0 != NULL && *out0 == *out1, NNF_ERR_INVALID,
                      "%s: std and mean outputs must be different tensors", name);
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
    float *scratch = NULL;
    size_t parts_bytes = 0, scratch_bytes = 0;
    /* The common small case (one block per result, read as rows, one thread) needs one
     * block of scratch, 16 KiB, which the stack holds: a training step's loss and
     * row sums then allocate nothing. */
    _Alignas(64) float small[NNF__RED_BLOCK];
    int threads = nnf__red_threads(&p);
    if (p.R > 0 && p.nout > 0 && p.col < 0 && p.nblk == 1 && threads == 1) {
        scratch = small;
    } else if (p.R > 0 && p.nout > 0) {
        if (p.nblk > 1) {
            parts_bytes = (size_t)(p.nout * p.nblk) * sizeof *parts;
            parts = nnf__alloc(parts_bytes);
        }
        scratch_bytes = (size_t)threads * scratch_floats(kd >= K_VAR) * sizeof(float);
        scratch = nnf__alloc(scratch_bytes);
        if ((p.nblk > 1 && parts == NULL) || scratch == NULL) {
            nnf__dealloc(parts, parts_bytes);
            nnf__dealloc(scratch, scratch_bytes);
            nnf__red_out_abort(&o0);
            if (kd == K_STD_MEAN)
                nnf__red_out_abort(&o1);
            return nnf__fail(NNF_ERR_NOMEM, "%s: out of memory", name);
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
        run(kd, &p, correction, parts, scratch, threads, v0, v1);
    }
    nnf__dealloc(parts, parts_bytes);
    if (scratch != small)
        nnf__dealloc(scratch, scratch_bytes);
    nnf__red_out_commit(&o0, &p);
    if (kd == K_STD_MEAN)
        nnf__red_out_commit(&o1, &p);
    return NNF_OK;
}

nnf_status nnf_sum(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_sum");
    return reduce(K_SUM, "nnf_sum", out, NULL, a, ndims, dims, 0, keepdim);
}

nnf_status nnf_mean(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_mean");
    return reduce(K_MEAN, "nnf_mean", out, NULL, a, ndims, dims, 0, keepdim);
}

nnf_status nnf_var(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim)
{
    NNF_PUBLIC("nnf_var");
    return reduce(K_VAR, "nnf_var", out, NULL, a, ndims, dims, correction, keepdim);
}

nnf_status nnf_std(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims,
                   int correction, int keepdim)
{
    NNF_PUBLIC("nnf_std");
    return reduce(K_STD, "nnf_std", out, NULL, a, ndims, dims, correction, keepdim);
}

nnf_status nnf_std_mean(nnf_tensor **std_out, nnf_tensor **mean_out, const nnf_tensor *a,
                        int ndims, const int *dims, int correction, int keepdim)
{
    NNF_PUBLIC("nnf_std_mean");
    return reduce(K_STD_MEAN, "nnf_std_mean", std_out, mean_out, a, ndims, dims, correction,
                  keepdim);
}
