/* Elementwise ops against double-precision references on every ISA, every tail length
 * and misaligned starts; NaN/Inf behaviour; bitwise agreement across ISAs and 1 vs 2
 * threads. Arithmetic must equal the correctly rounded double result exactly (double
 * holds a float +-*\/ or sqrt exactly enough that rounding it once more is innocuous);
 * SLEEF's functions must be within their documented 1 ulp. */
#include "nnf_test.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/kernel_table.h"

#define MAXN (3 * 16 + 1)   /* every tail of every vector width (4, 8, 16 lanes) */
#define MAXOFF 3            /* starts 0..3 floats past a 64-byte boundary */
/* One float ulp relative to the value is at most 2^-23. */
#define ULP1 1.2e-7

typedef nnf_status (*binary_fn)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *);
typedef nnf_status (*unary_fn)(nnf_tensor **, const nnf_tensor *);

/* Equal bits, or both NaN: NaN payloads are not part of nnf's promise. */
static void assert_same(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i]) && isnan(want[i]))
            continue;
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s: element %zu: got %.9g, want %.9g", what, i, got[i], want[i]);
    }
}

static double r_add(double a, double b) { return a + b; }
static double r_sub(double a, double b) { return a - b; }
static double r_mul(double a, double b) { return a * b; }
static double r_div(double a, double b) { return a / b; }
static double r_max(double a, double b) { return a > b ? a : b; }
static double r_min(double a, double b) { return a < b ? a : b; }

typedef struct binary_case {
    const char *name;
    binary_fn fn;
    double (*ref)(double, double);
    float alo, ahi, blo, bhi;
    double rtol;   /* 0: exactly the rounded reference */
} binary_case;

static const binary_case binary_cases[] = {
    {"add", nnf_add, r_add, -10, 10, -10, 10, 0},
    {"sub", nnf_sub, r_sub, -10, 10, -10, 10, 0},
    {"mul", nnf_mul, r_mul, -10, 10, -10, 10, 0},
    {"div", nnf_div, r_div, -10, 10, -10, 10, 0},
    {"maximum", nnf_maximum, r_max, -10, 10, -10, 10, 0},
    {"minimum", nnf_minimum, r_min, -10, 10, -10, 10, 0},
    {"pow", nnf_pow, pow, 0.01f, 4, -6, 6, ULP1},
};

static nnf_status add_s(nnf_tensor **o, const nnf_tensor *a) { return nnf_add_scalar(o, a, 0.75f); }
static nnf_status sub_s(nnf_tensor **o, const nnf_tensor *a) { return nnf_sub_scalar(o, a, 0.75f); }
static nnf_status mul_s(nnf_tensor **o, const nnf_tensor *a) { return nnf_mul_scalar(o, a, -3.5f); }
static nnf_status div_s(nnf_tensor **o, const nnf_tensor *a) { return nnf_div_scalar(o, a, 3.0f); }
static nnf_status rsub_s(nnf_tensor **o, const nnf_tensor *a)
{
    return nnf_rsub(o, a, 2.0f);
}
static nnf_status rdiv_s(nnf_tensor **o, const nnf_tensor *a)
{
    return nnf_rdiv(o, a, 2.0f);
}
static nnf_status pow2(nnf_tensor **o, const nnf_tensor *a) { return nnf_pow_scalar(o, a, 2.0f); }
static nnf_status pow3(nnf_tensor **o, const nnf_tensor *a) { return nnf_pow_scalar(o, a, 3.0f); }
static nnf_status powh(nnf_tensor **o, const nnf_tensor *a) { return nnf_pow_scalar(o, a, 0.5f); }
static nnf_status powm1(nnf_tensor **o, const nnf_tensor *a) { return nnf_pow_scalar(o, a, -1.0f); }
static nnf_status clamp_w(nnf_tensor **o, const nnf_tensor *a)
{
    return nnf_clamp(o, a, -0.5f, 0.25f);
}

