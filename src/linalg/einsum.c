/* einsum: parse the equation (einsum_parse.c), then lower it to views, sums and
 * products.
 *
 * 1. Each operand becomes a term: its geometry (shape, strides, offset) with one dim per
 *    label. A label repeated within it ("ii") is one dim whose stride is the sum of the
 *    strides (the diagonal), and a size-1 dim whose label has a larger size elsewhere is
 *    dropped (broadcasting: its one value serves every index). Terms are geometry only;
 *    a tensor handle is made when an op needs one, which keeps einsum("ik,kj->ij") at a
 *    handful of allocations around the one sgemm call.
 * 2. The operands are combined left to right. Before each product, labels that occur in
 *    only one side and nowhere later (not in the output, not in a later operand) are
 *    summed out with nnf_sum. The labels of the two sides then fall into:
 *      batch  in both and needed later,   contracted  in both and not needed later,
 *      left-only (M),   right-only (N).
 *    With contracted labels the product is a batched matmul: the left side is permuted
 *    to [batch, M, K] and the right to [batch, K, N], each group of dims collapsed into
 *    one (a view whenever the strides allow, else a contiguous copy; nnf_matmul passes
 *    transposed views to sgemm as TRANS) and multiplied. Without contracted labels it is
 *    an elementwise product with broadcasting (nnf_mul).
 * 3. Labels left over that the output lacks are summed; the output order is a permuted
 *    view. So "ij->ji" and "ii->i" return views of the operand (as torch.einsum does),
 *    "ii->" is a strided view plus one sum.
 */
#include <stdio.h>

#include "nnf/linalg.h"
#include "nnf/ops.h"
#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/core/plant.h"
#include "src/linalg/einsum_parse.h"
#include "src/tensor/tensor_internal.h"

/* A strided view of `base`, one dim per label (all distinct), not yet a tensor handle. */
typedef struct {
    const nnf_tensor *base;   /* an operand, or `owned` */
    nnf_tensor *owned;        /* a result this term holds, or NULL */
    int ndim;
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS], offset;
    int8_t label[NNF_MAX_DIMS];
    uint64_t later;           /* labels still needed once operands up to this one are combined */
} term;

typedef struct {
    nnf__einsum_eq eq;
    int64_t size[NNF__EINSUM_LABELS];   /* broadcast size of each label; -1 unused */
} plan;

static uint64_t bit(int label)
{
    return (uint64_t)1 << label;
}

static uint64_t term_mask(const term *x)
{
    uint64_t m = 0;
    for (int d = 0; d < x->ndim; d++)
        m |= bit(x->label[d]);
    return m;
}

/* The term now holds (and owns) t, seen with nd dims carrying `labels` (nd <=
 * NNF_MAX_DIMS, which the loop bound also tells the compiler). */
static void term_hold(term *x, nnf_tensor *t, const int8_t *labels, int nd,
                      const int64_t *shape, const int64_t *stride)
{
    nnf_tensor_free(x->owned);
    x->owned = t;
    x->base = t;
    x->ndim = nd;
    x->offset = t->offset;
    for (int d = 0; d < nd && d < NNF_MAX_DIMS; d++) {
        x->shape[d] = shape[d];
        x->stride[d] = stride[d];
        x->label[d] = labels[d];
    }
}

static uint64_t labels_mask(const nnf__einsum_term *t)
{
    uint64_t m = 0;
    for (int d = 0; d < t->ndim; d++)
        m |= bit(t->label[d]);
    return m;
}

static nnf_status size_mismatch(int label, int operand, int dim, int64_t got, int64_t seen)
{
    if (label >= NNF__EINSUM_ELL)
        return nnf__fail(NNF_ERR_SHAPE,
                         "dimension %d covered by ellipsis in operand %d has size "
                         "%lld which does not broadcast with previously seen ellipsis with "
                         "size %lld for the respective dimension", dim, operand,
                         (long long)got, (long long)seen);
    return nnf__fail(NNF_ERR_SHAPE,
                     "subscript %c has size %lld for operand %d which does not "
                     "broadcast with previously seen size %lld", nnf__einsum_label_char(label),
                     (long long)got, operand, (long long)seen);
}

