/* Layer functions, the sequential model and SGD: a user-defined ReLU trains exactly like
 * the built-in one; the model's gradients equal the functional chain's; no allocation
 * after the first step; the same bits on every ISA and thread count; errors. */
#include "test_nn_util.h"

#include "src/core/alloc.h"

/* ---- The chapter's MyRelu, through the public interface alone ---- */

typedef struct my_relu {
    nnf_tensor *zero;   /* 0, broadcast against the input */
    nnf_tensor *positive, *mask;
} my_relu;

static nnf_status my_relu_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    nnf_status st = nnf_layer_save_for_backward(self, 1, &in);   /* ctx.save_for_backward(i) */
    return st != NNF_OK ? st : nnf_relu(out, in);                 /* i.clamp_min(0.) */
}

/* grad_output * (i > 0).float() */
static nnf_status my_relu_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                   nnf_tensor *in_grad)
{
    if (in_grad == NULL)
        return NNF_OK;
    my_relu *s = nnf_layer_state(self);
    const nnf_tensor *i = nnf_layer_saved(self, 0);
    if (s->mask != NULL && nnf_tensor_numel(s->mask) != nnf_tensor_numel(i)) {
        nnf_tensor_free(s->positive);
        nnf_tensor_free(s->mask);
        s->positive = s->mask = NULL;
    }
    nnf_status st = nnf_gt(&s->positive, i, s->zero);
    if (st == NNF_OK && s->mask == NULL)
        st = nnf_empty_like(&s->mask, i);
    if (st == NNF_OK)
        st = nnf_copy(s->mask, s->positive);   /* bool -> float */
    if (st == NNF_OK)
        st = nnf_mul(&in_grad, out_grad, s->mask);
    return st;
}

static void my_relu_destroy(void *state)
{
    my_relu *s = state;
    nnf_tensor_free(s->zero);
    nnf_tensor_free(s->positive);
    nnf_tensor_free(s->mask);
    free(s);
}

static const nnf_layer_fn my_relu_fn = {"MyRelu", my_relu_forward, my_relu_backward, NULL,
                                        my_relu_destroy};

static nnf_layer *new_my_relu(void)
{
    my_relu *s = calloc(1, sizeof *s);
    assert_non_null(s);
    NNF_ASSERT_OK(nnf_zeros(&s->zero, NNF_SHAPE(1)));
    nnf_layer *l = NULL;
    NNF_ASSERT_OK(nnf_layer_new(&l, &my_relu_fn, s));
    return l;
}

/* ---- Models ---- */

enum { RELU_BUILTIN, RELU_MINE };

/* n_in -> hidden -> ReLU -> n_out with the loss; weights from `seed`. */
static nnf_model *new_mlp(int64_t n_in, int64_t hidden, int64_t n_out, int ce, int relu,
                          uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_loss *loss = NULL;
    NNF_ASSERT_OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    nnf_model *m = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    NNF_ASSERT_OK(nnf_layer_linear(&l1, &rng, n_in, hidden, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l1));
    if (relu == RELU_MINE)
        act = new_my_relu();
    else
        NNF_ASSERT_OK(nnf_layer_relu(&act));
    NNF_ASSERT_OK(nnf_model_add(m, act));
    NNF_ASSERT_OK(nnf_layer_linear(&l2, &rng, hidden, n_out, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l2));
    return m;
}

/* `steps` steps of SGD on one batch; losses[] gets each step's loss. */
static void train(nnf_model *m, nnf_tensor *x, const nnf_tensor *y, int steps, float lr,
                  float momentum, float wd, float *losses)
{
    nnf_sgd *opt = NULL;
    NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), lr,
                              momentum, wd));
    for (int s = 0; s < steps; s++) {
        NNF_ASSERT_OK(nnf_model_call(m, &losses[s], x, y));
        nnf_sgd_zero_grad(opt);
        NNF_ASSERT_OK(nnf_model_backward(m));
        NNF_ASSERT_OK(nnf_sgd_step(opt));
    }
    nnf_sgd_free(opt);
}

/* y = sum of squares of x's 4 features: something a 4 -> 16 -> 1 ReLU net can fit. */
static void regression_data(nnf_tensor **x, nnf_tensor **y, int64_t n)
{
    *x = nn_uniform(NNF_SHAPE(n, 4), 77, -1, 1);
    NNF_ASSERT_OK(nnf_empty(y, NNF_SHAPE(n)));
    const float *xp = nnf_tensor_data(*x);
    float *yp = nnf_tensor_data(*y);
    for (int64_t i = 0; i < n; i++)
        yp[i] = xp[4 * i] * xp[4 * i] + xp[4 * i + 1] * xp[4 * i + 1] - xp[4 * i + 2] * xp[4 * i + 3];
}

static void test_my_relu_trains(void **state)
{
    (void)state;
    enum { steps = 150 };
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x, *y;
        regression_data(&x, &y, 64);
        nnf_model *mine = new_mlp(4, 16, 1, 0, RELU_MINE, 5);
        nnf_model *builtin = new_mlp(4, 16, 1, 0, RELU_BUILTIN, 5);
        float lm[steps], lb[steps];
        train(mine, x, y, steps, 0.05f, 0.9f, 0.0f, lm);
        train(builtin, x, y, steps, 0.05f, 0.9f, 0.0f, lb);
        if (!(lm[steps - 1] < 0.1f * lm[0]))
            fail_msg("MyRelu model did not learn: loss %g -> %g", (double)lm[0],
                     (double)lm[steps - 1]);
        /* the same function and the same gradients: the same training, bit for bit */
        nnf_test_assert_bits_equal(lm, lb, steps);
        for (int p = 0; p < nnf_model_num_parameters(mine); p++) {
            const nnf_tensor *a = nnf_model_parameters(mine)[p],
                             *b = nnf_model_parameters(builtin)[p];
            nnf_test_assert_bits_equal(nnf_tensor_data(a), nnf_tensor_data(b),
                                       (size_t)nnf_tensor_numel(a));
        }
        nnf_model_free(mine);
        nnf_model_free(builtin);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    nnf_test_restore_isa();
}

