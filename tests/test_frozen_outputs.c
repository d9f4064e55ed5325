/* Frozen outputs: a 64-bit FNV-1a hash of the result of every op, per case, on every ISA,
 * checked against the hashes recorded in tests/golden/frozen_outputs.txt ("case hash"
 * lines). Every ISA must reproduce the file, so a change of bits is caught whether it
 * hits one ISA or all of them alike.
 *
 * What is hashed: the raw bytes of every result (float, bool and int64), NaN payloads
 * included (the NaN rule: arithmetic, products included, makes 0x7FC00000, copies and
 * selects move bits; see kernels/eltwise.h). A result written into a view is hashed with
 * the whole buffer behind it, so a write outside the view shows.
 *
 * x86's scalar ISA computes exp, log, tanh, sigmoid and pow without FMA (within 1 ULP, not
 * the others' bits; nnf_test_isa_exact), and so does the test-only ISA on x86. Every ISA
 * like that is held to the same hashes as the others, except for the cases listed as
 * "case@nofma hash": there all of them must give that hash instead. So its bits are frozen
 * too, and a case differs there only where the file says so.
 *
 * Regenerating is a deliberate act, for a change that is MEANT to change bits (say so in
 * its commit message):
 *     NNF_FROZEN_WRITE=tests/golden/frozen_outputs.txt build/native/tests/test_frozen_outputs
 * runs every case on every ISA this machine has, asserts that they agree, and writes the
 * file instead of checking it. Check the new file on aarch64 too (scripts/test.sh arm).
 * The file meson passes as NNF_FROZEN_GOLDEN is read otherwise.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_nn_util.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"

/* ---- The hash table of cases ---- */

#define MAX_CASES 2048
#define NAME_LEN 80

typedef struct entry {
    char name[NAME_LEN];
    uint64_t hash;
    int run;    /* the ISA run that last produced it: names must be unique per run */
    int seen;
} entry;

static entry golden[MAX_CASES];
static int ngolden;
static const char *write_path;  /* NNF_FROZEN_WRITE: collect and write, not check */
static int loaded;
static int groups_passed;       /* write mode writes only when every group passed */

/* The case being hashed, and the ISA run it belongs to. */
static char cur_name[NAME_LEN];
static uint64_t cur_hash;
static int cur_open, cur_run, mismatches;
static nnf_isa cur_isa;
static int cur_exact;           /* the ISA keeps the bitwise promise (no @nofma lines) */
static int ran_inexact;         /* an ISA without it ran: its @nofma lines were checked */

#define NOFMA "@nofma"

static void load_golden(void)
{
    if (loaded)
        return;
    loaded = 1;
    write_path = getenv("NNF_FROZEN_WRITE");
    if (write_path != NULL)
        return;
    FILE *f = fopen(NNF_FROZEN_GOLDEN, "r");
    if (f == NULL)
        fail_msg("cannot open %s", NNF_FROZEN_GOLDEN);
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(ngolden < MAX_CASES);
        entry *e = &golden[ngolden++];
        if (sscanf(line, "%79s %" SCNx64, e->name, &e->hash) != 2)
            fail_msg("%s: malformed line: %s", NNF_FROZEN_GOLDEN, line);
    }
    fclose(f);
}

static void hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        cur_hash = (cur_hash ^ b[i]) * 0x100000001b3ull;
}

static void hash_int(int64_t v)
{
    hash_bytes(&v, sizeof v);   /* little-endian on every machine nnf runs on */
}

static void hash_floats(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        hash_bytes(&bits, sizeof bits);
    }
}

/* Shape, then the elements in row-major order through the strides. */
static void hash_tensor(const nnf_tensor *t)
{
    int nd = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    hash_int(nd);
    for (int d = 0; d < nd; d++)
        hash_int(shape[d]);
    int64_t n = nnf_tensor_numel(t), idx[NNF_MAX_DIMS] = {0};
    nnf_dtype dt = nnf_tensor_dtype(t);
    size_t es = dt == NNF_F32 ? 4 : dt == NNF_BOOL ? 1 : 8;
    const char *base = nnf_tensor_raw(t);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++)
            off += idx[d] * stride[d];
        if (dt == NNF_F32)
            hash_floats((const float *)(const void *)(base + off * (int64_t)es), 1);
        else
            hash_bytes(base + off * (int64_t)es, es);
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape[d]; d--)
            idx[d] = 0;
    }
}

static int find(const char *name)
{
    int i = 0;
    while (i < ngolden && strcmp(golden[i].name, name) != 0)
        i++;
    return i;
}

static int add_entry(const char *name, uint64_t hash)
{
    size_t len = strlen(name);
    assert_true(ngolden < MAX_CASES && len < NAME_LEN);
    memcpy(golden[ngolden].name, name, len + 1);
    golden[ngolden].hash = hash;
    return ngolden++;
}

/* Compares (or, writing, records) the hash of the case just run. An ISA without the
 * bitwise promise is compared with the case's @nofma line if there is one, else with the
 * common line; writing, it gets an @nofma line only where it differs (the exact ISAs
 * run first, so the common line exists by then). */
static void case_end(void)
{
    if (!cur_open)
        return;
    cur_open = 0;
    char alt[NAME_LEN + sizeof NOFMA];
    snprintf(alt, sizeof alt, "%s" NOFMA, cur_name);
    int i = find(cur_name);
    if (!cur_exact && find(alt) < ngolden)
        i = find(alt);
    if (i == ngolden && write_path == NULL) {
        print_error("case %s on %s: hash %016" PRIx64 " is not in the golden file\n",
                    cur_name, nnf_isa_name(cur_isa), cur_hash);
        mismatches++;
        return;
    }
    if (i == ngolden)
        i = add_entry(cur_name, cur_hash);
    else if (write_path != NULL && !cur_exact && golden[i].hash != cur_hash &&
             strcmp(golden[i].name, cur_name) == 0)
        i = add_entry(alt, cur_hash);
    entry *e = &golden[i];
    if (e->run == cur_run)
        fail_msg("case name %s is used twice", cur_name);
    e->run = cur_run;
    e->seen = 1;
    if (e->hash != cur_hash) {
        print_error("frozen output changed: case %s on %s: hash %016" PRIx64 ", golden %016"
                    PRIx64 " (%s)\n", cur_name, nnf_isa_name(cur_isa), cur_hash, e->hash,
                    e->name);
        mismatches++;
    }
}

