/* nnf against PyTorch 1.13: the files in tests/golden/ were written by
 * scripts/golden_nn.py (autograd for every gradient, torch.optim.SGD for the updates).
 *
 * Tolerances, per element: |nnf - torch| <= 1e-4 * |torch| + 1e-5 * max|torch| over the
 * tensor for activations, gradients and parameters after SGD (sums of up to 200 float
 * products in a different order than OpenBLAS's, where cancellation makes small elements'
 * relative error large, hence the part relative to the tensor's largest element);
 * 1e-5 relative for losses. */
#include "test_nn_util.h"

#include <stdio.h>

#define MAX_ENTRIES 48

typedef struct golden {
    int n;
    char name[MAX_ENTRIES][32];
    nnf_tensor *t[MAX_ENTRIES];
} golden;

static uint32_t read_u32(FILE *f)
{
    uint8_t b[4];
    assert_int_equal(fread(b, 1, 4, f), 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* tests/golden/nn_<name>.bin, next to this source file (meson runs tests in the build
 * directory, from which __FILE__ is the relative path the compiler was given), or in
 * $NNF_GOLDEN_DIR. */
static void golden_load(golden *g, const char *name)
{
    char path[1024];
    const char *dir = getenv("NNF_GOLDEN_DIR");
    if (dir != NULL) {
        snprintf(path, sizeof path, "%s/nn_%s.bin", dir, name);
    } else {
        const char *slash = strrchr(__FILE__, '/');
        int len = slash != NULL ? (int)(slash - __FILE__) : 1;
        snprintf(path, sizeof path, "%.*s/golden/nn_%s.bin", len,
                 slash != NULL ? __FILE__ : ".", name);
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set NNF_GOLDEN_DIR to tests/golden)", path);
    char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    assert_memory_equal(magic, "NNFG", 4);
    assert_int_equal(read_u32(f), 1);
    g->n = (int)read_u32(f);
    assert_true(g->n <= MAX_ENTRIES);
    for (int i = 0; i < g->n; i++) {
        uint32_t len = read_u32(f);
        assert_true(len < sizeof g->name[i]);
        assert_int_equal(fread(g->name[i], 1, len, f), len);
        g->name[i][len] = '\0';
        uint32_t dtype = read_u32(f), ndim = read_u32(f);
        assert_true(dtype <= 1 && ndim <= NNF_MAX_DIMS);
        int64_t shape[NNF_MAX_DIMS];
        for (uint32_t d = 0; d < ndim; d++) {
            uint64_t lo = read_u32(f), hi = read_u32(f);
            shape[d] = (int64_t)(lo | hi << 32);
        }
        g->t[i] = NULL;
        NNF_ASSERT_OK(nnf_empty_typed(&g->t[i], (int)ndim, shape, dtype ? NNF_I64 : NNF_F32));
        size_t bytes = (size_t)nnf_tensor_numel(g->t[i]) * (dtype ? 8 : 4);
        /* little-endian on disk, and on every machine nnf runs on (x86-64, aarch64) */
        assert_int_equal(fread(nnf_tensor_raw(g->t[i]), 1, bytes, f), bytes);
    }
    fclose(f);
}

static nnf_tensor *golden_get(const golden *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->name[i], name) == 0)
            return g->t[i];
    fail_msg("golden file has no tensor \"%s\"", name);
    return NULL;
}

static void golden_free(golden *g)
{
    for (int i = 0; i < g->n; i++)
        nnf_tensor_free(g->t[i]);
    g->n = 0;
}

/* got (any float tensor, contiguous) against want with the tolerances above. */
static void assert_matches(const char *what, const float *got, const nnf_tensor *want)
{
    size_t n = (size_t)nnf_tensor_numel(want);
    const float *w = nnf_tensor_data(want);
    double *wd = nn_doubles(n), scale = 0.0, err = 0.0;
    /* plain comparisons: gcc 12 for aarch64 crashes vectorising two fmax reductions */
    for (size_t i = 0; i < n; i++) {
        wd[i] = w[i];
        double a = fabs(wd[i]), e = fabs(got[i] - wd[i]);
        if (a > scale)
            scale = a;
        if (e > err)
            err = e;
    }
    print_message("  %-12s max |nnf - torch| = %.3g (largest |torch| %.3g)\n", what, err, scale);
    nnf_test_assert_close(got, wd, n, 1e-4, 1e-5 * scale);
    free(wd);
}

