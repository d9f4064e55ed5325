/* A Lin layer's prepacked weight: a model's prediction through it is bitwise the
 * prediction through the functional nnf_linear (unpacked); a weight written through
 * nnf_tensor_data, an SGD step or an npz load is seen by the next prediction; several
 * threads forwarding one layer at once, with the repack racing, all get the right bits;
 * and a row of a prediction is bitwise the same whatever the batch and its position. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "src/linalg/sgemm.h"
#include "src/nn/nn_internal.h"
#include "test_tmpdir.h"

enum { N_IN = 400, N_HID = 53, N_OUT = 10 };

static nnf_model *make_model(uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_model *m = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, NULL));
    NNF_ASSERT_OK(nnf_layer_linear(&l1, &rng, N_IN, N_HID, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &rng, N_HID, N_OUT, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    /* Biases that are not zero, so the bias path is checked too. */
    nnf_tensor *const *p = nnf_model_parameters(m);
    NNF_ASSERT_OK(nnf_fill(p[1], 0.25f));
    NNF_ASSERT_OK(nnf_fill(p[3], -0.125f));
    return m;
}

/* The model's function through the functional (never packed) nnf_linear. */
static nnf_tensor *reference(const nnf_model *m, const nnf_tensor *x)
{
    nnf_tensor *const *p = nnf_model_parameters(m);
    nnf_tensor *h = NULL, *r = NULL, *y = NULL;
    NNF_ASSERT_OK(nnf_linear(&h, x, p[0], p[1]));
    NNF_ASSERT_OK(nnf_relu(&r, h));
    NNF_ASSERT_OK(nnf_linear(&y, r, p[2], p[3]));
    nnf_tensor_free(h);
    nnf_tensor_free(r);
    return y;
}

static void assert_same(const nnf_tensor *a, const nnf_tensor *b)
{
    assert_int_equal(nnf_tensor_numel(a), nnf_tensor_numel(b));
    nnf_test_assert_bits_equal(nnf_tensor_const_data(a), nnf_tensor_const_data(b),
                               (size_t)nnf_tensor_numel(a));
}

/* Predicts twice (the second packs, if the first did not) and checks both. */
static void predict_checked(nnf_model *m, nnf_tensor *x)
{
    nnf_tensor *want = reference(m, x);
    for (int i = 0; i < 2; i++) {
        nnf_tensor *got = NULL;
        NNF_ASSERT_OK(nnf_model_infer(m, &got, x));
        assert_same(got, want);
    }
    assert_true(nnf__lin_is_packed(nnf_model_layer(m, 0)));
    assert_true(nnf__lin_is_packed(nnf_model_layer(m, 2)));
    nnf_tensor_free(want);
}

static void test_writes_are_seen(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_model *m = make_model(1), *other = make_model(2);
        nnf_tensor *x = NULL;
        NNF_ASSERT_OK(nnf_randn(&x, NULL, NNF_SHAPE(8, N_IN)));
        predict_checked(m, x);
        nnf_tensor *w = nnf_model_parameters(m)[0];
        /* A write through the pointer. */
        nnf_tensor_data(w)[5] += 1.0f;
        predict_checked(m, x);
        /* A pointer kept from earlier needs nnf_tensor_mark_modified. */
        float *kept = nnf_tensor_data(w);
        predict_checked(m, x);
        kept[7] -= 0.5f;
        nnf_tensor_mark_modified(w);
        predict_checked(m, x);
        /* An SGD step. */
        nnf_tensor *g = NULL;
        NNF_ASSERT_OK(nnf_tensor_grad_get(w, &g));
        NNF_ASSERT_OK(nnf_fill(g, 0.5f));
        nnf_sgd *opt = NULL;
        NNF_ASSERT_OK(nnf_sgd_new(&opt, 1, &w, 0.1f, 0.0f, 0.0f));
        NNF_ASSERT_OK(nnf_sgd_step(opt));
        predict_checked(m, x);
        nnf_sgd_free(opt);
        /* Loading another model's weights. */
        const char *path = tmp_path("other.npz");
        NNF_ASSERT_OK(nnf_model_save_npz(other, path));
        NNF_ASSERT_OK(nnf_model_load_npz(m, path));
        predict_checked(m, x);
        nnf_tensor *a = NULL, *b = NULL;
        NNF_ASSERT_OK(nnf_model_infer(m, &a, x));
        NNF_ASSERT_OK(nnf_clone(&a, a));
        NNF_ASSERT_OK(nnf_model_infer(other, &b, x));
        assert_same(a, b);
        nnf_tensor_free(a);
        nnf_tensor_free(x);
        nnf_model_free(m);
        nnf_model_free(other);
    }
}

/* Several threads predicting with one model at once (nnf_model_infer_into), after
 * every change of a weight: the first calls race to repack. */
typedef struct {
    nnf_model *model;
    const nnf_tensor *x;
    const nnf_tensor *want;
    int ok;
} worker;