static void case_begin(const char *fmt, ...)
{
    case_end();
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(cur_name, NAME_LEN, fmt, ap);
    va_end(ap);
    assert_true(len > 0 && len < NAME_LEN - (int)sizeof NOFMA && strchr(cur_name, ' ') == NULL);
    cur_hash = 0xcbf29ce484222325ull;
    cur_open = 1;
}

/* Runs `group` once per ISA and compares every case it hashes. */
static void run_group(void (*group)(void))
{
    static int run;
    load_golden();
    int failed = 0;
    for (int exact_pass = 1; exact_pass >= 0; exact_pass--)   /* the exact ISAs first */
        NNF_FOR_EACH_ISA(isa) {
            if (nnf_test_isa_exact() != exact_pass)
                continue;
            cur_isa = isa;
            cur_exact = exact_pass;
            ran_inexact |= !exact_pass;
            cur_run = ++run;
            mismatches = 0;
            group();
            case_end();
            if (mismatches != 0) {
                print_error("%d case(s) differ on %s\n", mismatches, nnf_isa_name(isa));
                failed = 1;
            }
        }
    nnf_test_restore_isa();
    if (failed)
        fail_msg("frozen outputs changed (see above)");
    groups_passed++;
}

/* ---- Inputs ---- */

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* Values every kernel must get right: NaNs of several payloads and signs (quiet and
 * signalling), infinities, signed zeros, subnormals, the float range's ends, the exp,
 * tanh and log thresholds, and exponents pow treats specially. */
static float special(unsigned i)
{
    static const uint32_t nan_bits[] = {0x7FC00000u, 0xFFC00000u, 0x7FC12345u,
                                        0x7F800001u, 0xFFBFFFFFu};
    static const float v[] = {
        INFINITY, -INFINITY, 0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f,
        -0x1p-127f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, 1e30f, -1e30f, 1e-30f, -1e-30f,
        1.0f, -1.0f, 0.5f, 2.0f, -2.0f, 3.0f, 0.25f, 88.72283f, 89.0f, -87.33655f,
        -103.97208f, -104.0f, 9.0f, -9.5f, 20.0f, 1e-7f, 4096.5f};
    unsigned nn = sizeof nan_bits / sizeof nan_bits[0], nv = sizeof v / sizeof v[0];
    i %= nn + nv;
    return i < nn ? from_bits(nan_bits[i]) : v[i - nn];
}

/* Uniform values in [-4, 4), a small integer at every 5th element (the same one in two
 * arrays whose seeds differ by a multiple of 5, so comparisons meet ties) and a special
 * value at every `every`-th (0: none), the positions shifting with the seed so vector
 * bodies and tails both meet them. */
static void fill_values(float *x, size_t n, uint64_t seed, unsigned every)
{
    nnf_test_fill_uniform(x, n, seed, -4.0f, 4.0f);
    for (size_t i = 0; i < n; i++)
        if ((i + seed) % 5 == 1)
            x[i] = (float)((int)((i * 3 + seed) % 5) - 2);
    for (size_t i = 0; every != 0 && i < n; i++)
        if ((i + seed) % every == 0)
            x[i] = special((unsigned)(i * 7 + seed * 3));
}

/* Values spread over 2^-12..2^12 so that a changed summation order changes the bits. */
static void fill_spread(float *x, size_t n, uint64_t seed)
{
    nnf_test_fill_uniform(x, n, seed, -1.0f, 1.0f);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = ldexpf(x[i], (int)((s >> 40) % 25) - 12);
    }
}

/* A 1-D tensor of n elements of `dt` (values: fill_values, bools 0/1 in a mixed pattern). */
static nnf_tensor *new_base(nnf_dtype dt, int64_t n, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&t, NNF_SHAPE(n), dt));
    if (dt == NNF_F32) {
        fill_values(nnf_tensor_data(t), (size_t)n, seed, 3);
    } else {
        uint8_t *p = nnf_tensor_raw(t);
        for (int64_t i = 0; i < n; i++)
            p[i] = (uint8_t)(((uint64_t)i * 5 + seed) % 3 != 0);
    }
    return t;
}

static nnf_tensor *reshaped(nnf_tensor *t, int ndim, const int64_t *shape)
{
    nnf_tensor *v = NULL;
    NNF_ASSERT_OK(nnf_view(&v, t, ndim, shape));
    nnf_tensor_free(t);
    return v;
}

/* ---- Elementwise ops ---- */

typedef enum { K_UNARY, K_BINARY, K_TERNARY, K_SCALAR, K_CLAMP, K_COPY, K_FILL } op_kind;

typedef struct eop {
    const char *name;
    op_kind kind;
    nnf_dtype out, in[3];
    nnf_status (*unary)(nnf_tensor **, const nnf_tensor *);
    nnf_status (*binary)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *);
    nnf_status (*ternary)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *,
                          const nnf_tensor *);
    nnf_status (*scalar)(nnf_tensor **, const nnf_tensor *, float);
    const float (*params)[2];   /* the scalar (and clamp's hi) of each call */
    int nparams;
} eop;

static int nin(const eop *op)
{
    return op->kind == K_BINARY ? 2 : op->kind == K_TERNARY ? 3 : 1;
}