/* Sizes broadcast across operands (1 against n gives n); a label repeated within one
 * operand must have one size there. */
static nnf_status label_sizes(plan *p, const nnf_tensor *const *ops)
{
    for (int l = 0; l < NNF__EINSUM_LABELS; l++)
        p->size[l] = -1;
    for (int k = 0; k < p->eq.noperands; k++) {
        const nnf__einsum_term *tm = &p->eq.in[k];
        const int64_t *shape = ops[k]->shape;
        for (int d = 0; d < tm->ndim; d++) {
            int l = tm->label[d];
            for (int e = 0; e < d; e++)
                NNF_RETURN_IF(tm->label[e] == l && shape[e] != shape[d], NNF_ERR_SHAPE,
                              "subscript %c is repeated for operand %d but the sizes "
                              "don't match, %lld != %lld", nnf__einsum_label_char(l), k,
                              (long long)shape[d], (long long)shape[e]);
            if (p->size[l] < 0 || p->size[l] == 1)
                p->size[l] = shape[d];
            else if (shape[d] != p->size[l] && shape[d] != 1)
                return size_mismatch(l, k, d, shape[d], p->size[l]);
        }
    }
    return NNF_OK;
}

/* Step 1: the operand's geometry with one dim per distinct, non-broadcast label. */
static nnf_status make_term(const plan *p, const nnf_tensor *x, const nnf__einsum_term *tm,
                            term *out)
{
    int n = 0;
    for (int d = 0; d < tm->ndim; d++) {
        int l = tm->label[d];
        int j = 0;
        while (j < n && out->label[j] != l)
            j++;
        if (j < n) {
            /* Inside a non-empty operand's extent; an empty one's strides are unbounded.
             * fuzz_einsum's planted bug (src/core/plant.h): a repeated subscript walks a
             * row instead of the diagonal. */
            if (!NNF_PLANTED("einsum"))
                NNF_RETURN_IF(nnf__add_ovf(out->stride[j], x->stride[d], &out->stride[j]),
                              NNF_ERR_OVERFLOW,
                              "the diagonal of subscript %c: the sum of its strides overflows int64",
                              nnf__einsum_label_char(l));
            continue;
        }
        if (x->shape[d] == 1 && p->size[l] != 1)
            continue;
        out->label[n] = (int8_t)l;
        out->shape[n] = x->shape[d];
        out->stride[n] = x->stride[d];
        n++;
    }
    out->base = x;
    out->owned = NULL;
    out->ndim = n;
    out->offset = x->offset;
    return NNF_OK;
}

/* The geometry of x with dims in the order of `labels`; a label x lacks is a size-1
 * dim. */
static void arranged(const term *x, const int8_t *labels, int n, int64_t *shape,
                     int64_t *stride)
{
    for (int i = 0; i < n; i++) {
        shape[i] = 1;
        stride[i] = 0;
        for (int d = 0; d < x->ndim; d++) {
            if (x->label[d] == labels[i]) {
                shape[i] = x->shape[d];
                stride[i] = x->stride[d];
            }
        }
    }
}

/* A tensor handle for x with dims in the order of `labels`. */
static nnf_status arrange(const term *x, const int8_t *labels, int n, nnf_tensor **view)
{
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    arranged(x, labels, n, shape, stride);
    return nnf__make_view(view, x->base, n, shape, stride, x->offset);
}

