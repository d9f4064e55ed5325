/* Comparisons: NNF_BOOL results equal to C's operators (NaN compares false except !=)
 * on every ISA, every tail length, misaligned and strided operands, broadcasting,
 * scalar forms, and non-contiguous bool outputs. */
#include "nnf_test.h"

#include <math.h>
#include <string.h>

#define MAXN (3 * 16 + 1)

typedef nnf_status (*compare_fn)(nnf_tensor **, const nnf_tensor *, const nnf_tensor *);
typedef nnf_status (*compare_scalar_fn)(nnf_tensor **, const nnf_tensor *, float);

static int r_lt(float a, float b) { return a < b; }
static int r_le(float a, float b) { return a <= b; }
static int r_gt(float a, float b) { return a > b; }
static int r_ge(float a, float b) { return a >= b; }
static int r_eq(float a, float b) { return a == b; }
static int r_ne(float a, float b) { return a != b; }

static const struct {
    const char *name;
    compare_fn fn;
    compare_scalar_fn sfn;
    int (*ref)(float, float);
} ops[] = {
    {"lt", nnf_lt, nnf_lt_scalar, r_lt}, {"le", nnf_le, nnf_le_scalar, r_le},
    {"gt", nnf_gt, nnf_gt_scalar, r_gt}, {"ge", nnf_ge, nnf_ge_scalar, r_ge},
    {"eq", nnf_eq, nnf_eq_scalar, r_eq}, {"ne", nnf_ne, nnf_ne_scalar, r_ne},
};
#define NOPS (sizeof ops / sizeof *ops)

/* Values from a small set (with NaN, infinities and both zeros) so that equality is
 * frequent. */
static void fill_values(float *x, size_t n, uint64_t seed)
{
    static const float set[] = {-1, 0.0f, -0.0f, 1, 2, NAN, INFINITY, -INFINITY};
    nnf_test_fill_uniform(x, n, seed, 0, 8);
    for (size_t i = 0; i < n; i++)
        x[i] = set[(int)x[i]];
}

static void test_lengths(void **state)
{
    (void)state;
    float a[MAXN + 4], b[MAXN + 4];
    for (size_t o = 0; o < NOPS; o++) {
        for (int64_t n = 0; n <= MAXN; n++) {
            int off = (int)(n % 4);
            fill_values(a, MAXN + 4, (uint64_t)n);
            fill_values(b, MAXN + 4, (uint64_t)n + 500);
            NNF_FOR_EACH_ISA(isa) {
                nnf_tensor *ta, *tb, *y = NULL, *ys = NULL, *yo = NULL;
                NNF_ASSERT_OK(nnf_wrap(&ta, a + off, NNF_SHAPE(n), NULL));
                NNF_ASSERT_OK(nnf_wrap(&tb, b + 3 - off, NNF_SHAPE(n), NULL));
                NNF_ASSERT_OK(ops[o].fn(&y, ta, tb));
                NNF_ASSERT_OK(ops[o].sfn(&ys, ta, b[0]));
                assert_int_equal(nnf_tensor_dtype(y), NNF_BOOL);
                const uint8_t *p = nnf_tensor_raw(y), *ps = nnf_tensor_raw(ys);
                for (int64_t i = 0; i < n; i++) {
                    if (p[i] != ops[o].ref(a[off + i], b[3 - off + i]))
                        fail_msg("%s n=%lld element %lld: %g vs %g gave %d", ops[o].name,
                                 (long long)n, (long long)i, a[off + i], b[3 - off + i], p[i]);
                    assert_int_equal(ps[i], ops[o].ref(a[off + i], b[0]));
                }
                /* Into a caller's bool tensor at an odd address. */
                NNF_ASSERT_OK(nnf_empty_typed(&yo, NNF_SHAPE(n + 1), NNF_BOOL));
                nnf_tensor *view;
                NNF_ASSERT_OK(nnf_narrow(&view, yo, 0, 1, n));
                NNF_ASSERT_OK(ops[o].fn(&view, ta, tb));
                assert_memory_equal((const uint8_t *)nnf_tensor_raw(view), p, (size_t)n);
                NNF_TEST_FREE(ta, tb, y, ys, yo, view);
            }
        }
    }
    nnf_test_restore_isa();
}

/* Broadcasting, strided inputs, and a transposed bool output; every ISA gives the same
 * bytes. */
static void test_broadcast_strided(void **state)
{
    (void)state;
    enum { R = 9, C = 21 };
    float m[R * C], col[R];
    fill_values(m, R * C, 1);
    fill_values(col, R, 2);
    nnf_tensor *tm, *tcol, *tt, *yfresh, *yt;
    NNF_ASSERT_OK(nnf_from_data(&tm, m, NNF_SHAPE(R, C)));
    NNF_ASSERT_OK(nnf_from_data(&tcol, col, NNF_SHAPE(R, 1)));
    NNF_ASSERT_OK(nnf_transpose(&tt, tm, 0, 1));   /* [C, R] strided */
    for (size_t o = 0; o < NOPS; o++) {
        uint8_t first[R * C];
        int have_first = 0;
        NNF_FOR_EACH_ISA(isa) {
            nnf_tensor *y = NULL;
            NNF_ASSERT_OK(ops[o].fn(&y, tm, tcol));
            const uint8_t *p = nnf_tensor_raw(y);
            for (int i = 0; i < R; i++)
                for (int j = 0; j < C; j++)
                    assert_int_equal(p[i * C + j], ops[o].ref(m[i * C + j], col[i]));
            if (have_first)
                assert_memory_equal(p, first, R * C);
            memcpy(first, p, R * C);
            have_first = 1;
            nnf_tensor_free(y);

            /* [C, R] (strided) vs [R] row, written into a transposed view of [R, C]. */
            NNF_ASSERT_OK(nnf_empty_typed(&yfresh, NNF_SHAPE(R, C), NNF_BOOL));
            NNF_ASSERT_OK(nnf_transpose(&yt, yfresh, 0, 1));
            nnf_tensor *row;
            NNF_ASSERT_OK(nnf_view(&row, tcol, NNF_SHAPE(R)));
            NNF_ASSERT_OK(ops[o].fn(&yt, tt, row));
            const uint8_t *q = nnf_tensor_raw(yfresh);
            for (int i = 0; i < R; i++)
                for (int j = 0; j < C; j++)
                    assert_int_equal(q[i * C + j], ops[o].ref(m[i * C + j], col[i]));
            nnf_tensor_free(row);
            nnf_tensor_free(yt);
            nnf_tensor_free(yfresh);
        }
    }
    nnf_test_restore_isa();
    nnf_tensor_free(tm);
    nnf_tensor_free(tcol);
    nnf_tensor_free(tt);
}

static void test_errors(void **state)
{
    (void)state;
    nnf_tensor *a, *b, *y = NULL;
    NNF_ASSERT_OK(nnf_zeros(&a, NNF_SHAPE(2, 3)));
    NNF_ASSERT_OK(nnf_zeros(&b, NNF_SHAPE(3, 2)));
    NNF_ASSERT_FAILS(nnf_eq(&y, a, b), NNF_ERR_SHAPE);
    assert_string_equal(nnf_last_error(), "nnf_eq: The size of tensor a (3) must match the size of "
                                          "tensor b (2) at non-singleton dimension 1");
    NNF_ASSERT_FAILS(nnf_eq(&y, a, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_eq_scalar(&y, NULL, 1), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_eq_scalar(NULL, a, 1), NNF_ERR_NULL);
    assert_null(y);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_broadcast_strided),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