static void call_op(const eop *op, nnf_tensor **out, nnf_tensor *const *in, const float *p)
{
    nnf_status st = NNF_OK;
    switch (op->kind) {
    case K_UNARY: st = op->unary(out, in[0]); break;
    case K_BINARY: st = op->binary(out, in[0], in[1]); break;
    case K_TERNARY: st = op->ternary(out, in[0], in[1], in[2]); break;
    case K_SCALAR: st = op->scalar(out, in[0], p[0]); break;
    case K_CLAMP: st = nnf_clamp(out, in[0], p[0], p[1]); break;
    case K_COPY:
    case K_FILL:
        if (*out == NULL) {
            const nnf_tensor *a = in[0];
            NNF_ASSERT_OK(nnf_empty_typed(out, nnf_tensor_ndim(a), nnf_tensor_shape(a), op->out));
        }
        st = op->kind == K_COPY ? nnf_copy(*out, in[0]) : nnf_fill(*out, p[0]);
        break;
    }
    if (st != NNF_OK)
        fail_msg("%s: %s: %s", cur_name, nnf_status_str(st), nnf_last_error());
}

static const float p_none[][2] = {{0, 0}};
static const float p_arith[][2] = {{2.5f, 0}, {-0.0f, 0}, {3e38f, 0}, {NAN, 0}, {-INFINITY, 0},
                                   {1e-40f, 0}};
static const float p_compare[][2] = {{0.5f, 0}, {-0.0f, 0}, {NAN, 0}, {INFINITY, 0}};
static const float p_clamp[][2] = {{-1.0f, 1.0f}, {0.0f, INFINITY}, {-INFINITY, 0.5f},
                                   {1.0f, -1.0f}, {-0.0f, 0.0f}};
static const float p_fill[][2] = {{1.5f, 0}, {-0.0f, 0}, {NAN, 0}};
#define PARAMS(p) p, (int)(sizeof p / sizeof p[0])
#define F1 {NNF_F32}
#define F2 {NNF_F32, NNF_F32}
#define UN(f) #f, K_UNARY, NNF_F32, F1, .unary = nnf_##f, .params = PARAMS(p_none)
#define BIN(f, o) #f, K_BINARY, o, F2, .binary = nnf_##f, .params = PARAMS(p_none)
#define SC(f, o, p) #f, K_SCALAR, o, F1, .scalar = nnf_##f, .params = PARAMS(p)
#define POW(e) "pow_scalar(" #e ")", K_SCALAR, NNF_F32, F1, .scalar = nnf_pow_scalar, \
               .params = (const float[][2]){{e, 0}}, .nparams = 1

static const eop eops[] = {
    {BIN(add, NNF_F32)}, {BIN(sub, NNF_F32)}, {BIN(mul, NNF_F32)}, {BIN(div, NNF_F32)},
    {BIN(maximum, NNF_F32)}, {BIN(minimum, NNF_F32)}, {BIN(pow, NNF_F32)},
    /* Cases keep the names they were recorded under: threshold_backward was relu_grad,
     * rsub and rdiv were rsub_scalar and rdiv_scalar. */
    {"relu_grad", K_BINARY, NNF_F32, F2, .binary = nnf_threshold_backward,
     .params = PARAMS(p_none)},
    {BIN(lt, NNF_BOOL)}, {BIN(le, NNF_BOOL)}, {BIN(gt, NNF_BOOL)}, {BIN(ge, NNF_BOOL)},
    {BIN(eq, NNF_BOOL)}, {BIN(ne, NNF_BOOL)},
    {"where", K_TERNARY, NNF_F32, {NNF_BOOL, NNF_F32, NNF_F32}, .ternary = nnf_where,
     .params = PARAMS(p_none)},
    {"sub_div", K_TERNARY, NNF_F32, {NNF_F32, NNF_F32, NNF_F32}, .ternary = nnf_sub_div,
     .params = PARAMS(p_none)},
    {UN(neg)}, {UN(abs)}, {UN(sqrt)}, {UN(relu)}, {UN(exp)}, {UN(log)}, {UN(tanh)},
    {UN(sigmoid)},
    {SC(add_scalar, NNF_F32, p_arith)}, {SC(sub_scalar, NNF_F32, p_arith)},
    {SC(mul_scalar, NNF_F32, p_arith)}, {SC(div_scalar, NNF_F32, p_arith)},
    {"rsub_scalar", K_SCALAR, NNF_F32, F1, .scalar = nnf_rsub, .params = PARAMS(p_arith)},
    {"rdiv_scalar", K_SCALAR, NNF_F32, F1, .scalar = nnf_rdiv, .params = PARAMS(p_arith)},
    {SC(lt_scalar, NNF_BOOL, p_compare)}, {SC(le_scalar, NNF_BOOL, p_compare)},
    {SC(gt_scalar, NNF_BOOL, p_compare)}, {SC(ge_scalar, NNF_BOOL, p_compare)},
    {SC(eq_scalar, NNF_BOOL, p_compare)}, {SC(ne_scalar, NNF_BOOL, p_compare)},
    /* 2, 1, 0.5 and -1 are computed exactly; the rest go through SLEEF's powf. */
    {POW(2)}, {POW(1)}, {POW(0.5)}, {POW(-1)}, {POW(0)}, {POW(3)}, {POW(-2)}, {POW(0.25)},
    {POW(1.5)}, {POW(-0.5)}, {POW(NAN)}, {POW(INFINITY)}, {POW(-INFINITY)},
    {"clamp", K_CLAMP, NNF_F32, F1, .params = PARAMS(p_clamp)},
    {"copy", K_COPY, NNF_F32, F1, .params = PARAMS(p_none)},
    {"copy_to_bool", K_COPY, NNF_BOOL, F1, .params = PARAMS(p_none)},
    {"copy_from_bool", K_COPY, NNF_F32, {NNF_BOOL}, .params = PARAMS(p_none)},
    {"fill", K_FILL, NNF_F32, F1, .params = PARAMS(p_fill)},
};

