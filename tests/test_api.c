/* The API's edges (issue 14): clearing the last error, int64 and typed tensors from data,
 * nnf_randint, copying any tensor or view out into a plain buffer. */
#include <pthread.h>
#include <string.h>

#include "nnf_test.h"

static void *fail_and_keep(void *arg)
{
    nnf_tensor *t = NULL;
    (void)arg;
    if (nnf_zeros(&t, NNF_SHAPE(-2)) != NNF_ERR_INVALID)
        return (void *)1;
    return nnf_last_error()[0] != '\0' ? NULL : (void *)1;
}

/* nnf_clear_error empties this thread's message and no other thread's. */
static void test_clear_error(void **state)
{
    (void)state;
    nnf_tensor *t = NULL;
    NNF_ASSERT_FAILS(nnf_zeros(&t, NNF_SHAPE(2, -3)), NNF_ERR_INVALID);
    assert_string_equal(nnf_last_error(),
                        "nnf_zeros: Trying to create tensor with negative dimension -3: [2, -3]");
    nnf_clear_error();
    assert_string_equal(nnf_last_error(), "");
    pthread_t th;
    void *ret;
    assert_int_equal(pthread_create(&th, NULL, fail_and_keep, NULL), 0);
    pthread_join(th, &ret);
    assert_null(ret);
    assert_string_equal(nnf_last_error(), "");
    NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2)));
    assert_string_equal(nnf_last_error(), "");
    nnf_tensor_free(t);
}

/* ---- Typed tensors from data ---- */

static void test_from_data_typed(void **state)
{
    (void)state;
    const int64_t labels[] = {3, 0, 7, INT64_MIN, INT64_MAX, -1};
    nnf_tensor *y = NULL, *f = NULL, *g = NULL, *b = NULL, *keep = NULL;
    NNF_ASSERT_OK(nnf_from_data_typed(&y, labels, NNF_SHAPE(2, 3), NNF_I64));
    assert_int_equal(nnf_tensor_dtype(y), NNF_I64);
    assert_int_equal(nnf_tensor_numel(y), 6);
    assert_memory_equal(nnf_tensor_raw(y), labels, sizeof labels);
    /* float32: the same bits as nnf_from_data */
    const float x[] = {1.5f, -0.0f, 3e-39f, 1e30f};
    NNF_ASSERT_OK(nnf_from_data_typed(&f, x, NNF_SHAPE(4), NNF_F32));
    NNF_ASSERT_OK(nnf_from_data(&g, x, NNF_SHAPE(4)));
    nnf_test_assert_bits_equal(nnf_tensor_data(f), nnf_tensor_data(g), 4);
    const uint8_t mask[] = {1, 0, 0, 1};
    NNF_ASSERT_OK(nnf_from_data_typed(&b, mask, NNF_SHAPE(2, 2), NNF_BOOL));
    float v = -1;
    NNF_ASSERT_OK(nnf_value_at(&v, b, (const int64_t[]){1, 1}));
    assert_true(v == 1.0f);
    /* A bool byte that is not 0 or 1 is refused and *out is left alone. */
    keep = b;
    NNF_ASSERT_FAILS(nnf_from_data_typed(&b, (const uint8_t[]){1, 2}, NNF_SHAPE(2), NNF_BOOL),
                     NNF_ERR_INVALID);
    assert_ptr_equal(b, keep);
    assert_string_equal(nnf_last_error(), "nnf_from_data_typed: a bool element is one byte, 0 or "
                                          "1, but byte 1 of data is 2");
    NNF_ASSERT_FAILS(nnf_from_data_typed(&b, labels, NNF_SHAPE(2), (nnf_dtype)9), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_from_data_typed(&b, NULL, NNF_SHAPE(2), NNF_I64), NNF_ERR_NULL);
    assert_ptr_equal(b, keep);
    NNF_TEST_FREE(y, f, g, b);
}

/* ---- nnf_randint against the algorithm its header states, run here on the published
 * xoshiro128** step from the same generator state ---- */

