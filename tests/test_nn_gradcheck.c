/* Gradient checking: every built-in layer, both losses and whole models pass central
 * finite differences on every ISA; points at the ReLU kink are skipped; a wrong
 * backward is caught. */
#include "test_nn_util.h"

static void assert_passes(const nnf_gradcheck_report *r, int64_t min_checked)
{
    print_message("checked %lld, skipped %lld, failed %lld, max error %.3g\n",
                  (long long)r->checked, (long long)r->skipped, (long long)r->failed,
                  r->max_abs_err);
    if (r->failed != 0)
        fail_msg("%lld points failed; first: %s", (long long)r->failed, r->first_failure);
    assert_true(r->checked >= min_checked);
}

static void test_lin(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 1);
        nnf_layer *lin = NULL;
        NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 5, 4, NNF_INIT_KAIMING));
        /* a nonzero bias, so the forward's bias path is exercised */
        NNF_ASSERT_OK(nnf_fill(nnf_layer_parameter(lin, 1), 0.3f));
        nnf_tensor *x = nn_uniform(NNF_SHAPE(6, 5), 2, -1, 1);
        nnf_gradcheck_report r;
        NNF_ASSERT_OK(nnf_layer_gradcheck(lin, &r, x, NULL, 1));
        /* linear: no kinks, every point checked */
        assert_passes(&r, 6 * 5 + 4 * 5 + 4);
        assert_int_equal(r.skipped, 0);
        /* max_points spreads a few points over each tensor */
        nnf_gradcheck_options o = {.max_points = 3, .seed = 7};
        NNF_ASSERT_OK(nnf_layer_gradcheck(lin, &r, x, &o, 0));
        assert_int_equal(r.checked + r.skipped, 2 * 3);
        assert_int_equal(r.failed, 0);
        nnf_layer_free(lin);
        nnf_tensor_free(x);
    }
    nnf_test_restore_isa();
}

static void test_relu(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_layer *relu = NULL;
        NNF_ASSERT_OK(nnf_layer_relu(&relu));
        nnf_tensor *x = nn_uniform(NNF_SHAPE(6, 5), 3, -1, 1);
        /* two points within eps = 1e-2 of the kink, which no derivative describes */
        nnf_tensor_data(x)[4] = 0.004f;
        nnf_tensor_data(x)[9] = -0.002f;
        nnf_gradcheck_report r;
        NNF_ASSERT_OK(nnf_layer_gradcheck(relu, &r, x, NULL, 1));
        assert_passes(&r, 6 * 5 - 2);
        assert_int_equal(r.skipped, 2);
        nnf_layer_free(relu);
        nnf_tensor_free(x);
    }
    nnf_test_restore_isa();
}

static void test_losses(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_loss *mse = NULL, *ce = NULL;
        NNF_ASSERT_OK(nnf_loss_mse(&mse));
        NNF_ASSERT_OK(nnf_loss_cross_entropy(&ce));
        nnf_tensor *p = nn_uniform(NNF_SHAPE(6, 1), 4, -1, 1), *t = nn_uniform(NNF_SHAPE(6), 5, -1, 1);
        nnf_tensor *logits = nn_uniform(NNF_SHAPE(6, 4), 6, -3, 3), *labels = nn_labels(6, 4, 7);
        nnf_gradcheck_report r;
        NNF_ASSERT_OK(nnf_loss_gradcheck(mse, &r, p, t, NULL));
        assert_passes(&r, 6);
        NNF_ASSERT_OK(nnf_loss_gradcheck(ce, &r, logits, labels, NULL));
        assert_passes(&r, 24);
        nnf_loss_free(mse);
        nnf_loss_free(ce);
        NNF_TEST_FREE(p, t, logits, labels);
    }
    nnf_test_restore_isa();
}

/* n_in -> hidden -> ReLU -> n_out with Kaiming weights drawn from rng, MSE or
 * cross-entropy. */
static nnf_model *lin_relu_lin(int64_t n_in, int64_t hidden, int64_t n_out, int ce,
                               nnf_rng *rng)
{
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    NNF_ASSERT_OK(nnf_layer_linear(&l1, rng, n_in, hidden, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, rng, hidden, n_out, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    return m;
}

/* 6 -> 5 -> n_out, the hidden bias 0.1. */
static nnf_model *mlp(int64_t n_out, int ce)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 8);
    nnf_model *m = lin_relu_lin(6, 5, n_out, ce, &rng);
    NNF_ASSERT_OK(nnf_fill(nnf_model_parameters(m)[1], 0.1f));
    return m;
}

static void test_models(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int ce = 0; ce <= 1; ce++) {
            nnf_model *m = mlp(ce ? 3 : 1, ce);
            nnf_tensor *x = nn_uniform(NNF_SHAPE(8, 6), 9, -1, 1);
            nnf_tensor *y = ce ? nn_labels(8, 3, 10) : nn_uniform(NNF_SHAPE(8), 10, -1, 1);
            nnf_gradcheck_report r;
            /* the loss is a float: a smaller step keeps fewer points near the kink while
             * the float noise (~1e-7 / eps) stays below atol */
            nnf_gradcheck_options o = {.eps = 3e-3};
            NNF_ASSERT_OK(nnf_model_gradcheck(m, &r, x, y, &o));
            int64_t nparams = 5 * 6 + 5 + 5 * (ce ? 3 : 1) + (ce ? 3 : 1);
            assert_passes(&r, nparams * 3 / 4);
            nnf_model_free(m);
            nnf_tensor_free(x);
            nnf_tensor_free(y);
        }
    }
    nnf_test_restore_isa();
}

