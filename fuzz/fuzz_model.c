/* Fuzz target: building and running models from random layers (src/nn: Lin, ReLU,
 * Conv2d, Flatten, the losses, the sequential model, SGD) with hostile sizes and
 * arguments, under an allocation cap.
 *
 * Input: an ISA, a loss (none, MSE, cross-entropy), up to 5 layers with their arguments
 * (sizes mostly 0-8, sometimes at the edges of their type), an input shape (rank 1-4,
 * sizes 0-5) and targets, SGD's lr / momentum / weight decay, then values.
 *
 * Properties:
 * - every constructor and call returns a status (never a crash or undefined behaviour,
 *   which UBSan turns into one); a failed constructor leaves its output handle alone;
 * - arguments outside the documented ranges fail: Lin needs n_in, n_out >= 1, Conv2d
 *   c_in, c_out, kernel, stride >= 1 and padding >= 0, SGD lr > 0, 0 <= momentum < 1,
 *   weight_decay >= 0;
 * - a failed forward or backward leaves the parameters and their gradients as they
 *   were; a failed SGD step leaves the parameters as they were;
 * - no allocation beyond the cap (1 MiB: a large layer fails with NNF_ERR_NOMEM or
 *   NNF_ERR_OVERFLOW), and nothing leaks.
 */
#include <math.h>

#include "fuzz/fuzz.h"

#define CAP ((size_t)1 << 20)
#define MAX_LAYERS 5
#define MAX_PARAM_FLOATS 65536   /* parameters compared before/after; larger skip it */

static int64_t take_size(fuzz_in *in)
{
    return take8(in) % 4 == 0 ? take_hostile(in) : take_range(in, 0, 8);
}

/* A copy of every parameter and its gradient (0 where there is none): what a failed
 * call must leave. n is 0 when the model is too large to compare. */
typedef struct {
    float *v;
    size_t n;
} snapshot;

static snapshot snap(nnf_model *m)
{
    snapshot s = {NULL, 0};
    size_t total = 0;
    for (int i = 0; i < nnf_model_num_parameters(m); i++)
        total += 2 * (size_t)nnf_tensor_numel(nnf_model_parameters(m)[i]);
    if (total > MAX_PARAM_FLOATS)
        return s;
    s.v = malloc(total * sizeof(float) + 1);
    CHECK(s.v != NULL, "malloc");
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        nnf_tensor *p = nnf_model_parameters(m)[i], *g = nnf_tensor_grad(p);
        int64_t n = nnf_tensor_numel(p);
        read_floats(s.v + s.n, n, p);
        if (g != NULL)
            read_floats(s.v + s.n + n, n, g);
        else
            memset(s.v + s.n + n, 0, (size_t)n * sizeof(float));
        s.n += 2 * (size_t)n;
    }
    return s;
}

static void same_as(nnf_model *m, const snapshot *before, const char *what)
{
    snapshot now = snap(m);
    CHECK(now.n == before->n && (now.n == 0 || memcmp(now.v, before->v, now.n * 4) == 0),
          "a failed %s changed the parameters or their gradients", what);
    free(now.v);
}

