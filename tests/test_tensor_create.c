/* Creation, introspection, element access and gradients of the tensor core. */
#include "nnf_test.h"

#include <math.h>
#include <string.h>

#include "src/core/alloc.h"

static void check_contiguous_geometry(const nnf_tensor *t, int ndim, const int64_t *shape)
{
    assert_int_equal(nnf_tensor_ndim(t), ndim);
    int64_t numel = 1, stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        assert_int_equal(nnf_tensor_shape(t)[i], shape[i]);
        assert_int_equal(nnf_tensor_size(t, i), shape[i]);
        assert_int_equal(nnf_tensor_size(t, i - ndim), shape[i]);
        assert_int_equal(nnf_tensor_strides(t)[i], stride);
        stride *= shape[i];
        numel *= shape[i];
    }
    assert_int_equal(nnf_tensor_size(t, ndim), -1);
    assert_int_equal(nnf_tensor_size(t, -ndim - 1), -1);
    assert_int_equal(nnf_tensor_numel(t), numel);
    assert_int_equal(nnf_tensor_storage_numel(t), numel);
    assert_int_equal(nnf_tensor_offset(t), 0);
    assert_true(nnf_tensor_is_contiguous(t));
    assert_int_equal((uintptr_t)nnf_tensor_raw(t) % 64, 0);
}

static void test_fill_creators(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const int64_t shape[] = {2, 3, 5};
        nnf_tensor *z = NULL, *o = NULL, *f = NULL, *e = NULL;
        NNF_ASSERT_OK(nnf_zeros(&z, 3, shape));
        NNF_ASSERT_OK(nnf_ones(&o, 3, shape));
        NNF_ASSERT_OK(nnf_full(&f, 3, shape, -2.5f));
        NNF_ASSERT_OK(nnf_empty(&e, 3, shape));
        check_contiguous_geometry(z, 3, shape);
        check_contiguous_geometry(o, 3, shape);
        check_contiguous_geometry(f, 3, shape);
        check_contiguous_geometry(e, 3, shape);
        for (int i = 0; i < 30; i++) {
            assert_true(nnf_tensor_data(z)[i] == 0.0f);
            assert_true(nnf_tensor_data(o)[i] == 1.0f);
            assert_true(nnf_tensor_data(f)[i] == -2.5f);
        }
        assert_int_equal(nnf_tensor_dtype(z), NNF_F32);
        nnf_tensor_free(z);
        nnf_tensor_free(o);
        nnf_tensor_free(f);
        nnf_tensor_free(e);
    }
}

/* 0-d tensors, empty tensors, and the largest ndim. */
static void test_edge_shapes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *s = NULL, *empty = NULL, *big = NULL;
        NNF_ASSERT_OK(nnf_full(&s, 0, NULL, 7.0f));
        check_contiguous_geometry(s, 0, NULL);
        float v = 0;
        NNF_ASSERT_OK(nnf_value(&v, s));
        assert_true(v == 7.0f);
        NNF_ASSERT_OK(nnf_value_at(&v, s, NULL));
        assert_true(v == 7.0f);

        NNF_ASSERT_OK(nnf_zeros(&empty, NNF_SHAPE(4, 0, 3)));
        assert_int_equal(nnf_tensor_numel(empty), 0);
        assert_int_equal(nnf_tensor_storage_numel(empty), 0);
        assert_true(nnf_tensor_is_contiguous(empty));

        const int64_t shape8[8] = {2, 1, 2, 1, 2, 1, 2, 3};
        NNF_ASSERT_OK(nnf_ones(&big, 8, shape8));
        check_contiguous_geometry(big, 8, shape8);
        nnf_tensor_free(s);
        nnf_tensor_free(empty);
        nnf_tensor_free(big);
    }
}

static void test_like(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *b = NULL, *e = NULL, *z = NULL, *base = NULL, *tr = NULL;
        NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(3, 2), NNF_BOOL));
        NNF_ASSERT_OK(nnf_empty_like(&e, b));
        assert_int_equal(nnf_tensor_dtype(e), NNF_BOOL);
        check_contiguous_geometry(e, 2, (const int64_t[]){3, 2});
        assert_false(nnf_tensor_shares_storage(b, e));
        /* zeros_like of a transposed view is contiguous in the view's shape. */
        NNF_ASSERT_OK(nnf_ones(&base, NNF_SHAPE(2, 5)));
        NNF_ASSERT_OK(nnf_transpose(&tr, base, 0, 1));
        NNF_ASSERT_OK(nnf_zeros_like(&z, tr));
        check_contiguous_geometry(z, 2, (const int64_t[]){5, 2});
        for (int i = 0; i < 10; i++)
            assert_true(nnf_tensor_data(z)[i] == 0.0f);
        nnf_tensor_free(b);
        nnf_tensor_free(e);
        nnf_tensor_free(z);
        nnf_tensor_free(base);
        nnf_tensor_free(tr);
    }
}

