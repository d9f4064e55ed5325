/* The random stream: exact first values (from scripts/rng_reference.py, an independent
 * Python implementation, and xoshiro128**'s published output for state {1, 2, 3, 4}),
 * the same stream on every ISA and platform, and the moments of the distributions. */
#include "nnf_test.h"

#include <math.h>
#include <string.h>

static void expect_rand(nnf_rng *rng, const float *want, int n)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_rand(&t, rng, 1, (const int64_t[]){n}));
    nnf_test_assert_bits_equal(nnf_tensor_data(t), want, (size_t)n);
    nnf_tensor_free(t);
}

static void test_known_stream(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* xoshiro128** from state {1, 2, 3, 4} outputs 11520, 0, 5927040, 70819200,
         * 2031721883; a uniform keeps the top 24 bits. */
        nnf_rng rng = {{1, 2, 3, 4}};
        const float vec[] = {(11520 >> 8) * 0x1p-24f, 0.0f, (5927040 >> 8) * 0x1p-24f,
                             (70819200 >> 8) * 0x1p-24f, (2031721883u >> 8) * 0x1p-24f};
        expect_rand(&rng, vec, 5);

        const float seed0[] = {0x1.bd9208p-1f, 0x1.34113ap-1f, 0x1.56efa6p-1f, 0x1.87c2c8p-1f,
                               0x1.7256ap-2f};
        const float seed42[] = {0x1.a7a168p-2f, 0x1.f087f4p-1f, 0x1.0518p-8f, 0x1.143e3cp-1f,
                                0x1.4cd7c4p-1f};
        nnf_rng_seed(&rng, 0);
        assert_int_equal(rng.s[0], 0x7b1dcdafu);   /* splitmix64(0)'s low word */
        expect_rand(&rng, seed0, 5);
        nnf_rng_seed(&rng, 42);
        expect_rand(&rng, seed42, 5);
    }
}

/* Box-Muller in double, rounded to float: the same bits on x86-64 and (under qemu)
 * aarch64, checked against the Python reference. */
static void test_known_normals(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const float seed0[] = {-0x1.9f4d42p+0f, -0x1.348a6cp+0f, 0x1.21ed1cp-3f,
                               -0x1.7b5e68p+0f, -0x1.5e46aep-1f};
        const float seed42[] = {0x1.03ca56p+0f, -0x1.8f576ap-3f, -0x1.62c0acp-4f,
                                -0x1.67f22cp-6f, -0x1.331bp+0f};
        nnf_rng rng;
        nnf_tensor *t = NULL;
        nnf_rng_seed(&rng, 0);
        NNF_ASSERT_OK(nnf_randn(&t, &rng, NNF_SHAPE(5)));
        nnf_test_assert_bits_equal(nnf_tensor_data(t), seed0, 5);
        nnf_tensor_free(t);
        nnf_rng_seed(&rng, 42);
        NNF_ASSERT_OK(nnf_randn(&t, &rng, NNF_SHAPE(5)));
        nnf_test_assert_bits_equal(nnf_tensor_data(t), seed42, 5);
        nnf_tensor_free(t);
    }
}

/* The generator's state carries over between calls: two rand calls of 3 and 4 give the
 * same values as one of 7; randn pairs do the same for even counts. */