/* Every parameter gets a gradient of `g0` in every element. */
static void fill_grads(int n, nnf_tensor *const *p, float g0)
{
    for (int i = 0; i < n; i++) {
        nnf_tensor *g = NULL;
        NNF_ASSERT_OK(nnf_tensor_grad_get(p[i], &g));
        NNF_ASSERT_OK(nnf_fill(g, g0));
    }
}

/* The chapter's forward_and_backward on copies of the model's parameters p (their
 * gradients filled with *g0 first unless g0 is NULL): asserts that each copy's gradient
 * is the model's, bit for bit, and returns the loss. */
static float functional_step(nnf_tensor *const *p, nnf_tensor *x, const nnf_tensor *y, int ce,
                             const float *g0)
{
    nnf_tensor *w[4], *l1 = NULL, *l2 = NULL, *out = NULL;
    for (int i = 0; i < 4; i++)
        NNF_ASSERT_OK(nnf_clone(&w[i], p[i]));
    if (g0 != NULL)
        fill_grads(4, w, *g0);
    NNF_ASSERT_OK(nnf_linear(&l1, x, w[0], w[1]));
    NNF_ASSERT_OK(nnf_relu(&l2, l1));
    NNF_ASSERT_OK(nnf_linear(&out, l2, w[2], w[3]));
    float loss;
    NNF_ASSERT_OK(ce ? nnf_cross_entropy(&loss, out, y) : nnf_mse(&loss, out, y));
    NNF_ASSERT_OK(ce ? nnf_cross_entropy_backward(out, y) : nnf_mse_backward(out, y));
    NNF_ASSERT_OK(nnf_linear_backward(l2, out, w[2], w[3], 1));
    NNF_ASSERT_OK(nnf_relu_backward(l1, l2));
    NNF_ASSERT_OK(nnf_linear_backward(x, l1, w[0], w[1], 0));
    for (int i = 0; i < 4; i++) {
        nnf_test_assert_bits_equal(nn_grad(p[i]), nn_grad(w[i]), (size_t)nnf_tensor_numel(p[i]));
        nnf_tensor_free(w[i]);
    }
    nnf_tensor_free(l1);
    nnf_tensor_free(l2);
    nnf_tensor_free(out);
    return loss;
}

/* The model's backward equals the chapter's functional chain, bit for bit: same ops. */
static void test_model_matches_functional(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int ce = 0; ce <= 1; ce++) {
            nnf_model *m = new_mlp(12, 9, ce ? 4 : 1, ce, RELU_BUILTIN, 3);
            nnf_tensor *x = nn_uniform(NNF_SHAPE(10, 12), 8, -1, 1);
            nnf_tensor *y = ce ? nn_labels(10, 4, 9) : nn_uniform(NNF_SHAPE(10), 9, -1, 1);
            float loss;
            NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
            NNF_ASSERT_OK(nnf_model_backward(m));
            assert_null(nnf_tensor_grad(x));   /* the data needs no gradient */
            assert_int_equal(nnf_model_num_parameters(m), 4);
            nnf_tensor *const *p = nnf_model_parameters(m);
            assert_int_equal(nnf_tensor_size(p[0], 0), 9);   /* w1: n_out x n_in */
            assert_int_equal(nnf_tensor_size(p[0], 1), 12);
            assert_int_equal(nnf_tensor_size(p[1], 0), 9);

            /* the chapter's forward_and_backward on copies of the weights */
            float floss = functional_step(p, x, y, ce, NULL);
            nnf_test_assert_bits_equal(&floss, &loss, 1);
            /* a second step with fresh parameter gradients gives the same again: the
             * activations' gradients were overwritten, not added to */
            float *first = nn_copy_floats(nnf_tensor_grad(p[0]));
            nnf_model_zero_grad(m);
            NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
            NNF_ASSERT_OK(nnf_model_backward(m));
            nnf_test_assert_bits_equal(nn_grad(p[0]), first, 9 * 12);
            /* without zero_grad they add up */
            NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
            NNF_ASSERT_OK(nnf_model_backward(m));
            for (int i = 0; i < 9 * 12; i++)
                assert_true(nn_grad(p[0])[i] == 2 * first[i]);
            free(first);
            nnf_tensor_free(x);
            nnf_tensor_free(y);
            nnf_model_free(m);
        }
    }
    nnf_test_restore_isa();
}

/* x (64 x 12) with what makes sums of -0 in the gradients: columns 0 and 1 are 0 but
 * for +-the smallest subnormal in the last row of each micro-batch of 32 (its product
 * with a gradient rounds to a zero of the product's sign, and so does the micro-batch's
 * sum: the weight gradient's columns 0 or 1 end in -0 wherever a hidden unit's two
 * gradients there share a sign); column 4 -0. With `nan_inf`, a signalling NaN with a
 * payload in row 2 and inf in row 3 instead (NaN then reaches every weight gradient). */
static nnf_tensor *special_x(int nan_inf)
{
    nnf_tensor *x = nn_uniform(NNF_SHAPE(64, 12), 8, -1, 1);
    float *p = nnf_tensor_data(x);
    const uint32_t snan = 0x7F800123u;
    for (int64_t i = 0; i < 64 && !nan_inf; i++) {
        int last = i % 32 == 31;
        p[i * 12] = last ? 1e-45f : 0.0f;
        p[i * 12 + 1] = last ? -1e-45f : 0.0f;
        p[i * 12 + 4] = -0.0f;
    }
    if (nan_inf) {
        memcpy(&p[2 * 12 + 5], &snan, sizeof snan);
        p[3 * 12 + 7] = INFINITY;
    }
    return x;
}

