/* Fuzz target: nnf_sgemm's arguments, every one of them, hostile ones included (the
 * checks in src/linalg/sgemm.c, then the path choice, packing, micro-kernels and edge
 * tiles of each ISA).
 *
 * Input: an ISA and a thread count, ta and tb (mostly valid), m, n, k (mostly 0-80,
 * sometimes at the edges of size_t), each ld as the least valid value plus -1..3 (sometimes
 * 0 or huge), which pointers are NULL, alpha and beta among 0, +-1, 2, +-0.5, then values.
 *
 * Properties:
 * - the call fails exactly when BLAS's rules (computed here) make it invalid: ta or tb
 *   not a nnf_trans, an ld below max(1, the row length as stored), NULL for an operand
 *   with elements, an operand spanning more than PTRDIFF_MAX bytes;
 * - a failed call leaves C untouched (and, ASan sees, reads nothing beyond what it was
 *   given: every buffer is allocated to exactly the size its arguments describe);
 * - a valid call writes C[i*ldc + j] for i < m, j < n only (the gaps between rows keep
 *   their values) and each equals alpha * sum(A B) + beta * C computed in double, within
 *   float's error bound for a sum of k terms (the values make it exact in practice);
 *   beta == 0 ignores the NaN that C holds then;
 * - nothing leaks.
 */
#include <math.h>

#include "fuzz/fuzz.h"

#define BUDGET 65536   /* floats per valid call, over A, B and C */

static size_t take_dim_size(fuzz_in *in)
{
    static const size_t edges[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)PTRDIFF_MAX / 4,
                                   (size_t)PTRDIFF_MAX / 4 + 1, (size_t)1 << 32, (size_t)1 << 62};
    uint8_t b = take8(in);
    if (b < 250)
        return b % 3 == 0 ? (size_t)take_range(in, 0, 80) : (size_t)(b % 21);
    return edges[b - 250];
}

static float take_scale(fuzz_in *in)
{
    static const float s[] = {1, 0, -1, 2, 0.5f, -0.5f, 1, 1};
    return s[take8(in) % 8];
}

typedef struct {
    size_t rows, cols, ld;   /* as stored */
    int null;
    int valid;
    size_t span;             /* floats from the first element to the last, + 1 */
} operand;

static operand describe(fuzz_in *in, size_t rows, size_t cols)
{
    operand o = {rows, cols, 0, 0, 1, 0};
    size_t need = cols > 1 ? cols : 1;
    uint8_t how = take8(in);
    o.ld = how < 240 ? need + (size_t)(how % 5) - 1 : how < 248 ? 0 : take_dim_size(in);
    if (o.ld < need && how < 240 && need == 1)
        o.ld = 1 + (how & 1);   /* need - 1 would be 0: keep most layouts valid */
    o.null = take8(in) % 16 == 0;
    int empty = rows == 0 || cols == 0;
    const size_t max = (size_t)PTRDIFF_MAX / sizeof(float);
    o.valid = o.ld >= need && !(o.null && !empty) &&
              (empty || (cols <= max && rows - 1 <= (max - cols) / o.ld));
    o.span = empty || !o.valid ? 0 : (rows - 1) * o.ld + cols;
    return o;
}

/* A buffer of exactly n floats (ASan sees the first one beyond), or NULL. */
static float *buffer(const operand *o, fuzz_in *in, size_t n)
{
    if (o->null)
        return NULL;
    float *p = malloc(n ? n * sizeof(float) : 1);
    CHECK(p != NULL, "malloc");
    for (size_t i = 0; i < n; i++)
        p[i] = take_value(in);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    take_isa(&in);
    CHECK(nnf_set_num_threads(1 + take8(&in) % 2) == NNF_OK, "threads");
    uint8_t t = take8(&in);
    int ta = t % 16 == 15 ? (int)take_hostile(&in) : t & 1;
    int tb = t % 16 == 14 ? (int)take_hostile(&in) : t >> 1 & 1;
    size_t m = take_dim_size(&in), n = take_dim_size(&in), k = take_dim_size(&in);
    float alpha = take_scale(&in), beta = take_scale(&in);
    int tra = ta == NNF_TRANS, trb = tb == NNF_TRANS;
    operand A = describe(&in, tra ? k : m, tra ? m : k);
    operand B = describe(&in, trb ? n : k, trb ? k : n);
    operand C = describe(&in, m, n);
    int valid = (ta == NNF_NO_TRANS || ta == NNF_TRANS) && (tb == NNF_NO_TRANS || tb == NNF_TRANS) &&
                A.valid && B.valid && C.valid;
    /* An invalid call gets small buffers: it must touch none of them. */
    size_t na = valid ? A.span : 16, nb = valid ? B.span : 16, nc = valid ? C.span : 16;
    if (na + nb + nc > BUDGET)
        return 0;

    LEAK_CHECK_BEGIN;
    float *a = buffer(&A, &in, na), *b = buffer(&B, &in, nb), *c = buffer(&C, &in, nc);
    /* C.span > 0: an empty C (say 2^62 x 0) has no element to mark, and the rows alone
     * would take forever to walk. */
    if (c != NULL && beta == 0.0f && valid && C.span > 0)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                c[i * C.ld + j] = NAN;
    float *before = malloc(nc * sizeof(float) + 1);
    CHECK(before != NULL, "malloc");
    if (c != NULL)
        memcpy(before, c, nc * sizeof(float));

    nnf_status st = nnf_sgemm((nnf_trans)ta, (nnf_trans)tb, m, n, k, alpha, a, A.ld, b, B.ld,
                              beta, c, C.ld);
    CHECK((st == NNF_OK) == valid,
          "ta %d tb %d m %zu n %zu k %zu lda %zu ldb %zu ldc %zu (NULL: %d%d%d): %s, expected %s",
          ta, tb, m, n, k, A.ld, B.ld, C.ld, A.null, B.null, C.null, nnf_status_str(st),
          valid ? "success" : "an error");
    CHECK(st == NNF_OK || strncmp(nnf_last_error(), "nnf_sgemm: ", 11) == 0,
          "the message does not name nnf_sgemm");
    for (size_t p = 0; c != NULL && p < nc; p++) {
        size_t i = C.ld ? p / C.ld : 0, j = C.ld ? p % C.ld : p;
        if (st != NNF_OK || j >= n || i >= m) {
            CHECK(memcmp(&c[p], &before[p], sizeof(float)) == 0,
                  "C[%zu] (row %zu, column %zu) changed", p, i, j);
            continue;
        }
        double sum = 0, mag = 0;
        for (size_t q = 0; q < k && alpha != 0.0f; q++) {
            double x = a[tra ? q * A.ld + i : i * A.ld + q];
            double y = b[trb ? j * B.ld + q : q * B.ld + j];
            sum += x * y;
            mag += fabs(x * y);
        }
        double want = alpha * sum + (beta == 0.0f ? 0.0 : beta * (double)before[p]);
        double bound = (double)(k + 2) * 0x1p-23 *
                       (fabs(alpha) * mag + (beta == 0.0f ? 0.0 : fabs(beta * before[p])));
        CHECK(fabs(c[p] - want) <= bound,
              "C[%zu][%zu] = %.9g, the double reference %.9g (m %zu n %zu k %zu, ta %d tb %d)",
              i, j, (double)c[p], want, m, n, k, ta, tb);
    }
    free(a);
    free(b);
    free(c);
    free(before);
    LEAK_CHECK_END;
    return 0;
}