static double r_add_s(double x) { return x + 0.75; }
static double r_sub_s(double x) { return x - 0.75; }
static double r_mul_s(double x) { return x * -3.5; }
static double r_div_s(double x) { return x / 3.0; }
static double r_rsub_s(double x) { return 2.0 - x; }
static double r_rdiv_s(double x) { return 2.0 / x; }
static double r_pow2(double x) { return x * x; }
static double r_pow3(double x) { return x * x * x; }
static double r_pow_m1(double x) { return 1.0 / x; }
static double r_neg(double x) { return -x; }
static double r_relu(double x) { return x < 0 ? 0 : x; }
static double r_clamp(double x) { return x < -0.5 ? -0.5 : x > 0.25 ? 0.25 : x; }
static double r_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct unary_case {
    const char *name;
    unary_fn fn;
    double (*ref)(double);
    float lo, hi;
    double rtol;
} unary_case;

static const unary_case unary_cases[] = {
    {"neg", nnf_neg, r_neg, -10, 10, 0},
    {"abs", nnf_abs, fabs, -10, 10, 0},
    {"sqrt", nnf_sqrt, sqrt, 0, 100, 0},
    {"relu", nnf_relu, r_relu, -10, 10, 0},
    {"clamp", clamp_w, r_clamp, -1, 1, 0},
    {"exp", nnf_exp, exp, -87, 88, ULP1},
    {"log", nnf_log, log, 1e-30f, 1e30f, ULP1},
    {"log near 1", nnf_log, log, 0.5f, 2, ULP1},
    {"tanh", nnf_tanh, tanh, -9, 9, ULP1},
    /* exp's ulp, then an add and a divide that each round once more. */
    {"sigmoid", nnf_sigmoid, r_sigmoid, -30, 30, 3 * ULP1},
    {"add_scalar", add_s, r_add_s, -10, 10, 0},
    {"sub_scalar", sub_s, r_sub_s, -10, 10, 0},
    {"mul_scalar", mul_s, r_mul_s, -10, 10, 0},
    {"div_scalar", div_s, r_div_s, -10, 10, 0},
    {"rsub_scalar", rsub_s, r_rsub_s, -10, 10, 0},
    {"rdiv_scalar", rdiv_s, r_rdiv_s, -10, 10, 0},
    {"pow_scalar 2", pow2, r_pow2, -10, 10, 0},
    {"pow_scalar 0.5", powh, sqrt, 0, 10, 0},
    {"pow_scalar -1", powm1, r_pow_m1, -10, 10, 0},
    {"pow_scalar 3", pow3, r_pow3, -10, 10, ULP1},
};

static void check_result(const float *got, const double *want, size_t n, double rtol,
                         const char *what)
{
    if (rtol == 0) {
        float wantf[MAXN];
        for (size_t i = 0; i < n; i++)
            wantf[i] = (float)want[i];
        assert_same(got, wantf, n, what);
    } else {
        nnf_test_assert_close(got, want, n, rtol, 0);
    }
}

/* Every length 0..MAXN at every misaligned start, fresh and caller-given outputs. */
static void test_binary_lengths(void **state)
{
    (void)state;
    float _Alignas(64) a[MAXN + MAXOFF], b[MAXN + MAXOFF + 1], y[MAXN + MAXOFF];
    for (size_t c = 0; c < sizeof binary_cases / sizeof *binary_cases; c++) {
        const binary_case *bc = &binary_cases[c];
        for (int64_t n = 0; n <= MAXN; n++) {
            for (int off = 0; off <= MAXOFF; off++) {
                nnf_test_fill_uniform(a, MAXN + MAXOFF, (uint64_t)(n * 7 + off), bc->alo, bc->ahi);
                nnf_test_fill_uniform(b, MAXN + MAXOFF + 1, (uint64_t)(n * 11 + off + 1000),
                                      bc->blo, bc->bhi);
                double want[MAXN];
                for (int64_t i = 0; i < n; i++)
                    want[i] = bc->ref(a[off + i], b[off + 1 + i]);
                float first[MAXN];
                int have_first = 0;
                NNF_FOR_EACH_ISA(isa) {
                    nnf_tensor *ta, *tb, *ty = NULL;
                    NNF_ASSERT_OK(nnf_wrap(&ta, a + off, NNF_SHAPE(n), NULL));
                    NNF_ASSERT_OK(nnf_wrap(&tb, b + off + 1, NNF_SHAPE(n), NULL));
                    if (off % 2)   /* into the caller's (misaligned) tensor */
                        NNF_ASSERT_OK(nnf_wrap(&ty, y + (MAXOFF - off), NNF_SHAPE(n), NULL));
                    NNF_ASSERT_OK(bc->fn(&ty, ta, tb));
                    const float *got = nnf_tensor_data(ty);
                    check_result(got, want, (size_t)n, bc->rtol, bc->name);
                    /* Bit for bit across the ISAs that promise it (nnf_test_isa_exact). */
                    if (nnf_test_isa_exact()) {
                        if (have_first)
                            assert_same(got, first, (size_t)n, bc->name);
                        else
                            memcpy(first, got, (size_t)n * sizeof(float));
                        have_first = 1;
                    }
                    nnf_tensor_free(ta);
                    nnf_tensor_free(tb);
                    nnf_tensor_free(ty);
                }
            }
        }
    }
    nnf_test_restore_isa();
}