/* The model's backward from gradients holding g0 (after a forward on x, y) has the
 * functional chain's bits from g0; frees m, x and y. */
static void backward_and_compare(nnf_model *m, nnf_tensor *x, nnf_tensor *y, float g0)
{
    NNF_ASSERT_OK(nnf_model_backward(m));
    (void)functional_step(nnf_model_parameters(m), x, y, 0, &g0);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_model_free(m);
}

/* The model's backward on +0 gradients runs in place (nnf__grad_txn_begin_sums) and gives
 * the bits of the transaction through scratch that the functional chain takes, with
 * -0 sums, NaN payloads and infinities in play; gradients holding -0 take the scratch
 * path and get -0 + S. */
static void test_grads_in_place(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int run = 0; run < 4; run++) {
            const float g0 = run % 2 ? -0.0f : 0.0f;
            nnf_model *m = new_mlp(12, 9, 1, 0, RELU_BUILTIN, 3);
            nnf_tensor *x = special_x(run / 2), *y = nn_uniform(NNF_SHAPE(64), 9, -1, 1);
            nnf_tensor *const *p = nnf_model_parameters(m);
            float loss;
            NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
            fill_grads(4, p, g0);
            backward_and_compare(m, x, y, g0);
        }
    }
    nnf_test_restore_isa();
}

/* nnf_zero_grad records that the gradients are +0, so that the backward runs in place
 * without scanning them; a write after it, by any path, must end that: the backward
 * then adds to what was written, as the functional chain does. -0 tells the paths apart
 * (in place, -0 sums would stay -0; through the scratch, -0 + +0 is +0). */
static void test_grads_written_after_zero_grad(void **state)
{
    (void)state;
    static const float values[] = {-0.0f, 0.25f};
    NNF_FOR_EACH_ISA(isa) {
        for (int way = 0; way < 5; way++) {
            for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
                const float g0 = values[v];
                nnf_model *m = new_mlp(12, 9, 1, 0, RELU_BUILTIN, 3);
                nnf_tensor *x = special_x(0), *y = nn_uniform(NNF_SHAPE(64), 9, -1, 1);
                nnf_tensor *const *p = nnf_model_parameters(m);
                float loss, *early[4];
                fill_grads(4, p, 1.0f);
                for (int i = 0; i < 4; i++)
                    early[i] = nnf_tensor_data(nnf_tensor_grad(p[i]));
                nnf_model_zero_grad(m);
                NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
                for (int i = 0; i < 4; i++) {
                    nnf_tensor *g = nnf_tensor_grad(p[i]), *view = NULL;
                    size_t n = (size_t)nnf_tensor_numel(g);
                    if (way == 0) {   /* the writable pointer, handed out after zero_grad */
                        float *d = nnf_tensor_data(g);
                        for (size_t j = 0; j < n; j++)
                            d[j] = g0;
                    } else if (way == 1) {   /* an op */
                        NNF_ASSERT_OK(nnf_fill(g, g0));
                    } else if (way == 2) {   /* an op into another handle on the storage */
                        NNF_ASSERT_OK(nnf_view(&view, g, NNF_SHAPE((int64_t)n)));
                        NNF_ASSERT_OK(nnf_fill(view, g0));
                    } else if (way == 3) {   /* the raw pointer */
                        float *d = nnf_tensor_raw(g);
                        for (size_t j = 0; j < n; j++)
                            d[j] = g0;
                    } else {   /* a pointer kept from before zero_grad, reported */
                        for (size_t j = 0; j < n; j++)
                            early[i][j] = g0;
                        nnf_tensor_mark_modified(g);
                    }
                    nnf_tensor_free(view);
                }
                backward_and_compare(m, x, y, g0);
            }
        }
    }
    nnf_test_restore_isa();
}

/* A backward that fails part-way through the in-place transaction leaves +0 gradients
 * +0, bit for bit, and one that succeeds afterwards gives the same gradients as without
 * the failure. */
static void test_grads_in_place_failure(void **state)
{
    (void)state;
    nnf_tensor *x = nn_uniform(NNF_SHAPE(40, 12), 8, -1, 1), *y = nn_uniform(NNF_SHAPE(40), 9, -1, 1);
    nnf_model *ref = new_mlp(12, 9, 1, 0, RELU_BUILTIN, 3);
    float loss;
    NNF_ASSERT_OK(nnf_model_call(ref, &loss, x, y));
    NNF_ASSERT_OK(nnf_model_backward(ref));
    int failed = 0, succeeded = 0;
    for (long k = 1; k < 100 && !succeeded; k++) {
        nnf_model *m = new_mlp(12, 9, 1, 0, RELU_BUILTIN, 3);
        nnf_tensor *const *p = nnf_model_parameters(m);
        NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
        fill_grads(4, p, 0.0f);
        nnf__alloc_fail_after(k);
        nnf_status st = nnf_model_backward(m);
        nnf__alloc_fail_after(0);
        for (int i = 0; i < 4; i++) {
            const float *g = nn_grad(p[i]);
            if (st == NNF_OK) {
                nnf_test_assert_bits_equal(g, nn_grad(nnf_model_parameters(ref)[i]),
                                           (size_t)nnf_tensor_numel(p[i]));
                continue;
            }
            for (int64_t j = 0; j < nnf_tensor_numel(p[i]); j++) {
                uint32_t bits;
                memcpy(&bits, &g[j], sizeof bits);
                assert_int_equal(bits, 0);
            }
        }
        if (st != NNF_OK) {
            assert_int_equal(st, NNF_ERR_NOMEM);
            failed++;
            NNF_ASSERT_OK(nnf_model_backward(m));   /* the retry adds nothing twice */
            for (int i = 0; i < 4; i++)
                nnf_test_assert_bits_equal(nn_grad(p[i]),
                                           nn_grad(nnf_model_parameters(ref)[i]),
                                           (size_t)nnf_tensor_numel(p[i]));
        }
        succeeded = st == NNF_OK;
        nnf_model_free(m);
    }
    assert_true(failed > 0 && succeeded);
    nnf_model_free(ref);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
}

