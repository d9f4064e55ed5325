/* Every public function that returns a status names itself first in its message, "nnf_x:
 * ...", whichever helper inside it found the error: one failing call per function. */
#include <string.h>

#include "nnf_test.h"

static void expect_named(const char *call, nnf_status st)
{
    size_t n = strcspn(call, "(");
    const char *msg = nnf_last_error();
    if (st == NNF_OK)
        fail_msg("%s succeeded", call);
    if (strncmp(msg, call, n) != 0 || strncmp(msg + n, ": ", 2) != 0)
        fail_msg("%s: the message \"%s\" does not start with \"%.*s: \"", call, msg, (int)n,
                 call);
    nnf_clear_error();
}

/* The call must fail, and its message must start with the called function's name. */
#define EXPECT_NAMED(call) expect_named(#call, (call))

static void test_tensor_h(nnf_tensor *t, nnf_tensor *m)
{
    const int64_t idx[] = {0, 0}, big[] = {9, 9};
    const int dims[] = {0, 0};
    float v, buf[4];
    char text[8];
    nnf_tensor *g = NULL;
    EXPECT_NAMED(nnf_empty(NULL, NNF_SHAPE(2)));
    EXPECT_NAMED(nnf_empty_typed(&g, NNF_SHAPE(-2), NNF_I64));
    EXPECT_NAMED(nnf_zeros(&g, NNF_SHAPE(-2)));
    EXPECT_NAMED(nnf_ones(&g, NNF_SHAPE(-2)));
    EXPECT_NAMED(nnf_full(&g, NNF_SHAPE(-2), 1.0f));
    EXPECT_NAMED(nnf_empty_like(NULL, t));
    EXPECT_NAMED(nnf_zeros_like(&g, NULL));
    EXPECT_NAMED(nnf_from_data(&g, NULL, NNF_SHAPE(2)));
    EXPECT_NAMED(nnf_from_data_typed(&g, buf, NNF_SHAPE(2), (nnf_dtype)9));
    EXPECT_NAMED(nnf_wrap(&g, NULL, NNF_SHAPE(2), NULL));
    EXPECT_NAMED(nnf_arange(&g, 0, 1, 0));
    EXPECT_NAMED(nnf_rand(&g, NULL, NNF_SHAPE(-2)));
    EXPECT_NAMED(nnf_randn(&g, NULL, NNF_SHAPE(-2)));
    EXPECT_NAMED(nnf_randint(&g, NULL, NNF_SHAPE(2), 1, 1));
    EXPECT_NAMED(nnf_value(&v, m));
    EXPECT_NAMED(nnf_value_at(&v, m, big));
    EXPECT_NAMED(nnf_set(m, big, 1.0f));
    EXPECT_NAMED(nnf_expand(&g, m, NNF_SHAPE(5, 5)));
    EXPECT_NAMED(nnf_expand_as(&g, m, t));
    EXPECT_NAMED(nnf_unsqueeze(&g, m, 5));
    EXPECT_NAMED(nnf_squeeze(&g, m, 5));
    EXPECT_NAMED(nnf_squeeze_all(&g, NULL));
    EXPECT_NAMED(nnf_transpose(&g, m, 0, 5));
    EXPECT_NAMED(nnf_t(NULL, m));
    EXPECT_NAMED(nnf_permute(&g, m, dims));
    EXPECT_NAMED(nnf_select(&g, m, 0, 9));
    EXPECT_NAMED(nnf_slice(&g, m, 0, 0, 1, 0));
    EXPECT_NAMED(nnf_narrow(&g, m, 0, 0, 9));
    EXPECT_NAMED(nnf_view(&g, m, NNF_SHAPE(7)));
    EXPECT_NAMED(nnf_reshape(&g, m, NNF_SHAPE(7)));
    EXPECT_NAMED(nnf_contiguous(&g, NULL));
    EXPECT_NAMED(nnf_clone(NULL, m));
    EXPECT_NAMED(nnf_copy_to_buffer(buf, sizeof buf, m));
    EXPECT_NAMED(nnf_tensor_grad_get(m, NULL));
    EXPECT_NAMED(nnf_fprint(NULL, m));
    EXPECT_NAMED(nnf_print(NULL));
    EXPECT_NAMED(nnf_print_to_buffer(NULL, sizeof text, NULL, m));
    (void)idx;
    assert_null(g);
}