/* Adds one layer described by the input; returns 0 if its constructor failed. */
static int add_layer(fuzz_in *in, nnf_model *m)
{
    nnf_layer *sentinel = (nnf_layer *)&m, *l = sentinel;
    nnf_status st;
    int expect_ok;
    switch (take8(in) % 4) {
    case 0: {
        int64_t a = take_size(in), b = take_size(in);
        st = nnf_layer_linear(&l, NULL, a, b, (nnf_init)(take8(in) % 2));
        expect_ok = a >= 1 && b >= 1;
        break;
    }
    case 1: {
        int64_t ci = take_size(in), co = take_size(in);
        int k = (int)take_size(in), s = (int)take_size(in), p = (int)take_size(in);
        st = nnf_layer_conv2d_nchw(&l, NULL, ci, co, k, s, p, NNF_INIT_KAIMING);
        expect_ok = ci >= 1 && co >= 1 && k >= 1 && s >= 1 && p >= 0;
        break;
    }
    case 2:
        st = nnf_layer_relu(&l);
        expect_ok = 1;
        break;
    default:
        st = nnf_layer_flatten(&l);
        expect_ok = 1;
        break;
    }
    if (st != NNF_OK) {
        CHECK(l == sentinel, "a failed layer constructor set its output");
        /* valid arguments may still fail for lack of memory (the cap) or overflow */
        CHECK(!expect_ok || st == NNF_ERR_NOMEM || st == NNF_ERR_OVERFLOW,
              "a layer with valid arguments failed with %s", nnf_status_str(st));
        return 0;
    }
    CHECK(expect_ok, "a layer with invalid arguments was built");
    if (nnf_model_add(m, l) != NNF_OK) {
        nnf_layer_free(l);
        return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    take_isa(&in);
    LEAK_CHECK_BEGIN;
    nnf__alloc_cap(CAP);
    int which = take8(&in) % 3;
    nnf_loss *loss = NULL;
    if (which == 1)
        CHECK(nnf_loss_mse(&loss) == NNF_OK, "mse");
    if (which == 2)
        CHECK(nnf_loss_cross_entropy(&loss) == NNF_OK, "cross-entropy");
    nnf_model *m = NULL;
    CHECK(nnf_model_new(&m, loss) == NNF_OK, "model");
    int nl = (int)take_range(&in, 0, MAX_LAYERS);
    for (int i = 0; i < nl; i++)
        add_layer(&in, m);

    /* An input, targets of the kind the loss takes, and a forward. */
    int nd = (int)take_range(&in, 1, 4);
    int64_t shape[4];
    for (int d = 0; d < nd; d++)
        shape[d] = take_range(&in, 0, 5);
    static float vals[1024];
    nnf_tensor *x = take_tensor(&in, nd, shape, vals), *targ = NULL;
    int64_t n0 = shape[0];
    if (which == 2) {
        int64_t labels[5];
        for (int i = 0; i < n0; i++)
            labels[i] = take_range(&in, -1, 9);
        CHECK(nnf_from_data_typed(&targ, labels, 1, &n0, NNF_I64) == NNF_OK, "labels");
    } else {
        int64_t ts[2] = {n0, take_range(&in, 1, 4)};
        targ = take_tensor(&in, take8(&in) % 2 + 1, ts, vals + 512);
    }
    nnf_model_zero_grad(m);
    snapshot before = snap(m);
    float value = NAN;
    nnf_status st = nnf_model_call(m, &value, x, targ);
    if (st != NNF_OK) {
        same_as(m, &before, "forward");
    } else {
        st = nnf_model_backward(m);
        if (st != NNF_OK)
            same_as(m, &before, "backward");
    }
    free(before.v);

    /* SGD over whatever parameters the model has. */
    float lrs[] = {0.1f, 0.0f, -1.0f, NAN, 1e30f}, moms[] = {0.0f, 0.9f, 1.0f, -0.1f};
    float lr = lrs[take8(&in) % 5], mom = moms[take8(&in) % 4], wd = take8(&in) % 4 == 0 ? -1.0f : 0.0f;
    nnf_sgd *opt = NULL;
    st = nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), lr, mom, wd);
    int sgd_valid = lr > 0 && mom >= 0 && mom < 1 && wd >= 0;
    CHECK((st == NNF_OK) == sgd_valid || st == NNF_ERR_NOMEM,
          "nnf_sgd_new(lr %g, momentum %g, weight_decay %g): %s", (double)lr, (double)mom,
          (double)wd, nnf_status_str(st));
    if (st == NNF_OK) {
        snapshot s = snap(m);
        if (nnf_sgd_step(opt) != NNF_OK)
            same_as(m, &s, "SGD step");
        free(s.v);
        nnf_sgd_free(opt);
    }

    nnf_tensor_free(x);
    nnf_tensor_free(targ);
    nnf_model_free(m);
    nnf__alloc_cap(0);
    LEAK_CHECK_END;
    return 0;
}