/* A Relu behind a Lin runs in place on the Lin's output: both layers' outputs are then
 * relu(x @ w.t() + b), bit for bit as nnf_linear and nnf_relu give it (NaN, inf and -0
 * included: special_x), in one buffer. A Relu first in a model, and one called on its
 * own, leave their input alone; nnf_model_infer_into agrees with the model's forward. */
static void test_relu_in_place(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int nan_inf = 0; nan_inf <= 1; nan_inf++) {
            nnf_model *m = new_mlp(12, 9, 1, 0, RELU_BUILTIN, 3);
            nnf_tensor *x = special_x(nan_inf), *pred = NULL, *l1 = NULL, *h = NULL;
            NNF_ASSERT_OK(nnf_model_infer(m, &pred, x));
            nnf_tensor *const *p = nnf_model_parameters(m);
            NNF_ASSERT_OK(nnf_linear(&l1, x, p[0], p[1]));
            NNF_ASSERT_OK(nnf_relu(&h, l1));
            const nnf_tensor *lin_out = nnf_layer_output(nnf_model_layer(m, 0));
            const nnf_tensor *act_out = nnf_layer_output(nnf_model_layer(m, 1));
            assert_true(nnf_tensor_shares_storage(lin_out, act_out));
            nnf_test_assert_bits_equal(nnf_tensor_const_data(act_out), nnf_tensor_const_data(h),
                                       (size_t)nnf_tensor_numel(h));
            nnf_tensor *again = NULL;
            NNF_ASSERT_OK(nnf_model_infer_into(m, &again, x));
            nnf_test_assert_bits_equal(nnf_tensor_const_data(again), nnf_tensor_const_data(pred),
                                       (size_t)nnf_tensor_numel(pred));
            /* its backward too: the output's gradient is the input's storage, through
             * batch sizes that remake the outputs, with the functional chain's bits */
            static const int64_t rows[] = {64, 31, 64};
            for (size_t b = 0; b < sizeof rows / sizeof *rows; b++) {
                nnf_tensor *xb, *yb = nn_uniform(NNF_SHAPE(rows[b]), 9, -1, 1);
                float loss;
                NNF_ASSERT_OK(nnf_narrow(&xb, x, 0, 0, rows[b]));
                nnf_model_zero_grad(m);
                NNF_ASSERT_OK(nnf_model_call(m, &loss, xb, yb));
                NNF_ASSERT_OK(nnf_model_backward(m));
                const nnf_tensor *lo = nnf_layer_output(nnf_model_layer(m, 0));
                const nnf_tensor *ao = nnf_layer_output(nnf_model_layer(m, 1));
                assert_true(nnf_tensor_shares_storage(nnf_tensor_grad(lo), nnf_tensor_grad(ao)));
                float floss = functional_step(p, xb, yb, 0, NULL);
                nnf_test_assert_bits_equal(&floss, &loss, 1);
                nnf_tensor_free(xb);
                nnf_tensor_free(yb);
            }
            NNF_TEST_FREE(x, l1, h, again);
            nnf_model_free(m);
        }
    }
    nnf_test_restore_isa();

    nnf_model *m = NULL;
    nnf_layer *first = NULL, *alone = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, NULL));
    NNF_ASSERT_OK(nnf_layer_relu(&first));
    NNF_ASSERT_OK(nnf_model_add(m, first));
    NNF_ASSERT_OK(nnf_layer_relu(&alone));
    nnf_tensor *x = nn_uniform(NNF_SHAPE(4, 5), 6, -1, 1), *out = NULL;
    float *before = nn_copy_floats(x);
    NNF_ASSERT_OK(nnf_model_infer(m, &out, x));
    NNF_ASSERT_OK(nnf_layer_call(alone, &out, x));
    nnf_test_assert_bits_equal(nnf_tensor_const_data(x), before, 20);
    free(before);
    nnf_tensor_free(x);
    nnf_layer_free(alone);
    nnf_model_free(m);
}

/* Layers chained by hand, as in the chapter's Model.backward. */
static void test_layers_by_hand(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 4);
        nnf_layer *lin = NULL, *relu = NULL;
        nnf_loss *mse = NULL;
        NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 6, 1, NNF_INIT_XAVIER));
        NNF_ASSERT_OK(nnf_layer_relu(&relu));
        NNF_ASSERT_OK(nnf_loss_mse(&mse));
        nnf_tensor *x = nn_uniform(NNF_SHAPE(5, 6), 1, -1, 1);
        nnf_tensor *y = nn_uniform(NNF_SHAPE(5), 2, 0, 1);
        float *first = NULL;
        for (int step = 0; step < 2; step++) {
            nnf_tensor *a, *out;
            float loss;
            NNF_ASSERT_OK(nnf_layer_call(relu, &a, x));
            NNF_ASSERT_OK(nnf_layer_call(lin, &out, a));
            assert_ptr_equal(nnf_layer_input(lin), a);
            assert_ptr_equal(nnf_layer_output(lin), out);
            NNF_ASSERT_OK(nnf_loss_call(mse, &loss, out, y));
            nnf_zero_grad(nnf_layer_parameter(lin, 0));
            nnf_zero_grad(nnf_layer_parameter(lin, 1));
            NNF_ASSERT_OK(nnf_loss_backward(mse));
            NNF_ASSERT_OK(nnf_layer_backward(lin, 1));
            NNF_ASSERT_OK(nnf_layer_backward(relu, 1));
            /* forward zeroed the outputs' old gradients, so step 2 equals step 1 (up to
             * the sign of zero: step 2 adds into those zeros, 0 + -0 = +0) */
            if (step == 0)
                first = nn_copy_floats(nnf_tensor_grad(x));
            else
                for (int i = 0; i < 30; i++)
                    assert_true(nn_grad(x)[i] == first[i]);
            nnf_zero_grad(x);
        }
        assert_null(nnf_layer_parameter(lin, 2));
        assert_null(nnf_layer_parameter(relu, 0));
        assert_string_equal(nnf_layer_name(lin), "Lin");
        assert_string_equal(nnf_loss_name(mse), "Mse");
        free(first);
        nnf_layer_free(lin);
        nnf_layer_free(relu);
        nnf_loss_free(mse);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    nnf_test_restore_isa();
}