static void test_from_data_and_wrap(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        float buf[12];
        for (int i = 0; i < 12; i++)
            buf[i] = (float)i * 1.5f;
        nnf_tensor *c = NULL, *w = NULL, *ws = NULL;
        NNF_ASSERT_OK(nnf_from_data(&c, buf, NNF_SHAPE(3, 4)));
        NNF_ASSERT_OK(nnf_wrap(&w, buf, NNF_SHAPE(3, 4), NULL));
        assert_ptr_not_equal(nnf_tensor_data(c), buf);
        assert_ptr_equal(nnf_tensor_data(w), buf);
        assert_memory_equal(nnf_tensor_data(c), buf, sizeof buf);
        /* Writes through the wrapper land in the caller's buffer; the copy keeps its own. */
        NNF_ASSERT_OK(nnf_set(w, (const int64_t[]){1, 2}, 100.0f));
        assert_true(buf[6] == 100.0f);
        assert_true(nnf_tensor_data(c)[6] == 9.0f);
        /* Strided wrap: every other element, transposed. */
        NNF_ASSERT_OK(nnf_wrap(&ws, buf, NNF_SHAPE(2, 3), (const int64_t[]){2, 4}));
        assert_false(nnf_tensor_is_contiguous(ws));
        assert_int_equal(nnf_tensor_storage_numel(ws), 1 * 2 + 2 * 4 + 1);
        float v;
        NNF_ASSERT_OK(nnf_value_at(&v, ws, (const int64_t[]){1, 2}));
        assert_true(v == buf[1 * 2 + 2 * 4]);
        /* Zero strides are allowed (a broadcast buffer). */
        nnf_tensor *z = NULL;
        NNF_ASSERT_OK(nnf_wrap(&z, buf, NNF_SHAPE(4, 4), (const int64_t[]){0, 0}));
        assert_int_equal(nnf_tensor_storage_numel(z), 1);
        nnf_tensor_free(c);
        nnf_tensor_free(w);
        nnf_tensor_free(ws);
        nnf_tensor_free(z);
        /* The caller's buffer outlives the handles, untouched by free. */
        assert_true(buf[6] == 100.0f);
    }
}

/* arange against the values PyTorch gives (computed in double, rounded to float). */
static void test_arange(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const struct { float start, end, step; int64_t n; } cases[] = {
            {0, 5, 1, 5}, {1, 2, 0.1f, 10}, {5, 0, -1.5f, 4}, {0, 0, 1, 0}, {-3, 3, 2.5f, 3},
            {0, 1, 0.3f, 4},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            nnf_tensor *t = NULL;
            NNF_ASSERT_OK(nnf_arange(&t, cases[c].start, cases[c].end, cases[c].step));
            assert_int_equal(nnf_tensor_ndim(t), 1);
            assert_int_equal(nnf_tensor_numel(t), cases[c].n);
            double want[16];
            for (int64_t i = 0; i < cases[c].n; i++)
                want[i] = (float)((double)cases[c].start + (double)i * (double)cases[c].step);
            nnf_test_assert_close(nnf_tensor_data(t), want, (size_t)cases[c].n, 0, 0);
            nnf_tensor_free(t);
        }
    }
}

static void test_item_get_set(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *b = NULL, *l = NULL;
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2, 3)));
        NNF_ASSERT_OK(nnf_set(t, (const int64_t[]){-1, -1}, 4.5f));
        NNF_ASSERT_OK(nnf_set(t, (const int64_t[]){0, 1}, -1.0f));
        float v;
        NNF_ASSERT_OK(nnf_value_at(&v, t, (const int64_t[]){1, 2}));
        assert_true(v == 4.5f);
        NNF_ASSERT_OK(nnf_value_at(&v, t, (const int64_t[]){-2, -2}));
        assert_true(v == -1.0f);
        NNF_ASSERT_FAILS(nnf_value(&v, t), NNF_ERR_SHAPE);
        assert_string_equal(nnf_last_error(),
                            "nnf_value: a Tensor with 6 elements cannot be converted to Scalar");
        NNF_ASSERT_FAILS(nnf_value_at(&v, t, (const int64_t[]){2, 0}), NNF_ERR_INDEX);
        assert_string_equal(nnf_last_error(),
                            "nnf_value_at: index 2 is out of bounds for dimension 0 with size 2");
        NNF_ASSERT_FAILS(nnf_set(t, (const int64_t[]){0, -4}, 1.0f), NNF_ERR_INDEX);

        NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(1, 1), NNF_BOOL));
        NNF_ASSERT_OK(nnf_set(b, (const int64_t[]){0, 0}, 0.25f));
        assert_int_equal(*(uint8_t *)nnf_tensor_raw(b), 1);
        NNF_ASSERT_OK(nnf_value(&v, b));
        assert_true(v == 1.0f);
        assert_null(nnf_tensor_data(b));

        NNF_ASSERT_OK(nnf_empty_typed(&l, NNF_SHAPE(2), NNF_I64));
        NNF_ASSERT_OK(nnf_set(l, (const int64_t[]){1}, -7.9f));
        assert_int_equal(((int64_t *)nnf_tensor_raw(l))[1], -7);
        NNF_ASSERT_FAILS(nnf_set(l, (const int64_t[]){0}, NAN), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_set(l, (const int64_t[]){0}, 0x1p63f), NNF_ERR_INVALID);
        nnf_tensor_free(t);
        nnf_tensor_free(b);
        nnf_tensor_free(l);
    }
}