static void test_unary_lengths(void **state)
{
    (void)state;
    float _Alignas(64) x[MAXN + MAXOFF], y[MAXN + MAXOFF];
    for (size_t c = 0; c < sizeof unary_cases / sizeof *unary_cases; c++) {
        const unary_case *uc = &unary_cases[c];
        for (int64_t n = 0; n <= MAXN; n++) {
            for (int off = 0; off <= MAXOFF; off++) {
                nnf_test_fill_uniform(x, MAXN + MAXOFF, (uint64_t)(n * 13 + off), uc->lo, uc->hi);
                double want[MAXN];
                for (int64_t i = 0; i < n; i++)
                    want[i] = uc->ref(x[off + i]);
                float first[MAXN];
                int have_first = 0;
                NNF_FOR_EACH_ISA(isa) {
                    nnf_tensor *tx, *ty = NULL;
                    NNF_ASSERT_OK(nnf_wrap(&tx, x + off, NNF_SHAPE(n), NULL));
                    if (off % 2)
                        NNF_ASSERT_OK(nnf_wrap(&ty, y + (MAXOFF - off), NNF_SHAPE(n), NULL));
                    NNF_ASSERT_OK(uc->fn(&ty, tx));
                    const float *got = nnf_tensor_data(ty);
                    check_result(got, want, (size_t)n, uc->rtol, uc->name);
                    /* Bit for bit across the ISAs that promise it (nnf_test_isa_exact). */
                    if (nnf_test_isa_exact()) {
                        if (have_first)
                            assert_same(got, first, (size_t)n, uc->name);
                        else
                            memcpy(first, got, (size_t)n * sizeof(float));
                        have_first = 1;
                    }
                    nnf_tensor_free(tx);
                    nnf_tensor_free(ty);
                }
            }
        }
    }
    nnf_test_restore_isa();
}

/* Runs fn on the 1-d values x (and y when binary) under every ISA; checks want. */
static void check_specials(const char *what, binary_fn bfn, unary_fn ufn, const float *x,
                           const float *y, const float *want, int64_t n)
{
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *tx, *ty = NULL, *out = NULL;
        NNF_ASSERT_OK(nnf_from_data(&tx, x, NNF_SHAPE(n)));
        if (bfn != NULL) {
            NNF_ASSERT_OK(nnf_from_data(&ty, y, NNF_SHAPE(n)));
            NNF_ASSERT_OK(bfn(&out, tx, ty));
        } else {
            NNF_ASSERT_OK(ufn(&out, tx));
        }
        assert_same(nnf_tensor_data(out), want, (size_t)n, what);
        nnf_tensor_free(tx);
        nnf_tensor_free(ty);
        nnf_tensor_free(out);
    }
    nnf_test_restore_isa();
}