/* A smaller last batch reallocates once and computes the right thing. */
static void test_batch_shape_changes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_model *m = new_mlp(6, 5, 3, 1, RELU_BUILTIN, 11);
        nnf_tensor *x = nn_uniform(NNF_SHAPE(8, 6), 3, -1, 1), *y = nn_labels(8, 3, 4);
        nnf_tensor *xs = NULL, *ys = NULL;
        NNF_ASSERT_OK(nnf_narrow(&xs, x, 0, 3, 5));
        NNF_ASSERT_OK(nnf_narrow(&ys, y, 0, 3, 5));
        nnf_tensor *bxs[3] = {x, xs, x};
        const nnf_tensor *bys[3] = {y, ys, y};
        for (int b = 0; b < 3; b++) {
            nnf_tensor *bx = bxs[b];
            const nnf_tensor *by = bys[b];
            float loss, want;
            NNF_ASSERT_OK(nnf_model_call(m, &loss, bx, by));
            nnf_tensor *out = nnf_layer_output(nnf_model_layer(m, 2));
            assert_int_equal(nnf_tensor_size(out, 0), nnf_tensor_size(bx, 0));
            NNF_ASSERT_OK(nnf_cross_entropy(&want, out, by));
            nnf_test_assert_bits_equal(&loss, &want, 1);
            NNF_ASSERT_OK(nnf_model_backward(m));
        }
        NNF_TEST_FREE(x, y, xs, ys);
        nnf_model_free(m);
    }
    nnf_test_restore_isa();
}

/* The tensors a step writes, by identity: each layer's output and its gradient, and
 * each parameter's gradient. */
static void step_tensors(nnf_model *m, const nnf_tensor **t, int *n)
{
    *n = 0;
    for (int i = 0; i < nnf_model_num_layers(m); i++) {
        const nnf_tensor *out = nnf_layer_output(nnf_model_layer(m, i));
        t[(*n)++] = out;
        t[(*n)++] = nnf_tensor_grad(out);
    }
    for (int i = 0; i < nnf_model_num_parameters(m); i++)
        t[(*n)++] = nnf_tensor_grad(nnf_model_parameters(m)[i]);
}

/* No allocation per training step after the first, in the strict form: with every
 * later allocation failing, steps still succeed, write into the same tensors
 * (activations, their gradients, the parameters' gradients, the optimiser's buffers)
 * and keep the live block count. */
static void test_buffers_reused(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int ce = 0; ce <= 1; ce++) {
            nnf_model *m = new_mlp(20, 16, ce ? 10 : 1, ce, RELU_BUILTIN, 2);
            nnf_tensor *x = nn_uniform(NNF_SHAPE(32, 20), 5, -1, 1);
            nnf_tensor *y = ce ? nn_labels(32, 10, 6) : nn_uniform(NNF_SHAPE(32), 6, -1, 1);
            nnf_sgd *opt = NULL;
            NNF_ASSERT_OK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m),
                                      0.01f, 0.9f, 1e-4f));
            const nnf_tensor *first[16], *now[16];
            int n_first = 0, n_now = 0;
            long live = 0;
            for (int step = 0; step < 4; step++) {
                float loss;
                if (step > 0)
                    nnf__alloc_fail_after(1);
                NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
                nnf_sgd_zero_grad(opt);
                NNF_ASSERT_OK(nnf_model_backward(m));
                NNF_ASSERT_OK(nnf_sgd_step(opt));
                nnf__alloc_fail_after(0);
                if (step == 0) {
                    step_tensors(m, first, &n_first);
                    live = nnf__alloc_live();
                    continue;
                }
                step_tensors(m, now, &n_now);
                assert_int_equal(n_now, n_first);
                for (int i = 0; i < n_now; i++)
                    assert_ptr_equal(now[i], first[i]);
                assert_int_equal(nnf__alloc_live(), live);
            }
            nnf_sgd_free(opt);
            nnf_model_free(m);
            nnf_tensor_free(x);
            nnf_tensor_free(y);
        }
    }
    nnf_test_restore_isa();
}

/* The strict form for the Lin layer (every product one nnf_sgemm, the bias through a
 * cached row of ones): after the first step, with every allocation failing, forward
 * (x @ w.t(), which packs a B panel) and backward (w.g += g^T @ x, b.g += ones @ g)
 * still succeed on every ISA. (x's gradient is left out: nnf_layer_backward adds it
 * to x.g through a fresh temporary by design; inside a model it is overwritten.) */
static void test_lin_allocates_nothing(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 7);
        nnf_layer *lin = NULL;
        NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 784, 10, NNF_INIT_KAIMING));
        nnf_tensor *x = nn_uniform(NNF_SHAPE(5, 784), 8, -1, 1);
        long live = 0;
        for (int step = 0; step < 4; step++) {
            if (step == 1)
                live = nnf__alloc_live();
            if (step > 0)
                nnf__alloc_fail_after(1);
            nnf_tensor *out = NULL, *g = NULL;
            nnf_status st = nnf_layer_call(lin, &out, x);
            if (st == NNF_OK)
                st = nnf_tensor_grad_get(out, &g);
            if (st == NNF_OK)
                st = nnf_fill(g, 0.5f);
            if (st == NNF_OK)
                st = nnf_layer_backward(lin, 0);
            nnf__alloc_fail_after(0);
            NNF_ASSERT_OK(st);
            if (step > 0)
                assert_int_equal(nnf__alloc_live(), live);
        }
        nnf_layer_free(lin);
        nnf_tensor_free(x);
    }
    nnf_test_restore_isa();
}