static uint32_t ref_rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static uint32_t ref_next(uint32_t s[4])
{
    uint32_t result = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 11);
    return result;
}

static int64_t ref_randint(uint32_t s[4], int64_t low, int64_t high)
{
    unsigned __int128 range = (unsigned __int128)((__int128)high - low);
    unsigned __int128 keep = ((unsigned __int128)1 << 64) / range * range;   /* draws kept */
    for (;;) {
        uint64_t hi = ref_next(s), lo = ref_next(s);
        unsigned __int128 draw = (unsigned __int128)(hi << 32 | lo);
        /* the header's rule: draws below 2^64 mod range are drawn again */
        if (draw >= ((unsigned __int128)1 << 64) - keep)
            return (int64_t)((__int128)low + (__int128)(draw % range));
    }
}

static void check_randint(int64_t low, int64_t high, int64_t n)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, (uint64_t)low ^ (uint64_t)n);
    uint32_t s[4];
    memcpy(s, rng.s, sizeof s);
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_randint(&t, &rng, NNF_SHAPE(n), low, high));
    assert_int_equal(nnf_tensor_dtype(t), NNF_I64);
    const int64_t *p = nnf_tensor_raw(t);
    for (int64_t i = 0; i < n; i++) {
        int64_t want = ref_randint(s, low, high);
        if (p[i] != want || p[i] < low || p[i] >= high)
            fail_msg("randint [%lld, %lld) element %lld: %lld, reference %lld", (long long)low,
                     (long long)high, (long long)i, (long long)p[i], (long long)want);
    }
    assert_memory_equal(rng.s, s, sizeof s);   /* the generator advanced exactly as far */
    nnf_tensor_free(t);
}

static void test_randint(void **state)
{
    (void)state;
    check_randint(0, 10, 1000);
    check_randint(-5, 6, 777);
    check_randint(7, 8, 5);
    check_randint(0, ((int64_t)1 << 62) + 3, 1000);   /* a redraw every ~4 draws */
    check_randint(INT64_MIN, INT64_MAX, 1000);
    /* Uniform: each of 10 values within 5 standard deviations of 1/10 of 100000 draws. */
    nnf_tensor *t = NULL;
    nnf_manual_seed(5);
    NNF_ASSERT_OK(nnf_randint(&t, NULL, NNF_SHAPE(100000), 0, 10));
    int64_t count[10] = {0};
    const int64_t *p = nnf_tensor_raw(t);
    for (int i = 0; i < 100000; i++)
        count[p[i]]++;
    for (int k = 0; k < 10; k++)
        assert_true(count[k] > 10000 - 5 * 95 && count[k] < 10000 + 5 * 95);
    /* The default generator gives the same stream again after the same seed. */
    nnf_tensor *again = NULL;
    nnf_manual_seed(5);
    NNF_ASSERT_OK(nnf_randint(&again, NULL, NNF_SHAPE(100000), 0, 10));
    assert_memory_equal(nnf_tensor_raw(again), p, 100000 * sizeof(int64_t));
    nnf_tensor *keep = t;
    NNF_ASSERT_FAILS(nnf_randint(&t, NULL, NNF_SHAPE(3), 4, 4), NNF_ERR_INVALID);
    assert_string_equal(nnf_last_error(), "nnf_randint: random_ expects 'from' to be less than "
                                          "'to', but got from=4 >= to=4");
    NNF_ASSERT_FAILS(nnf_randint(&t, NULL, NNF_SHAPE(-3), 0, 4), NNF_ERR_INVALID);
    assert_ptr_equal(t, keep);
    nnf_tensor_free(t);
    nnf_tensor_free(again);
}

/* ---- nnf_copy_to_buffer against element-by-element reads ---- */