/* torch's answers for NaN, infinities and signed zeros. */
static void test_specials(void **state)
{
    (void)state;
    const float inf = INFINITY, nan = NAN;
    {   /* maximum/minimum propagate NaN from either side; -0 < +0 */
        const float a[] = {nan, 1, nan, 0.0f, -0.0f, -inf, 3, -0.0f};
        const float b[] = {1, nan, nan, -0.0f, 0.0f, inf, 3, -0.0f};
        const float mx[] = {nan, nan, nan, 0.0f, 0.0f, inf, 3, -0.0f};
        const float mn[] = {nan, nan, nan, -0.0f, -0.0f, -inf, 3, -0.0f};
        check_specials("maximum", nnf_maximum, NULL, a, b, mx, 8);
        check_specials("minimum", nnf_minimum, NULL, a, b, mn, 8);
    }
    {   /* relu: NaN stays NaN, -0 stays -0 (clamp_min(0) in torch) */
        const float x[] = {nan, -0.0f, 0.0f, -inf, inf, -1e-30f, 1e-30f, -5};
        const float want[] = {nan, -0.0f, 0.0f, 0.0f, inf, 0.0f, 1e-30f, 0.0f};
        check_specials("relu", NULL, nnf_relu, x, NULL, want, 8);
    }
    {
        /* Only results that are exact, so libm and SLEEF must agree. */
        const float x[] = {nan, -inf, inf, -0.0f, 0.0f, 100, -110};
        const float e[] = {nan, 0.0f, inf, 1, 1, inf, 0.0f};
        check_specials("exp", NULL, nnf_exp, x, NULL, e, 7);
        const float t[] = {nan, -1, 1, -0.0f, 0.0f, 1, -1};
        check_specials("tanh", NULL, nnf_tanh, x, NULL, t, 7);
        const float g[] = {nan, 0.0f, 1, 0.5f, 0.5f, 1, 0.0f};
        check_specials("sigmoid", NULL, nnf_sigmoid, x, NULL, g, 7);
        const float ng[] = {nan, inf, -inf, 0.0f, -0.0f, -100, 110};
        check_specials("neg", NULL, nnf_neg, x, NULL, ng, 7);
        const float ab[] = {nan, inf, inf, 0.0f, 0.0f, 100, 110};
        check_specials("abs", NULL, nnf_abs, x, NULL, ab, 7);
        const float z[] = {nan, -inf, inf, -0.0f, 0.0f, -1, 1};
        const float l[] = {nan, nan, inf, -inf, -inf, nan, 0.0f};
        check_specials("log", NULL, nnf_log, z, NULL, l, 7);
        const float s[] = {nan, nan, inf, -0.0f, 0.0f, nan, 1};
        check_specials("sqrt", NULL, nnf_sqrt, z, NULL, s, 7);
    }
    {   /* pow: C99 powf's special cases, which torch follows */
        const float a[] = {nan, 1, -2, -2, 0.0f, -0.0f, 0.0f, inf, -inf, 2, 0.5f, -8};
        const float b[] = {0, nan, 3, 0.5f, -1, -3, 2, -2, 3, inf, inf, 1.0f / 3};
        float want[12];
        for (int i = 0; i < 12; i++)
            want[i] = powf(a[i], b[i]);
        check_specials("pow", nnf_pow, NULL, a, b, want, 12);
    }
    {   /* arithmetic with infinities */
        const float a[] = {inf, inf, 0.0f, 1, -1, inf};
        const float b[] = {-inf, 0.0f, 0.0f, 0.0f, 0.0f, inf};
        const float sum[] = {nan, inf, 0.0f, 1, -1, inf};
        const float quo[] = {nan, inf, nan, inf, -inf, nan};
        const float prod[] = {-inf, nan, 0.0f, 0.0f, -0.0f, inf};
        check_specials("add", nnf_add, NULL, a, b, sum, 6);
        check_specials("div", nnf_div, NULL, a, b, quo, 6);
        check_specials("mul", nnf_mul, NULL, a, b, prod, 6);
    }
}

static nnf_status clamp_nan(nnf_tensor **o, const nnf_tensor *a) { return nnf_clamp(o, a, NAN, 1); }
static nnf_status clamp_open(nnf_tensor **o, const nnf_tensor *a)
{
    return nnf_clamp(o, a, -INFINITY, 1);
}
static nnf_status clamp_cross(nnf_tensor **o, const nnf_tensor *a) { return nnf_clamp(o, a, 2, 1); }