/* A few steps of training give the same bits on every ISA and with 1 or 2 threads. */
static void test_reproducible(void **state)
{
    (void)state;
    enum { steps = 4, n = 256, in = 64, hidden = 96, classes = 10 };
    float *ref = NULL;
    size_t ref_n = 0;
    const char *ref_name = NULL;
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            nnf_model *m = new_mlp(in, hidden, classes, 1, RELU_BUILTIN, 21);
            nnf_tensor *x = nn_uniform(NNF_SHAPE(n, in), 22, -1, 1), *y = nn_labels(n, classes, 23);
            float losses[steps];
            train(m, x, y, steps, 0.1f, 0.9f, 1e-3f, losses);
            size_t total = steps;
            for (int p = 0; p < nnf_model_num_parameters(m); p++)
                total += (size_t)nnf_tensor_numel(nnf_model_parameters(m)[p]);
            float *got = malloc(total * sizeof *got), *at = got + steps;
            memcpy(got, losses, sizeof losses);
            for (int p = 0; p < nnf_model_num_parameters(m); p++) {
                const nnf_tensor *t = nnf_model_parameters(m)[p];
                memcpy(at, nnf_tensor_data(t), (size_t)nnf_tensor_numel(t) * sizeof *at);
                at += nnf_tensor_numel(t);
            }
            if (!nnf_test_isa_exact()) {
                free(got);   /* not compared across ISAs (nnf_test_isa_exact) */
            } else if (ref == NULL) {
                ref = got;
                ref_n = total;
                ref_name = nnf_isa_name(isa);
            } else {
                assert_int_equal(total, ref_n);
                print_message("%s, %d thread(s) vs %s, 1 thread\n", nnf_isa_name(isa), threads,
                              ref_name);
                nnf_test_assert_bits_equal(got, ref, total);
                free(got);
            }
            nnf_model_free(m);
            nnf_tensor_free(x);
            nnf_tensor_free(y);
        }
    }
    free(ref);
    nnf_test_threads(1);
    nnf_test_restore_isa();
}

/* torch.optim.SGD's update, step by step, against doubles. */
static void test_sgd(void **state)
{
    (void)state;
    enum { n = 6 };
    NNF_FOR_EACH_ISA(isa) {
        for (int variant = 0; variant < 2; variant++) {
            float lr = 0.1f, mom = variant ? 0.9f : 0.0f, wd = variant ? 0.01f : 0.0f;
            nnf_tensor *p = nn_uniform(NNF_SHAPE(2, 3), 51, -1, 1);
            nnf_tensor *g = nn_uniform(NNF_SHAPE(2, 3), 52, -1, 1);
            nnf_sgd *opt = NULL;
            NNF_ASSERT_OK(nnf_sgd_new(&opt, 1, &p, lr, mom, wd));
            double want[n], v[n] = {0};
            for (int i = 0; i < n; i++)
                want[i] = nnf_tensor_data(p)[i];
            NNF_ASSERT_OK(nnf_sgd_step(opt));   /* no gradient yet: no change */
            nnf_test_assert_close(nnf_tensor_data(p), want, n, 0, 0);
            for (int s = 0; s < 3; s++) {
                nn_set_grad(p, g);
                NNF_ASSERT_OK(nnf_sgd_step(opt));
                for (int i = 0; i < n; i++) {
                    double d = nnf_tensor_data(g)[i] + (double)wd * want[i];
                    v[i] = s == 0 ? d : mom * v[i] + d;
                    want[i] -= (double)lr * (mom != 0.0f ? v[i] : d);
                }
                nnf_test_assert_close(nnf_tensor_data(p), want, n, 1e-6, 1e-6);
            }
            if (variant == 0) {   /* plain SGD is p - lr * g in float, exactly */
                float q[n], *pp = nnf_tensor_data(p);
                const float *gp = nnf_tensor_data(g);
                for (int i = 0; i < n; i++)
                    q[i] = pp[i] - lr * gp[i];
                NNF_ASSERT_OK(nnf_sgd_step(opt));
                nnf_test_assert_bits_equal(pp, q, n);
            }
            NNF_ASSERT_OK(nnf_sgd_set_lr(opt, 0.5f));
            nnf_sgd_zero_grad(opt);
            for (int i = 0; i < n; i++)
                assert_true(nn_grad(p)[i] == 0.0f);
            nnf_sgd_free(opt);
            nnf_tensor_free(p);
            nnf_tensor_free(g);
        }
    }
    nnf_test_restore_isa();
}

/* Plain SGD is p - lr * g in float with the product rounded first, whichever path the
 * step takes: its own call of the kernel (small contiguous parameters), or the
 * elementwise engine (a transposed view; a parameter of 2^16 elements and more, which
 * the engine may split across threads). */
