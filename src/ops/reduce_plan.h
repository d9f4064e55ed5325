/* The plan shared by every reduction (src/ops/reduce*.c): which dims are reduced, the
 * result's shape, and the input's geometry with size-1 dims dropped and neighbouring
 * dims coalesced, in LOGICAL order (the canonical order is defined on the logical
 * row-major order of the reduced dims, so it cannot depend on memory layout).
 */
#ifndef NNF_OPS_REDUCE_PLAN_H
#define NNF_OPS_REDUCE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/dispatch.h"
#include "src/tensor/tensor_internal.h"

/* Below this many input elements a reduction runs on one thread: starting a job costs
 * a few microseconds, and one AVX-512 core sums 64K cached floats in ~5 us and 256K in
 * ~17 us (bench_reduce's BM_sum_size), so a second thread pays from ~128K. */
#define NNF__RED_PARALLEL_MIN (1 << 17)

typedef struct nnf__red_plan {
    const char *name;                   /* "nnf_sum", "nnf_max", ... for messages */
    int out_ndim;
    int64_t out_shape[NNF_MAX_DIMS];
    int64_t nout;                       /* number of results */
    int64_t R;                          /* values reduced into each result */
    int64_t nblk;                       /* ceil(R / NNF__RED_BLOCK) */
    int64_t numel;                      /* of the input */
    /* Kept dims: sizes, input strides, strides of the (contiguous) result. */
    int nk;
    int64_t ksize[NNF_MAX_DIMS], kstride[NNF_MAX_DIMS], kout[NNF_MAX_DIMS];
    /* Reduced dims: sizes and input strides; the last one is the innermost run. */
    int nr;
    int64_t rsize[NNF_MAX_DIMS], rstride[NNF_MAX_DIMS];
    const char *base;                   /* input element [0, ..., 0] */
    size_t esize;                       /* input element size in bytes */
    /* Kept dim read as columns (stride 1 while the innermost reduced dim is not), or -1:
     * then each result reads its own runs. */
    int col;
    unsigned reduced_mask;              /* bit d: input dim d is reduced */
} nnf__red_plan;

/* Validates `dims` (NULL or ndims == 0: all dims; duplicates and out-of-range dims are
 * errors with PyTorch's messages) and fills the plan. */
nnf_status nnf__red_plan_make(nnf__red_plan *p, const char *name, const nnf_tensor *a,
                              int ndims, const int *dims, int keepdim);

/* max, min, argmax: an empty reduction is an error, with PyTorch's message. */
nnf_status nnf__red_check_nonempty(const nnf__red_plan *p, const nnf_tensor *a, int all_dims);

/* Where a reduction writes its results: straight into the output tensor when it is
 * fresh or contiguous and apart from the input, else into a scratch buffer that
 * nnf__red_out_commit scatters into the caller's tensor. */
typedef struct nnf__red_out {
    nnf_tensor **user;
    nnf_tensor *t;          /* the tensor that receives the results */
    int fresh;              /* t was created here */
    void *data;             /* nout contiguous results */
    void *scratch;
    size_t scratch_bytes;
} nnf__red_out;

/* Checks or creates the output (see the IN/OUT convention in nnf/ops.h). */
nnf_status nnf__red_out_prepare(nnf__red_out *o, nnf_tensor **out, const nnf_tensor *a,
                                const nnf__red_plan *p, nnf_dtype dtype);
/* Publishes the results: scatters scratch, stores a fresh tensor in *out. */
void nnf__red_out_commit(nnf__red_out *o, const nnf__red_plan *p);
/* Undoes nnf__red_out_prepare after a later failure. */
void nnf__red_out_abort(nnf__red_out *o);

/* An odometer over dims (row-major): the element offset of linear index i. */
typedef struct nnf__red_odo {
    int n;
    const int64_t *size, *stride;
    int64_t idx[NNF_MAX_DIMS];
    int64_t off;
} nnf__red_odo;

static inline void nnf__red_odo_seek(nnf__red_odo *o, int n, const int64_t *size,
                                     const int64_t *stride, int64_t i)
{
    o->n = n;
    o->size = size;
    o->stride = stride;
    o->off = 0;
    for (int d = n - 1; d >= 0; d--) {
        o->idx[d] = i % size[d];
        i /= size[d];
        o->off += o->idx[d] * stride[d];
    }
}

static inline void nnf__red_odo_next(nnf__red_odo *o)
{
    for (int d = o->n - 1; d >= 0; d--) {
        o->off += o->stride[d];
        if (++o->idx[d] < o->size[d])
            return;
        o->off -= o->idx[d] * o->stride[d];
        o->idx[d] = 0;
    }
}

/* Input element offset of result o's first value. */
static inline int64_t nnf__red_out_offset(const nnf__red_plan *p, int64_t o)
{
    nnf__red_odo od;
    nnf__red_odo_seek(&od, p->nk, p->ksize, p->kstride, o);
    return od.off;
}

/* The dims of a column reduction other than its column dim p->col: one linear index q
 * over them is one outer position, whose input and output offsets two odometers give
 * (nnf__red_col_seek). Shared by the sums and the extrema. */
typedef struct nnf__red_cols {
    int n;
    int64_t size[NNF_MAX_DIMS], in_stride[NNF_MAX_DIMS], out_stride[NNF_MAX_DIMS];
} nnf__red_cols;

static inline void nnf__red_cols_make(const nnf__red_plan *p, nnf__red_cols *c)
{
    c->n = 0;
    for (int d = 0; d < p->nk; d++)
        if (d != p->col) {
            c->size[c->n] = p->ksize[d];
            c->in_stride[c->n] = p->kstride[d];
            c->out_stride[c->n++] = p->kout[d];
        }
}

/* Input (`in`) and output (`out`) offsets of outer position q. */
static inline void nnf__red_cols_seek(const nnf__red_cols *c, int64_t q, nnf__red_odo *in,
                                      nnf__red_odo *out)
{
    nnf__red_odo_seek(in, c->n, c->size, c->in_stride, q);
    nnf__red_odo_seek(out, c->n, c->size, c->out_stride, q);
}

/* Calls fn(ctx, x, len, stride) on the pieces of values [r0, r0 + n) of the result whose
 * first value is at `obase`, in order; each piece lies in one innermost run. Stops early
 * (returning the index, relative to r0, of fn's nonzero result plus its value) when fn
 * returns nonzero; returns n otherwise. `stride` is in elements. */
typedef int64_t (*nnf__red_span_fn)(void *ctx, const char *x, int64_t len, int64_t stride);
int64_t nnf__red_spans(const nnf__red_plan *p, const char *obase, int64_t r0, int64_t n,
                       nnf__red_span_fn fn, void *ctx);

/* Copies values [r0, r0 + n) (n <= NNF__RED_BLOCK) of one result into buf, in order. */
void nnf__red_gather(const nnf__red_plan *p, const char *obase, int64_t r0, int64_t n,
                     void *buf);

/* 1 if the innermost reduced run has stride 1 (kernels can read it in place). */
static inline int nnf__red_inner_unit(const nnf__red_plan *p)
{
    return p->nr == 0 || p->rstride[p->nr - 1] == 1;
}

/* Threads for the reduction: 1 below NNF__RED_PARALLEL_MIN elements or inside a
 * parallel region, else nnf__threads_for_call(). */
int nnf__red_threads(const nnf__red_plan *p);

/* Items (results, blocks, column groups: each of `elems` input elements) per claimed
 * range, so threads take ~32K elements at a time and each gets several ranges. */
int64_t nnf__red_grain(int64_t items, int64_t elems, int threads);

#endif
