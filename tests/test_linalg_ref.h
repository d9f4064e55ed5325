/* Helpers shared by the matmul/addmm and einsum tests: random operands, reading any
 * strided view into doubles, and the error bound of a float dot product. */
#ifndef NNF_TEST_LINALG_REF_H
#define NNF_TEST_LINALG_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "src/core/alloc.h"

/* A contiguous tensor of uniform values in [-1, 1) (asserts success). */
static inline nnf_tensor *ref_rand(int ndim, const int64_t *shape, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, -1.0f, 1.0f);
    return t;
}

/* The elements of any view of t in row-major order, as doubles (n = numel). */
static inline double *ref_gather(const nnf_tensor *t)
{
    int nd = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    int64_t n = nnf_tensor_numel(t);
    double *out = malloc((size_t)(n > 0 ? n : 1) * sizeof *out);
    const float *p = nnf_tensor_data(t);
    int64_t idx[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++)
            off += idx[d] * stride[d];
        out[i] = p[off];
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    return out;
}

/* Asserts each element of got is within the error bound of an in-order float
 * accumulation of k products: |got - want| <= (k + 2) * 2^-24 * mag, where mag is the
 * sum of the products' magnitudes (plus a floor for exact zeros). */
static inline void ref_assert_near(const nnf_tensor *got, const double *want, const double *mag,
                                   int64_t k)
{
    int64_t n = nnf_tensor_numel(got);
    double *g = ref_gather(got);
    for (int64_t i = 0; i < n; i++) {
        double tol = (double)(k + 2) * 0x1p-24 * mag[i] + 1e-30;
        if (!(fabs(g[i] - want[i]) <= tol)) {
            double gi = g[i];
            free(g);
            fail_msg("element %lld: got %.9g, want %.9g (tolerance %.3g)", (long long)i, gi,
                     want[i], tol);
        }
    }
    free(g);
}

/* 1 + the number of allocations nnf_sgemm itself makes for this call (its packing
 * buffers): with nnf__alloc_fail_after(that), a product that copies nothing beyond
 * sgemm's own buffers still succeeds, and one that copies an operand fails. */
static inline long ref_sgemm_allocations(nnf_trans ta, nnf_trans tb, size_t m, size_t n,
                                         size_t k)
{
    float *a = calloc(m * k + 1, sizeof(float)), *b = calloc(k * n + 1, sizeof(float));
    float *c = calloc(m * n + 1, sizeof(float));
    size_t lda = ta == NNF_TRANS ? m : k, ldb = tb == NNF_TRANS ? k : n;
    long f = 1;
    for (;; f++) {
        nnf__alloc_fail_after(f);
        nnf_status st = nnf_sgemm(ta, tb, m, n, k, 1.0f, a, lda ? lda : 1, b, ldb ? ldb : 1,
                                  0.0f, c, n ? n : 1);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK)
            break;
        assert_int_equal(st, NNF_ERR_NOMEM);
    }
    free(a);
    free(b);
    free(c);
    return f;
}

/* Brute force: out[out letters] += prod_k op_k[its letters]. `in` spells each operand's
 * dims with one letter each (ellipsis dims spelled out); a size-1 dim broadcasts. */
typedef struct {
    int ndim;
    int64_t shape[NNF_MAX_DIMS];
    int64_t numel, terms;   /* terms: products summed into each element */
    double *want, *mag;
} ref_einsum_result;

static inline void ref_einsum(const char *const *in, const char *out, int n,
                              const nnf_tensor *const *ops, ref_einsum_result *r)
{
    int64_t size[128] = {0};
    char letters[64] = "";
    int nl = 0;
    double *g[8];
    for (int k = 0; k < n; k++) {
        g[k] = ref_gather(ops[k]);
        for (int d = 0; in[k][d]; d++) {
            unsigned char c = (unsigned char)in[k][d];
            int64_t s = nnf_tensor_shape(ops[k])[d];
            if (strchr(letters, c) == NULL) {
                letters[nl++] = (char)c;
                letters[nl] = '\0';
                size[c] = s;
            } else if (s != 1) {
                size[c] = s;
            }
        }
    }
    r->ndim = (int)strlen(out);
    r->numel = 1;
    for (int d = 0; d < r->ndim; d++) {
        r->shape[d] = size[(unsigned char)out[d]];
        r->numel *= r->shape[d];
    }
    r->want = calloc((size_t)r->numel + 1, sizeof(double));
    r->mag = calloc((size_t)r->numel + 1, sizeof(double));
    int64_t total = 1;
    for (int i = 0; i < nl; i++)
        total *= size[(unsigned char)letters[i]];
    r->terms = r->numel > 0 ? total / r->numel : 0;
    int64_t value[128] = {0};
    for (int64_t t = 0; t < total; t++) {
        double p = 1;
        for (int k = 0; k < n; k++) {
            int64_t lin = 0;
            for (int d = 0; in[k][d]; d++) {
                int64_t s = nnf_tensor_shape(ops[k])[d];
                lin = lin * s + (s == 1 ? 0 : value[(unsigned char)in[k][d]]);
            }
            p *= g[k][lin];
        }
        int64_t o = 0;
        for (int d = 0; d < r->ndim; d++)
            o = o * r->shape[d] + value[(unsigned char)out[d]];
        r->want[o] += p;
        r->mag[o] += fabs(p);
        for (int i = nl - 1; i >= 0; i--) {
            unsigned char c = (unsigned char)letters[i];
            if (++value[c] < size[c])
                break;
            value[c] = 0;
        }
    }
    for (int k = 0; k < n; k++)
        free(g[k]);
}

static inline void ref_einsum_free(ref_einsum_result *r)
{
    free(r->want);
    free(r->mag);
}

/* Asserts nnf_last_error() contains `part`. */
static inline void ref_assert_message(const char *part)
{
    const char *msg = nnf_last_error();
    if (strstr(msg, part) == NULL)
        fail_msg("error message \"%s\" lacks \"%s\"", msg, part);
}

#endif
