/* Reductions give the same bits on every ISA and for 1 and 2 threads, follow the
 * documented canonical order (re-implemented here from its description), and are at
 * least as accurate as PyTorch 1.13 on 1e7 uniform floats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"

/* Bits of test_canonical_order's channel sums and variances, printed on x86-64 (where
 * they also equal this file's re-implementation of the order): aarch64 must agree. */
#define GOLDEN_SUM 0x453b140e, 0x453a4432, 0x453a9a6c
#define GOLDEN_VAR 0x3da942b1, 0x3da813b9, 0x3dae35f8

/* ---- bitwise reproducibility ---- */

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[4];
    int perm[4];       /* the input is a permuted view of contiguous data of `shape` */
    int ndims;
    int dims[4];
} config;

/* All large enough (> NNF__RED_PARALLEL_MIN = 128K elements) to take the parallel path,
 * several blocks each. */
static const config configs[] = {
    {"flat", 1, {200003}, {0}, 0, {0}},
    {"rows, odd run", 2, {3, 70001}, {0, 1}, 1, {1}},
    {"columns", 2, {70001, 3}, {0, 1}, 1, {0}},
    {"chapter (0,2,3)", 4, {8, 3, 64, 96}, {0, 1, 2, 3}, 3, {0, 2, 3}},
    {"transposed, strided runs", 2, {400, 400}, {1, 0}, 1, {1}},
    {"transposed, columns", 2, {400, 400}, {1, 0}, 1, {0}},
    {"mixed", 3, {50, 50, 60}, {2, 0, 1}, 2, {0, 2}},
};

enum {
    OP_SUM, OP_MEAN, OP_VAR, OP_STD, OP_STD_MEAN, OP_MAX, OP_MIN, OP_ARGMAX, OP_ALL, OP_ANY,
    NOPS
};

/* Runs op and returns its result(s) as raw bytes (malloc'd), *nbytes set. */
static void *run_op(int op, const nnf_tensor *a, const config *c, size_t *nbytes)
{
    nnf_tensor *r = NULL, *r2 = NULL;
    int nd = c->ndims;
    const int *dims = nd ? c->dims : NULL;
    switch (op) {
    case OP_SUM: NNF_ASSERT_OK(nnf_sum(&r, a, nd, dims, 0)); break;
    case OP_MEAN: NNF_ASSERT_OK(nnf_mean(&r, a, nd, dims, 1)); break;
    case OP_VAR: NNF_ASSERT_OK(nnf_var(&r, a, nd, dims, 1, 0)); break;
    case OP_STD: NNF_ASSERT_OK(nnf_std(&r, a, nd, dims, 0, 0)); break;
    case OP_STD_MEAN: NNF_ASSERT_OK(nnf_std_mean(&r, &r2, a, nd, dims, 1, 0)); break;
    case OP_MAX: NNF_ASSERT_OK(nnf_max(&r, a, nd, dims, 0)); break;
    case OP_MIN: NNF_ASSERT_OK(nnf_min(&r, a, nd, dims, 0)); break;
    case OP_ARGMAX: NNF_ASSERT_OK(nnf_argmax(&r, a, nd ? c->dims[0] : 0, 0)); break;
    case OP_ALL: NNF_ASSERT_OK(nnf_all(&r, a, nd, dims, 0)); break;
    case OP_ANY: NNF_ASSERT_OK(nnf_any(&r, a, nd, dims, 0)); break;
    }
    size_t esize = nnf_tensor_dtype(r) == NNF_F32 ? 4 : nnf_tensor_dtype(r) == NNF_I64 ? 8 : 1;
    size_t n1 = (size_t)nnf_tensor_numel(r) * esize, n2 = r2 ? n1 : 0;
    char *out = malloc(n1 + n2 + 1);
    memcpy(out, nnf_tensor_raw(r), n1);
    if (r2)
        memcpy(out + n1, nnf_tensor_raw(r2), n2);
    *nbytes = n1 + n2;
    nnf_tensor_free(r);
    nnf_tensor_free(r2);
    return out;
}

