/* The elementwise iteration engine (see eltwise_iter.h).
 *
 * After the checks, an op runs in four steps, as PyTorch's TensorIterator does:
 * 1. every operand gets strides over the result shape (0 along broadcast dims) and
 *    size-1 dims are dropped;
 * 2. the dims are ordered innermost-first by the output's strides, so a transposed
 *    output is still written sequentially;
 * 3. neighbouring dims that are contiguous in EVERY operand are merged, so a
 *    contiguous op is one span of numel elements and [64,3,256,256] + [3,1,1] is
 *    192 spans of 65536 with the second input at stride 0;
 * 4. the flat index range is cut into ranges that threads claim as they come free
 *    (src/runtime/pool.c), each walked span by span, handing (n, pointers, strides)
 *    to the kernel.
 * Elementwise results do not depend on where spans start or how many threads run, so
 * every split gives the same bits.
 */
#include "src/ops/eltwise_iter.h"

#include <string.h>

#include "dispatch/dispatch.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/core/plant.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"

/* Threads start at this much work (elements x op cost). bench_eltwise BM_add_size:
 * 2^17 floats of add (1.5 MiB, in L2) take ~30 us of CPU on one thread (AVX2/AVX-512,
 * measured on the shared VM), so a second thread saves up to ~15 us; starting a job
 * costs the caller ~2 us when the workers sleep (a futex wake; 0.1 us when they are
 * awake), and the caller never waits for a worker that has not started. */
#define NNF__ELT_PARALLEL_WORK ((int64_t)1 << 17)
/* Thread ranges start on multiples of 64 elements (a cache line of bools, 4 lines of
 * floats), so two threads never write the same cache line of a contiguous output. */
#define NNF__ELT_SPLIT_ALIGN 64
/* Work per claimed range: 2^15 (32K floats of add, 7-30 us from cache or memory) makes
 * claiming one (~0.1 us) negligible; with threads, every one gets at least 4 ranges, so
 * the others absorb a descheduled thread's share. */
#define NNF__ELT_RANGE_WORK ((int64_t)1 << 15)
#define NNF__ELT_RANGES_PER_THREAD 4

static const char *dtype_name(nnf_dtype dtype)
{
    switch (dtype) {
    case NNF_F32: return "float32";
    case NNF_BOOL: return "bool";
    case NNF_I64: return "int64";
    }
    return "unknown";
}

nnf__elt_in nnf__elt_tensor(const nnf_tensor *t)
{
    nnf__elt_in in = {t->dtype, t->ndim, t->shape, t->stride, nnf__tensor_bytes(t), t->storage};
    return in;
}

nnf_status nnf__elt_check_f32(const char *name, const char *arg, const nnf_tensor *t)
{
    NNF_RETURN_IF(t == NULL, NNF_ERR_NULL, "%s: %s is NULL", name, arg);
    NNF_RETURN_IF(t->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "%s: expected a float32 tensor for %s, got %s", name, arg,
                  dtype_name(t->dtype));
    return NNF_OK;
}

nnf__elt_in nnf__elt_scalar(const float *value)
{
    nnf__elt_in in = {NNF_F32, 0, NULL, NULL, (const char *)value, NULL};
    return in;
}

const nnf__eltwise_kernels *nnf__elt_kernels(void)
{
    return &nnf__kernels_active()->elt;
}

const nnf__sleef_kernels *nnf__elt_sleef_kernels(void)
{
    return &nnf__elt_kernels()->sleef;
}

nnf_status nnf__elt_broadcast(int nin, const nnf__elt_in *in, int *ndim, int64_t *shape)
{
    int nd = 0;
    for (int k = 0; k < nin; k++)
        nd = in[k].ndim > nd ? in[k].ndim : nd;
    for (int d = 0; d < nd; d++)
        shape[d] = 1;
    /* Operands are folded in left to right, as TensorIterator does: for a third input,
     * "tensor a" is the broadcast of the first two. */
    for (int k = 0; k < nin; k++) {
        for (int d = nd - 1; d >= 0; d--) {
            int dk = in[k].ndim - (nd - d);
            if (dk < 0)
                break;
            int64_t s = in[k].shape[dk];
            if (s == shape[d] || s == 1)
                continue;
            NNF_RETURN_IF(shape[d] != 1, NNF_ERR_SHAPE,
                          "The size of tensor a (%lld) must match the size of tensor b (%lld) "
                          "at non-singleton dimension %d",
                          (long long)shape[d], (long long)s, d);
            shape[d] = s;
        }
    }
    *ndim = nd;
    return NNF_OK;
}