/* How the operands of an n-element case are laid out. Every layout but "contig" makes
 * the result 2-D, [ROWS, n]. */
typedef enum {
    L_CONTIG,   /* 1-D, at offsets 0, 1 or 3 elements from a 64-byte boundary (3 variants) */
    L_STRIDE0,  /* input v is one element, broadcast at stride 0 */
    L_ROWS,     /* input v is [n], broadcast over the rows */
    L_COLS,     /* input v is [ROWS, 1], broadcast along each row (stride 0 within a span) */
    L_STRIDED,  /* inputs step 2, 3, 2; the output a step-2 view */
    L_TRANS,    /* input 0 and the output are transposed views */
    L_INPLACE,  /* the output is the first input of its dtype */
    NLAYOUTS
} layout;
static const char *const layout_name[NLAYOUTS] = {"contig", "stride0", "rows", "cols",
                                                  "strided", "trans", "inplace"};
#define ROWS 3
#define MAXN 49
static const int64_t offsets[3][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {3, 0, 1, 3}};

static int variants(layout l, int nin)
{
    return l == L_CONTIG ? 3 : l == L_STRIDE0 || l == L_ROWS || l == L_COLS ? nin : 1;
}

/* Operand `i` (or the output, i == 3) of a case: a view onto a fresh base tensor. */
static nnf_tensor *operand(layout l, int v, int i, nnf_dtype dt, int64_t n, uint64_t seed,
                           int unary)
{
    int64_t off = l == L_CONTIG ? offsets[v][i] : 0, step = 1, rows = ROWS, cols = n;
    int bcast = i == v && (l == L_STRIDE0 || l == L_ROWS || l == L_COLS);
    if (l == L_CONTIG)
        rows = 1;
    if (bcast) {
        rows = l == L_COLS ? ROWS : 1;
        cols = l == L_ROWS ? n : 1;
    }
    if (l == L_STRIDED)
        step = i == 1 ? 3 : 2;
    nnf_tensor *base = new_base(dt, off + rows * cols * step + 5, seed), *t = NULL;
    NNF_ASSERT_OK(nnf_slice(&t, base, 0, off, off + rows * cols * step, step));
    nnf_tensor_free(base);
    if (l == L_TRANS && (i == 0 || i == 3)) {
        t = reshaped(t, NNF_SHAPE(cols, rows));
        nnf_tensor *tt = NULL;
        NNF_ASSERT_OK(nnf_t(&tt, t));
        nnf_tensor_free(t);
        return tt;
    }
    if (l != L_CONTIG) {
        const int64_t shape[2] = {rows, cols};
        t = reshaped(t, 2, shape);
        if (unary && bcast) {   /* nothing to broadcast against: expand explicitly */
            nnf_tensor *e = NULL;
            NNF_ASSERT_OK(nnf_expand(&e, t, NNF_SHAPE(ROWS, n)));
            nnf_tensor_free(t);
            return e;
        }
    }
    return t;
}

/* A result written into a view: its storage from the view's first element to the end
 * (so a write outside the view shows), then the view. */
static void hash_written(const nnf_tensor *out)
{
    int64_t first = nnf_tensor_offset(out), n = nnf_tensor_storage_numel(out) - first;
    if (nnf_tensor_dtype(out) == NNF_F32)
        hash_floats(nnf_tensor_data(out), (size_t)n);
    else
        hash_bytes(nnf_tensor_raw(out), (size_t)n);
    hash_tensor(out);
}

static void eltwise_case(const eop *op, layout l)
{
    int k = nin(op), inplace = -1;
    for (int i = 0; i < k && l == L_INPLACE && inplace < 0; i++)
        if (op->in[i] == op->out)
            inplace = i;
    if (l == L_INPLACE && inplace < 0)
        return;
    case_begin("%s.%s", op->name, layout_name[l]);
    for (int64_t n = 0; n <= MAXN; n++)
        for (int v = 0; v < variants(l, k); v++)
            for (int p = 0; p < op->nparams; p++) {
                uint64_t seed = (uint64_t)(n * 131 + v * 17 + p * 7);
                nnf_tensor *in[3] = {NULL, NULL, NULL}, *out = NULL;
                for (int i = 0; i < k; i++)
                    in[i] = operand(l, v, i, op->in[i], n, seed + 1000 * (uint64_t)i, k == 1);
                int viewed = l == L_CONTIG || l == L_STRIDED || l == L_TRANS;
                if (viewed)
                    out = operand(l, v, 3, op->out, n, seed + 3000, k == 1);
                else if (inplace >= 0)
                    out = in[inplace];
                call_op(op, &out, in, op->params[p]);
                if (viewed || inplace >= 0)
                    hash_written(out);
                else
                    hash_tensor(out);
                if (inplace < 0)
                    nnf_tensor_free(out);
                for (int i = 0; i < k; i++)
                    nnf_tensor_free(in[i]);
            }
}

static void eltwise_group(void)
{
    for (size_t o = 0; o < sizeof eops / sizeof eops[0]; o++)
        for (int l = 0; l < NLAYOUTS; l++)
            eltwise_case(&eops[o], (layout)l);
}

/* ---- Reductions ---- */

typedef enum { R_CONTIG, R_TRANS, R_STRIDED } red_view;

typedef struct red_cfg {
    const char *name;
    int nshapes, ndim;
    int64_t shapes[6][3];   /* the shapes of the views reduced */
    int ndims, dims[2];     /* ndims 0: every dim */
    int keepdim;
    red_view view;          /* last two dims transposed, or the last at step 2 */
} red_cfg;

