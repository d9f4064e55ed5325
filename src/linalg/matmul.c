/* torch.matmul on strided views, lowered to nnf_sgemm.
 *
 * Shapes: 1-D x 1-D is a dot product (0-d result); a 1-D left operand is a 1 x k row
 * and a 1-D right operand a k x 1 column whose dim is dropped from the result; more
 * than 2 dims are batches of matrices whose batch dims broadcast (numpy rules).
 *
 * Views are not copied when sgemm can read them as they are: a matrix with strides
 * (s, 1) is NO_TRANS with ld = s, one with strides (1, s) — nnf_t(w), a column of a
 * row-major matrix — is TRANS with ld = s. Only other layouts (expanded rows, slices with
 * a step) are made contiguous first. Every batch is one sgemm call, so each element of
 * the result has sgemm's accumulation order and its bits do not depend on the batching.
 */
#include "src/linalg/matmul.h"

#include <stdatomic.h>
#include <stdio.h>

#include "nnf/ops.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"
#include "src/tensor/tensor_internal.h"

int nnf__gemm_layout_of(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                        nnf__gemm_layout *layout)
{
    int64_t min_ld = cols > 1 ? cols : 1;
    /* An empty matrix addresses nothing, so its strides do not matter (an expanded
     * (2, 0) has strides [0, 1], and no copy can change that: it is contiguous). */
    int empty = rows == 0 || cols == 0;
    if (empty || ((cols <= 1 || col_stride == 1) && (rows <= 1 || row_stride >= min_ld))) {
        layout->trans = NNF_NO_TRANS;
        layout->ld = (size_t)(rows <= 1 || empty ? min_ld : row_stride);
        return 1;
    }
    int64_t min_ld_t = rows > 1 ? rows : 1;
    if ((rows <= 1 || row_stride == 1) && (cols <= 1 || col_stride >= min_ld_t)) {
        layout->trans = NNF_TRANS;
        layout->ld = (size_t)(cols <= 1 ? min_ld_t : col_stride);
        return 1;
    }
    return 0;
}

int nnf__gemm_layout_of_tensor(const nnf_tensor *t, nnf__gemm_layout *layout)
{
    int nd = t->ndim;
    if (nd == 1)
        return nnf__gemm_layout_of(1, t->shape[0], 0, t->stride[0], layout);
    return nnf__gemm_layout_of(t->shape[nd - 2], t->shape[nd - 1], t->stride[nd - 2],
                               t->stride[nd - 1], layout);
}

int nnf__tensor_non_overlapping(const nnf_tensor *t)
{
    int64_t size[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0)
            return 1;
        if (t->shape[d] == 1)
            continue;
        /* insertion sort by stride: at most 8 dims */
        int i = n++;
        for (; i > 0 && stride[i - 1] > t->stride[d]; i--) {
            size[i] = size[i - 1];
            stride[i] = stride[i - 1];
        }
        size[i] = t->shape[d];
        stride[i] = t->stride[d];
    }
    int64_t extent = 1;   /* one past the largest offset reached by the dims so far */
    for (int i = 0; i < n; i++) {
        if (stride[i] < extent)
            return 0;
        extent += (size[i] - 1) * stride[i];
    }
    return 1;
}

/* The shapes of one product: broadcast batch dims, then m x k times k x n. */
typedef struct {
    int nb;
    int64_t bshape[NNF_MAX_DIMS];
    int64_t nbatch;
    int64_t m, n, k;
    int ndim;                        /* the result's */
    int64_t shape[NNF_MAX_DIMS];
} mm_plan;

/* One operand (or the result) as a batch of matrices: batch strides aligned to the
 * plan's batch dims (0 where broadcast), then rows x cols with their strides. */
typedef struct {
    int64_t bstride[NNF_MAX_DIMS];
    int64_t rows, cols, rs, cs;
    nnf__gemm_layout layout;
    int layout_ok;
} mm_side;