static void test_clamp_edges(void **state)
{
    (void)state;
    const float x[] = {NAN, -INFINITY, INFINITY, -0.0f, 0.5f, 3};
    const float all_nan[] = {NAN, NAN, NAN, NAN, NAN, NAN};
    check_specials("clamp NaN bound", NULL, clamp_nan, x, NULL, all_nan, 6);
    const float open[] = {NAN, -INFINITY, 1, -0.0f, 0.5f, 1};
    check_specials("clamp -inf", NULL, clamp_open, x, NULL, open, 6);
    /* lo > hi: torch's min(max(x, lo), hi) gives hi everywhere but NaN */
    const float cross[] = {NAN, 1, 1, 1, 1, 1};
    check_specials("clamp lo > hi", NULL, clamp_cross, x, NULL, cross, 6);
}

/* Above the threading threshold, with spans cut across the thread boundary: 1 and 2
 * threads and every ISA give the same bits. */
static void test_threads_bitwise(void **state)
{
    (void)state;
    const int64_t rows = 613, cols = 431;   /* 264K elements, odd row length */
    nnf_tensor *a, *b, *col;
    NNF_ASSERT_OK(nnf_randn(&a, NULL, NNF_SHAPE(rows, cols)));
    NNF_ASSERT_OK(nnf_randn(&b, NULL, NNF_SHAPE(rows, cols)));
    NNF_ASSERT_OK(nnf_randn(&col, NULL, NNF_SHAPE(rows, 1)));
    size_t n = (size_t)(rows * cols);
    enum { ADD, BCAST, EXP, TANH, SIGMOID, POW, RELU, NOPS };
    float *first[NOPS] = {0};
    int max_threads = nnf_get_num_threads();
    for (int threads = 1; threads <= 2; threads++) {
        nnf_test_threads(threads);
        NNF_FOR_EACH_ISA(isa) {
            for (int op = 0; op < NOPS; op++) {
                nnf_tensor *y = NULL, *t = NULL;
                switch (op) {
                case ADD: NNF_ASSERT_OK(nnf_add(&y, a, b)); break;
                case BCAST: NNF_ASSERT_OK(nnf_mul(&y, a, col)); break;
                case EXP: NNF_ASSERT_OK(nnf_exp(&y, a)); break;
                case TANH: NNF_ASSERT_OK(nnf_tanh(&y, a)); break;
                case SIGMOID: NNF_ASSERT_OK(nnf_sigmoid(&y, a)); break;
                case POW:
                    NNF_ASSERT_OK(nnf_abs(&t, a));
                    NNF_ASSERT_OK(nnf_pow(&y, t, b));
                    break;
                case RELU: NNF_ASSERT_OK(nnf_relu(&y, a)); break;
                }
                if (!nnf_test_isa_exact()) {
                    /* not compared across ISAs (nnf_test_isa_exact) */
                } else if (first[op] == NULL) {
                    first[op] = malloc(n * sizeof(float));
                    memcpy(first[op], nnf_tensor_data(y), n * sizeof(float));
                } else {
                    assert_same(nnf_tensor_data(y), first[op], n, "threads/ISA");
                }
                nnf_tensor_free(t);
                nnf_tensor_free(y);
            }
        }
    }
    for (int op = 0; op < NOPS; op++)
        free(first[op]);
    nnf_test_threads(max_threads);
    nnf_test_restore_isa();
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(col);
}

/* Called from inside a parallel region, an op runs serially on the calling thread and
 * still gives the right answer. */
static void test_inside_parallel(void **state)
{
    (void)state;
    nnf_tensor *a;
    NNF_ASSERT_OK(nnf_arange(&a, 0, 300000, 1));
    int bad = 0;
#pragma omp parallel num_threads(2) reduction(+ : bad)
    {
        nnf_tensor *y = NULL;
        if (nnf_add_scalar(&y, a, (float)omp_get_thread_num()) != NNF_OK) {
            bad++;
        } else {
            const float *p = nnf_tensor_data(y);
            for (int64_t i = 0; i < 300000; i += 997)
                bad += p[i] != (float)i + (float)omp_get_thread_num();
        }
        nnf_tensor_free(y);
    }
    assert_int_equal(bad, 0);
    nnf_tensor_free(a);
}