/* Sums x over its labels outside `keep`. */
static nnf_status sum_out(term *x, uint64_t keep)
{
    int dims[NNF_MAX_DIMS], ndims = 0, nkept = 0;
    int8_t kept[NNF_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        if (keep & bit(x->label[d]))
            kept[nkept++] = x->label[d];
        else
            dims[ndims++] = d;
    }
    if (ndims == 0)
        return NNF_OK;
    nnf_tensor *v = NULL, *s = NULL;
    NNF_FORWARD(arrange(x, x->label, x->ndim, &v));
    nnf_status st = nnf_sum(&s, v, ndims, dims, 0);
    nnf_tensor_free(v);
    if (st == NNF_OK)
        term_hold(x, s, kept, s->ndim, s->shape, s->stride);
    return st;
}

/* The labels of a pair, by role (step 2). */
enum { BATCH, LEFT_ONLY, CONTRACTED, RIGHT_ONLY, NROLES };
typedef struct {
    int n[NROLES];
    int8_t label[NROLES][NNF_MAX_DIMS];
} roles;

/* x as a 3-D tensor, one dim per role in `which`: a view when each role's dims step
 * evenly through memory (a contiguous tensor's dims kept in their order, a transposed
 * matrix, a single dim), else a reshape, which copies. */
static nnf_status as_3d(const term *x, const roles *g, const int *which, nnf_tensor **out)
{
    int8_t order[NNF_MAX_DIMS];
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    int64_t shape3[3] = {1, 1, 1}, stride3[3] = {0, 0, 0};
    int n = 0, views = 1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < g->n[which[i]]; j++)
            order[n++] = g->label[which[i]][j];
    arranged(x, order, n, shape, stride);
    for (int i = 0, d = 0; i < 3; i++) {
        /* walking the role's dims from the innermost: each must step over the ones inside */
        int end = d + g->n[which[i]];
        int64_t run;
        char s[NNF__SHAPE_STR];
        NNF_RETURN_IF(nnf__prod_ovf(end - d, shape + d, &shape3[i]), NNF_ERR_OVERFLOW,
                      "a group of dims of sizes %s has more elements than int64 holds",
                      nnf__shape_str(end - d, shape + d, s));
        int64_t inner = 1;
        for (int e = end - 1; e >= d; e--) {
            if (shape[e] == 1)
                continue;
            if (inner == 1)
                stride3[i] = stride[e];
            else if (nnf__mul_ovf(stride3[i], inner, &run) || stride[e] != run)
                views = 0;
            if (nnf__mul_ovf(inner, shape[e], &inner))
                views = 0;
        }
        d = end;
    }
    /* An empty result addresses nothing, so any strides make it a view. */
    if (shape3[0] == 0 || shape3[1] == 0 || shape3[2] == 0)
        views = 1;
    if (views)
        return nnf__make_view(out, x->base, 3, shape3, stride3, x->offset);
    nnf_tensor *v = NULL;
    NNF_FORWARD(nnf__make_view(&v, x->base, n, shape, stride, x->offset));
    nnf_status st = nnf_reshape(out, v, 3, shape3);
    nnf_tensor_free(v);
    return st;
}

/* [batch, M, K] @ [batch, K, N] -> [batch, M, N]: res holds the product, whose dims
 * (one per label of res) are row-major contiguous. */
static nnf_status batched_product(const plan *p, const term *l, const term *r, const roles *g,
                                  const int8_t *labels, int nd, term *res)
{
    nnf_tensor *l3 = NULL, *r3 = NULL, *prod = NULL;
    nnf_status st = as_3d(l, g, (const int[]){BATCH, LEFT_ONLY, CONTRACTED}, &l3);
    if (st == NNF_OK)
        st = as_3d(r, g, (const int[]){BATCH, CONTRACTED, RIGHT_ONLY}, &r3);
    if (st == NNF_OK)
        st = nnf_matmul(&prod, l3, r3);
    nnf_tensor_free(l3);
    nnf_tensor_free(r3);
    if (st != NNF_OK)
        return st;
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS];
    for (int i = 0; i < nd; i++)
        shape[i] = p->size[labels[i]];
    /* prod is [batch, M, N] with these dims' elements, so its strides fit (an empty
     * one's may wrap where they would not fit: they address nothing). */
    nnf__contiguous_strides(nd, shape, stride);
    term_hold(res, prod, labels, nd, shape, stride);
    return NNF_OK;
}