static void test_sgd_paths(void **state)
{
    (void)state;
    const float lr = 0.1f;
    nnf_tensor *base = nn_uniform(NNF_SHAPE(3, 5), 53, -1, 1);
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            for (int path = 0; path < 3; path++) {
                nnf_tensor *p = NULL, *view = NULL;
                if (path == 0)
                    p = nn_uniform(NNF_SHAPE(5, 3), 54, -1, 1);
                else if (path == 1)
                    NNF_ASSERT_OK(nnf_transpose(&p, base, 0, 1));
                else
                    p = nn_uniform(NNF_SHAPE((1 << 16) + 3), 55, -1, 1);
                nnf_tensor *g = nn_uniform(nnf_tensor_ndim(p), nnf_tensor_shape(p), 56, -4, 4);
                nn_set_grad(p, g);
                NNF_ASSERT_OK(nnf_contiguous(&view, p));   /* p's values, in p's order */
                const size_t n = (size_t)nnf_tensor_numel(p);
                const float *pv = nnf_tensor_const_data(view), *gv = nnf_tensor_const_data(g);
                float *want = malloc(n * sizeof *want);
                for (size_t i = 0; i < n; i++)
                    want[i] = pv[i] - lr * gv[i];
                nnf_sgd *opt = NULL;
                NNF_ASSERT_OK(nnf_sgd_new(&opt, 1, &p, lr, 0.0f, 0.0f));
                NNF_ASSERT_OK(nnf_sgd_step(opt));
                nnf_tensor *got = NULL;
                NNF_ASSERT_OK(nnf_contiguous(&got, p));
                nnf_test_assert_bits_equal(nnf_tensor_const_data(got), want, n);
                free(want);
                nnf_sgd_free(opt);
                NNF_TEST_FREE(p, g, view, got);
            }
        }
    }
    nnf_test_threads(1);
    nnf_test_restore_isa();
    nnf_tensor_free(base);
}

static void test_init(void **state)
{
    (void)state;
    nnf_rng rng;
    nnf_rng_seed(&rng, 99);
    for (int xavier = 0; xavier <= 1; xavier++) {
        nnf_layer *l = NULL;
        NNF_ASSERT_OK(nnf_layer_linear(&l, &rng, 256, 384,
                                       xavier ? NNF_INIT_XAVIER : NNF_INIT_KAIMING));
        const nnf_tensor *w = nnf_layer_parameter(l, 0), *b = nnf_layer_parameter(l, 1);
        assert_int_equal(nnf_tensor_size(w, 0), 384);
        assert_int_equal(nnf_tensor_size(w, 1), 256);
        double sum = 0, sq = 0, n = (double)nnf_tensor_numel(w);
        for (int64_t i = 0; i < nnf_tensor_numel(w); i++) {
            sum += nnf_tensor_data(w)[i];
            sq += (double)nnf_tensor_data(w)[i] * nnf_tensor_data(w)[i];
        }
        double std = sqrt(sq / n - (sum / n) * (sum / n));
        double want = xavier ? sqrt(2.0 / (256 + 384)) : sqrt(2.0 / 256);
        /* 98304 samples: the sample std is within ~0.5% of the true one */
        if (fabs(std / want - 1) > 0.02 || fabs(sum / n) > 0.02 * want)
            fail_msg("std %g (want %g), mean %g", std, want, sum / n);
        for (int64_t i = 0; i < 384; i++)
            assert_true(nnf_tensor_data(b)[i] == 0.0f);
        nnf_layer_free(l);
    }
    /* the same seed, the same weights */
    nnf_layer *a = NULL, *b = NULL;
    nnf_rng r1, r2;
    nnf_rng_seed(&r1, 5);
    nnf_rng_seed(&r2, 5);
    NNF_ASSERT_OK(nnf_layer_linear(&a, &r1, 10, 7, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_linear(&b, &r2, 10, 7, NNF_INIT_KAIMING));
    nnf_test_assert_bits_equal(nnf_tensor_data(nnf_layer_parameter(a, 0)),
                               nnf_tensor_data(nnf_layer_parameter(b, 0)), 70);
    nnf_layer_free(a);
    nnf_layer_free(b);
}

static nnf_status noop_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    return nnf_relu(out, in);
}