static nnf_tensor *make_input(const config *c, float **data)
{
    int64_t n = 1;
    for (int d = 0; d < c->ndim; d++)
        n *= c->shape[d];
    *data = malloc(sizeof(float) * (size_t)n);
    nnf_test_fill_uniform(*data, (size_t)n, 77, -1.0f, 3.0f);
    /* A few values all/any and max/min must notice. */
    (*data)[n / 3] = 0.0f;
    (*data)[n / 2] = 9.5f;
    nnf_tensor *t = NULL, *p = NULL;
    NNF_ASSERT_OK(nnf_wrap(&t, *data, c->ndim, c->shape, NULL));
    NNF_ASSERT_OK(nnf_permute(&p, t, c->perm));
    nnf_tensor_free(t);
    return p;
}

static void test_bits_across_isas_and_threads(void **state)
{
    (void)state;
    for (size_t ci = 0; ci < sizeof configs / sizeof configs[0]; ci++) {
        const config *c = &configs[ci];
        float *data;
        nnf_tensor *a = make_input(c, &data);
        for (int op = 0; op < NOPS; op++) {
            if (op == OP_ARGMAX && c->ndims != 1)
                continue;
            assert_true(nnf_test_use_isa(NNF_ISA_SCALAR));
            nnf_test_threads(1);
            size_t nref, n;
            char *want = run_op(op, a, c, &nref);
            NNF_FOR_EACH_ISA(isa) {
                for (int threads = 1; threads <= 2; threads++) {
                    nnf_test_threads(threads);
                    char *got = run_op(op, a, c, &n);
                    assert_int_equal(n, nref);
                    if (memcmp(got, want, n) != 0) {
                        size_t i = 0;
                        while (got[i] == want[i])
                            i++;
                        fail_msg("%s, op %d: %s with %d threads differs from scalar at byte %zu",
                                 c->name, op, nnf_isa_name(isa), threads, i);
                    }
                    free(got);
                }
            }
            free(want);
        }
        nnf_tensor_free(a);
        free(data);
    }
    nnf_test_threads(1);
    nnf_test_restore_isa();
}

/* ---- the canonical order, written out from its description in src/ops/reduce.c ---- */

static float lanes_block(const float *v, int64_t n)
{
    float lane[32] = {0};
    for (int64_t i = 0; i < n; i++)
        lane[i % 32] += v[i];
    for (int h = 16; h > 0; h /= 2)
        for (int j = 0; j < h; j++)
            lane[j] += lane[j + h];
    return lane[0];
}

static double block_tree(const double *b, int64_t n)
{
    if (n == 1)
        return b[0];
    int64_t h = 1;
    while (h * 2 < n)
        h *= 2;
    return block_tree(b, h) + block_tree(b + h, n - h);
}

/* In double: the sum rounds it to float, the mean divides it by R first. */
static double canonical_sum(const float *v, int64_t R)
{
    int64_t nb = (R + 4095) / 4096;
    double *b = malloc(sizeof(double) * (size_t)nb);
    for (int64_t i = 0; i < nb; i++)
        b[i] = lanes_block(v + i * 4096, R - i * 4096 < 4096 ? R - i * 4096 : 4096);
    double s = block_tree(b, nb);
    free(b);
    return s;
}

/* var with correction 1: block (count, sum, M2 about the block's float mean), merged
 * by Chan's formula in the same tree. */
typedef struct {
    double n, sum, m2;
} stats;

static stats stats_tree(const stats *b, int64_t n)
{
    if (n == 1)
        return b[0];
    int64_t h = 1;
    while (h * 2 < n)
        h *= 2;
    stats l = stats_tree(b, h), r = stats_tree(b + h, n - h), m;
    double delta = r.sum / r.n - l.sum / l.n;
    m.n = l.n + r.n;
    m.sum = l.sum + r.sum;
    m.m2 = l.m2 + r.m2 + delta * delta * (l.n * r.n / m.n);
    return m;
}

