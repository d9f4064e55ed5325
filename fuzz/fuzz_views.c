/* Fuzz target: chains of views (src/tensor: slice, narrow, select, permute, transpose, t,
 * expand, unsqueeze, squeeze, reshape, contiguous) with hostile arguments, against a model
 * of each view's geometry kept here with PyTorch's rules and checked arithmetic.
 *
 * Input: an ISA, a starting shape (rank 0-4, sizes 0-4, elements 1, 2, 3, ...), then up to
 * 8 operations, each with its arguments (dims and indices are small or at the edges of
 * their type).
 *
 * Properties, after every step:
 * - the call succeeds exactly when the model says the arguments are valid (where PyTorch
 *   itself would fail only for lack of memory, either is allowed);
 * - a view's shape is the model's, every element it addresses lies inside its storage,
 *   and its elements, read in row-major order, are those the model's own index
 *   computation picks from the storage;
 * - on failure the output handle is untouched; the starting tensor never changes;
 * - nothing leaks.
 */
#include "fuzz/fuzz.h"

#define MAX_STEPS 8
#define MAX_ELEMS 4096
#define NDIM NNF_MAX_DIMS

typedef struct {
    int ndim;
    int64_t shape[NDIM], stride[NDIM], offset;
    const float *base;   /* the storage's elements */
    int64_t base_n;
} geom;

enum { INVALID, VALID, EITHER };

/* PyTorch's dim wrapping; a 0-d tensor takes -1 and 0. */
static int wrap(int64_t dim, int ndim, int *d)
{
    int n = ndim > 0 ? ndim : 1;
    if (dim < -n || dim >= n)
        return 0;
    *d = (int)(dim < 0 ? dim + n : dim);
    return 1;
}

/* The number of elements, or -1 when it overflows (0 wins over overflow). */
static int64_t numel_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    int overflow = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0)
            return 0;
        overflow |= __builtin_mul_overflow(n, shape[d], &n);
    }
    return overflow ? -1 : n;
}

/* Element i (row-major) of the view g, by the model's own index computation. */
static float model_elem(const geom *g, int64_t i)
{
    int64_t pos = g->offset;
    for (int d = g->ndim - 1; d >= 0; d--) {
        pos += i % g->shape[d] * g->stride[d];
        i /= g->shape[d];
    }
    CHECK(pos >= 0 && pos < g->base_n, "the model itself left its storage (%lld)", (long long)pos);
    return g->base[pos];
}

/* Sizes of 1 or less address no second element: their stride is kept 0 in the model,
 * so that no later computation here multiplies an arbitrary one. */
static void normalise(geom *g)
{
    for (int d = 0; d < g->ndim; d++)
        if (g->shape[d] <= 1)
            g->stride[d] = 0;
}

/* base + k * stride, or 0 where that overflows: it can only in a view with no elements
 * (another dim is 0), whose offset and strides address nothing. */
static int64_t moved(int64_t base, int64_t k, int64_t stride)
{
    int64_t r;
    if (__builtin_mul_overflow(k, stride, &r) || __builtin_add_overflow(base, r, &r))
        return 0;
    return r;
}

static void drop(geom *g, int d)
{
    for (int i = d; i + 1 < g->ndim; i++) {
        g->shape[i] = g->shape[i + 1];
        g->stride[i] = g->stride[i + 1];
    }
    g->ndim--;
}

static float store[MAX_STEPS + 1][MAX_ELEMS];   /* storages of copies the chain made */

/* The model of a contiguous copy of g, its elements in store[slot]. */
static void materialise(geom *g, int slot, int ndim, const int64_t *shape)
{
    int64_t n = numel_of(g->ndim, g->shape);
    for (int64_t i = 0; i < n; i++)
        store[slot][i] = model_elem(g, i);
    g->base = store[slot];
    g->base_n = n;
    g->offset = 0;
    g->ndim = ndim;
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        g->shape[d] = shape[d];
        g->stride[d] = s;
        if (__builtin_mul_overflow(s, shape[d], &s))
            s = 0;   /* only past a size 0, where no stride is used */
    }
    normalise(g);
}

static nnf_status status;   /* of the last call step() made */

/* Reads one op from the input, applies it to t (into *out) and to the model g; returns
 * what the model expects of the call. Only called on a g whose numel fits MAX_ELEMS. */