/* t's elements in row-major order, read one by one through its strides. */
static void ref_copy(const nnf_tensor *t, unsigned char *dst)
{
    int nd = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    size_t es = nnf_tensor_dtype(t) == NNF_F32 ? 4 : nnf_tensor_dtype(t) == NNF_I64 ? 8 : 1;
    int64_t idx[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < nnf_tensor_numel(t); i++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++)
            off += idx[d] * stride[d];
        memcpy(dst + (size_t)i * es, (const unsigned char *)nnf_tensor_raw(t) + off * (int64_t)es,
               es);
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape[d]; d--)
            idx[d] = 0;
    }
}

static void check_copy_out(const nnf_tensor *t)
{
    size_t es = nnf_tensor_dtype(t) == NNF_F32 ? 4 : nnf_tensor_dtype(t) == NNF_I64 ? 8 : 1;
    size_t n = (size_t)nnf_tensor_numel(t) * es;
    unsigned char got[4096], want[4096];
    assert_true(n + 16 <= sizeof got);
    memset(got, 0xA5, sizeof got);
    memset(want, 0xA5, sizeof want);
    ref_copy(t, want);
    NNF_ASSERT_OK(nnf_copy_to_buffer(got, n + 16, t));   /* bytes past n stay as they were */
    assert_memory_equal(got, want, sizeof got);
    if (n > 0) {
        memset(got, 0x5A, sizeof got);
        NNF_ASSERT_FAILS(nnf_copy_to_buffer(got, n - 1, t), NNF_ERR_INVALID);
        for (size_t i = 0; i < sizeof got; i++)
            assert_int_equal(got[i], 0x5A);
        assert_true(strncmp(nnf_last_error(), "nnf_copy_to_buffer: ", 20) == 0);
    }
}

static void test_copy_to_buffer(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *xt = NULL, *xs = NULL, *col = NULL, *ex = NULL, *sel = NULL;
        nnf_tensor *lab = NULL, *labt = NULL, *mask = NULL, *maskt = NULL, *empty = NULL;
        nnf_tensor *scalar = NULL;
        NNF_ASSERT_OK(nnf_arange(&x, 0, 60, 1));
        nnf_tensor *x3 = NULL;
        NNF_ASSERT_OK(nnf_view(&x3, x, NNF_SHAPE(3, 4, 5)));
        NNF_ASSERT_OK(nnf_transpose(&xt, x3, 0, 2));           /* [5, 4, 3] */
        NNF_ASSERT_OK(nnf_slice(&xs, x3, 2, 1, 5, 2));         /* [3, 4, 2], step 2 */
        NNF_ASSERT_OK(nnf_slice(&col, x3, 1, 1, 2, 1));        /* [3, 1, 5] */
        NNF_ASSERT_OK(nnf_expand(&ex, col, NNF_SHAPE(2, 3, 4, 5)));
        NNF_ASSERT_OK(nnf_select(&sel, xt, 1, 2));             /* [5, 3] */
        NNF_ASSERT_OK(nnf_randint(&lab, NULL, NNF_SHAPE(6, 7), -100, 100));
        NNF_ASSERT_OK(nnf_t(&labt, lab));
        NNF_ASSERT_OK(nnf_gt_scalar(&mask, xt, 29.5f));
        NNF_ASSERT_OK(nnf_permute(&maskt, mask, (const int[]){1, 2, 0}));
        NNF_ASSERT_OK(nnf_zeros(&empty, NNF_SHAPE(3, 0)));
        NNF_ASSERT_OK(nnf_select(&scalar, x, 0, 17));
        const nnf_tensor *cases[] = {x3, xt, xs, col, ex, sel, lab, labt, mask, maskt, empty,
                                     scalar};
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            check_copy_out(cases[i]);
        NNF_ASSERT_OK(nnf_copy_to_buffer(NULL, 0, empty));
        NNF_ASSERT_FAILS(nnf_copy_to_buffer(NULL, 8, x), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_copy_to_buffer((float[1]){0}, 4, NULL), NNF_ERR_NULL);
        NNF_TEST_FREE(x, x3, xt, xs, col, ex, sel, lab, labt, mask, maskt, empty, scalar);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_error),
        cmocka_unit_test(test_from_data_typed),
        cmocka_unit_test(test_randint),
        cmocka_unit_test(test_copy_to_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
