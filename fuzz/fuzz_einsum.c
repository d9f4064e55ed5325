/* Fuzz target: nnf_einsum (src/linalg: the parser, label sizes and broadcasting,
 * diagonals, sums, the lowering of products to nnf_matmul) against a reference that
 * loops over every combination of subscripts in double.
 *
 * Input: an ISA; then either
 * - a structured equation: 1-3 operands, each 0-4 subscripts from "abcdeAB" (repeats
 *   take diagonals), sizes 0-4 per subscript, some dims 1 (broadcast) and now and then
 *   a size or an ndim that does not fit; an explicit output (a subset in any order, now
 *   and then a repeated or unknown subscript) or the implicit one; spaces anywhere; or
 * - raw bytes as the equation, over operands of random small shapes (the parser's
 *   errors, ellipses, garbage);
 * then an output mode (new, existing of the right shape, existing of a wrong shape) and
 * the values.
 *
 * Properties:
 * - a structured equation succeeds exactly when it is valid by torch.einsum's rules
 *   (computed here independently), with NNF_ERR_UNSUPPORTED allowed too; its result has
 *   the output's shape and every element equals the reference within float's error bound
 *   for the number of terms summed;
 * - any equation fails only with NNF_ERR_PARSE, _SHAPE or _UNSUPPORTED (or _INVALID for
 *   an output of the wrong shape), its message starting "nnf_einsum: ";
 * - on failure the output handle and an existing output's elements are untouched;
 * - nothing leaks.
 */
#include <math.h>

#include "fuzz/fuzz.h"

#define MAX_OPS 3
#define MAX_ELEMS 1024
#define NLABELS 7
static const char labels[NLABELS + 1] = "abcdeAB";

typedef struct {
    int n;
    int nd[MAX_OPS];
    int lab[MAX_OPS][4];          /* index into labels[] */
    int64_t shape[MAX_OPS][4];
    int nout;                     /* -1: implicit */
    int out[NLABELS];
    int64_t size[NLABELS];        /* each subscript's size (the largest seen) */
    int valid;
} problem;

static int label_index(char c)
{
    const char *p = strchr(labels, c);
    return c != 0 && p != NULL ? (int)(p - labels) : -1;
}