static void test_ops_h(nnf_tensor *t, nnf_tensor *m, nnf_tensor *mask)
{
    /* m is 2 x 3, t is 3 x 2: they do not broadcast */
    nnf_tensor *y = NULL, *y2 = NULL;
    EXPECT_NAMED(nnf_copy(m, t));
    EXPECT_NAMED(nnf_fill(NULL, 1.0f));
    EXPECT_NAMED(nnf_add(&y, m, t));
    EXPECT_NAMED(nnf_sub(&y, m, t));
    EXPECT_NAMED(nnf_mul(&y, m, t));
    EXPECT_NAMED(nnf_div(&y, m, t));
    EXPECT_NAMED(nnf_maximum(&y, m, t));
    EXPECT_NAMED(nnf_minimum(&y, m, t));
    EXPECT_NAMED(nnf_pow(&y, m, t));
    EXPECT_NAMED(nnf_add_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_sub_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_mul_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_div_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_pow_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_rsub(&y, mask, 1));
    EXPECT_NAMED(nnf_rdiv(&y, mask, 1));
    EXPECT_NAMED(nnf_lt(&y, m, t));
    EXPECT_NAMED(nnf_le(&y, m, t));
    EXPECT_NAMED(nnf_gt(&y, m, t));
    EXPECT_NAMED(nnf_ge(&y, m, t));
    EXPECT_NAMED(nnf_eq(&y, m, t));
    EXPECT_NAMED(nnf_ne(&y, m, t));
    EXPECT_NAMED(nnf_lt_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_le_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_gt_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_ge_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_eq_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_ne_scalar(&y, mask, 1));
    EXPECT_NAMED(nnf_where(&y, m, m, m));
    EXPECT_NAMED(nnf_sub_div(&y, m, t, m));
    EXPECT_NAMED(nnf_sub_scaled(&y, m, t, 1));
    EXPECT_NAMED(nnf_threshold_backward(&y, m, t));
    EXPECT_NAMED(nnf_neg(&y, mask));
    EXPECT_NAMED(nnf_abs(&y, mask));
    EXPECT_NAMED(nnf_sqrt(&y, mask));
    EXPECT_NAMED(nnf_relu(&y, mask));
    EXPECT_NAMED(nnf_clamp(&y, mask, 0, 1));
    EXPECT_NAMED(nnf_exp(&y, mask));
    EXPECT_NAMED(nnf_log(&y, mask));
    EXPECT_NAMED(nnf_tanh(&y, mask));
    EXPECT_NAMED(nnf_sigmoid(&y, mask));
    EXPECT_NAMED(nnf_sum(&y, m, NNF_DIMS(5), 0));
    EXPECT_NAMED(nnf_mean(&y, m, NNF_DIMS(0, 0), 0));
    EXPECT_NAMED(nnf_var(&y, m, NNF_ALL_DIMS, -1, 0));
    EXPECT_NAMED(nnf_std(&y, mask, NNF_ALL_DIMS, 1, 0));
    EXPECT_NAMED(nnf_std_mean(&y, NULL, m, NNF_ALL_DIMS, 1, 0));
    EXPECT_NAMED(nnf_max(&y, mask, NNF_ALL_DIMS, 0));
    EXPECT_NAMED(nnf_min(&y, m, NNF_DIMS(-3), 0));
    EXPECT_NAMED(nnf_argmax(&y, m, 2, 0));
    EXPECT_NAMED(nnf_all(NULL, m, NNF_ALL_DIMS, 0));
    EXPECT_NAMED(nnf_any(&y, NULL, NNF_ALL_DIMS, 0));
    assert_null(y);
    assert_null(y2);
}

static void test_linalg_h(nnf_tensor *t, nnf_tensor *m)
{
    nnf_tensor *y = NULL;
    float c[4];
    EXPECT_NAMED(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 2, 2, 2, 1, NULL, 2, c, 2, 0, c, 2));
    EXPECT_NAMED(nnf_matmul(&y, m, m));
    EXPECT_NAMED(nnf_gemm(m, t, t, 1, 1));
    EXPECT_NAMED(nnf_einsum(&y, "ij,jk", 1, (const nnf_tensor *const[]){m}));
    assert_null(y);
}

static void test_data_h(nnf_tensor *m)
{
    nnf_tensor *y = NULL;
    nnf_dataset d = {0};
    nnf_loader *l = NULL;
    float mean, std;
    EXPECT_NAMED(nnf_idx_read(&y, "/nonexistent/nnf.idx", NNF_F32));
    EXPECT_NAMED(nnf_mnist_load(&d, "/nonexistent", "train"));
    EXPECT_NAMED(nnf_dataset_stats(&d, &mean, &std));
    EXPECT_NAMED(nnf_dataset_normalize(&d, 0, 1));
    EXPECT_NAMED(nnf_loader_new(&l, m, NULL, 0, 1));
    EXPECT_NAMED(nnf_loader_shuffle(NULL));
    NNF_ASSERT_OK(nnf_loader_new(&l, m, NULL, 1, 1));
    EXPECT_NAMED(nnf_loader_get_batch(l, &y, NULL, 2));
    nnf_loader_free(l);
}