/* "5x784", PyTorch's spelling of a matrix shape in matmul messages. */
static void format_dims(char *buf, size_t size, int n, const int64_t *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%lld", i ? "x" : "", (long long)dims[i]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

static nnf_status broadcast_batch(const nnf_tensor *a, const nnf_tensor *b, mm_plan *p)
{
    int na = a->ndim > 2 ? a->ndim - 2 : 0;
    int nb = b->ndim > 2 ? b->ndim - 2 : 0;
    p->nb = na > nb ? na : nb;
    p->nbatch = 1;
    for (int d = 0; d < p->nb; d++) {
        int ia = d - (p->nb - na), ib = d - (p->nb - nb);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1;
        int64_t sb = ib >= 0 ? b->shape[ib] : 1;
        NNF_RETURN_IF(sa != sb && sa != 1 && sb != 1, NNF_ERR_SHAPE,
                      "The size of tensor a (%lld) must match the size of tensor b (%lld) at "
                      "non-singleton dimension %d", (long long)sa, (long long)sb, d);
        p->bshape[d] = sa == 1 ? sb : sa;
    }
    /* -1: more than int64 holds, an error unless the matrices are empty (make_plan). */
    if (nnf__prod_ovf(p->nb, p->bshape, &p->nbatch))
        p->nbatch = -1;
    return NNF_OK;
}

static nnf_status check_inner(const nnf_tensor *a, const nnf_tensor *b, const mm_plan *p)
{
    int da = a->ndim, db = b->ndim;
    int64_t ka = a->shape[da - 1];
    int64_t kb = db == 1 ? b->shape[0] : b->shape[db - 2];
    if (ka == kb)
        return NNF_OK;
    if (da == 1 && db == 1)
        return nnf__fail(NNF_ERR_SHAPE,
                         "inconsistent tensor size, expected tensor [%lld] and src [%lld] to "
                         "have the same number of elements, but got %lld and %lld elements "
                         "respectively", (long long)ka, (long long)kb, (long long)ka,
                         (long long)kb);
    char sa[NNF__SHAPE_STR];
    format_dims(sa, sizeof sa, da, a->shape);
    if (db == 1) {
        /* an empty a's other sizes may multiply past int64 */
        int64_t rows;
        char rows_s[24] = "more than int64 holds";
        if (p->nbatch >= 0 && !nnf__mul_ovf(p->nbatch, p->m, &rows))
            snprintf(rows_s, sizeof rows_s, "%lld", (long long)rows);
        return nnf__fail(NNF_ERR_SHAPE, "size mismatch, got input (%s), mat (%s), vec (%lld)",
                         rows_s, sa, (long long)kb);
    }
    if (da <= 2 && db == 2)
        return nnf__fail(NNF_ERR_SHAPE,
                         "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                         (long long)p->m, (long long)ka, (long long)kb, (long long)p->n);
    return nnf__fail(NNF_ERR_SHAPE,
                     "Expected size for first two dimensions of batch2 tensor to be: "
                     "[%lld, %lld] but got: [%lld, %lld].", (long long)p->nbatch,
                     (long long)ka, (long long)p->nbatch, (long long)kb);
}

static nnf_status make_plan(const nnf_tensor *a, const nnf_tensor *b, mm_plan *p)
{
    int da = a->ndim, db = b->ndim;
    NNF_RETURN_IF(da == 0 || db == 0, NNF_ERR_SHAPE,
                  "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                  da, db);
    NNF_FORWARD(broadcast_batch(a, b, p));
    p->m = da == 1 ? 1 : a->shape[da - 2];
    p->n = db == 1 ? 1 : b->shape[db - 1];
    p->k = a->shape[da - 1];
    NNF_FORWARD(check_inner(a, b, p));
    char s[NNF__SHAPE_STR];
    NNF_RETURN_IF(p->nbatch < 0 && p->m > 0 && p->n > 0, NNF_ERR_OVERFLOW,
                  "the batch shape %s has more elements than int64 holds",
                  nnf__shape_str(p->nb, p->bshape, s));
    /* An empty result has no products to run, however many batches it has. */
    if (p->m == 0 || p->n == 0)
        p->nbatch = 0;
    p->ndim = p->nb;
    for (int d = 0; d < p->nb; d++)
        p->shape[d] = p->bshape[d];
    if (da >= 2)
        p->shape[p->ndim++] = p->m;
    if (db >= 2)
        p->shape[p->ndim++] = p->n;
    return NNF_OK;
}

/* t's batch strides aligned to the plan and its matrix: has_rows/has_cols say
 * whether t has that dim (a 1-D operand or a result lacks one). */
static void describe(const nnf_tensor *t, const mm_plan *p, int has_rows, int has_cols,
                     int64_t rows, int64_t cols, mm_side *s)
{
    int nd = t->ndim;
    int nmat = has_rows + has_cols;
    int tb = nd - nmat;   /* t's own batch dims */
    /* An empty operand is never read and its strides are unbounded: batch offsets
     * i * stride could overflow, so it steps by 0. */
    int empty = nnf_tensor_numel(t) == 0;
    for (int d = 0; d < p->nb; d++) {
        int i = d - (p->nb - tb);
        s->bstride[d] = i >= 0 && t->shape[i] != 1 && !empty ? t->stride[i] : 0;
    }
    s->rows = rows;
    s->cols = cols;
    s->rs = has_rows ? t->stride[tb] : 0;
    s->cs = has_cols ? t->stride[nd - 1] : 0;
    s->layout_ok = nnf__gemm_layout_of(rows, cols, s->rs, s->cs, &s->layout);
}

static void describe_a(const nnf_tensor *a, const mm_plan *p, mm_side *s)
{
    describe(a, p, a->ndim >= 2, 1, p->m, p->k, s);
}

static void describe_b(const nnf_tensor *b, const mm_plan *p, mm_side *s)
{
    describe(b, p, 1, b->ndim >= 2, p->k, p->n, s);
}

static void describe_c(const nnf_tensor *c, const nnf_tensor *a, const nnf_tensor *b,
                       const mm_plan *p, mm_side *s)
{
    describe(c, p, a->ndim >= 2, b->ndim >= 2, p->m, p->n, s);
}

static nnf_trans flip(nnf_trans t)
{
    return t == NNF_TRANS ? NNF_NO_TRANS : NNF_TRANS;
}

/* Whether the batch dims and the rows of a NO_TRANS side lie at one stride (ld), so
 * all batches are one taller matrix: [64, 5, 784] @ [784, 10] becomes one 320x784x10
 * product instead of 64 small ones. */
static int rows_fold(const mm_side *s, const mm_plan *p)
{
    if (s->layout.trans != NNF_NO_TRANS)
        return 0;
    int64_t expect;
    if (nnf__mul_ovf(s->rows, (int64_t)s->layout.ld, &expect))
        return 0;
    for (int d = p->nb - 1; d >= 0; d--) {
        if (p->bshape[d] != 1 && s->bstride[d] != expect)
            return 0;
        if (nnf__mul_ovf(expect, p->bshape[d], &expect))
            return 0;
    }
    return 1;
}

static int batch_broadcast(const mm_side *s, const mm_plan *p)
{
    for (int d = 0; d < p->nb; d++)
        if (p->bshape[d] != 1 && s->bstride[d] != 0)
            return 0;
    return 1;
}

static int folds(const mm_plan *p, const mm_side *sa, const mm_side *sb, const mm_side *sc)
{
    return p->nb > 0 && batch_broadcast(sb, p) && rows_fold(sa, p) && rows_fold(sc, p);
}

/* Batches of products smaller than this run side by side, one per thread (sgemm is
 * serial inside a parallel job and threads a single product only from ~4 MFLOP):
 * 2 MFLOP is ~20 us of work on one Zen 4 core, well above the ~2 us a job's start
 * costs its caller (src/runtime/pool.c). */
#define BATCH_PARALLEL_MIN_FLOPS (2.0 * 1024 * 1024)

/* Product number t of the batch, as one sgemm call. */
static nnf_status one_product(const mm_plan *p, int64_t m, int64_t t, const float *a,
                              const mm_side *sa, const float *b, const mm_side *sb, float *c,
                              const mm_side *sc)
{
    int64_t oa = 0, ob = 0, oc = 0;
    for (int d = p->nb - 1; d >= 0; d--) {
        int64_t i = t % p->bshape[d];
        t /= p->bshape[d];
        oa += i * sa->bstride[d];
        ob += i * sb->bstride[d];
        oc += i * sc->bstride[d];
    }
    if (sc->layout.trans == NNF_NO_TRANS)
        return nnf_sgemm(sa->layout.trans, sb->layout.trans, (size_t)m, (size_t)p->n,
                         (size_t)p->k, 1.0f, a + oa, sa->layout.ld, b + ob, sb->layout.ld,
                         0.0f, c + oc, sc->layout.ld);
    /* a transposed result: C^T = op(B)^T op(A)^T */
    return nnf_sgemm(flip(sb->layout.trans), flip(sa->layout.trans), (size_t)p->n,
                     (size_t)m, (size_t)p->k, 1.0f, b + ob, sb->layout.ld, a + oa,
                     sa->layout.ld, 0.0f, c + oc, sc->layout.ld);
}

/* The batch's products as a job: the first failure's status and message (a failing
 * thread's message is in its own thread-local slot, so it is copied here). */
typedef struct {
    const mm_plan *p;
    int64_t m;
    const float *a, *b;
    const mm_side *sa, *sb, *sc;
    float *c;
    atomic_int failed;
    nnf_status st;
    char message[512];
} batch_job;

static void run_product(void *ctx, int64_t t, int participant)
{
    (void)participant;
    batch_job *j = ctx;
    nnf_status s = one_product(j->p, j->m, t, j->a, j->sa, j->b, j->sb, j->c, j->sc);
    int first = 0;
    if (s != NNF_OK && atomic_compare_exchange_strong(&j->failed, &first, 1)) {
        j->st = s;
        snprintf(j->message, sizeof j->message, "%s", nnf_last_error());
    }
}

/* All products of the plan into c; every side's layout_ok is set. Each product is one
 * sgemm call whichever thread makes it, so the bits do not depend on the threads. */
static nnf_status run(const mm_plan *p, const float *a, const mm_side *sa, const float *b,
                      const mm_side *sb, float *c, const mm_side *sc)
{
    if (p->nbatch == 0)
        return NNF_OK;
    int64_t m = p->m, count = p->nbatch;
    int64_t tall;
    if (folds(p, sa, sb, sc) && !nnf__mul_ovf(m, p->nbatch, &tall)) {
        m = tall;
        count = 1;
    }
    double flops = 2.0 * (double)m * (double)p->n * (double)p->k;
    int parallel = count > 1 && flops < 2.0 * BATCH_PARALLEL_MIN_FLOPS
                   && flops * (double)count >= BATCH_PARALLEL_MIN_FLOPS;
    int threads = parallel ? nnf__threads_for_call() : 1;
    if (threads <= 1) {
        for (int64_t t = 0; t < count; t++)
            NNF_FORWARD(one_product(p, m, t, a, sa, b, sb, c, sc));
        return NNF_OK;
    }
    batch_job j = {.p = p, .m = m, .a = a, .b = b, .sa = sa, .sb = sb, .sc = sc, .c = c};
    nnf__parallel_for(threads, count, run_product, &j);
    NNF_RETURN_IF(atomic_load(&j.failed), j.st, "%s", j.message);
    return NNF_OK;
}

static int same_shape(const nnf_tensor *t, int ndim, const int64_t *shape)
{
    if (t->ndim != ndim)
        return 0;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != shape[d])
            return 0;
    return 1;
}

/* Computes into dst when sgemm can write it in place with a single call (sgemm leaves
 * C untouched when it fails; a batch failing half-way would not), else into a
 * temporary. */
static nnf_status compute(nnf_tensor **out, const mm_plan *p, const nnf_tensor *a,
                          const mm_side *sa, const nnf_tensor *b, const mm_side *sb)
{
    nnf_tensor *dst = *out;
    const float *pa = nnf_tensor_const_data(a), *pb = nnf_tensor_const_data(b);
    mm_side sc;
    if (dst != NULL && !nnf_tensor_shares_storage(dst, a) && !nnf_tensor_shares_storage(dst, b)
        && nnf__tensor_non_overlapping(dst)) {
        describe_c(dst, a, b, p, &sc);
        if (sc.layout_ok && (p->nbatch <= 1 || folds(p, sa, sb, &sc)))
            return run(p, pa, sa, pb, sb, nnf_tensor_data(dst), &sc);
    }
    nnf_tensor *res = NULL;
    NNF_FORWARD(nnf_empty(&res, p->ndim, p->shape));
    describe_c(res, a, b, p, &sc);
    nnf_status st = run(p, pa, sa, pb, sb, nnf_tensor_data(res), &sc);
    if (st == NNF_OK && dst != NULL)
        st = nnf_copy(dst, res);
    if (st != NNF_OK || dst != NULL) {
        nnf_tensor_free(res);
        return st;
    }
    *out = res;
    return NNF_OK;
}

nnf_status nnf_matmul(nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    NNF_PUBLIC("nnf_matmul");
    NNF_RETURN_IF(out == NULL || a == NULL || b == NULL, NNF_ERR_NULL,
                  "out, a and b must not be NULL");
    NNF_RETURN_IF(a->dtype != NNF_F32 || b->dtype != NNF_F32, NNF_ERR_DTYPE,
                  "expected float32 operands");
    mm_plan p;
    NNF_FORWARD(make_plan(a, b, &p));
    nnf_tensor *dst = *out;
    if (dst != NULL) {
        NNF_RETURN_IF(dst->dtype != NNF_F32, NNF_ERR_DTYPE, "the output must be float32");
        if (!same_shape(dst, p.ndim, p.shape)) {
            char want[NNF__SHAPE_STR], got[NNF__SHAPE_STR];
            return nnf__fail(NNF_ERR_SHAPE,
                             "the output has shape %s but the result has shape %s",
                             nnf__shape_str(dst->ndim, dst->shape, got),
                             nnf__shape_str(p.ndim, p.shape, want));
        }
    }

    nnf_tensor *ca = NULL, *cb = NULL;
    mm_side sa, sb;
    nnf_status st = NNF_OK;
    describe_a(a, &p, &sa);
    if (!sa.layout_ok) {
        st = nnf_contiguous(&ca, a);
        if (st == NNF_OK) {
            a = ca;
            describe_a(a, &p, &sa);
        }
    }
    describe_b(b, &p, &sb);
    if (st == NNF_OK && !sb.layout_ok) {
        st = nnf_contiguous(&cb, b);
        if (st == NNF_OK) {
            b = cb;
            describe_b(b, &p, &sb);
        }
    }
    if (st == NNF_OK)
        st = compute(out, &p, a, &sa, b, &sb);
    nnf_tensor_free(ca);
    nnf_tensor_free(cb);
    return st;
}