static void assert_loss(float got, const nnf_tensor *want)
{
    float w;
    NNF_ASSERT_OK(nnf_value(&w, want));
    double wd = w;
    print_message("  %-12s nnf %.9g torch %.9g\n", "loss", (double)got, wd);
    nnf_test_assert_close(&got, &wd, 1, 1e-5, 0);
}

static int count_layers(const golden *g)
{
    int k = 0;
    char name[32];
    for (;;) {
        snprintf(name, sizeof name, "w%d", k + 1);
        int found = 0;
        for (int i = 0; i < g->n; i++)
            found |= strcmp(g->name[i], name) == 0;
        if (!found)
            return k;
        k++;
    }
}

static nnf_tensor *param(const golden *g, char kind, int i)
{
    char name[32];
    snprintf(name, sizeof name, "%c%d", kind, i + 1);
    return golden_get(g, name);
}

static void assert_grad(const golden *g, const char *name, const nnf_tensor *t)
{
    char key[48];
    snprintf(key, sizeof key, "%s.g", name);
    assert_matches(key, nn_grad(t), golden_get(g, key));
}

/* The chapter's functional forward_and_backward, x.g included, on the golden weights. */
static void check_functional(golden *g, int ce)
{
    int k = count_layers(g);
    nnf_tensor *x = golden_get(g, "x"), *y = golden_get(g, "y");
    nnf_tensor *pre[8] = {0}, *post[8] = {0};   /* lin outputs, relu outputs */
    nnf_tensor *cur = x;
    for (int i = 0; i < k; i++) {
        nnf_zero_grad(param(g, 'w', i));
        nnf_zero_grad(param(g, 'b', i));
        NNF_ASSERT_OK(nnf_linear(&pre[i], cur, param(g, 'w', i), param(g, 'b', i)));
        cur = pre[i];
        if (i < k - 1) {
            NNF_ASSERT_OK(nnf_relu(&post[i], pre[i]));
            cur = post[i];
        }
    }
    float loss;
    NNF_ASSERT_OK(ce ? nnf_cross_entropy(&loss, cur, y) : nnf_mse(&loss, cur, y));
    assert_matches("out", nnf_tensor_data(cur), golden_get(g, "out"));
    assert_loss(loss, golden_get(g, "loss"));
    NNF_ASSERT_OK(ce ? nnf_cross_entropy_backward(cur, y) : nnf_mse_backward(cur, y));
    nnf_zero_grad(x);
    for (int i = k - 1; i >= 0; i--) {
        nnf_tensor *in = i > 0 ? post[i - 1] : x;
        NNF_ASSERT_OK(nnf_linear_backward(in, pre[i], param(g, 'w', i), param(g, 'b', i), 1));
        if (i > 0)
            NNF_ASSERT_OK(nnf_relu_backward(pre[i - 1], post[i - 1]));
    }
    assert_grad(g, "x", x);
    for (int i = 0; i < k; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%d", i + 1);
        assert_grad(g, name, param(g, 'w', i));
        snprintf(name, sizeof name, "b%d", i + 1);
        assert_grad(g, name, param(g, 'b', i));
        nnf_tensor_free(pre[i]);
        nnf_tensor_free(post[i]);
    }
}

/* The same network as an nnf_model with the golden weights copied in. */
static nnf_model *golden_model(const golden *g, int ce)
{
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    NNF_ASSERT_OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    int k = count_layers(g);
    for (int i = 0; i < k; i++) {
        const nnf_tensor *w = param(g, 'w', i);
        nnf_layer *l = NULL;
        NNF_ASSERT_OK(nnf_layer_linear(&l, NULL, nnf_tensor_size(w, 1), nnf_tensor_size(w, 0),
                                       NNF_INIT_KAIMING));
        NNF_ASSERT_OK(nnf_copy(nnf_layer_parameter(l, 0), w));
        NNF_ASSERT_OK(nnf_copy(nnf_layer_parameter(l, 1), param(g, 'b', i)));
        NNF_ASSERT_OK(nnf_model_add(m, l));
        if (i < k - 1) {
            NNF_ASSERT_OK(nnf_layer_relu(&l));
            NNF_ASSERT_OK(nnf_model_add(m, l));
        }
    }
    return m;
}