/* Lengths around the 32 lanes and the 4096-value blocks, runs that are and are not
 * whole lanes, the column path with more results than its 1024-wide strip. */
static const red_cfg red_cfgs[] = {
    {"vec.short", 6, 1, {{0}, {1}, {31}, {32}, {33}, {63}}, 0, {0}, 0, R_CONTIG},
    {"vec.long", 5, 1, {{4095}, {4096}, {4097}, {8225}, {12289}}, 0, {0}, 0, R_CONTIG},
    {"rows", 4, 2, {{37, 33}, {3, 4097}, {64, 130}, {5, 32}}, 1, {1}, 0, R_CONTIG},
    {"rows.keepdim", 2, 2, {{7, 65}, {2, 1}}, 1, {-1}, 1, R_CONTIG},
    {"cols", 4, 2, {{37, 33}, {4099, 3}, {40, 1100}, {130, 64}}, 1, {0}, 0, R_CONTIG},
    {"outer_inner", 2, 3, {{5, 40, 7}, {3, 33, 2}}, 2, {0, 2}, 1, R_CONTIG},
    {"middle", 2, 3, {{5, 40, 7}, {2, 4100, 3}}, 1, {1}, 0, R_CONTIG},
    {"all2d", 2, 2, {{37, 33}, {3, 4097}}, 0, {0}, 0, R_CONTIG},
    {"trans.rows", 2, 2, {{37, 33}, {3, 4100}}, 1, {1}, 0, R_TRANS},
    {"trans.cols", 2, 2, {{37, 33}, {4100, 3}}, 1, {0}, 0, R_TRANS},
    {"strided", 3, 2, {{2, 4100}, {9, 45}, {45, 9}}, 1, {1}, 0, R_STRIDED},
};

typedef enum {
    R_SUM, R_MEAN, R_VAR0, R_VAR1, R_STD0, R_STD1, R_STD_MEAN, R_MAX, R_MIN, R_ARGMAX,
    R_ALL, R_ANY, R_ALL_BOOL, R_ANY_BOOL, NREDS
} red_op;
static const char *const red_name[NREDS] = {"sum", "mean", "var0", "var1", "std0", "std1",
                                            "std_mean", "max", "min", "argmax", "all", "any",
                                            "all_bool", "any_bool"};

/* The input view of one shape: spread values, or special values every 29th element. */
static nnf_tensor *red_input(const red_cfg *c, const int64_t *shape, int specials,
                             uint64_t seed)
{
    int nd = c->ndim;
    int64_t bshape[3], numel = 1;
    for (int d = 0; d < nd; d++) {
        bshape[d] = shape[d];
        numel *= shape[d];
    }
    if (c->view == R_TRANS) {
        bshape[nd - 2] = shape[nd - 1];
        bshape[nd - 1] = shape[nd - 2];
    }
    int64_t step = c->view == R_STRIDED ? 2 : 1;
    bshape[nd - 1] *= step;
    nnf_tensor *b = NULL, *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&b, nd, bshape));
    float *x = nnf_tensor_data(b);
    fill_spread(x, (size_t)(numel * step), seed);
    for (int64_t i = 0; specials && i < numel * step; i += 29)
        x[i] = special((unsigned)(i / 29 + seed));
    if (c->view == R_CONTIG)
        return b;
    if (c->view == R_TRANS)
        NNF_ASSERT_OK(nnf_transpose(&t, b, nd - 2, nd - 1));
    else
        NNF_ASSERT_OK(nnf_slice(&t, b, nd - 1, 0, bshape[nd - 1], 2));
    nnf_tensor_free(b);
    return t;
}

static void red_run(red_op op, const red_cfg *c, nnf_tensor *x)
{
    const int *dims = c->ndims ? c->dims : NULL;
    int nd = c->ndims, kd = c->keepdim;
    nnf_tensor *out = NULL, *out2 = NULL, *in = x;
    if (op == R_ALL_BOOL || op == R_ANY_BOOL) {
        in = NULL;
        /* about 99% and 1% true: some rows all true, some with none */
        NNF_ASSERT_OK(nnf_gt_scalar(&in, x, op == R_ALL_BOOL ? -2048.0f : 2048.0f));
    }
    nnf_status st = NNF_OK;
    switch (op) {
    case R_SUM: st = nnf_sum(&out, in, nd, dims, kd); break;
    case R_MEAN: st = nnf_mean(&out, in, nd, dims, kd); break;
    case R_VAR0: case R_VAR1: st = nnf_var(&out, in, nd, dims, op == R_VAR1, kd); break;
    case R_STD0: case R_STD1: st = nnf_std(&out, in, nd, dims, op == R_STD1, kd); break;
    case R_STD_MEAN: st = nnf_std_mean(&out, &out2, in, nd, dims, 1, kd); break;
    case R_MAX: st = nnf_max(&out, in, nd, dims, kd); break;
    case R_MIN: st = nnf_min(&out, in, nd, dims, kd); break;
    case R_ARGMAX: st = nnf_argmax(&out, in, nd ? dims[nd - 1] : 0, kd); break;
    case R_ALL: case R_ALL_BOOL: st = nnf_all(&out, in, nd, dims, kd); break;
    case R_ANY: case R_ANY_BOOL: st = nnf_any(&out, in, nd, dims, kd); break;
    case NREDS: break;
    }
    /* Reducing nothing: the status is the frozen output (max of nothing is an error). */
    if (nnf_tensor_numel(x) == 0)
        hash_int(st);
    else if (st != NNF_OK)
        fail_msg("%s: %s: %s", cur_name, nnf_status_str(st), nnf_last_error());
    if (st == NNF_OK) {
        hash_tensor(out);
        if (out2 != NULL)
            hash_tensor(out2);
    }
    nnf_tensor_free(out);
    nnf_tensor_free(out2);
    if (in != x)
        nnf_tensor_free(in);
}