/* Builds the structured problem and its equation; sets valid by torch's rules. */
static void make_problem(fuzz_in *in, problem *p, char *eq, size_t cap)
{
    int64_t size[NLABELS];
    for (int l = 0; l < NLABELS; l++)
        size[l] = take8(in) % 16 == 0 ? 0 : take_range(in, 1, 4);
    p->n = (int)take_range(in, 1, MAX_OPS);
    p->valid = 1;
    int count[NLABELS] = {0};
    size_t len = 0;
    for (int i = 0; i < p->n; i++) {
        p->nd[i] = (int)take_range(in, 0, 4);
        for (int d = 0; d < p->nd[i]; d++) {
            int l = (int)(take8(in) % NLABELS);
            p->lab[i][d] = l;
            count[l]++;
            uint8_t how = take8(in);
            p->shape[i][d] = how % 8 == 0 ? 1 : how % 32 == 1 ? take_range(in, 0, 4) : size[l];
            if (len + 3 < cap) {
                if (how % 16 == 7)
                    eq[len++] = ' ';
                eq[len++] = labels[l];
            }
        }
        if (len + 2 < cap && i + 1 < p->n)
            eq[len++] = ',';
    }
    /* Sizes: repeats within an operand must be equal; across operands 1 broadcasts. */
    for (int l = 0; l < NLABELS; l++)
        p->size[l] = -1;
    for (int i = 0; i < p->n; i++) {
        for (int d = 0; d < p->nd[i]; d++) {
            int l = p->lab[i][d];
            for (int e = 0; e < d; e++)
                if (p->lab[i][e] == l && p->shape[i][e] != p->shape[i][d])
                    p->valid = 0;
            int64_t s = p->shape[i][d];
            if (p->size[l] == -1 || p->size[l] == 1)
                p->size[l] = s;
            else if (s != 1 && s != p->size[l])
                p->valid = 0;
        }
    }
    uint8_t how = take8(in);
    if (how % 3 == 0) {
        p->nout = -1;   /* implicit: the subscripts seen once, in ASCII order */
        int nout = 0;
        for (int c = 0; c < 128; c++) {
            int l = label_index((char)c);
            if (l >= 0 && count[l] == 1)
                p->out[nout++] = l;
        }
        p->nout = nout;
    } else {
        if (len + 3 < cap) {
            memcpy(eq + len, how % 7 == 1 ? " -> " : "->", how % 7 == 1 ? 4 : 2);
            len += how % 7 == 1 ? 4 : 2;
        }
        int nout = (int)take_range(in, 0, NLABELS), used = 0;
        p->nout = 0;
        for (int o = 0; o < nout; o++) {
            int l = (int)(take8(in) % NLABELS);
            if (count[l] == 0 && take8(in) % 8 != 0)
                continue;   /* mostly keep to subscripts the operands have */
            if ((used & 1 << l) && take8(in) % 8 != 0)
                continue;
            p->valid &= count[l] > 0 && !(used & 1 << l);
            used |= 1 << l;
            p->out[p->nout++] = l;
            if (len + 2 < cap)
                eq[len++] = labels[l];
        }
    }
    eq[len] = 0;
    /* Now and then an operand whose ndim does not fit its subscripts. */
    if (take8(in) % 16 == 0) {
        int i = (int)(take8(in) % p->n);
        if (p->nd[i] < 4) {
            p->shape[i][p->nd[i]++] = 2;
            p->valid = 0;
        }
    }
    for (int l = 0; l < NLABELS; l++)
        if (p->size[l] == -1)
            p->size[l] = 1;
}

/* Element `pos` (label values) of operand i, broadcast dims reading index 0. */
static double elem(const problem *p, int i, const float *vals, const int64_t *pos)
{
    int64_t idx = 0;
    for (int d = 0; d < p->nd[i]; d++)
        idx = idx * p->shape[i][d] + (p->shape[i][d] == 1 ? 0 : pos[p->lab[i][d]]);
    return vals[idx];
}