static void check_model(const golden *g, int ce)
{
    nnf_model *m = golden_model(g, ce);
    nnf_tensor *x = golden_get(g, "x");
    nnf_zero_grad(x);
    float loss;
    NNF_ASSERT_OK(nnf_model_call(m, &loss, x, golden_get(g, "y")));
    assert_loss(loss, golden_get(g, "loss"));
    NNF_ASSERT_OK(nnf_model_backward(m));
    nnf_tensor *const *p = nnf_model_parameters(m);
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        char name[32];
        snprintf(name, sizeof name, "%c%d", i % 2 ? 'b' : 'w', i / 2 + 1);
        assert_grad(g, name, p[i]);
    }
    nnf_model_free(m);
}

static void run_case(const char *name, int ce)
{
    golden g;
    golden_load(&g, name);
    NNF_FOR_EACH_ISA(isa) {
        print_message("%s on %s: functional\n", name, nnf_isa_name(isa));
        check_functional(&g, ce);
        print_message("%s on %s: model\n", name, nnf_isa_name(isa));
        check_model(&g, ce);
    }
    nnf_test_restore_isa();
    golden_free(&g);
}

static void test_chapter(void **state)
{
    (void)state;
    run_case("chapter", 0);
}

static void test_classifier(void **state)
{
    (void)state;
    run_case("classifier", 1);
}

static void test_deep(void **state)
{
    (void)state;
    run_case("deep", 0);
}

/* Three torch.optim.SGD steps (lr 0.1, momentum 0.9, weight decay 0.01). */
static void test_classifier_sgd(void **state)
{
    (void)state;
    golden g;
    golden_load(&g, "classifier");
    NNF_FOR_EACH_ISA(isa) {
        print_message("classifier SGD on %s\n", nnf_isa_name(isa));
        nnf_model *m = golden_model(&g, 1);
        nnf_sgd *opt = NULL;
        NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m),
                                  0.1f, 0.9f, 0.01f));
        float losses[3];
        for (int s = 0; s < 3; s++) {
            NNF_ASSERT_OK(nnf_model_call(m, &losses[s], golden_get(&g, "x"), golden_get(&g, "y")));
            nnf_sgd_zero_grad(opt);
            NNF_ASSERT_OK(nnf_model_backward(m));
            NNF_ASSERT_OK(nnf_sgd_step(opt));
        }
        assert_matches("losses", losses, golden_get(&g, "sgd.losses"));
        nnf_tensor *const *p = nnf_model_parameters(m);
        for (int i = 0; i < nnf_model_num_parameters(m); i++) {
            char name[32];
            snprintf(name, sizeof name, "sgd.%c%d", i % 2 ? 'b' : 'w', i / 2 + 1);
            assert_matches(name, nnf_tensor_data(p[i]), golden_get(&g, name));
        }
        nnf_sgd_free(opt);
        nnf_model_free(m);
    }
    nnf_test_restore_isa();
    golden_free(&g);
}

/* Logits up to +-100: exp(100) overflows float32 without the log-sum-exp shift. */
static void test_ce_large_logits(void **state)
{
    (void)state;
    golden g;
    golden_load(&g, "ce_large");
    nnf_tensor *logits = golden_get(&g, "logits"), *y = golden_get(&g, "y");
    NNF_FOR_EACH_ISA(isa) {
        float loss;
        NNF_ASSERT_OK(nnf_cross_entropy(&loss, logits, y));
        assert_loss(loss, golden_get(&g, "loss"));
        nnf_zero_grad(logits);
        NNF_ASSERT_OK(nnf_cross_entropy_backward(logits, y));
        assert_grad(&g, "logits", logits);
    }
    nnf_test_restore_isa();
    golden_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chapter),
        cmocka_unit_test(test_classifier),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_classifier_sgd),
        cmocka_unit_test(test_ce_large_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