/* Strides of `in` over the result shape (ndim dims): 0 where it is broadcast. */
static void aligned_strides(const nnf__elt_in *in, int ndim, const int64_t *shape,
                            int64_t *stride)
{
    for (int d = 0; d < ndim; d++) {
        int dk = in->ndim - (ndim - d);
        stride[d] = dk >= 0 && in->shape[dk] == shape[d] && shape[d] != 1 ? in->stride[dk] : 0;
    }
}

/* [*lo, *hi) is the byte range the geometry touches; empty when an extent is 0. The
 * geometry is an operand's (inside its storage) or an input's strides over the output
 * shape, which only repeat its elements, so the extent cannot overflow; were it to, the
 * whole address space is the safe answer. */
static void byte_range(const char *data, size_t es, int ndim, const int64_t *shape,
                       const int64_t *stride, uintptr_t *lo, uintptr_t *hi)
{
    int64_t first, last;
    int64_t numel;
    if (nnf__prod_ovf(ndim, shape, &numel) == 0 && numel == 0) {
        *lo = *hi = (uintptr_t)data;
        return;
    }
    if (nnf__extent_ovf(ndim, shape, stride, &first, &last)) {
        *lo = 0;
        *hi = UINTPTR_MAX;
        return;
    }
    *lo = (uintptr_t)data;
    *hi = (uintptr_t)data + (uintptr_t)(last + 1) * es;
}

/* The output may be written only if no two of its elements share memory, and it
 * either misses every input or is exactly one of them (same first element and the
 * same strides over the result shape): PyTorch's rules and messages. */
static nnf_status check_overlap(const char *name, const nnf_tensor *out, int nin,
                                const nnf__elt_in *in)
{
    for (int d = 0; d < out->ndim; d++)
        NNF_RETURN_IF(out->shape[d] > 1 && out->stride[d] == 0, NNF_ERR_INVALID,
                      "%s: unsupported operation: more than one element of the written-to "
                      "tensor refers to a single memory location. Please clone() the tensor "
                      "before performing the operation.", name);
    uintptr_t olo, ohi;
    const char *odata = nnf__tensor_bytes(out);
    byte_range(odata, nnf__dtype_size(out->dtype), out->ndim, out->shape, out->stride, &olo,
               &ohi);
    for (int k = 0; k < nin; k++) {
        if (in[k].storage == NULL || in[k].storage != out->storage)
            continue;
        int64_t stride[NNF_MAX_DIMS];
        uintptr_t ilo, ihi;
        aligned_strides(&in[k], out->ndim, out->shape, stride);
        byte_range(in[k].data, nnf__dtype_size(in[k].dtype), out->ndim, out->shape, stride,
                   &ilo, &ihi);
        if (ilo >= ohi || olo >= ihi)
            continue;
        int same = in[k].data == odata && in[k].dtype == out->dtype;
        for (int d = 0; d < out->ndim && same; d++)
            same = out->shape[d] <= 1 || stride[d] == out->stride[d];
        NNF_RETURN_IF(!same, NNF_ERR_INVALID,
                      "%s: unsupported operation: some elements of the input tensor and the "
                      "written-to tensor refer to a single memory location. Please clone() "
                      "the tensor before performing the operation.", name);
    }
    return NNF_OK;
}

/* ---- The plan: coalesced dims, innermost first, with every operand's strides. ---- */

typedef struct plan {
    const nnf__elt_op *op;
    int nops;                                  /* output + inputs */
    int ndim;
    int64_t size[NNF_MAX_DIMS];
    int64_t stride[NNF__ELT_MAX_IN + 1][NNF_MAX_DIMS];   /* [operand][dim], elements */
    char *base[NNF__ELT_MAX_IN + 1];
    nnf_dtype dtype[NNF__ELT_MAX_IN + 1];
    int64_t es[NNF__ELT_MAX_IN + 1];
} plan;

/* Whether the dims of a non-empty geometry are row-major contiguous (size-1 dims may
 * have any stride). An empty operand's sizes can multiply past int64 before its 0 is
 * reached ([0, 2^32, 2^32] expanded): the product is checked. */
static int is_dense(int ndim, const int64_t *shape, const int64_t *stride)
{
    int64_t want = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] != 1 && stride[d] != want)
            return 0;
        if (nnf__mul_ovf(want, shape[d], &want))
            return 0;
    }
    return 1;
}