/* The portable scalar SLEEF functions (purec: x86's scalar ISA, which has no FMA) are
 * not bitwise equal to the FMA ones; they stay within 1 ulp of the reference. */
static void test_scalar_purec_tolerance(void **state)
{
    (void)state;
    enum { N = 4096 };
    static float x[N], y[N], yf[N], p[N];
    static double want[N];
    const nnf__sleef_kernels *k = &nnf__kernels_scalar.elt.sleef;
    nnf_test_fill_uniform(x, N, 5, -80, 80);
    nnf_test_fill_uniform(p, N, 6, -3, 3);
    for (int i = 0; i < N; i++)
        want[i] = exp(x[i]);
    k->exp(N, x, 1, y, 1);
    nnf_test_assert_close(y, want, N, ULP1, 0);
    for (int i = 0; i < N; i++) {
        x[i] = fabsf(x[i]) * 0.05f;
        want[i] = pow(x[i], p[i]);
    }
    k->pow(N, x, 1, p, 1, y, 1);
    nnf_test_assert_close(y, want, N, ULP1, 0);
    for (int i = 0; i < N; i++)
        want[i] = tanh(x[i]);
    k->tanh(N, x, 1, y, 1);
    nnf_test_assert_close(y, want, N, ULP1, 0);
#if defined(__x86_64__)
    /* The scalar_fma ISA's, where it runs, too. */
    if (nnf_isa_supported(NNF_ISA_SCALAR_FMA)) {
        nnf__kernels_scalar_fma.elt.sleef.tanh(N, x, 1, yf, 1);
        nnf_test_assert_close(yf, want, N, ULP1, 0);
    }
#else
    (void)yf;
#endif
}

/* ---- The NaN rule: arithmetic makes 0x7FC00000, copies and selects move bits ---- */

#define QNAN 0x7FC00000u
#define NAN_N 37   /* a vector body and a tail on every ISA */

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* NaNs of other payloads and signs, quiet and signalling. */
static const uint32_t nan_payloads[] = {0xFFC00000u, 0x7FC12345u, 0xFFD00001u, 0x7F800001u,
                                        0xFFBFFFFFu, 0x7FFFFFFFu};
#define NPAYLOADS (sizeof nan_payloads / sizeof nan_payloads[0])

static void assert_all_canonical(const char *what, const nnf_tensor *t)
{
    const float *y = nnf_tensor_data(t);
    for (int64_t i = 0; i < nnf_tensor_numel(t); i++)
        if (float_bits(y[i]) != QNAN)
            fail_msg("%s on %s: element %lld is 0x%08X, not the canonical NaN 0x%08X", what,
                     nnf_isa_name(nnf_isa_active()), (long long)i,
                     (unsigned)float_bits(y[i]), (unsigned)QNAN);
}

static nnf_tensor *nan_input(float (*value)(int i))
{
    float x[NAN_N];
    for (int i = 0; i < NAN_N; i++)
        x[i] = value(i);
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_from_data(&t, x, NNF_SHAPE(NAN_N)));
    return t;
}

static float nan_a(int i) { return bits_to_float(nan_payloads[i % NPAYLOADS]); }
static float nan_b(int i) { return bits_to_float(nan_payloads[(i + 1) % NPAYLOADS]); }
static float one_or_nan(int i) { return i % 2 ? 1.0f : nan_a(i); }
static float zero(int i) { return (void)i, 0.0f; }
static float inf(int i) { return (void)i, INFINITY; }
static float minus_one(int i) { return (void)i, -1.0f; }

