/* Fuzz target: broadcasting binary ops (src/ops: shapes, the dense fast path, dim
 * merging, the walk over outer dims) against a double-precision reference.
 *
 * Input: an ISA, an op, two shapes of rank 0-5 drawn so that each dim is equal, 1 in one
 * operand or absent (leading), sometimes incompatible; each operand either contiguous
 * or a transposed layout; an output mode (new, existing, in place into a, wrong shape);
 * then the values.
 *
 * Properties:
 * - the call succeeds exactly when the shapes broadcast (numpy's rule, computed here)
 *   and an existing output has the result's shape;
 * - every element equals the operation done in double and rounded once to float, which
 *   for + - * / is the correctly rounded float result (double has more than 2 * 24 + 2
 *   bits), bit for bit; NaN only where the reference is NaN; comparisons exact;
 * - on failure the output handle and an existing output's elements are untouched;
 * - nothing leaks.
 */
#include <math.h>

#include "fuzz/fuzz.h"

enum { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, LT, LE, GT, GE, EQ, NE, NOPS };
#define RANK 5
#define MAX_ELEMS 8448   /* 4^4 * 33 */

static nnf_status call(int op, nnf_tensor **out, const nnf_tensor *a, const nnf_tensor *b)
{
    switch (op) {
    case ADD: return nnf_add(out, a, b);
    case SUB: return nnf_sub(out, a, b);
    case MUL: return nnf_mul(out, a, b);
    case DIV: return nnf_div(out, a, b);
    case MAXIMUM: return nnf_maximum(out, a, b);
    case MINIMUM: return nnf_minimum(out, a, b);
    case LT: return nnf_lt(out, a, b);
    case LE: return nnf_le(out, a, b);
    case GT: return nnf_gt(out, a, b);
    case GE: return nnf_ge(out, a, b);
    case EQ: return nnf_eq(out, a, b);
    default: return nnf_ne(out, a, b);
    }
}

static double reference(int op, double x, double y)
{
    switch (op) {
    case ADD: return x + y;
    case SUB: return x - y;
    case MUL: return x * y;
    case DIV: return x / y;
    case MAXIMUM: return x > y ? x : y;
    case MINIMUM: return x < y ? x : y;
    case LT: return x < y;
    case LE: return x <= y;
    case GT: return x > y;
    case GE: return x >= y;
    case EQ: return x == y;
    default: return x != y;
    }
}

/* Row-major index i of `shape` (rank nd) -> the element of an operand of rank k aligned
 * at the trailing dim, with its size-1 dims broadcast. */