/* Builds the plan; returns the number of elements (0: nothing to do). */
static int64_t make_plan(plan *p, const nnf__elt_op *op, nnf_tensor *out, int nin,
                         const nnf__elt_in *in)
{
    int nd = out->ndim;
    int64_t numel = nnf_tensor_numel(out), st[NNF__ELT_MAX_IN][NNF_MAX_DIMS];
    if (numel == 0)
        return 0;
    /* Non-empty from here: every product of the output's sizes is at most numel. */
    p->op = op;
    p->nops = nin + 1;
    p->base[0] = nnf__tensor_bytes(out);
    p->dtype[0] = out->dtype;
    for (int k = 0; k < nin; k++) {
        p->base[k + 1] = (char *)in[k].data;
        p->dtype[k + 1] = in[k].dtype;
    }
    for (int o = 0; o < p->nops; o++)
        p->es[o] = (int64_t)nnf__dtype_size(p->dtype[o]);

    /* Same-shape contiguous operands (most calls) are one span without the strides,
     * sort and merge below, and run() then calls the kernel without walk(): a 16-float
     * nnf_add into an existing tensor went from ~935 to ~810 instructions with both
     * (callgrind, AVX2; the rest is spread over broadcasting, the overlap check and
     * the public wrappers, ~20-100 each). */
    int dense = is_dense(nd, out->shape, out->stride);
    for (int k = 0; k < nin && dense; k++) {
        dense = in[k].ndim == nd && is_dense(nd, in[k].shape, in[k].stride);
        /* fuzz_broadcast's planted bug (src/core/plant.h): an operand broadcast along
         * dim 0 alone ([1,3,4] against [2,3,4]) taken for a same-shape one. */
        for (int d = NNF_PLANTED("broadcast"); d < nd && dense; d++)
            dense = in[k].shape[d] == out->shape[d];
    }
    if (dense) {
        p->ndim = 1;
        p->size[0] = numel;
        for (int o = 0; o < p->nops; o++)
            p->stride[o][0] = 1;
        return numel;
    }

    for (int k = 0; k < nin; k++)
        aligned_strides(&in[k], nd, out->shape, st[k]);
    int m = 0;
    for (int d = nd - 1; d >= 0; d--) {
        if (out->shape[d] == 1)
            continue;
        p->size[m] = out->shape[d];
        p->stride[0][m] = out->stride[d];
        for (int k = 0; k < nin; k++)
            p->stride[k + 1][m] = st[k][d];
        m++;
    }

    /* Stable insertion sort by output stride, innermost first. */
    for (int i = 1; i < m; i++) {
        for (int j = i; j > 0 && p->stride[0][j] < p->stride[0][j - 1]; j--) {
            int64_t t = p->size[j];
            p->size[j] = p->size[j - 1];
            p->size[j - 1] = t;
            for (int o = 0; o < p->nops; o++) {
                t = p->stride[o][j];
                p->stride[o][j] = p->stride[o][j - 1];
                p->stride[o][j - 1] = t;
            }
        }
    }

    /* Merge dim i into the running dim when it continues it in every operand. */
    int n = 0;
    for (int i = 0; i < m; i++) {
        int merge = n > 0;
        for (int o = 0; o < p->nops && merge; o++)
            merge = p->stride[o][i] == p->stride[o][n - 1] * p->size[n - 1];
        if (merge) {
            p->size[n - 1] *= p->size[i];
            continue;
        }
        p->size[n] = p->size[i];
        for (int o = 0; o < p->nops; o++)
            p->stride[o][n] = p->stride[o][i];
        n++;
    }
    if (n == 0) {   /* every dim had size 1: one element */
        p->size[0] = 1;
        for (int o = 0; o < p->nops; o++)
            p->stride[o][0] = 0;
        n = 1;
    }
    p->ndim = n;
    return numel;
}