/* A model that starts with a layer without parameters: nothing needs that layer's input
 * or output gradient, so backward computes neither, and the rest still checks. */
static void test_model_leading_relu(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 12);
        nnf_loss *loss = NULL;
        nnf_model *m = NULL;
        nnf_layer *l[4] = {0};
        NNF_ASSERT_OK(nnf_loss_mse(&loss));
        NNF_ASSERT_OK(nnf_model_new(&m, loss));
        NNF_ASSERT_OK(nnf_layer_relu(&l[0]));
        NNF_ASSERT_OK(nnf_layer_linear(&l[1], &rng, 6, 5, NNF_INIT_XAVIER));
        NNF_ASSERT_OK(nnf_layer_relu(&l[2]));
        NNF_ASSERT_OK(nnf_layer_linear(&l[3], &rng, 5, 1, NNF_INIT_XAVIER));
        for (int i = 0; i < 4; i++)
            NNF_ASSERT_OK(nnf_model_add(m, l[i]));
        nnf_tensor *x = nn_uniform(NNF_SHAPE(8, 6), 13, -1, 1), *y = nn_uniform(NNF_SHAPE(8), 14, -1, 1);
        nnf_gradcheck_options o = {.eps = 3e-3};
        nnf_gradcheck_report r;
        NNF_ASSERT_OK(nnf_model_gradcheck(m, &r, x, y, &o));
        assert_passes(&r, (30 + 5 + 5 + 1) * 3 / 4);
        assert_null(nnf_tensor_grad(nnf_layer_output(l[0])));
        assert_null(nnf_tensor_grad(x));
        assert_non_null(nnf_tensor_grad(nnf_layer_output(l[1])));
        nnf_model_free(m);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    nnf_test_restore_isa();
}

/* The chapter's model, 200 samples of 100 inputs -> 50 -> 1, with the default step:
 * each first-layer weight moves 200 ReLU inputs, so many points sit near a kink, and
 * a kink test that misses some reports a correct backward as wrong (the two-step test
 * did, on every seed). Regression: no failures, and most points still checked. */
static void test_chapter_model_defaults(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* 3 seeds x 20 points: the two-step test failed 5 points here */
        for (uint64_t seed = 1; seed <= 3; seed++) {
            nnf_rng rng;
            nnf_rng_seed(&rng, seed);
            nnf_model *m = lin_relu_lin(100, 50, 1, 0, &rng);
            nnf_tensor *x = NULL, *y = NULL;
            NNF_ASSERT_OK(nnf_randn(&x, &rng, NNF_SHAPE(200, 100)));
            NNF_ASSERT_OK(nnf_randn(&y, &rng, NNF_SHAPE(200)));
            nnf_gradcheck_options o = {.max_points = 20, .seed = seed};
            nnf_gradcheck_report r;
            NNF_ASSERT_OK(nnf_model_gradcheck(m, &r, x, y, &o));
            assert_passes(&r, (20 + 20 + 20 + 1) / 3);   /* w1, b1, w2, b2 */
            nnf_model_free(m);
            nnf_tensor_free(x);
            nnf_tensor_free(y);
        }
    }
    nnf_test_restore_isa();
}

/* y = 2x with a backward that forgets the 2: gradcheck must say so. */
static nnf_status double_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    return nnf_mul_scalar(out, in, 2.0f);
}

static nnf_status double_backward_wrong(nnf_layer *self, const nnf_tensor *g, nnf_tensor *in_grad)
{
    (void)self;
    return in_grad != NULL ? nnf_copy(in_grad, g) : NNF_OK;
}

static void test_catches_wrong_backward(void **state)
{
    (void)state;
    static const nnf_layer_fn wrong = {"Double", double_forward, double_backward_wrong, NULL, NULL};
    nnf_layer *l = NULL;
    NNF_ASSERT_OK(nnf_layer_new(&l, &wrong, NULL));
    nnf_tensor *x = nn_uniform(NNF_SHAPE(3, 4), 11, -1, 1);
    nnf_gradcheck_report r;
    NNF_ASSERT_OK(nnf_layer_gradcheck(l, &r, x, NULL, 1));
    assert_int_equal(r.checked, 12);
    assert_int_equal(r.failed, 12);
    print_message("%s\n", r.first_failure);
    assert_non_null(strstr(r.first_failure, "input [0, 0]: backward"));
    NNF_ASSERT_FAILS(nnf_layer_gradcheck(l, &r, NULL, NULL, 1), NNF_ERR_NULL);
    nnf_layer_free(l);
    nnf_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lin),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_model_leading_relu),
        cmocka_unit_test(test_chapter_model_defaults),
        cmocka_unit_test(test_catches_wrong_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