static float canonical_var(const float *v, int64_t R)
{
    int64_t nb = (R + 4095) / 4096;
    stats *b = malloc(sizeof(stats) * (size_t)nb);
    for (int64_t i = 0; i < nb; i++) {
        const float *x = v + i * 4096;
        int64_t n = R - i * 4096 < 4096 ? R - i * 4096 : 4096;
        float s = lanes_block(x, n), mean = s / (float)n, lane[32] = {0};
        for (int64_t k = 0; k < n; k++) {
            float d = x[k] - mean;
            lane[k % 32] += d * d;
        }
        for (int h = 16; h > 0; h /= 2)
            for (int j = 0; j < h; j++)
                lane[j] += lane[j + h];
        b[i] = (stats){(double)n, s, lane[0]};
    }
    stats t = stats_tree(b, nb);
    free(b);
    return (float)(t.m2 / (double)(R - 1));
}

static void test_canonical_order(void **state)
{
    (void)state;
    /* [N, C, H, W] mean over (0, 2, 3): channel c's values in (n, h, w) order. */
    const int64_t N = 3, C = 3, HW = 40 * 50;
    int64_t n = N * C * HW, R = N * HW;
    float *x = malloc(sizeof(float) * (size_t)n), *v = malloc(sizeof(float) * (size_t)R);
    nnf_test_fill_uniform(x, (size_t)n, 9, 0.0f, 1.0f);
    double want[3];
    float want_sum[3], want_var[3];
    for (int64_t c = 0; c < C; c++) {
        for (int64_t i = 0; i < N; i++)
            memcpy(v + i * HW, x + (i * C + c) * HW, sizeof(float) * (size_t)HW);
        want[c] = canonical_sum(v, R);
        want_sum[c] = (float)want[c];
        want_var[c] = canonical_var(v, R);
    }
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_wrap(&t, x, 4, (const int64_t[]){N, C, 40, 50}, NULL));
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *s = NULL, *m = NULL, *va = NULL;
        NNF_ASSERT_OK(nnf_sum(&s, t, NNF_DIMS(0, 2, 3), 0));
        NNF_ASSERT_OK(nnf_mean(&m, t, NNF_DIMS(0, 2, 3), 0));
        NNF_ASSERT_OK(nnf_var(&va, t, NNF_DIMS(0, 2, 3), 1, 0));
        nnf_test_assert_bits_equal(nnf_tensor_data(s), want_sum, 3);
        nnf_test_assert_bits_equal(nnf_tensor_data(va), want_var, 3);
        /* The same bits on every platform. */
        static const uint32_t golden_sum[3] = {GOLDEN_SUM}, golden_var[3] = {GOLDEN_VAR};
        for (int c = 0; c < 3; c++) {
            uint32_t bs, bv;
            memcpy(&bs, &nnf_tensor_data(s)[c], 4);
            memcpy(&bv, &nnf_tensor_data(va)[c], 4);
            if (bs != golden_sum[c] || bv != golden_var[c])
                fail_msg("channel %d: sum 0x%08x var 0x%08x, golden 0x%08x 0x%08x", c, bs, bv,
                         golden_sum[c], golden_var[c]);
        }
        nnf_tensor_free(va);
        for (int c = 0; c < 3; c++) {
            float mean = (float)(want[c] / (double)R);
            nnf_test_assert_bits_equal(&nnf_tensor_data(m)[c], &mean, 1);
        }
        nnf_tensor_free(s);
        nnf_tensor_free(m);
    }
    nnf_tensor_free(t);
    free(x);
    free(v);
    nnf_test_restore_isa();
}

/* The order is defined on the logical values, so the layout cannot change a bit: a
 * reduction over dim 0 of X [R, C] (read as columns) equals the one over dim 1 of a
 * contiguous copy of X^T (read as runs: short, gathered, in place, several blocks). */