static void convert_span(size_t n, const char *x, nnf_dtype xt, ptrdiff_t incx, char *y,
                         nnf_dtype yt, ptrdiff_t incy)
{
    size_t xs = nnf__dtype_size(xt), ys = nnf__dtype_size(yt);
    for (size_t i = 0; i < n; i++) {
        const char *src = x + (ptrdiff_t)i * incx * (ptrdiff_t)xs;
        char *dst = y + (ptrdiff_t)i * incy * (ptrdiff_t)ys;
        float f;
        int64_t l;
        uint8_t b;
        if (xt == yt) {
            memcpy(dst, src, xs);
            continue;
        }
        switch (xt) {
        case NNF_F32:
            memcpy(&f, src, 4);
            b = f != 0.0f;
            /* Only into int64 (from values nnf_fill has range-checked): the conversion
             * of a NaN or an out-of-range float is undefined in C. */
            l = yt == NNF_I64 ? (int64_t)f : 0;
            break;
        case NNF_BOOL:
            b = *(const uint8_t *)src != 0;
            f = b;
            l = b;
            break;
        default:
            memcpy(&l, src, 8);
            b = l != 0;
            f = (float)l;
            break;
        }
        if (yt == NNF_F32)
            memcpy(dst, &f, 4);
        else if (yt == NNF_BOOL)
            *(uint8_t *)dst = b;
        else
            memcpy(dst, &l, 8);
    }
}

static void run_span(const plan *p, size_t n, char *const *ptr)
{
    const nnf__elt_op *op = p->op;
    ptrdiff_t i0 = (ptrdiff_t)p->stride[0][0], i1 = (ptrdiff_t)p->stride[1][0];
    switch (op->kind) {
    case NNF__ELT_UNARY:
        op->fn.unary(n, (const float *)ptr[1], i1, (float *)ptr[0], i0);
        break;
    case NNF__ELT_BINARY:
        op->fn.binary(n, (const float *)ptr[1], i1, (const float *)ptr[2],
                      (ptrdiff_t)p->stride[2][0], (float *)ptr[0], i0);
        break;
    case NNF__ELT_COMPARE:
        op->fn.compare(n, (const float *)ptr[1], i1, (const float *)ptr[2],
                       (ptrdiff_t)p->stride[2][0], (uint8_t *)ptr[0], i0);
        break;
    case NNF__ELT_CLAMP:
        op->fn.clamp(n, (const float *)ptr[1], i1, (float *)ptr[0], i0, op->lo, op->hi);
        break;
    case NNF__ELT_SELECT:
        op->fn.select(n, (const uint8_t *)ptr[1], i1, (const float *)ptr[2],
                      (ptrdiff_t)p->stride[2][0], (const float *)ptr[3],
                      (ptrdiff_t)p->stride[3][0], (float *)ptr[0], i0);
        break;
    case NNF__ELT_TERNARY:
        op->fn.ternary(n, (const float *)ptr[1], i1, (const float *)ptr[2],
                       (ptrdiff_t)p->stride[2][0], (const float *)ptr[3],
                       (ptrdiff_t)p->stride[3][0], (float *)ptr[0], i0);
        break;
    case NNF__ELT_CONVERT:
        convert_span(n, ptr[1], p->dtype[1], i1, ptr[0], p->dtype[0], i0);
        break;
    }
}

/* Runs flat elements [begin, end) (row-major over the plan's dims, innermost first).
 * Rows along dim 1 advance by pointer bumps alone; only finishing dim 1 carries into
 * the outer dims. For short rows that matters: copying a [50] row into [200,50]
 * (200 spans of 50) spent 104 instructions per row walking with the general carry,
 * now 65 (33 here, 32 in run_span), against 108 in the AVX2 kernel (callgrind). */
