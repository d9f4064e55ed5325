/* nnf_all, nnf_any: logical reductions of NNF_BOOL tensors or of floats (x != 0, so NaN
 * counts as true, as in C and PyTorch). Each result stops at its first deciding value:
 * all() at the first zero, any() at the first nonzero. Exact, so every ISA and thread
 * count agrees trivially. The empty all() is true and the empty any() false. */
#include <string.h>

#include "nnf/ops.h"
#include "src/core/error.h"
#include "src/ops/reduce_plan.h"
#include "src/runtime/pool.h"

typedef struct {
    const nnf__reduce_kernels *k;
    int is_u8;
    int equal;
} find_ctx;

static int64_t find_span(void *ctx, const char *x, int64_t len, int64_t stride)
{
    find_ctx *c = ctx;
    (void)stride;
    if (c->is_u8)
        return (int64_t)c->k->find_u8((size_t)len, (const uint8_t *)x, 0, c->equal);
    return (int64_t)c->k->find_f32((size_t)len, (const float *)(const void *)x, 0.0f, c->equal);
}

/* 1 if result o has a value that is zero (equal = 1) or nonzero (equal = 0). */
static int has(const nnf__red_plan *p, find_ctx *c, const char *obase)
{
    for (int64_t r0 = 0; r0 < p->R; r0 += NNF__RED_BLOCK) {
        int64_t n = p->R - r0 < NNF__RED_BLOCK ? p->R - r0 : NNF__RED_BLOCK;
        int64_t hit;
        if (nnf__red_inner_unit(p)) {
            hit = nnf__red_spans(p, obase, r0, n, find_span, c);
        } else {
            float buf[NNF__RED_BLOCK];  /* also holds NNF__RED_BLOCK bytes */
            nnf__red_gather(p, obase, r0, n, buf);
            hit = find_span(c, (const char *)buf, n, 1);
        }
        if (hit < n)
            return 1;
    }
    return 0;
}

typedef struct {
    const nnf__red_plan *p;
    find_ctx c;
    int is_all;
    uint8_t *v;
} logical_job;

static void logical_range(void *ctx, int64_t o0, int64_t o1, int participant)
{
    (void)participant;
    const logical_job *j = ctx;
    const nnf__red_plan *p = j->p;
    for (int64_t o = o0; o < o1; o++) {
        find_ctx c = j->c;
        int found = has(p, &c, p->base + nnf__red_out_offset(p, o) * (int64_t)p->esize);
        j->v[o] = (uint8_t)(j->is_all ? !found : found);
    }
}

static nnf_status logical(int is_all, const char *name, nnf_tensor **out, const nnf_tensor *a,
                          int ndims, const int *dims, int keepdim)
{
    nnf__red_plan p;
    NNF_FORWARD(nnf__red_plan_make(&p, name, a, ndims, dims, keepdim));
    NNF_RETURN_IF(a->dtype == NNF_I64, NNF_ERR_DTYPE,
                  "%s: expected a bool or float32 tensor but got int64", name);
    nnf__red_out o;
    NNF_FORWARD(nnf__red_out_prepare(&o, out, a, &p, NNF_BOOL));
    logical_job j = {&p, {&nnf__kernels_active()->red, a->dtype == NNF_BOOL, is_all}, is_all,
                     o.data};
    int threads = nnf__red_threads(&p);
    nnf__parallel_ranges(threads, p.nout, nnf__red_grain(p.nout, p.R, threads), logical_range,
                         &j);
    nnf__red_out_commit(&o, &p);
    return NNF_OK;
}

nnf_status nnf_all(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_all");
    return logical(1, "nnf_all", out, a, ndims, dims, keepdim);
}

nnf_status nnf_any(nnf_tensor **out, const nnf_tensor *a, int ndims, const int *dims, int keepdim)
{
    NNF_PUBLIC("nnf_any");
    return logical(0, "nnf_any", out, a, ndims, dims, keepdim);
}