static void test_layout_independence(void **state)
{
    (void)state;
    static const int64_t lengths[] = {1, 2, 7, 31, 32, 33, 40, 64, 100, 4096 + 33, 9000};
    const int64_t C = 5;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            int64_t R = lengths[li];
            float *x = malloc(sizeof(float) * (size_t)(R * C));
            float *y = malloc(sizeof(float) * (size_t)(R * C));
            nnf_test_fill_uniform(x, (size_t)(R * C), 3 + li, -1.0f, 2.0f);
            for (int64_t r = 0; r < R; r++)
                for (int64_t c = 0; c < C; c++)
                    y[c * R + r] = x[r * C + c];
            nnf_tensor *tx = NULL, *ty = NULL;
            NNF_ASSERT_OK(nnf_wrap(&tx, x, 2, (const int64_t[]){R, C}, NULL));
            NNF_ASSERT_OK(nnf_wrap(&ty, y, 2, (const int64_t[]){C, R}, NULL));
            for (int op = OP_SUM; op <= OP_MIN; op++) {
                config cx = {"X dim 0", 2, {R, C}, {0, 1}, 1, {0}};
                config cy = {"X^T dim 1", 2, {C, R}, {0, 1}, 1, {1}};
                size_t nx, ny;
                char *bx = run_op(op, tx, &cx, &nx), *by = run_op(op, ty, &cy, &ny);
                assert_int_equal(nx, ny);
                if (memcmp(bx, by, nx) != 0)
                    fail_msg("R = %lld, op %d: columns and runs differ on %s", (long long)R,
                             op, nnf_isa_name(isa));
                free(bx);
                free(by);
            }
            nnf_tensor_free(tx);
            nnf_tensor_free(ty);
            free(x);
            free(y);
        }
    }
    nnf_test_restore_isa();
}

/* ---- accuracy against PyTorch ---- */

/* PyTorch 1.13's float32 results on the same 1e7 values (nnf_test_fill_uniform, seed
 * 2024, [0, 1)), 1 thread, measured with
 *   /usr/bin/python3 scripts/peers_reduce.py --accuracy
 * torch.sum, torch.mean, torch.var, torch.std: */
static const double torch_results[4] = {4999236.0, 0.49992358684539795, 0.08335228264331818,
                                        0.2887079417705536};

static void test_accuracy_vs_pytorch(void **state)
{
    (void)state;
    const size_t n = 10000000;
    float *x = malloc(sizeof(float) * n);
    nnf_test_fill_uniform(x, n, 2024, 0.0f, 1.0f);
    /* Reference: Kahan-compensated double sums. */
    double s = 0, comp = 0;
    for (size_t i = 0; i < n; i++) {
        double y = x[i] - comp, t = s + y;
        comp = (t - s) - y;
        s = t;
    }
    double mean = s / (double)n, m2 = 0;
    comp = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean, y = d * d - comp, t = m2 + y;
        comp = (t - m2) - y;
        m2 = t;
    }
    double ref[4] = {s, mean, m2 / (double)(n - 1), sqrt(m2 / (double)(n - 1))};
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_wrap(&t, x, 1, (const int64_t[]){(int64_t)n}, NULL));
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *r[4] = {NULL, NULL, NULL, NULL};
        NNF_ASSERT_OK(nnf_sum(&r[0], t, NNF_ALL_DIMS, 0));
        NNF_ASSERT_OK(nnf_mean(&r[1], t, NNF_ALL_DIMS, 0));
        NNF_ASSERT_OK(nnf_var(&r[2], t, NNF_ALL_DIMS, 1, 0));
        NNF_ASSERT_OK(nnf_std(&r[3], t, NNF_ALL_DIMS, 1, 0));
        static const char *names[4] = {"sum", "mean", "var", "std"};
        for (int i = 0; i < 4; i++) {
            double ours = fabs((double)nnf_tensor_data(r[i])[0] - ref[i]);
            double torch = fabs(torch_results[i] - ref[i]);
            print_message("%s %s: error %.3g (PyTorch %.3g)\n", nnf_isa_name(isa), names[i],
                          ours, torch);
            if (ours > torch)
                fail_msg("%s: error %.3g is worse than PyTorch's %.3g", names[i], ours, torch);
            nnf_tensor_free(r[i]);
        }
    }
    nnf_tensor_free(t);
    free(x);
    nnf_test_restore_isa();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bits_across_isas_and_threads),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_layout_independence),
        cmocka_unit_test(test_accuracy_vs_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