static void walk(const plan *p, int64_t begin, int64_t end)
{
    int64_t idx[NNF_MAX_DIMS] = {0}, off[NNF__ELT_MAX_IN + 1] = {0}, rest = begin;
    for (int d = 0; d < p->ndim; d++) {
        idx[d] = rest % p->size[d];
        rest /= p->size[d];
        for (int o = 0; o < p->nops; o++)
            off[o] += idx[d] * p->stride[o][d];
    }
    int64_t cols = p->size[0], rows = p->ndim > 1 ? p->size[1] : 1;
    ptrdiff_t step[NNF__ELT_MAX_IN + 1];   /* bytes from one row to the next */
    for (int o = 0; o < p->nops; o++)
        step[o] = p->ndim > 1 ? (ptrdiff_t)(p->stride[o][1] * p->es[o]) : 0;
    for (int64_t pos = begin; pos < end;) {
        char *ptr[NNF__ELT_MAX_IN + 1], *row[NNF__ELT_MAX_IN + 1];
        for (int o = 0; o < p->nops; o++) {
            ptr[o] = p->base[o] + off[o] * p->es[o];
            row[o] = ptr[o] - idx[0] * p->stride[o][0] * p->es[o];   /* its column 0 */
        }
        /* The rest of the current row, then the following rows of dim 1. */
        int64_t n = cols - idx[0] < end - pos ? cols - idx[0] : end - pos;
        run_span(p, (size_t)n, ptr);
        pos += n;
        for (int64_t r = idx[1] + 1; r < rows && pos < end; r++) {
            for (int o = 0; o < p->nops; o++)
                ptr[o] = row[o] += step[o];
            n = cols < end - pos ? cols : end - pos;
            run_span(p, (size_t)n, ptr);
            pos += n;
        }
        if (pos >= end)
            break;
        /* Dim 1 is done: back to row 0, column 0, and carry into the outer dims. */
        for (int o = 0; o < p->nops; o++)
            off[o] -= idx[0] * p->stride[o][0] + idx[1] * p->stride[o][1];
        idx[0] = idx[1] = 0;
        for (int d = 2; d < p->ndim; d++) {
            for (int o = 0; o < p->nops; o++)
                off[o] += p->stride[o][d];
            if (++idx[d] < p->size[d])
                break;
            for (int o = 0; o < p->nops; o++)
                off[o] -= idx[d] * p->stride[o][d];
            idx[d] = 0;
        }
    }
}

/* Rows shorter than this many elements are gathered into blocks (walk_short). */
enum { SHORT_ROW = 32, GATHER_BLOCK = 512 };

/* Whether walk_short can run the plan: rows along dim 0 shorter than SHORT_ROW that
 * follow each other in the output, and float inputs. */
static int short_rows(const plan *p)
{
    if (p->ndim < 2 || p->size[0] >= SHORT_ROW || p->op->kind == NNF__ELT_CONVERT ||
        p->stride[0][0] != 1 || p->stride[0][1] != p->size[0])
        return 0;
    for (int o = 1; o < p->nops; o++)
        if (p->dtype[o] != NNF_F32)
            return 0;
    return 1;
}

/* walk() for short_rows() plans. Softmax cross-entropy's [4096,10] / [4096,1] made 4096
 * kernel calls of 10 elements, ~7 ns each; here the inputs that do not follow the output
 * (a broadcast column, a row repeated down the rows) are copied into blocks of
 * GATHER_BLOCK contiguous elements and the kernel runs once per block. Each element
 * still meets the same operands, so the bits are those of walk(). */
static void walk_short(const plan *p, int64_t begin, int64_t end)
{
    const int64_t cols = p->size[0], sweep = cols * p->size[1];
    plan flat = *p;
    flat.ndim = 1;
    for (int o = 0; o < p->nops; o++)
        flat.stride[o][0] = 1;
    float buf[NNF__ELT_MAX_IN][GATHER_BLOCK];
    for (int64_t pos = begin; pos < end;) {
        /* Offsets of this sweep of dims 0 and 1 from the outer dims. */
        int64_t off[NNF__ELT_MAX_IN + 1] = {0}, rest = pos / sweep;
        for (int d = 2; d < p->ndim; d++) {
            for (int o = 0; o < p->nops; o++)
                off[o] += rest % p->size[d] * p->stride[o][d];
            rest /= p->size[d];
        }
        const int64_t stop = end < (pos / sweep + 1) * sweep ? end : (pos / sweep + 1) * sweep;
        for (int64_t n; pos < stop; pos += n) {
            n = stop - pos < GATHER_BLOCK ? stop - pos : GATHER_BLOCK;
            const int64_t at = pos % sweep;
            char *ptr[NNF__ELT_MAX_IN + 1];
            ptr[0] = p->base[0] + (off[0] + at) * p->es[0];
            for (int o = 1; o < p->nops; o++) {
                const int64_t s0 = p->stride[o][0], s1 = p->stride[o][1];
                const float *src = (const float *)p->base[o] + off[o];
                if (s0 == 1 && s1 == cols) {
                    ptr[o] = (char *)(src + at);
                    continue;
                }
                float *dst = buf[o - 1];
                for (int64_t j = 0, r = at / cols, c = at % cols; j < n; r++, c = 0)
                    for (; c < cols && j < n; c++)
                        dst[j++] = src[r * s1 + c * s0];
                ptr[o] = (char *)dst;
            }
            run_span(&flat, (size_t)n, ptr);
        }
    }
}