/* Step 2 for one pair: res = l (*) r, keeping the labels in `later`. */
static nnf_status contract(const plan *p, term *l, term *r, uint64_t later, term *res)
{
    NNF_FORWARD(sum_out(l, term_mask(r) | later));
    NNF_FORWARD(sum_out(r, term_mask(l) | later));
    uint64_t ml = term_mask(l), mr = term_mask(r);
    roles g = {{0}, {{0}}};
    for (int d = 0; d < l->ndim; d++) {
        int8_t x = l->label[d];
        int role = !(mr & bit(x)) ? LEFT_ONLY : (later & bit(x)) ? BATCH : CONTRACTED;
        g.label[role][g.n[role]++] = x;
    }
    for (int d = 0; d < r->ndim; d++)
        if (!(ml & bit(r->label[d])))
            g.label[RIGHT_ONLY][g.n[RIGHT_ONLY]++] = r->label[d];

    int nd = g.n[BATCH] + g.n[LEFT_ONLY] + g.n[RIGHT_ONLY];
    NNF_RETURN_IF(nd > NNF_MAX_DIMS, NNF_ERR_UNSUPPORTED,
                  "an intermediate product would have %d dimensions, more than "
                  "NNF_MAX_DIMS (%d); contract the operands in another order", nd,
                  NNF_MAX_DIMS);
    int8_t labels[NNF_MAX_DIMS];
    int n = 0;
    for (int role = 0; role < NROLES; role++)
        for (int j = 0; role != CONTRACTED && j < g.n[role]; j++)
            labels[n++] = g.label[role][j];
    if (g.n[CONTRACTED] > 0)
        return batched_product(p, l, r, &g, labels, nd, res);

    /* nothing to sum: an elementwise product, broadcasting over the one-sided labels */
    nnf_tensor *lv = NULL, *rv = NULL, *prod = NULL;
    nnf_status st = arrange(l, labels, nd, &lv);
    if (st == NNF_OK)
        st = arrange(r, labels, nd, &rv);
    if (st == NNF_OK)
        st = nnf_mul(&prod, lv, rv);
    if (st == NNF_OK)
        term_hold(res, prod, labels, prod->ndim, prod->shape, prod->stride);
    nnf_tensor_free(lv);
    nnf_tensor_free(rv);
    return st;
}

static nnf_status check_operands(nnf_tensor **out, const char *spec, int noperands,
                                 const nnf_tensor *const *operands)
{
    NNF_RETURN_IF(out == NULL || spec == NULL, NNF_ERR_NULL,
                  "out and the equation must not be NULL");
    NNF_RETURN_IF(noperands < 1, NNF_ERR_INVALID, "must provide at least one operand");
    NNF_RETURN_IF(operands == NULL, NNF_ERR_NULL, "operands is NULL");
    for (int k = 0; k < noperands; k++) {
        NNF_RETURN_IF(operands[k] == NULL, NNF_ERR_NULL, "operand %d is NULL", k);
        NNF_RETURN_IF(operands[k]->dtype != NNF_F32, NNF_ERR_DTYPE,
                      "operand %d is not float32", k);
    }
    return NNF_OK;
}

static nnf_status parse(plan *p, const char *spec, int noperands,
                        const nnf_tensor *const *operands)
{
    size_t nbytes = (size_t)noperands * sizeof(int);
    int *ndims = nnf__alloc(nbytes);
    NNF_RETURN_IF(ndims == NULL, NNF_ERR_NOMEM, "out of memory");
    for (int k = 0; k < noperands; k++)
        ndims[k] = operands[k]->ndim;
    nnf_status st = nnf__einsum_parse(&p->eq, spec, noperands, ndims);
    nnf__dealloc(ndims, nbytes);
    if (st != NNF_OK)
        return st;
    st = label_sizes(p, operands);
    if (st != NNF_OK)
        nnf__einsum_eq_free(&p->eq);
    return st;
}