static int64_t source(int64_t i, int nd, const int64_t *shape, int k, const int64_t *kshape)
{
    int64_t idx = 0, mul = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int64_t c = i % shape[d];
        i /= shape[d];
        int kd = d - (nd - k);
        if (kd >= 0) {
            idx += (kshape[kd] == 1 ? 0 : c) * mul;
            mul *= kshape[kd];
        }
    }
    return idx;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    take_isa(&in);
    int op = take8(&in) % NOPS;
    int nd = (int)take_range(&in, 0, RANK);
    int ka = nd - (int)take_range(&in, 0, nd), kb = nd - (int)take_range(&in, 0, nd);
    if (ka < nd && kb < nd)
        ka = nd;   /* the result has the larger rank */
    int64_t shape[RANK], sa[RANK], sb[RANK];
    int compatible = 1;
    for (int d = 0; d < nd; d++) {
        static const int64_t last[] = {0, 1, 2, 3, 5, 7, 17, 33};
        shape[d] = d == nd - 1 ? last[take8(&in) % 8] : take_range(&in, 0, 4);
        uint8_t how = take8(&in);
        int64_t *s = how & 1 ? sa : sb;   /* which operand may differ here */
        int64_t *o = how & 1 ? sb : sa;
        s[d] = (how >> 1) % 4 == 0 ? 1 : shape[d];
        o[d] = shape[d];
        if ((how >> 3) % 16 == 0) {   /* a size that may not broadcast */
            s[d] = take_range(&in, 0, 4);
            compatible &= d < nd - ka || d < nd - kb || s[d] == shape[d] || s[d] == 1 ||
                          shape[d] == 1;
        }
    }
    /* The result's shape, by numpy's rule, over the dims each operand has. */
    int64_t rs[RANK];
    for (int d = 0; d < nd; d++) {
        int64_t x = d >= nd - ka ? sa[d] : 1, y = d >= nd - kb ? sb[d] : 1;
        rs[d] = x == 1 ? y : x;
    }
    const int64_t *ash = sa + (nd - ka), *bsh = sb + (nd - kb);
    int64_t na = 1, nb = 1, nr = 1;
    for (int d = 0; d < ka; d++) na *= ash[d];
    for (int d = 0; d < kb; d++) nb *= bsh[d];
    for (int d = 0; d < nd; d++) nr *= rs[d];
    if (na > MAX_ELEMS || nb > MAX_ELEMS || nr > MAX_ELEMS)
        return 0;

    LEAK_CHECK_BEGIN;
    static float va[MAX_ELEMS], vb[MAX_ELEMS], got[MAX_ELEMS], before[MAX_ELEMS];
    nnf_tensor *a = take_tensor(&in, ka, ash, va), *b = take_tensor(&in, kb, bsh, vb);
    int cmp = op >= LT;
    int mode = take8(&in) % 4;
    nnf_tensor *out = NULL;
    int64_t wrong[RANK];
    memcpy(wrong, rs, sizeof wrong);
    if (mode == 3 && nd > 0)
        wrong[take8(&in) % nd] += 1;
    else if (mode == 3)
        mode = 1;
    int expect_ok = compatible;
    if (mode == 1 || mode == 3) {
        CHECK(nnf_empty_typed(&out, nd, mode == 3 ? wrong : rs, cmp ? NNF_BOOL : NNF_F32) ==
              NNF_OK, "output");
        expect_ok &= mode == 1;
    } else if (mode == 2) {
        /* in place: a itself, when it has the result's shape and type */
        int fits = !cmp && ka == nd && nnf_tensor_is_contiguous(a);
        for (int d = 0; fits && d < nd; d++)
            fits = ash[d] == rs[d];
        if (fits)
            out = a;
    }
    if (out != NULL && out != a && nnf_tensor_dtype(out) == NNF_F32)
        for (int64_t i = 0; i < nnf_tensor_numel(out); i++)
            nnf_tensor_data(out)[i] = (float)i;
    nnf_tensor *handle = out;
    if (out != NULL && nnf_tensor_dtype(out) == NNF_F32)
        memcpy(before, nnf_tensor_data(out), (size_t)nnf_tensor_numel(out) * 4);

    nnf_status st = call(op, &handle, a, b);
    CHECK((st == NNF_OK) == expect_ok, "op %d returned %s, expected %s", op,
          nnf_status_str(st), expect_ok ? "success" : "an error");
    if (st != NNF_OK) {
        CHECK(handle == out, "a failed op changed its output handle");
        if (out != NULL && nnf_tensor_dtype(out) == NNF_F32)
            CHECK(memcmp(before, nnf_tensor_data(out), (size_t)nnf_tensor_numel(out) * 4) == 0,
                  "a failed op wrote into its output");
    } else {
        CHECK(out == NULL || handle == out, "the result is not in the given output");
        CHECK(nnf_tensor_ndim(handle) == nd &&
              memcmp(nnf_tensor_shape(handle), rs, (size_t)nd * sizeof(int64_t)) == 0,
              "the result's shape is not the broadcast shape");
        if (cmp) {
            nnf_tensor *f = NULL;
            CHECK(nnf_zeros(&f, nd, rs) == NNF_OK && nnf_copy(f, handle) == NNF_OK, "bool->float");
            read_floats(got, nr, f);
            nnf_tensor_free(f);
        } else {
            read_floats(got, nr, handle);
        }
        for (int64_t i = 0; i < nr; i++) {
            double x = va[source(i, nd, rs, ka, ash)], y = vb[source(i, nd, rs, kb, bsh)];
            float want = (float)reference(op, x, y);
            int same = isnan(want) ? isnan(got[i])
                     : op == MAXIMUM || op == MINIMUM ? got[i] == want
                     : bits(got[i]) == bits(want);
            CHECK(same, "op %d element %lld: %g op %g = %g, got %g", op, (long long)i, x, y,
                  (double)want, (double)got[i]);
        }
        if (handle != out)
            nnf_tensor_free(handle);
    }
    if (out != a)
        nnf_tensor_free(out);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    LEAK_CHECK_END;
    return 0;
}