static void test_nn_h(nnf_tensor *t, nnf_tensor *m)
{
    /* m is 2 x 3, t is 3 x 2: as x and w of a linear they do not fit */
    nnf_tensor *y = NULL, *x = NULL;
    nnf_layer *layer = NULL, *relu = NULL;
    nnf_loss *loss = NULL;
    nnf_model *model = NULL;
    nnf_sgd *opt = NULL;
    nnf_gradcheck_report rep;
    float v;
    EXPECT_NAMED(nnf_linear(&y, m, t, NULL));
    EXPECT_NAMED(nnf_linear_backward(m, m, t, NULL, 1));
    EXPECT_NAMED(nnf_relu_backward(m, m));
    EXPECT_NAMED(nnf_mse(&v, m, t));
    EXPECT_NAMED(nnf_mse_backward(m, t));
    EXPECT_NAMED(nnf_cross_entropy(&v, m, t));
    EXPECT_NAMED(nnf_cross_entropy_backward(m, t));
    EXPECT_NAMED(nnf_layer_new(&layer, NULL, NULL));
    EXPECT_NAMED(nnf_weight_init(NULL, NULL, NNF_INIT_KAIMING));
    EXPECT_NAMED(nnf_layer_linear(&layer, NULL, 0, 1, NNF_INIT_KAIMING));
    EXPECT_NAMED(nnf_layer_relu(NULL));
    EXPECT_NAMED(nnf_loss_mse(NULL));
    EXPECT_NAMED(nnf_loss_cross_entropy(NULL));
    EXPECT_NAMED(nnf_model_new(NULL, NULL));
    EXPECT_NAMED(nnf_sgd_new(&opt, 0, NULL, -1.0f, 0.0f, 0.0f));
    EXPECT_NAMED(nnf_sgd_step(NULL));
    EXPECT_NAMED(nnf_sgd_set_lr(NULL, 1.0f));
    NNF_ASSERT_OK(nnf_layer_linear(&layer, NULL, 2, 3, NNF_INIT_KAIMING));
    EXPECT_NAMED(nnf_layer_call(layer, &y, m));
    EXPECT_NAMED(nnf_layer_backward(layer, 1));
    EXPECT_NAMED(nnf_layer_save_for_backward(layer, -1, NULL));
    EXPECT_NAMED(nnf_layer_gradcheck(layer, &rep, m, NULL, 1));
    NNF_ASSERT_OK(nnf_loss_mse(&loss));
    EXPECT_NAMED(nnf_loss_call(loss, &v, m, t));
    EXPECT_NAMED(nnf_loss_backward(loss));
    EXPECT_NAMED(nnf_loss_gradcheck(loss, &rep, m, t, NULL));
    NNF_ASSERT_OK(nnf_model_new(&model, loss));
    EXPECT_NAMED(nnf_model_add(model, NULL));
    EXPECT_NAMED(nnf_model_call(model, &v, m, t));
    EXPECT_NAMED(nnf_model_infer(model, &x, m));
    EXPECT_NAMED(nnf_model_infer_into(model, &x, m));
    EXPECT_NAMED(nnf_model_backward(model));
    EXPECT_NAMED(nnf_model_gradcheck(model, &rep, m, t, NULL));
    NNF_ASSERT_OK(nnf_layer_relu(&relu));
    NNF_ASSERT_OK(nnf_model_add(model, relu));
    EXPECT_NAMED(nnf_model_call(model, &v, m, t));
    nnf_model_free(model);
    nnf_layer_free(layer);
    assert_null(y);
    assert_null(x);
    assert_null(opt);
}

static void test_conv_h(nnf_tensor *t, nnf_tensor *m)
{
    /* m is 2-D: not an image */
    nnf_tensor *y = NULL;
    nnf_layer *layer = NULL;
    EXPECT_NAMED(nnf_unfold(&y, m, 1, 1, 1, 0));
    EXPECT_NAMED(nnf_fold(&y, m, 2, 2, 1, 1, 1, 0));
    EXPECT_NAMED(nnf_conv2d_nchw(&y, m, t, NULL, 1, 0));
    EXPECT_NAMED(nnf_conv2d_nchw_backward(m, m, t, NULL, 1, 0, 1));
    EXPECT_NAMED(nnf_layer_conv2d_nchw(&layer, NULL, 0, 1, 1, 1, 0, NNF_INIT_KAIMING));
    EXPECT_NAMED(nnf_layer_flatten(NULL));
    assert_null(y);
    assert_null(layer);
}

static void test_messages(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *m = NULL, *mask = NULL;
        NNF_ASSERT_OK(nnf_ones(&t, NNF_SHAPE(3, 2)));
        NNF_ASSERT_OK(nnf_ones(&m, NNF_SHAPE(2, 3)));
        NNF_ASSERT_OK(nnf_empty_typed(&mask, NNF_SHAPE(2, 3), NNF_BOOL));
        test_tensor_h(t, m);
        test_ops_h(t, m, mask);
        test_linalg_h(t, m);
        test_data_h(m);
        test_nn_h(t, m);
        test_conv_h(t, m);
        EXPECT_NAMED(nnf_isa_force((nnf_isa)99));
        nnf_tensor_free(t);
        nnf_tensor_free(m);
        nnf_tensor_free(mask);
    }
    nnf_test_restore_isa();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