static void test_continuation_and_default(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng a, b;
        nnf_tensor *x = NULL, *y = NULL, *all = NULL, *d = NULL;
        nnf_rng_seed(&a, 7);
        nnf_rng_seed(&b, 7);
        NNF_ASSERT_OK(nnf_rand(&x, &a, NNF_SHAPE(3)));
        NNF_ASSERT_OK(nnf_rand(&y, &a, NNF_SHAPE(2, 2)));
        NNF_ASSERT_OK(nnf_rand(&all, &b, NNF_SHAPE(7)));
        nnf_test_assert_bits_equal(nnf_tensor_data(x), nnf_tensor_data(all), 3);
        nnf_test_assert_bits_equal(nnf_tensor_data(y), nnf_tensor_data(all) + 3, 4);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
        nnf_tensor_free(all);
        NNF_ASSERT_OK(nnf_randn(&x, &a, NNF_SHAPE(4)));
        NNF_ASSERT_OK(nnf_randn(&y, &a, NNF_SHAPE(2)));
        NNF_ASSERT_OK(nnf_randn(&all, &b, NNF_SHAPE(6)));
        nnf_test_assert_bits_equal(nnf_tensor_data(x), nnf_tensor_data(all), 4);
        nnf_test_assert_bits_equal(nnf_tensor_data(y), nnf_tensor_data(all) + 4, 2);
        /* The default generator (rng NULL) is the one nnf_manual_seed seeds. */
        nnf_manual_seed(7);
        nnf_rng_seed(&b, 7);
        NNF_ASSERT_OK(nnf_rand(&d, NULL, NNF_SHAPE(3)));
        nnf_tensor_free(x);
        NNF_ASSERT_OK(nnf_rand(&x, &b, NNF_SHAPE(3)));
        nnf_test_assert_bits_equal(nnf_tensor_data(d), nnf_tensor_data(x), 3);
        NNF_TEST_FREE(x, y, all, d);
        nnf_rng_seed(NULL, 1);
    }
}

/* Moments over 2^17 draws, with bounds of about 5 standard errors. */
static void test_moments(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        enum { N = 1 << 17 };
        nnf_rng rng;
        nnf_rng_seed(&rng, 12345);
        nnf_tensor *u = NULL, *g = NULL;
        NNF_ASSERT_OK(nnf_rand(&u, &rng, NNF_SHAPE(N)));
        NNF_ASSERT_OK(nnf_randn(&g, &rng, NNF_SHAPE(N)));
        const float *pu = nnf_tensor_data(u), *pg = nnf_tensor_data(g);
        double su = 0, su2 = 0, sg = 0, sg2 = 0, sg4 = 0;
        int64_t within1 = 0;
        for (int i = 0; i < N; i++) {
            assert_true(pu[i] >= 0.0f && pu[i] < 1.0f);
            assert_true(isfinite(pg[i]));
            su += pu[i];
            su2 += (double)pu[i] * pu[i];
            sg += pg[i];
            sg2 += (double)pg[i] * pg[i];
            sg4 += (double)pg[i] * pg[i] * pg[i] * pg[i];
            within1 += fabsf(pg[i]) < 1.0f;
        }
        double mu = su / N, vu = su2 / N - mu * mu;
        double mg = sg / N, vg = sg2 / N - mg * mg, kurt = sg4 / N / (vg * vg);
        assert_true(fabs(mu - 0.5) < 5 * sqrt(1.0 / 12 / N));
        assert_true(fabs(vu - 1.0 / 12) < 5 * sqrt(1.0 / 180 / N));
        assert_true(fabs(mg) < 5 / sqrt((double)N));
        assert_true(fabs(vg - 1.0) < 5 * sqrt(2.0 / N));
        assert_true(fabs(kurt - 3.0) < 5 * sqrt(96.0 / N));
        assert_true(fabs((double)within1 / N - 0.682689492) < 5 * sqrt(0.2166 / N));
        nnf_tensor_free(u);
        nnf_tensor_free(g);
    }
}

static void test_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 1);
        nnf_rng before = rng;
        nnf_tensor *t = NULL;
        NNF_ASSERT_FAILS(nnf_rand(NULL, &rng, NNF_SHAPE(2)), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_randn(&t, &rng, NNF_SHAPE(-2)), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_rand(&t, &rng, NNF_SHAPE((int64_t)1 << 40, (int64_t)1 << 40)),
                         NNF_ERR_OVERFLOW);
        /* A failed call draws nothing. */
        assert_memory_equal(&rng, &before, sizeof rng);
        assert_null(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_stream),
        cmocka_unit_test(test_known_normals),
        cmocka_unit_test(test_continuation_and_default),
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
