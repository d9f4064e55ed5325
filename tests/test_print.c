/* Printing: nnf_print_to_buffer against the strings PyTorch 1.13 prints for the same tensors
 * (tests/test_print_golden.inc, from scripts/print_golden.py), plus the buffer contract. */
#include "nnf_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    nnf_dtype dtype;
    int ndim;
    const int64_t *shape;
    const double *values;   /* row-major; of the transpose when `transposed` */
    int64_t n;
    int transposed;
    const char *want;
} golden_case;

#include "test_print_golden.inc"

static nnf_tensor *build(const golden_case *c)
{
    int64_t shape[NNF_MAX_DIMS];
    for (int i = 0; i < c->ndim; i++)
        shape[i] = c->transposed ? c->shape[c->ndim - 1 - i] : c->shape[i];
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&t, c->ndim, shape, c->dtype));
    void *raw = nnf_tensor_raw(t);
    for (int64_t i = 0; i < c->n; i++) {
        if (c->dtype == NNF_F32)
            ((float *)raw)[i] = (float)c->values[i];
        else if (c->dtype == NNF_BOOL)
            ((uint8_t *)raw)[i] = c->values[i] != 0.0;
        else
            ((int64_t *)raw)[i] = (int64_t)c->values[i];
    }
    if (c->transposed) {
        nnf_tensor *v = NULL;
        NNF_ASSERT_OK(nnf_t(&v, t));
        nnf_tensor_free(t);
        assert_false(nnf_tensor_is_contiguous(v));
        t = v;
    }
    return t;
}

static void test_golden(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < sizeof golden_cases / sizeof golden_cases[0]; i++) {
            const golden_case *c = &golden_cases[i];
            nnf_tensor *t = build(c);
            size_t needed = 0;
            NNF_ASSERT_OK(nnf_print_to_buffer(NULL, 0, &needed, t));
            char *buf = malloc(needed + 1);
            assert_non_null(buf);
            NNF_ASSERT_OK(nnf_print_to_buffer(buf, needed + 1, NULL, t));
            if (strcmp(buf, c->want) != 0)
                fail_msg("case %s (%s):\n got: %s\nwant: %s", c->name, nnf_isa_name(isa), buf,
                         c->want);
            assert_int_equal(needed, strlen(c->want));
            free(buf);
            nnf_tensor_free(t);
        }
    }
}

/* A buffer too small gets a NUL-terminated prefix and the full length. */
static void test_truncation(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        NNF_ASSERT_OK(nnf_from_data(&t, (const float[]){11, 22, 33}, NNF_SHAPE(3)));
        const char *full = "tensor([11., 22., 33.])";
        char buf[64];
        for (size_t size = 1; size <= strlen(full) + 1; size++) {
            size_t needed = 0;
            memset(buf, 'x', sizeof buf);
            NNF_ASSERT_OK(nnf_print_to_buffer(buf, size, &needed, t));
            assert_int_equal(needed, strlen(full));
            assert_int_equal(strlen(buf), size - 1);
            assert_memory_equal(buf, full, size - 1);
            assert_int_equal(buf[size], 'x');
        }
        nnf_tensor_free(t);
    }
}

/* nnf_fprint writes the same text as nnf_print_to_buffer; nnf_print adds a newline. */
static void test_fprint(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        NNF_ASSERT_OK(nnf_arange(&t, 0, 5, 1));
        FILE *f = tmpfile();
        assert_non_null(f);
        NNF_ASSERT_OK(nnf_fprint(f, t));
        rewind(f);
        char buf[64] = {0};
        assert_non_null(fgets(buf, sizeof buf, f));
        assert_string_equal(buf, "tensor([0., 1., 2., 3., 4.])");
        fclose(f);
        NNF_ASSERT_OK(nnf_print(t));
        nnf_tensor_free(t);
    }
}

/* A view prints exactly as its contiguous copy does (offsets, steps, stride 0). */
static void test_views_print_like_copies(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *base = NULL, *m = NULL, *views[5] = {NULL};
        NNF_ASSERT_OK(nnf_arange(&base, -20, 40, 0.75f));     /* 80 values */
        NNF_ASSERT_OK(nnf_view(&m, base, NNF_SHAPE(8, 10)));
        NNF_ASSERT_OK(nnf_select(&views[0], m, 1, 3));
        NNF_ASSERT_OK(nnf_slice(&views[1], m, 1, 1, 9, 3));
        NNF_ASSERT_OK(nnf_narrow(&views[2], m, 0, 5, 2));
        NNF_ASSERT_OK(nnf_expand(&views[3], views[0], NNF_SHAPE(3, 8)));
        NNF_ASSERT_OK(nnf_permute(&views[4], m, (const int[]){1, 0}));
        for (int i = 0; i < 5; i++) {
            nnf_tensor *c = NULL;
            char a[2048], b[2048];
            NNF_ASSERT_OK(nnf_clone(&c, views[i]));
            NNF_ASSERT_OK(nnf_print_to_buffer(a, sizeof a, NULL, views[i]));
            NNF_ASSERT_OK(nnf_print_to_buffer(b, sizeof b, NULL, c));
            assert_string_equal(a, b);
            nnf_tensor_free(c);
            nnf_tensor_free(views[i]);
        }
        nnf_tensor_free(m);
        nnf_tensor_free(base);
    }
}

static void test_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL;
        char buf[8];
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(2)));
        NNF_ASSERT_FAILS(nnf_print_to_buffer(buf, sizeof buf, NULL, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_print_to_buffer(NULL, 4, NULL, t), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_fprint(NULL, t), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_print(NULL), NNF_ERR_NULL);
        nnf_tensor_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_fprint),
        cmocka_unit_test(test_views_print_like_copies),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