/* Checks every output element against the loops over all subscripts. */
static void check_values(const problem *p, float *const *vals, const nnf_tensor *r)
{
    static float got[MAX_ELEMS];
    int64_t nr = 1, total = 1;
    for (int o = 0; o < p->nout; o++)
        nr *= p->size[p->out[o]];
    for (int l = 0; l < NLABELS; l++)
        total *= p->size[l];
    CHECK(nr <= MAX_ELEMS, "output too large");
    read_floats(got, nr, r);
    static double want[MAX_ELEMS], mag[MAX_ELEMS];
    memset(want, 0, (size_t)nr * sizeof(double));
    memset(mag, 0, (size_t)nr * sizeof(double));
    int64_t pos[NLABELS];
    for (int64_t it = 0; it < total; it++) {
        int64_t rest = it;
        for (int l = NLABELS - 1; l >= 0; l--) {
            pos[l] = rest % p->size[l];
            rest /= p->size[l];
        }
        /* A subscript repeated in the output, or a diagonal, pins equal positions: the
         * loop visits each label once, so diagonals come for free. */
        double prod = 1;
        for (int i = 0; i < p->n; i++)
            prod *= elem(p, i, vals[i], pos);
        int64_t o = 0;
        for (int k = 0; k < p->nout; k++)
            o = o * p->size[p->out[k]] + pos[p->out[k]];
        want[o] += prod;
        mag[o] += fabs(prod);
    }
    double terms = (double)(total / (nr ? nr : 1));
    for (int64_t o = 0; o < nr; o++)
        CHECK(fabs(got[o] - want[o]) <= (terms + 4) * 0x1p-22 * mag[o],
              "element %lld is %.9g, the reference %.9g", (long long)o, (double)got[o], want[o]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    take_isa(&in);
    char eq[64];
    problem p;
    int raw = take8(&in) % 4 == 0;
    make_problem(&in, &p, eq, sizeof eq);
    if (raw) {   /* the equation from the bytes themselves */
        size_t n = (size_t)take_range(&in, 0, sizeof eq - 1);
        for (size_t i = 0; i < n; i++)
            eq[i] = (char)take8(&in);
        eq[n] = 0;
    }
    int64_t total = 1, nr = 1;
    for (int l = 0; l < NLABELS; l++)
        total *= p.size[l];
    for (int o = 0; o < p.nout; o++)
        nr *= p.size[p.out[o]];
    for (int i = 0; i < p.n; i++) {
        int64_t ni = 1;
        for (int d = 0; d < p.nd[i]; d++)
            ni *= p.shape[i][d];
        if (ni > MAX_ELEMS)
            return 0;
    }
    if (total > 16384 || nr > MAX_ELEMS)
        return 0;

    LEAK_CHECK_BEGIN;
    static float vals[MAX_OPS][MAX_ELEMS];
    nnf_tensor *ops[MAX_OPS];
    float *vp[MAX_OPS];
    for (int i = 0; i < p.n; i++) {
        ops[i] = take_tensor(&in, p.nd[i], p.shape[i], vals[i]);
        vp[i] = vals[i];
    }
    int64_t rshape[NLABELS];
    for (int o = 0; o < p.nout; o++)
        rshape[o] = p.size[p.out[o]];
    int mode = take8(&in) % 4;
    nnf_tensor *out = NULL;
    if (mode >= 2) {   /* an existing output, of the result's shape or one element off */
        int64_t s[NLABELS];
        memcpy(s, rshape, sizeof s);
        if (mode == 3 && p.nout > 0)
            s[take8(&in) % p.nout] += 1;
        CHECK(nnf_full(&out, p.nout, s, 7.0f) == NNF_OK, "output");
        if (mode == 3 && p.nout > 0)
            p.valid = 0;
    }
    nnf_tensor *handle = out;
    nnf_status st = nnf_einsum(&handle, eq, p.n, (const nnf_tensor *const *)ops);

    CHECK(st == NNF_OK || st == NNF_ERR_PARSE || st == NNF_ERR_SHAPE ||
          st == NNF_ERR_UNSUPPORTED || (st == NNF_ERR_INVALID && out != NULL),
          "\"%s\": unexpected status %s", eq, nnf_status_str(st));
    CHECK(st == NNF_OK || strncmp(nnf_last_error(), "nnf_einsum: ", 12) == 0,
          "the message does not name nnf_einsum");
    if (!raw && st != NNF_ERR_UNSUPPORTED)
        CHECK((st == NNF_OK) == p.valid, "\"%s\" (%d operands): %s, expected %s", eq, p.n,
              nnf_status_str(st), p.valid ? "success" : "an error");
    if (st != NNF_OK) {
        CHECK(handle == out, "a failed einsum changed its output handle");
        for (int64_t i = 0; out != NULL && i < nnf_tensor_numel(out); i++)
            CHECK(nnf_tensor_data(out)[i] == 7.0f, "a failed einsum wrote into its output");
    } else {
        CHECK(out == NULL || handle == out, "the result is not in the given output");
        if (!raw) {
            CHECK(nnf_tensor_ndim(handle) == p.nout &&
                  memcmp(nnf_tensor_shape(handle), rshape, (size_t)p.nout * 8) == 0,
                  "\"%s\": the result's shape is not the output's", eq);
            check_values(&p, vp, handle);
        }
        if (handle != out)
            nnf_tensor_free(handle);
    }
    nnf_tensor_free(out);
    for (int i = 0; i < p.n; i++)
        nnf_tensor_free(ops[i]);
    LEAK_CHECK_END;
    return 0;
}