static void test_nan_rule(void **state)
{
    (void)state;
    nnf_tensor *a = nan_input(nan_a), *b = nan_input(nan_b), *mixed = nan_input(one_or_nan);
    nnf_tensor *z = nan_input(zero), *in = nan_input(inf), *m1 = nan_input(minus_one);
    nnf_tensor *ninf = NULL, *cond = NULL;
    NNF_ASSERT_OK(nnf_neg(&ninf, in));
    uint8_t c[NAN_N];
    for (int i = 0; i < NAN_N; i++)
        c[i] = (uint8_t)(i % 3 == 0);
    NNF_ASSERT_OK(nnf_from_data_typed(&cond, c, NNF_SHAPE(NAN_N), NNF_BOOL));
    const struct {
        const char *name;
        nnf_status (*fn)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *);
        nnf_tensor *const *x, *const *y;
    } bin[] = {
        {"NaN + NaN", nnf_add, &a, &b},   {"NaN - NaN", nnf_sub, &b, &a},
        {"NaN * NaN", nnf_mul, &a, &b},   {"NaN / NaN", nnf_div, &b, &a},
        {"1|NaN + NaN", nnf_add, &mixed, &b}, {"NaN * 1|NaN", nnf_mul, &b, &mixed},
        {"0 / 0", nnf_div, &z, &z},       {"inf - inf", nnf_sub, &in, &in},
        {"inf + -inf", nnf_add, &in, &ninf}, {"0 * inf", nnf_mul, &z, &in},
        {"maximum(NaN, NaN)", nnf_maximum, &a, &b},
        {"minimum(1|NaN, NaN)", nnf_minimum, &mixed, &b},
        {"pow(NaN, NaN)", nnf_pow, &a, &b},
    };
    const struct {
        const char *name;
        nnf_status (*fn)(nnf_tensor **, const nnf_tensor *);
        nnf_tensor *const *x;
    } un[] = {
        {"log(-1)", nnf_log, &m1},    {"log(NaN)", nnf_log, &a},   {"sqrt(-1)", nnf_sqrt, &m1},
        {"sqrt(NaN)", nnf_sqrt, &a},  {"exp(NaN)", nnf_exp, &b},   {"tanh(NaN)", nnf_tanh, &a},
        {"sigmoid(NaN)", nnf_sigmoid, &b},
    };
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *y = NULL;
        for (size_t k = 0; k < sizeof bin / sizeof bin[0]; k++) {
            NNF_ASSERT_OK(bin[k].fn(&y, *bin[k].x, *bin[k].y));
            assert_all_canonical(bin[k].name, y);
        }
        for (size_t k = 0; k < sizeof un / sizeof un[0]; k++) {
            NNF_ASSERT_OK(un[k].fn(&y, *un[k].x));
            assert_all_canonical(un[k].name, y);
        }
        nnf_tensor *r = NULL;
        NNF_ASSERT_OK(nnf_sum(&r, mixed, 0, NULL, 0));
        assert_all_canonical("sum with NaN", r);
        NNF_ASSERT_OK(nnf_mean(&r, a, 0, NULL, 0));
        assert_all_canonical("mean of NaNs", r);
        NNF_ASSERT_OK(nnf_max(&r, mixed, 0, NULL, 0));
        assert_all_canonical("max with NaN", r);
        NNF_ASSERT_OK(nnf_min(&r, b, 0, NULL, 0));
        assert_all_canonical("min of NaNs", r);
        /* Copies and selects move the bits, payloads included. */
        NNF_ASSERT_OK(nnf_where(&y, cond, a, b));
        for (int i = 0; i < NAN_N; i++)
            assert_int_equal(float_bits(nnf_tensor_data(y)[i]),
                             float_bits(c[i] ? nan_a(i) : nan_b(i)));
        NNF_ASSERT_OK(nnf_copy(y, b));
        for (int i = 0; i < NAN_N; i++)
            assert_int_equal(float_bits(nnf_tensor_data(y)[i]), float_bits(nan_b(i)));
        nnf_tensor_free(r);
        nnf_tensor_free(y);
    }
    nnf_test_restore_isa();
    NNF_TEST_FREE(a, b, mixed, z, in, m1, ninf, cond);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_lengths),
        cmocka_unit_test(test_unary_lengths),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_clamp_edges),
        cmocka_unit_test(test_threads_bitwise),
        cmocka_unit_test(test_inside_parallel),
        cmocka_unit_test(test_scalar_purec_tolerance),
        cmocka_unit_test(test_nan_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