static void test_grad(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *g = NULL, *g2 = NULL, *v = NULL, *b = NULL;
        NNF_ASSERT_OK(nnf_ones(&t, NNF_SHAPE(3, 2)));
        assert_null(nnf_tensor_grad(t));
        nnf_zero_grad(t);
        nnf_zero_grad(NULL);
        NNF_ASSERT_OK(nnf_tensor_grad_get(t, &g));
        check_contiguous_geometry(g, 2, (const int64_t[]){3, 2});
        assert_ptr_equal(nnf_tensor_grad(t), g);
        for (int i = 0; i < 6; i++)
            assert_true(nnf_tensor_data(g)[i] == 0.0f);
        nnf_tensor_data(g)[4] = 3.0f;
        NNF_ASSERT_OK(nnf_tensor_grad_get(t, &g2));
        assert_ptr_equal(g2, g);
        assert_true(nnf_tensor_data(g2)[4] == 3.0f);
        nnf_zero_grad(t);
        assert_true(nnf_tensor_data(g)[4] == 0.0f);
        /* Views do not share gradients. */
        NNF_ASSERT_OK(nnf_t(&v, t));
        assert_null(nnf_tensor_grad(v));
        NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(2), NNF_BOOL));
        NNF_ASSERT_FAILS(nnf_tensor_grad_get(b, &g), NNF_ERR_DTYPE);
        NNF_ASSERT_FAILS(nnf_tensor_grad_get(NULL, &g), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_tensor_grad_get(t, NULL), NNF_ERR_NULL);
        nnf_tensor_free(v);
        nnf_tensor_free(b);
        nnf_tensor_free(t);   /* frees the gradient too; ASan would see a leak */
    }
}

/* Storage goes with its last handle, in any order. */
static void test_refcount(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        long base = nnf__alloc_live();
        nnf_tensor *t = NULL, *v1 = NULL, *v2 = NULL;
        NNF_ASSERT_OK(nnf_arange(&t, 0, 6, 1));
        NNF_ASSERT_OK(nnf_unsqueeze(&v1, t, 0));
        NNF_ASSERT_OK(nnf_select(&v2, v1, 1, 4));
        nnf_tensor_free(t);
        nnf_tensor_free(v1);
        float v;
        NNF_ASSERT_OK(nnf_value(&v, v2));
        assert_true(v == 4.0f);
        nnf_tensor_free(v2);
        assert_int_equal(nnf__alloc_live(), base);
        nnf_tensor_free(NULL);
    }
}

static void test_introspection_null(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        assert_int_equal(nnf_tensor_ndim(NULL), 0);
        assert_null(nnf_tensor_shape(NULL));
        assert_null(nnf_tensor_strides(NULL));
        assert_int_equal(nnf_tensor_size(NULL, 0), -1);
        assert_int_equal(nnf_tensor_numel(NULL), 0);
        assert_null(nnf_tensor_data(NULL));
        assert_null(nnf_tensor_raw(NULL));
        assert_false(nnf_tensor_shares_storage(NULL, NULL));
        assert_null(nnf_tensor_grad(NULL));
    }
}

static void test_status_strings(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        assert_string_equal(nnf_status_str(NNF_OK), "NNF_OK");
        assert_string_equal(nnf_status_str(NNF_ERR_SHAPE), "NNF_ERR_SHAPE");
        assert_string_equal(nnf_status_str(NNF_ERR_STATE), "NNF_ERR_STATE");
        assert_string_equal(nnf_status_str((nnf_status)999), "NNF_ERR_UNKNOWN");
        for (int s = NNF_OK; s <= NNF_ERR_STATE; s++)
            assert_int_equal(strncmp(nnf_status_str((nnf_status)s), "NNF_", 4), 0);
        assert_string_equal(nnf_version(), "0.1.0");
        assert_true(nnf_get_num_threads() >= 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_creators),
        cmocka_unit_test(test_edge_shapes),
        cmocka_unit_test(test_like),
        cmocka_unit_test(test_from_data_and_wrap),
        cmocka_unit_test(test_arange),
        cmocka_unit_test(test_item_get_set),
        cmocka_unit_test(test_grad),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_introspection_null),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
