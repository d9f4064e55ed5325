/* nnf_tensor_version: every path that writes a storage moves its count (so what nnf
 * derives from the values and keeps, such as a Lin layer's prepacked weight, is rebuilt),
 * and reading does not (or the cache would be rebuilt on every call). */
#include <stdio.h>

#include "nnf_test.h"
#include "test_tmpdir.h"

/* Asserts that `call` moved t's version (and succeeded). */
#define ASSERT_WRITES(t, call)                                                       \
    do {                                                                             \
        uint64_t v_ = nnf_tensor_version(t);                                         \
        NNF_ASSERT_OK(call);                                                         \
        if (nnf_tensor_version(t) == v_)                                             \
            fail_msg("%s did not move the version of %s", #call, #t);                \
    } while (0)
#define ASSERT_READS(t, call)                                                        \
    do {                                                                             \
        uint64_t v_ = nnf_tensor_version(t);                                         \
        NNF_ASSERT_OK(call);                                                         \
        if (nnf_tensor_version(t) != v_)                                             \
            fail_msg("%s moved the version of %s, which it only reads", #call, #t);  \
    } while (0)

static void test_ops_write(void **state)
{
    (void)state;
    nnf_tensor *a = NULL, *b = NULL, *out = NULL, *s = NULL, *bt = NULL, *g = NULL;
    NNF_ASSERT_OK(nnf_ones(&a, NNF_SHAPE(3, 4)));
    NNF_ASSERT_OK(nnf_ones(&b, NNF_SHAPE(3, 4)));
    NNF_ASSERT_OK(nnf_zeros(&out, NNF_SHAPE(3, 4)));
    NNF_ASSERT_OK(nnf_zeros(&s, NNF_SHAPE(4)));
    ASSERT_WRITES(out, nnf_add(&out, a, b));          /* into an existing output */
    ASSERT_WRITES(a, nnf_mul_scalar(&a, a, 2.0f));    /* in place */
    ASSERT_WRITES(out, nnf_copy(out, a));
    ASSERT_WRITES(out, nnf_fill(out, 3.0f));
    ASSERT_WRITES(out, nnf_set(out, (const int64_t[]){1, 2}, 5.0f));
    ASSERT_WRITES(s, nnf_sum(&s, a, 1, (const int[]){0}, 0));   /* a reduction's output */
    ASSERT_WRITES(out, nnf_relu(&out, out));
    /* Products into an existing output. */
    nnf_tensor *sq = NULL, *prod = NULL;
    NNF_ASSERT_OK(nnf_ones(&sq, NNF_SHAPE(4, 4)));
    NNF_ASSERT_OK(nnf_zeros(&prod, NNF_SHAPE(3, 4)));
    ASSERT_WRITES(prod, nnf_matmul(&prod, a, sq));
    ASSERT_WRITES(prod, nnf_gemm(prod, a, sq, 1.0f, 1.0f));
    /* Operands are read, not written. */
    ASSERT_READS(a, nnf_matmul(&prod, a, sq));
    ASSERT_READS(sq, nnf_gemm(prod, a, sq, 1.0f, 0.0f));
    ASSERT_READS(a, nnf_add(&out, a, b));
    /* A write through a view is a write into the storage every view shares. */
    NNF_ASSERT_OK(nnf_t(&bt, b));
    ASSERT_WRITES(b, nnf_fill(bt, 7.0f));
    /* The gradient is a storage of its own. */
    NNF_ASSERT_OK(nnf_tensor_grad_get(a, &g));
    uint64_t va = nnf_tensor_version(a);
    ASSERT_WRITES(g, (nnf_zero_grad(a), NNF_OK));
    assert_true(nnf_tensor_version(a) == va);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(bt);
    nnf_tensor_free(out);
    nnf_tensor_free(s);
    nnf_tensor_free(sq);
    nnf_tensor_free(prod);
}

static void test_pointers(void **state)
{
    (void)state;
    nnf_tensor *t = NULL, *label = NULL;
    NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(5)));
    NNF_ASSERT_OK(nnf_from_data_typed(&label, (const int64_t[]){1, 2}, NNF_SHAPE(2), NNF_I64));
    ASSERT_WRITES(t, (nnf_tensor_data(t) != NULL ? NNF_OK : NNF_ERR_NULL));
    ASSERT_WRITES(label, (nnf_tensor_raw(label) != NULL ? NNF_OK : NNF_ERR_NULL));
    ASSERT_WRITES(t, (nnf_tensor_mark_modified(t), NNF_OK));
    ASSERT_READS(t, (nnf_tensor_const_data(t) != NULL ? NNF_OK : NNF_ERR_NULL));
    float buf[5];
    ASSERT_READS(t, nnf_copy_to_buffer(buf, sizeof buf, t));
    assert_true(nnf_tensor_version(NULL) == 0);
    nnf_tensor_mark_modified(NULL);
    nnf_tensor_free(t);
    nnf_tensor_free(label);
}

static nnf_model *small_model(void)
{
    nnf_model *m = NULL;
    nnf_layer *l1 = NULL, *act = NULL;
    nnf_loss *loss = NULL;
    NNF_ASSERT_OK(nnf_loss_mse(&loss));
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    NNF_ASSERT_OK(nnf_layer_linear(&l1, NULL, 3, 2, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    return m;
}

static void test_training_and_loading(void **state)
{
    (void)state;
    nnf_model *m = small_model();
    nnf_tensor *w = nnf_model_parameters(m)[0];
    nnf_tensor *x = NULL, *y = NULL, *pred = NULL;
    NNF_ASSERT_OK(nnf_ones(&x, NNF_SHAPE(4, 3)));
    NNF_ASSERT_OK(nnf_zeros(&y, NNF_SHAPE(4, 2)));
    float loss;
    /* A forward and a prediction read the weights. */
    ASSERT_READS(w, nnf_model_call(m, &loss, x, y));
    NNF_ASSERT_OK(nnf_model_backward(m));
    ASSERT_READS(w, nnf_model_infer(m, &pred, x));
    NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
    NNF_ASSERT_OK(nnf_model_backward(m));
    nnf_sgd *opt = NULL;
    NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), 0.1f,
                              0.9f, 0.01f));
    ASSERT_WRITES(w, nnf_sgd_step(opt));
    ASSERT_WRITES(nnf_tensor_grad(w), (nnf_sgd_zero_grad(opt), NNF_OK));
    const char *path = tmp_path("model.npz");
    ASSERT_READS(w, nnf_model_save_npz(m, path));
    ASSERT_WRITES(w, nnf_model_load_npz(m, path));
    nnf_sgd_free(opt);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_write),
        cmocka_unit_test(test_pointers),
        cmocka_unit_test(test_training_and_loading),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