static void reduce_group(void)
{
    for (int op = 0; op < NREDS; op++)
        for (size_t c = 0; c < sizeof red_cfgs / sizeof red_cfgs[0]; c++) {
            const red_cfg *cfg = &red_cfgs[c];
            case_begin("%s.%s", red_name[op], cfg->name);
            for (int s = 0; s < cfg->nshapes; s++)
                for (int specials = 0; specials <= 1; specials++) {
                    nnf_tensor *x = red_input(cfg, cfg->shapes[s], specials,
                                              (uint64_t)(c * 100 + (size_t)s * 10 + (size_t)specials));
                    red_run((red_op)op, cfg, x);
                    nnf_tensor_free(x);
                }
        }
}

/* ---- sgemm ---- */

/* C = alpha op(A) op(B) + beta C with A, B uniform in [-1, 1) and row strides padded by
 * `pad`; C (with its padding) is hashed whole. beta 0 starts from a C of NaNs. */
static void sgemm_one(nnf_trans ta, nnf_trans tb, size_t m, size_t n, size_t k, float alpha,
                      float beta, size_t pad, uint64_t seed, int a_specials)
{
    size_t ar = ta == NNF_NO_TRANS ? m : k, ac = ta == NNF_NO_TRANS ? k : m;
    size_t br = tb == NNF_NO_TRANS ? k : n, bc = tb == NNF_NO_TRANS ? n : k;
    size_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    size_t na = ar * lda + 1, nb = br * ldb + 1, nc = m * ldc + 1;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    assert_true(a != NULL && b != NULL && c != NULL);
    nnf_test_fill_uniform(a, na, seed, -1.0f, 1.0f);
    nnf_test_fill_uniform(b, nb, seed + 1, -1.0f, 1.0f);
    nnf_test_fill_uniform(c, nc, seed + 2, -1.0f, 1.0f);
    if (a_specials)
        fill_values(a, na, seed, 11);
    for (size_t i = 0; beta == 0.0f && i < nc; i++)
        c[i] = from_bits(0x7FC00000u | (uint32_t)i);
    NNF_ASSERT_OK(nnf_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    hash_floats(c, nc);
    free(a);
    free(b);
    free(c);
}

static void sgemm_group(void)
{
    /* m, n: tails of every micro-tile (4x4 scalar, 6x16 AVX2, 6x64/8x48 AVX-512, 8x12
     * NEON) and the GEMV shapes m = 1, n = 1; k around KC = 384. */
    static const size_t ms[] = {1, 5, 9, 14}, ns[] = {1, 3, 17, 50, 67},
                        ks[] = {1, 383, 384, 385, 800};
    static const float ab[4][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 2.0f}, {1.5f, -0.25f}};
    static const char *const path_name[] = {"auto", "direct", "packed"};
    for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
        nnf__sgemm_force_path((nnf__sgemm_path)path);
        for (int t = 0; t < 4; t++) {
            nnf_trans ta = (nnf_trans)(t >> 1), tb = (nnf_trans)(t & 1);
            case_begin("sgemm.%c%c.%s", "NT"[ta], "NT"[tb], path_name[path]);
            unsigned i = 0;
            for (size_t mi = 0; mi < 4; mi++)
                for (size_t ni = 0; ni < 5; ni++)
                    for (size_t ki = 0; ki < 5; ki++, i++)
                        sgemm_one(ta, tb, ms[mi], ns[ni], ks[ki], ab[i % 4][0], ab[i % 4][1],
                                  (i / 4) % 2 ? 3 : 0, i, 0);
        }
    }
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    case_begin("sgemm.specials");   /* inf * 0 and NaN in A, every 11th element */
    for (int t = 0; t < 4; t++)
        sgemm_one((nnf_trans)(t >> 1), (nnf_trans)(t & 1), 7, 19, 385, 1.0f, 0.5f, 1, 40, 1);
    case_begin("sgemm.degenerate");   /* alpha 0, k 0: C = beta C, no product */
    sgemm_one(NNF_NO_TRANS, NNF_NO_TRANS, 5, 7, 9, 0.0f, 0.5f, 0, 50, 0);
    sgemm_one(NNF_NO_TRANS, NNF_TRANS, 5, 7, 9, 0.0f, 0.0f, 1, 51, 0);
    sgemm_one(NNF_TRANS, NNF_NO_TRANS, 5, 7, 0, 1.0f, -1.5f, 0, 52, 0);
    sgemm_one(NNF_NO_TRANS, NNF_NO_TRANS, 5, 7, 0, 1.0f, 0.0f, 2, 53, 0);
    case_begin("sgemm.large");   /* past the scalar table's 256-row and -column blocks */
    sgemm_one(NNF_NO_TRANS, NNF_TRANS, 260, 270, 390, 1.0f, 0.0f, 0, 60, 0);
}

/* ---- matmul, addmm, einsum ---- */

/* Uniform in [-1, 1). */
#define UNIFORM(seed, ...) nn_uniform(NNF_SHAPE(__VA_ARGS__), seed, -1.0f, 1.0f)

static nnf_tensor *transposed(nnf_tensor *t)
{
    nnf_tensor *v = NULL;
    NNF_ASSERT_OK(nnf_t(&v, t));
    nnf_tensor_free(t);
    return v;
}