static void test_errors(void **state)
{
    (void)state;
    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    nnf_layer *lin = NULL, *relu = NULL;
    NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 6, 5, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&relu));
    nnf_tensor *x = nn_uniform(NNF_SHAPE(8, 6), 1, -1, 1), *bad = nn_uniform(NNF_SHAPE(8, 7), 1, -1, 1);
    nnf_tensor *y = nn_labels(8, 5, 2), *out = NULL;
    float loss;

    /* layers: backward before forward, output without gradient, bad shapes */
    NNF_ASSERT_FAILS(nnf_layer_backward(lin, 1), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("Lin: backward called before forward");
    NNF_ASSERT_FAILS(nnf_layer_call(lin, &out, bad), NNF_ERR_SHAPE);
    NN_ASSERT_MESSAGE("Lin: nnf_linear: x is 8x7 but w is 5x6");
    NNF_ASSERT_FAILS(nnf_layer_backward(lin, 1), NNF_ERR_STATE);
    NNF_ASSERT_OK(nnf_layer_call(relu, &out, x));
    NNF_ASSERT_FAILS(nnf_layer_backward(relu, 1), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("the output has no gradient");
    NNF_ASSERT_FAILS(nnf_layer_call(NULL, &out, x), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_layer_save_for_backward(relu, NNF_LAYER_MAX_SAVED + 1,
                                                 (const nnf_tensor *const *)&x), NNF_ERR_INVALID);
    nnf_layer *l = NULL;
    static const nnf_layer_fn no_backward = {"Half", noop_forward, NULL, NULL, NULL};
    NNF_ASSERT_FAILS(nnf_layer_new(&l, &no_backward, NULL), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_layer_linear(&l, NULL, 0, 5, NNF_INIT_KAIMING), NNF_ERR_INVALID);
    assert_null(l);

    /* losses */
    nnf_loss *ce = NULL;
    NNF_ASSERT_OK(nnf_loss_cross_entropy(&ce));
    NNF_ASSERT_FAILS(nnf_loss_backward(ce), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("CrossEntropy: backward called before forward");

    /* models */
    nnf_model *m = NULL, *empty = NULL;
    NNF_ASSERT_OK(nnf_model_new(&empty, NULL));
    NNF_ASSERT_FAILS(nnf_model_call(empty, &loss, x, y), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("no loss");
    NNF_ASSERT_FAILS(nnf_model_infer(empty, &out, x), NNF_ERR_STATE);
    nnf_model_free(empty);
    NNF_ASSERT_OK(nnf_model_new(&m, ce));
    NNF_ASSERT_OK(nnf_model_add(m, lin));
    NNF_ASSERT_FAILS(nnf_model_add(m, lin), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_model_backward(m), NNF_ERR_STATE);
    NN_ASSERT_MESSAGE("call nnf_model_call first");
    NNF_ASSERT_FAILS(nnf_model_call(m, &loss, bad, y), NNF_ERR_SHAPE);
    NN_ASSERT_MESSAGE("layer 0: Lin: nnf_linear: x is 8x7 but w is 5x6");
    NNF_ASSERT_FAILS(nnf_model_backward(m), NNF_ERR_STATE);
    nnf_tensor *y_bad = nn_labels(8, 5, 2);
    ((int64_t *)nnf_tensor_raw(y_bad))[3] = -1;
    NNF_ASSERT_FAILS(nnf_model_call(m, &loss, x, y_bad), NNF_ERR_INDEX);
    NN_ASSERT_MESSAGE("loss (CrossEntropy): target -1 of row 3");
    NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
    NNF_ASSERT_OK(nnf_model_infer(m, &out, x));   /* predict drops the pending backward */
    NNF_ASSERT_FAILS(nnf_model_backward(m), NNF_ERR_STATE);
    NNF_ASSERT_OK(nnf_model_call(m, &loss, x, y));
    NNF_ASSERT_OK(nnf_model_backward(m));
    NNF_ASSERT_FAILS(nnf_model_backward(m), NNF_ERR_STATE);   /* once per forward */
    assert_null(nnf_model_layer(m, 1));
    assert_ptr_equal(nnf_model_layer(m, 0), lin);

    /* SGD's hyper-parameters */
    nnf_sgd *opt = NULL;
    nnf_tensor *const *params = nnf_model_parameters(m);
    NNF_ASSERT_FAILS(nnf_sgd_new(&opt, 2, params, 0.0f, 0.0f, 0.0f), NNF_ERR_INVALID);
    NN_ASSERT_MESSAGE("lr must be a positive finite number, got 0");
    NNF_ASSERT_FAILS(nnf_sgd_new(&opt, 2, params, 0.1f, 1.0f, 0.0f), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_sgd_new(&opt, 2, params, 0.1f, 0.5f, -1.0f), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_sgd_new(&opt, 2, NULL, 0.1f, 0.5f, 0.0f), NNF_ERR_NULL);
    assert_null(opt);

    nnf_model_free(m);   /* frees lin and ce */
    nnf_layer_free(relu);
    NNF_TEST_FREE(x, bad, y, y_bad);
    nnf_layer_free(NULL);
    nnf_loss_free(NULL);
    nnf_model_free(NULL);
    nnf_sgd_free(NULL);
}

/* Building a model and training a step with the k-th allocation failing, for every k:
 * each failure is NNF_ERR_NOMEM and nothing leaks. */
static void test_alloc_failures(void **state)
{
    (void)state;
    long base = nnf__alloc_live();
    nnf_tensor *x = nn_uniform(NNF_SHAPE(8, 6), 1, -1, 1), *y = nn_labels(8, 3, 2);
    int succeeded = 0;
    for (long k = 1; k < 400 && !succeeded; k++) {
        nnf_rng rng;
        nnf_rng_seed(&rng, 3);
        nnf_loss *loss = NULL;
        nnf_model *m = NULL;
        nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
        nnf_sgd *opt = NULL;
        float value;
        nnf__alloc_fail_after(k);
        nnf_status st = nnf_loss_cross_entropy(&loss);
        if (st == NNF_OK && (st = nnf_model_new(&m, loss)) != NNF_OK)
            nnf_loss_free(loss);
        if (st == NNF_OK && (st = nnf_layer_linear(&l1, &rng, 6, 5, NNF_INIT_KAIMING)) == NNF_OK &&
            (st = nnf_model_add(m, l1)) != NNF_OK)
            nnf_layer_free(l1);
        if (st == NNF_OK && (st = nnf_layer_relu(&act)) == NNF_OK &&
            (st = nnf_model_add(m, act)) != NNF_OK)
            nnf_layer_free(act);
        if (st == NNF_OK && (st = nnf_layer_linear(&l2, &rng, 5, 3, NNF_INIT_KAIMING)) == NNF_OK &&
            (st = nnf_model_add(m, l2)) != NNF_OK)
            nnf_layer_free(l2);
        if (st == NNF_OK)
            st = nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), 0.1f,
                             0.9f, 0.01f);
        if (st == NNF_OK)
            st = nnf_model_call(m, &value, x, y);
        if (st == NNF_OK)
            st = nnf_model_backward(m);
        if (st == NNF_OK)
            st = nnf_sgd_step(opt);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK)
            succeeded = 1;
        else
            assert_int_equal(st, NNF_ERR_NOMEM);
        nnf_sgd_free(opt);
        nnf_model_free(m);
    }
    assert_true(succeeded);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    assert_int_equal(nnf__alloc_live(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_my_relu_trains),
        cmocka_unit_test(test_model_matches_functional),
        cmocka_unit_test(test_grads_in_place),
        cmocka_unit_test(test_grads_in_place_failure),
        cmocka_unit_test(test_grads_written_after_zero_grad),
        cmocka_unit_test(test_relu_in_place),
        cmocka_unit_test(test_layers_by_hand),
        cmocka_unit_test(test_batch_shape_changes),
        cmocka_unit_test(test_buffers_reused),
        cmocka_unit_test(test_lin_allocates_nothing),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_sgd_paths),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