static void walk_range(void *ctx, int64_t begin, int64_t end, int participant)
{
    (void)participant;
    if (short_rows(ctx))
        walk_short(ctx, begin, end);
    else
        walk(ctx, begin, end);
}

static void run(const nnf__elt_op *op, nnf_tensor *out, int nin, const nnf__elt_in *in)
{
    plan p;
    int64_t numel = make_plan(&p, op, out, nin, in);
    if (numel == 0)
        return;
    int64_t cost = op->cost > 0 ? op->cost : 1, work = numel * cost;
    int fine = nnf__runtime_test_spread();
    int threads = 1;
    if (work >= NNF__ELT_PARALLEL_WORK || fine) {
        threads = nnf__threads_for_call();
        int64_t useful = work / (NNF__ELT_PARALLEL_WORK / 2);
        threads = !fine && useful < threads ? (int)useful : threads;
    }
    if (threads <= 1) {
        if (p.ndim == 1)   /* one span (every same-shape contiguous op): nothing to walk */
            run_span(&p, (size_t)numel, p.base);
        else
            walk_range(&p, 0, numel, 0);
        return;
    }
    int64_t grain = NNF__ELT_RANGE_WORK / cost;
    int64_t even = numel / (NNF__ELT_RANGES_PER_THREAD * threads);
    grain = fine ? 1 : grain < even ? grain : even;
    grain = (grain + NNF__ELT_SPLIT_ALIGN - 1) / NNF__ELT_SPLIT_ALIGN * NNF__ELT_SPLIT_ALIGN;
    nnf__parallel_ranges(threads, numel, grain, walk_range, &p);
}

static nnf_status check_and_run(const nnf__elt_op *op, nnf_tensor *out, int nin,
                                const nnf__elt_in *in)
{
    NNF_FORWARD(check_overlap(op->name, out, nin, in));
    run(op, out, nin, in);
    nnf__tensor_written(out);
    return NNF_OK;
}

nnf_status nnf__elt_apply(const nnf__elt_op *op, nnf_tensor **out, nnf_dtype out_dtype, int nin,
                          const nnf__elt_in *in)
{
    char s1[NNF__SHAPE_STR], s2[NNF__SHAPE_STR];
    int ndim;
    int64_t shape[NNF_MAX_DIMS], numel;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "%s: out is NULL", op->name);
    NNF_FORWARD(nnf__elt_broadcast(nin, in, &ndim, shape));
    nnf_tensor *o = *out;
    if (o != NULL) {
        NNF_RETURN_IF(o->dtype != out_dtype, NNF_ERR_DTYPE,
                      "%s: out has dtype %s but the result is %s", op->name,
                      dtype_name(o->dtype), dtype_name(out_dtype));
        int same = o->ndim == ndim;
        for (int d = 0; d < ndim && same; d++)
            same = o->shape[d] == shape[d];
        NNF_RETURN_IF(!same, NNF_ERR_SHAPE, "%s: out has shape %s but the result has shape %s",
                      op->name, nnf__shape_str(o->ndim, o->shape, s1),
                      nnf__shape_str(ndim, shape, s2));
        return check_and_run(op, o, nin, in);
    }
    NNF_FORWARD(nnf__check_shape(ndim, shape, out_dtype, &numel));
    NNF_FORWARD(nnf__tensor_new(&o, out_dtype, ndim, shape, 0));
    run(op, o, nin, in);
    *out = o;
    return NNF_OK;
}

nnf_status nnf__elt_apply_into(const nnf__elt_op *op, nnf_tensor *dst, int nin,
                               const nnf__elt_in *in)
{
    char s1[NNF__SHAPE_STR], s2[NNF__SHAPE_STR];
    nnf__elt_in all[NNF__ELT_MAX_IN + 1];
    int ndim;
    int64_t shape[NNF_MAX_DIMS];
    all[0] = nnf__elt_tensor(dst);
    for (int k = 0; k < nin; k++)
        all[k + 1] = in[k];
    NNF_FORWARD(nnf__elt_broadcast(nin + 1, all, &ndim, shape));
    int same = dst->ndim == ndim;
    for (int d = 0; d < ndim && same; d++)
        same = dst->shape[d] == shape[d];
    NNF_RETURN_IF(!same, NNF_ERR_SHAPE,
                  "%s: output with shape %s doesn't match the broadcast shape %s", op->name,
                  nnf__shape_str(dst->ndim, dst->shape, s1), nnf__shape_str(ndim, shape, s2));
    return check_and_run(op, dst, nin, in);
}