static void matmul_case(const char *name, nnf_tensor *a, nnf_tensor *b)
{
    case_begin("matmul.%s", name);
    nnf_tensor *out = NULL;
    NNF_ASSERT_OK(nnf_matmul(&out, a, b));
    hash_tensor(out);
    nnf_tensor_free(out);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

static void einsum_case(const char *eq, int n, nnf_tensor *a, nnf_tensor *b)
{
    case_begin("einsum.%s", eq);
    const nnf_tensor *ops[2] = {a, b};
    nnf_tensor *out = NULL;
    NNF_ASSERT_OK(nnf_einsum(&out, eq, n, ops));
    hash_tensor(out);
    nnf_tensor_free(out);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

static void linalg_group(void)
{
    matmul_case("dot", UNIFORM(1, 37), UNIFORM(2, 37));
    matmul_case("mv", UNIFORM(3, 13, 37), UNIFORM(4, 37));
    matmul_case("vm", UNIFORM(5, 37), UNIFORM(6, 37, 13));
    matmul_case("mm", UNIFORM(7, 5, 100), UNIFORM(8, 100, 10));
    matmul_case("mm_t", UNIFORM(9, 5, 100), transposed(UNIFORM(10, 10, 100)));
    matmul_case("t_mm", transposed(UNIFORM(11, 100, 5)), UNIFORM(12, 100, 10));
    matmul_case("batched", UNIFORM(13, 2, 1, 5, 7), UNIFORM(14, 3, 7, 4));
    nnf_tensor *wide = UNIFORM(15, 6, 40), *sliced = NULL;
    NNF_ASSERT_OK(nnf_slice(&sliced, wide, 1, 0, 40, 2));   /* copied before sgemm */
    nnf_tensor_free(wide);
    matmul_case("sliced", sliced, UNIFORM(16, 20, 9));

    static const float ba[][2] = {{1.0f, 1.0f}, {0.0f, 1.0f}, {0.5f, -2.0f}};
    for (int v = 0; v < 3; v++)
        for (int t = 0; t < 4; t++) {
            case_begin("addmm.%c%c.%d", "NT"[t >> 1], "NT"[t & 1], v);
            nnf_tensor *c = UNIFORM(20, 5, 10);
            if (ba[v][0] == 0.0f)
                NNF_ASSERT_OK(nnf_fill(c, NAN));
            nnf_tensor *a = t >> 1 ? transposed(UNIFORM(21, 100, 5))
                                   : UNIFORM(21, 5, 100);
            nnf_tensor *b = t & 1 ? transposed(UNIFORM(22, 10, 100))
                                  : UNIFORM(22, 100, 10);
            NNF_ASSERT_OK(nnf_gemm(c, a, b, ba[v][1], ba[v][0]));
            hash_tensor(c);
            nnf_tensor_free(a);
            nnf_tensor_free(b);
            nnf_tensor_free(c);
        }

    einsum_case("ij->ji", 1, UNIFORM(30, 4, 5), NULL);
    einsum_case("ik,kj->ij", 2, UNIFORM(31, 6, 33), UNIFORM(32, 33, 7));
    einsum_case("ij,kj->ik", 2, UNIFORM(33, 6, 33), UNIFORM(34, 7, 33));
    einsum_case("bik,bkj->bij", 2, UNIFORM(35, 3, 4, 9), UNIFORM(36, 3, 9, 5));
    einsum_case("ii->", 1, UNIFORM(37, 33, 33), NULL);
    einsum_case("ii->i", 1, UNIFORM(38, 9, 9), NULL);
    einsum_case("i,j->ij", 2, UNIFORM(39, 7), UNIFORM(40, 5));
    einsum_case("ij->i", 1, UNIFORM(41, 6, 4100), NULL);
    einsum_case("bij->b", 1, UNIFORM(42, 3, 20, 30), NULL);
}

/* ---- nn: training steps and a convolution ---- */

static void hash_params(const nnf_model *m)
{
    for (int p = 0; p < nnf_model_num_parameters(m); p++)
        hash_tensor(nnf_model_parameters(m)[p]);
}

/* n_in -> hidden -> ReLU -> n_out, `steps` SGD steps on one batch, parameters hashed
 * after each step. */
static void train_case(const char *name, nnf_tensor *x, nnf_tensor *y, int ce, int64_t hidden,
                       int64_t n_out, float lr, float momentum, float wd)
{
    case_begin("train.%s", name);
    nnf_rng rng;
    nnf_rng_seed(&rng, 42);
    nnf_loss *loss = NULL;
    NNF_ASSERT_OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    nnf_model *m = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(nnf_layer_linear(&l1, &rng, nnf_tensor_size(x, 1), hidden, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &rng, hidden, n_out, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    hash_params(m);
    nnf_sgd *opt = NULL;
    NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), lr,
                              momentum, wd));
    for (int s = 0; s < 4; s++) {
        float l;
        NNF_ASSERT_OK(nnf_model_call(m, &l, x, y));
        hash_floats(&l, 1);
        nnf_sgd_zero_grad(opt);
        NNF_ASSERT_OK(nnf_model_backward(m));
        NNF_ASSERT_OK(nnf_sgd_step(opt));
        hash_params(m);
    }
    nnf_sgd_free(opt);
    nnf_model_free(m);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
}

static void conv_case(int stride, int padding)
{
    case_begin("conv2d.s%d.p%d", stride, padding);
    nnf_tensor *x = UNIFORM(70, 2, 3, 9, 9), *w = UNIFORM(71, 4, 3, 3, 3);
    nnf_tensor *b = UNIFORM(72, 4), *out = NULL;
    NNF_ASSERT_OK(nnf_conv2d_nchw(&out, x, w, b, stride, padding));
    hash_tensor(out);
    nnf_tensor *dout = NULL;
    NNF_ASSERT_OK(nnf_tensor_grad_get(out, &dout));
    nnf_test_fill_uniform(nnf_tensor_data(dout), (size_t)nnf_tensor_numel(dout), 73, -1, 1);
    NNF_ASSERT_OK(nnf_conv2d_nchw_backward(x, out, w, b, stride, padding, 1));
    hash_tensor(nnf_tensor_grad(x));
    hash_tensor(nnf_tensor_grad(w));
    hash_tensor(nnf_tensor_grad(b));
    NNF_TEST_FREE(x, w, b, out);
}

static void nn_group(void)
{
    /* the chapter's model: 200 x 100 -> 50 -> 1, MSE, plain SGD */
    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    nnf_tensor *x = NULL, *y = NULL;
    NNF_ASSERT_OK(nnf_randn(&x, &rng, NNF_SHAPE(200, 100)));
    NNF_ASSERT_OK(nnf_randn(&y, &rng, NNF_SHAPE(200)));
    train_case("chapter_mse", x, y, 0, 50, 1, 0.01f, 0.0f, 0.0f);
    train_case("mlp_ce_momentum_wd", UNIFORM(80, 64, 20), nn_labels(64, 5, 81), 1, 32, 5,
               0.05f, 0.9f, 0.01f);
    conv_case(1, 1);
    conv_case(2, 0);
}

/* ---- Sizes that take several threads ---- */

/* Elementwise ops, reductions and a packed sgemm past their thread thresholds (2^17
 * elements; parallel sgemm forced), on 1, 2 and 3 threads: three cases that must hash
 * alike, as a thread count never changes a bit. */
static void parallel_group(void)
{
    int threads0 = nnf_get_num_threads();
    uint64_t first = 0;
    nnf__sgemm_set_parallel_min_flops(0);
    for (int threads = 1; threads <= 3; threads++) {
        nnf_test_threads(threads);
        case_begin("parallel.t%d", threads);
        nnf_tensor *a = NULL, *b = NULL, *col = NULL;
        NNF_ASSERT_OK(nnf_empty(&a, NNF_SHAPE(613, 431)));
        NNF_ASSERT_OK(nnf_empty(&b, NNF_SHAPE(613, 431)));
        fill_values(nnf_tensor_data(a), 613 * 431, 90, 97);
        fill_spread(nnf_tensor_data(b), 613 * 431, 91);
        col = UNIFORM(92, 613, 1);
        nnf_tensor *r[10] = {NULL};
        NNF_ASSERT_OK(nnf_add(&r[0], a, b));
        NNF_ASSERT_OK(nnf_mul(&r[1], b, col));
        NNF_ASSERT_OK(nnf_exp(&r[2], a));
        NNF_ASSERT_OK(nnf_sum(&r[3], b, NNF_ALL_DIMS, 0));
        NNF_ASSERT_OK(nnf_var(&r[4], b, NNF_DIMS(0), 1, 0));
        NNF_ASSERT_OK(nnf_mean(&r[5], b, NNF_DIMS(1), 0));
        NNF_ASSERT_OK(nnf_max(&r[6], a, NNF_DIMS(1), 0));
        NNF_ASSERT_OK(nnf_argmax(&r[7], a, 0, 0));
        NNF_ASSERT_OK(nnf_matmul(&r[8], a, r[4]));   /* NaNs and infinities in a */
        for (int i = 0; i < 10 && r[i] != NULL; i++) {
            hash_tensor(r[i]);
            nnf_tensor_free(r[i]);
        }
        nnf__sgemm_force_path(NNF__SGEMM_PATH_PACKED);
        sgemm_one(NNF_TRANS, NNF_NO_TRANS, 67, 130, 800, 1.0f, 0.5f, 1, 93, 0);
        nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
        if (threads == 1)
            first = cur_hash;
        else if (cur_hash != first)
            fail_msg("%s on %s: hash %016" PRIx64 " differs from one thread's %016" PRIx64,
                     cur_name, nnf_isa_name(cur_isa), cur_hash, first);
        nnf_tensor_free(a);
        nnf_tensor_free(b);
        nnf_tensor_free(col);
    }
    nnf__sgemm_set_parallel_min_flops(-1);
    nnf_test_threads(threads0);
}

/* ---- The tests ---- */

typedef struct group {
    void (*run)(void);
} group;
static group groups[] = {{eltwise_group}, {reduce_group}, {sgemm_group},
                         {linalg_group},  {nn_group},     {parallel_group}};
#define NGROUPS (int)(sizeof groups / sizeof groups[0])

static void test_group(void **state)
{
    const group *g = *state;
    run_group(g->run);
}

/* Check mode: no case of the file went unchecked. Write mode: write the file once every
 * group has passed on every ISA. */
static void test_golden_file(void **state)
{
    (void)state;
    load_golden();
    if (write_path == NULL) {
        int stale = 0;
        for (int i = 0; i < ngolden; i++)
            if (!golden[i].seen && (ran_inexact || strstr(golden[i].name, NOFMA) == NULL)) {
                print_error("case %s of %s was not run\n", golden[i].name, NNF_FROZEN_GOLDEN);
                stale++;
            }
        if (stale != 0)
            fail_msg("%d case(s) of the golden file were not run", stale);
        return;
    }
    if (groups_passed != NGROUPS)
        fail_msg("not writing %s: a group failed", write_path);
    FILE *f = fopen(write_path, "w");
    if (f == NULL)
        fail_msg("cannot write %s", write_path);
    fprintf(f, "# Hashes of nnf's outputs, checked by tests/test_frozen_outputs.c on every ISA.\n"
               "# Regenerate only for a change meant to change bits (see that file's top).\n");
    for (int i = 0; i < ngolden; i++)
        fprintf(f, "%s %016" PRIx64 "\n", golden[i].name, golden[i].hash);
    assert_int_equal(fclose(f), 0);
    printf("wrote %d hashes to %s\n", ngolden, write_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"eltwise", test_group, NULL, NULL, &groups[0]},
        {"reduce", test_group, NULL, NULL, &groups[1]},
        {"sgemm", test_group, NULL, NULL, &groups[2]},
        {"linalg", test_group, NULL, NULL, &groups[3]},
        {"nn", test_group, NULL, NULL, &groups[4]},
        {"parallel", test_group, NULL, NULL, &groups[5]},
        {"golden_file", test_golden_file, NULL, NULL, NULL},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