static nnf_status check_out(const plan *p, const nnf_tensor *dst)
{
    if (dst == NULL)
        return NNF_OK;
    NNF_RETURN_IF(dst->dtype != NNF_F32, NNF_ERR_DTYPE, "the output must be float32");
    const nnf__einsum_term *o = &p->eq.out;
    int64_t shape[NNF_MAX_DIMS];
    int same = dst->ndim == o->ndim;
    for (int d = 0; d < o->ndim; d++) {
        shape[d] = p->size[o->label[d]];
        same = same && dst->shape[d] == shape[d];
    }
    char want[NNF__SHAPE_STR], got[NNF__SHAPE_STR];
    NNF_RETURN_IF(!same, NNF_ERR_SHAPE,
                  "the output has shape %s but the result has shape %s",
                  nnf__shape_str(dst->ndim, dst->shape, got),
                  nnf__shape_str(o->ndim, shape, want));
    return NNF_OK;
}

/* Steps 1-3 on parsed input; *result is a new handle (possibly a view of an operand). */
static nnf_status evaluate(const plan *p, const nnf_tensor *const *operands, term *terms,
                           nnf_tensor **result)
{
    int n = p->eq.noperands;
    uint64_t out_mask = labels_mask(&p->eq.out);
    for (int k = 0; k < n; k++)
        NNF_FORWARD(make_term(p, operands[k], &p->eq.in[k], &terms[k]));
    terms[n - 1].later = out_mask;
    for (int k = n - 2; k >= 0; k--)
        terms[k].later = terms[k + 1].later | term_mask(&terms[k + 1]);

    term acc = terms[0];
    terms[0].owned = NULL;
    nnf_status st = NNF_OK;
    for (int k = 1; k < n && st == NNF_OK; k++) {
        term next = {0};
        st = contract(p, &acc, &terms[k], terms[k].later, &next);
        nnf_tensor_free(acc.owned);
        nnf_tensor_free(terms[k].owned);
        terms[k].owned = NULL;
        acc = next;
    }
    if (st == NNF_OK)
        st = sum_out(&acc, out_mask);
    if (st == NNF_OK)
        st = arrange(&acc, p->eq.out.label, p->eq.out.ndim, result);
    nnf_tensor_free(acc.owned);
    return st;
}

nnf_status nnf_einsum(nnf_tensor **out, const char *spec, int noperands,
                      const nnf_tensor *const *operands)
{
    NNF_PUBLIC("nnf_einsum");
    NNF_FORWARD(check_operands(out, spec, noperands, operands));
    plan p;
    NNF_FORWARD(parse(&p, spec, noperands, operands));
    nnf_status st = check_out(&p, *out);
    size_t nbytes = (size_t)noperands * sizeof(term);
    term *terms = NULL;
    if (st == NNF_OK) {
        terms = nnf__calloc(nbytes);
        if (terms == NULL)
            st = nnf__fail(NNF_ERR_NOMEM, "out of memory");
    }
    nnf_tensor *result = NULL, *tmp = NULL;
    if (st == NNF_OK)
        st = evaluate(&p, operands, terms, &result);
    if (st == NNF_OK && *out == NULL) {
        *out = result;
        result = NULL;
    } else if (st == NNF_OK) {
        /* a view of an operand that *out shares storage with is copied out first */
        if (nnf_tensor_shares_storage(*out, result))
            st = nnf_clone(&tmp, result);
        if (st == NNF_OK)
            st = nnf_copy(*out, tmp != NULL ? tmp : result);
    }
    for (int k = 0; terms != NULL && k < noperands; k++)
        nnf_tensor_free(terms[k].owned);
    nnf__dealloc(terms, nbytes);
    nnf_tensor_free(result);
    nnf_tensor_free(tmp);
    nnf__einsum_eq_free(&p.eq);
    return st;
}