static void *predict_many(void *arg)
{
    worker *wk = arg;
    wk->ok = 1;
    nnf_tensor *y = NULL;
    for (int i = 0; i < 20 && wk->ok; i++) {
        if (nnf_model_infer_into(wk->model, &y, wk->x) != NNF_OK)
            wk->ok = 0;
        else if (memcmp(nnf_tensor_const_data(y), nnf_tensor_const_data(wk->want),
                        (size_t)nnf_tensor_numel(y) * sizeof(float)) != 0)
            wk->ok = 0;
    }
    nnf_tensor_free(y);
    return NULL;
}

static void test_concurrent_predictions(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    nnf_model *m = make_model(3);
    nnf_tensor *w = nnf_model_parameters(m)[0], *w2 = nnf_model_parameters(m)[2];
    nnf_tensor *x = NULL;
    NNF_ASSERT_OK(nnf_randn(&x, NULL, NNF_SHAPE(5, N_IN)));
    for (int round = 0; round < 6; round++) {
        nnf_tensor_data(round % 2 ? w2 : w)[round] += 0.125f;
        nnf_tensor *want = reference(m, x);
        pthread_t t[THREADS];
        worker wk[THREADS];
        for (int i = 0; i < THREADS; i++) {
            wk[i] = (worker){m, x, want, 0};
            assert_int_equal(pthread_create(&t[i], NULL, predict_many, &wk[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            assert_true(wk[i].ok);
        }
        assert_true(nnf__lin_is_packed(nnf_model_layer(m, 0)));
        nnf_tensor_free(want);
    }
    /* Into an output of the wrong shape: an error, the output untouched. */
    nnf_tensor *bad = NULL;
    NNF_ASSERT_OK(nnf_zeros(&bad, NNF_SHAPE(5, N_OUT + 1)));
    NNF_ASSERT_FAILS(nnf_model_infer_into(m, &bad, x), NNF_ERR_SHAPE);
    assert_non_null(strstr(nnf_last_error(), "nnf_model_infer_into: out must have"));
    float sum = 0;
    nnf_tensor *s = NULL;
    NNF_ASSERT_OK(nnf_sum(&s, bad, 0, NULL, 0));
    NNF_ASSERT_OK(nnf_value(&sum, s));
    assert_true(sum == 0.0f);
    nnf_tensor_free(s);
    nnf_tensor_free(bad);
    nnf_tensor_free(x);
    nnf_model_free(m);
}

/* Row i of a model's prediction is bitwise the same for batches 1-9, 17, 64 and 4097
 * at any position, on every ISA, at 1 and 3 threads, before and after packing. */
static void test_prediction_batch_invariance(void **state)
{
    (void)state;
    enum { ROWS = 4097 };
    static const int64_t batches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, ROWS};
    nnf_model *m = make_model(4);
    nnf_tensor *x = NULL, *alone = NULL;
    NNF_ASSERT_OK(nnf_randn(&x, NULL, NNF_SHAPE(ROWS, N_IN)));
    NNF_ASSERT_OK(nnf_empty(&alone, NNF_SHAPE(ROWS, N_OUT)));
    nnf_isa start = nnf_isa_active();
    NNF_ASSERT_OK(nnf_isa_force(NNF_ISA_SCALAR));
    for (int64_t r = 0; r < ROWS; r++) {
        nnf_tensor *row = NULL, *got = NULL;
        NNF_ASSERT_OK(nnf_narrow(&row, x, 0, r, 1));
        NNF_ASSERT_OK(nnf_model_infer(m, &got, row));
        memcpy(nnf_tensor_data(alone) + r * N_OUT, nnf_tensor_const_data(got),
               N_OUT * sizeof(float));
        nnf_tensor_free(row);
    }
    NNF_ASSERT_OK(nnf_isa_force(start));
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 3; threads += 2) {
            nnf_test_threads(threads);
            nnf__sgemm_set_parallel_min_flops(threads > 1 ? 0.0 : -1.0);
            for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
                int64_t batch = batches[bi];
                int64_t firsts[3] = {0, (ROWS - batch) / 3 | 1, ROWS - batch};
                for (int f = 0; f < (batch == ROWS ? 1 : 3); f++) {
                    nnf_tensor *rows = NULL;
                    NNF_ASSERT_OK(nnf_narrow(&rows, x, 0, firsts[f], batch));
                    /* Unpacked first (a new version), then packed. */
                    nnf_tensor_mark_modified(nnf_model_parameters(m)[0]);
                    nnf_tensor_mark_modified(nnf_model_parameters(m)[2]);
                    for (int pass = 0; pass < 2; pass++) {
                        nnf_tensor *got = NULL;
                        NNF_ASSERT_OK(nnf_model_infer(m, &got, rows));
                        nnf_test_assert_bits_equal(nnf_tensor_const_data(got),
                                                   nnf_tensor_const_data(alone) +
                                                       firsts[f] * N_OUT,
                                                   (size_t)(batch * N_OUT));
                    }
                    nnf_tensor_free(rows);
                }
            }
        }
        nnf_test_threads(1);
        nnf__sgemm_set_parallel_min_flops(-1.0);
    }
    nnf_tensor_free(x);
    nnf_tensor_free(alone);
    nnf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_are_seen),
        cmocka_unit_test(test_concurrent_predictions),
        cmocka_unit_test(test_prediction_batch_invariance),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