static int step(fuzz_in *in, int slot, geom *g, const nnf_tensor *t, nnf_tensor **out)
{
    int op = take8(in) % 12, d = 0, d1 = 0;
    int a = take_dim(in);
    int64_t b = take_hostile(in), c = take_hostile(in);
    int nd = g->ndim;
    switch (op) {
    case 0: {   /* slice(dim a, start b, end c, step) */
        int64_t st = take8(in) % 8 == 0 ? take_hostile(in) : take_range(in, 1, 3);
        status = nnf_slice(out, t, a, b, c, st);
        if (nd == 0 || !wrap(a, nd, &d) || st <= 0)
            return INVALID;
        int64_t size = g->shape[d];
        if (b < 0) b = b < -size ? 0 : b + size;
        if (c < 0) c = c < -size ? 0 : c + size;
        if (b > size) b = size;
        if (c > size) c = size;
        int64_t len = c <= b ? 0 : (c - b - 1) / st + 1;
        if (len > 0)
            g->offset = moved(g->offset, b, g->stride[d]);
        g->shape[d] = len;
        if (len > 1)
            g->stride[d] = moved(0, g->stride[d], st);
        normalise(g);
        return VALID;
    }
    case 1: {   /* narrow(dim a, start b, length c) */
        status = nnf_narrow(out, t, a, b, c);
        if (nd == 0 || !wrap(a, nd, &d) || c < 0)
            return INVALID;
        int64_t size = g->shape[d];
        if (b < -size || b > size)
            return INVALID;
        if (b < 0)
            b += size;
        if (c > size - b)
            return INVALID;
        if (c > 0)
            g->offset = moved(g->offset, b, g->stride[d]);
        g->shape[d] = c;
        normalise(g);
        return VALID;
    }
    case 2: {   /* select(dim a, index b) */
        status = nnf_select(out, t, a, b);
        if (nd == 0 || !wrap(a, nd, &d))
            return INVALID;
        int64_t size = g->shape[d];
        if (b < -size || b >= size)
            return INVALID;
        g->offset = moved(g->offset, b < 0 ? b + size : b, g->stride[d]);
        drop(g, d);
        return VALID;
    }
    case 3: {   /* permute: a rotation of the dims, sometimes with one entry broken */
        int perm[NDIM], seen = 0, ok = 1;
        for (int i = 0; i < nd; i++)
            perm[i] = (int)(((uint64_t)(unsigned)a + (unsigned)i) % (unsigned)nd);
        if (nd > 0 && b == 7)
            perm[(uint64_t)c % (unsigned)nd] = take_dim(in);
        status = nnf_permute(out, t, nd > 0 ? perm : NULL);
        geom o = *g;
        for (int i = 0; i < nd && ok; i++) {
            ok = wrap(perm[i], nd, &d) && !(seen & 1 << d);
            seen |= 1 << d;
            g->shape[i] = o.shape[d];
            g->stride[i] = o.stride[d];
        }
        return ok ? VALID : INVALID;
    }
    case 4: {   /* transpose(a, e) */
        int e = take_dim(in);
        status = nnf_transpose(out, t, a, e);
        if (!wrap(a, nd, &d) || !wrap(e, nd, &d1))
            return INVALID;
        if (nd > 0) {
            int64_t s = g->shape[d], r = g->stride[d];
            g->shape[d] = g->shape[d1];
            g->stride[d] = g->stride[d1];
            g->shape[d1] = s;
            g->stride[d1] = r;
        }
        return VALID;
    }
    case 5:   /* t() */
        status = nnf_t(out, t);
        if (nd > 2)
            return INVALID;
        if (nd == 2) {
            int64_t s = g->shape[0], r = g->stride[0];
            g->shape[0] = g->shape[1];
            g->stride[0] = g->stride[1];
            g->shape[1] = s;
            g->stride[1] = r;
        }
        return VALID;
    case 6: {   /* expand to a shape of nd + (a % 3) - 0 or so dims */
        int k = nd + (int)((unsigned)a % 4) - 1;
        if (k < 0 || k > NDIM)
            k = nd;
        int64_t shape[NDIM];
        int lead = k - nd, valid = k >= nd;
        for (int i = 0; i < k; i++) {
            uint8_t how = take8(in);
            int64_t old = i >= lead && i - lead < nd ? g->shape[i - lead] : 1;
            shape[i] = how % 4 == 0 ? -1 : how % 4 == 1 ? old
                     : how % 4 == 2 ? take_range(in, 0, 5) : take_hostile(in);
        }
        status = nnf_expand(out, t, k, shape);
        if (!valid)
            return INVALID;
        geom o = *g;
        g->ndim = k;
        for (int i = 0; i < k; i++) {
            if (i < lead) {
                if (shape[i] < 0)
                    return INVALID;
                g->shape[i] = shape[i];
                g->stride[i] = 0;
                continue;
            }
            int64_t old = o.shape[i - lead], want = shape[i] == -1 ? old : shape[i];
            if (want < 0 || (old != 1 && want != old))
                return INVALID;
            g->shape[i] = want;
            g->stride[i] = want == old ? o.stride[i - lead] : 0;
        }
        normalise(g);
        if (numel_of(k, g->shape) < 0)
            return INVALID;
        return VALID;
    }
    case 7:   /* unsqueeze(a) */
        status = nnf_unsqueeze(out, t, a);
        if (nd == NDIM || a < -(nd + 1) || a > nd)
            return INVALID;
        d = (int)(a < 0 ? a + nd + 1 : a);
        for (int i = nd; i > d; i--) {
            g->shape[i] = g->shape[i - 1];
            g->stride[i] = g->stride[i - 1];
        }
        g->shape[d] = 1;
        g->stride[d] = 0;
        g->ndim++;
        return VALID;
    case 8:   /* squeeze(a) */
        status = nnf_squeeze(out, t, a);
        if (!wrap(a, nd, &d))
            return INVALID;
        if (nd > 0 && g->shape[d] == 1)
            drop(g, d);
        return VALID;
    case 9:   /* squeeze_all */
        status = nnf_squeeze_all(out, t);
        for (int i = nd - 1; i >= 0; i--)
            if (g->shape[i] == 1)
                drop(g, i);
        return VALID;
    case 10: {   /* reshape to (a, -1) or (b, c): a view or a copy, the same elements */
        int64_t shape[2] = {b, a == 3 ? c : -1};
        int k = a == 5 ? 1 : 2;
        status = nnf_reshape(out, t, k, shape);
        int64_t n = numel_of(nd, g->shape), known = 1;
        int infer = 0;
        for (int i = 0; i < k; i++) {
            if (shape[i] == -1) {
                if (infer++)
                    return INVALID;
            } else if (shape[i] < 0 || __builtin_mul_overflow(known, shape[i], &known)) {
                return INVALID;
            }
        }
        int64_t r[2] = {shape[0], shape[1]};
        for (int i = 0; i < k; i++)
            if (r[i] == -1) {
                if (known == 0 || n % known != 0)
                    return INVALID;
                r[i] = n / known;
                known *= r[i];
            }
        if (known != n)
            return INVALID;
        materialise(g, slot, k, r);
        return VALID;
    }
    default:   /* contiguous */
        status = nnf_contiguous(out, t);
        {
            int64_t shape[NDIM];
            memcpy(shape, g->shape, sizeof shape);
            materialise(g, slot, nd, shape);
        }
        return VALID;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    take_isa(&in);
    static float base[MAX_ELEMS], got[MAX_ELEMS];
    geom g = {.ndim = (int)take_range(&in, 0, 4), .offset = 0, .base = base};
    int64_t n = 1;
    for (int d = g.ndim - 1; d >= 0; d--) {
        g.shape[d] = take_range(&in, 0, 4);
        g.stride[d] = n;
        n *= g.shape[d];
    }
    g.base_n = n;
    normalise(&g);
    for (int64_t i = 0; i < n; i++)
        base[i] = (float)(i + 1);

    LEAK_CHECK_BEGIN;
    nnf_tensor *chain[MAX_STEPS + 1] = {NULL};
    CHECK(nnf_from_data(&chain[0], base, g.ndim, g.shape) == NNF_OK, "the starting tensor");
    int len = 1;
    while (len <= MAX_STEPS && in.n > 0) {
        nnf_tensor *sentinel = (nnf_tensor *)&chain, *out = sentinel;
        geom before = g;
        int expect = step(&in, len, &g, chain[len - 1], &out);
        int ok = out != sentinel;
        /* An empty view may be refused for an offset beyond int64 bytes (nnf keeps
         * offsets addressable even where nothing is read): PyTorch would take it. */
        if (!ok && expect == VALID && status == NNF_ERR_OVERFLOW && numel_of(g.ndim, g.shape) == 0)
            expect = EITHER;
        CHECK(expect == EITHER || ok == (expect == VALID),
              "step %d: the call %s, the model says it is %s", len, ok ? "succeeded" : "failed",
              expect == VALID ? "valid" : "invalid");
        if (!ok) {
            g = before;
            continue;
        }
        chain[len++] = out;
        CHECK(nnf_tensor_ndim(out) == g.ndim &&
              memcmp(nnf_tensor_shape(out), g.shape, (size_t)g.ndim * sizeof(int64_t)) == 0,
              "step %d: the shape differs from the model's", len - 1);
        check_inside_storage(out, "a view");
        int64_t m = numel_of(g.ndim, g.shape);
        if (m > MAX_ELEMS)
            break;   /* an expanded view too large to read, or to copy next */
        read_floats(got, m, out);
        for (int64_t i = 0; i < m; i++) {
            float want = model_elem(&g, i);
            CHECK(strided_elem(out, i) == want && got[i] == want,
                  "step %d: element %lld is %g (%g copied), the model's %g", len - 1,
                  (long long)i, (double)strided_elem(out, i), (double)got[i], (double)want);
        }
    }
    CHECK(memcmp(nnf_tensor_data(chain[0]), base, (size_t)n * sizeof(float)) == 0,
          "a view changed the storage");
    for (int i = len - 1; i >= 0; i--)
        nnf_tensor_free(chain[i]);
    LEAK_CHECK_END;
    return 0;
}
