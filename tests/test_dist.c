/* libnnf_dist under mpirun with 1, 2, 3 or 4 ranks (tests/meson.build runs each):
 *
 * - training steps (cross-entropy and MSE, whole and ragged batches, an MLP and a CNN)
 *   give bit for bit
 *   the parameters and losses of plain single-process training without the library,
 *   computed on this rank with the scalar kernels while the ranks run the widest ISA;
 *   ranks other than 0 start from different weights (the trainer broadcasts rank 0's);
 * - each rank's forward sees only its own rows (a counting layer), and its block of
 *   micro-batches is the contiguous one of the rule (8 over 3 ranks: 3, 3, 2); the
 *   trainer's outputs are the single process's rows; nnf_dist_sum adds exactly;
 * - more ranks than micro-batches, a wrong shard on one rank, ranks that disagree on the
 *   batch's rows and an allocation failure injected on one rank fail the step on EVERY
 *   rank with the same code and message (naming the rank), with no parameter changed
 *   anywhere; the next step works;
 * - with --timeout, a rank that never comes: the others give up within the timeout.
 *
 * Not cmocka: a failed check calls MPI_Abort, so no rank waits for one that stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf/dist.h"
#include "src/core/alloc.h"

static int rank, size;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "rank %d: %s:%d: %s: ", rank, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
            MPI_Abort(MPI_COMM_WORLD, 1);                                     \
        }                                                                     \
    } while (0)
#define OK(call) CHECK((call) == NNF_OK, "%s", nnf_last_error())

/* ---- A layer that passes its input through and counts the rows it saw ---- */

static int64_t rows_seen;

static nnf_status count_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    rows_seen += nnf_tensor_size(in, 0);
    return *out != NULL ? nnf_copy(*out, in) : nnf_clone(out, in);
}

static nnf_status count_backward(nnf_layer *self, const nnf_tensor *out_grad,
                                 nnf_tensor *in_grad)
{
    (void)self;
    return in_grad != NULL ? nnf_copy(in_grad, out_grad) : NNF_OK;
}

static const nnf_layer_fn count_fn = {"Count", count_forward, count_backward, NULL, NULL};

/* ---- Models and data ---- */

enum { CLASSES = 5 };

/* Features in and hidden units: the small net fits one message slice; the wide ones
 * (80 K parameters) need two, their first weight cut into blocks of whole rows (400 x
 * 200) or of whole columns (200 x 400), each block's products computed apart. */
static int64_t in_features = 12, hidden = 20;
/* 1: the net starts with a Conv2d over the features as one 4x3 image (Conv2d's gradients
 * sum over images x positions: the micro-batch rule per 32 images). */
static int conv_net;

typedef struct {
    nnf_model *m;
    nnf_sgd *opt;
} net;

static net make_net(int ce, uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_loss *loss = NULL;
    OK(ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    net n = {0};
    OK(nnf_model_new(&n.m, loss));
    nnf_layer *l = NULL;
    if (conv_net) {
        OK(nnf_layer_conv2d_nchw(&l, &rng, 1, 3, 3, 1, 1, NNF_INIT_KAIMING));
        OK(nnf_model_add(n.m, l));
        OK(nnf_layer_flatten(&l));
        OK(nnf_model_add(n.m, l));
        OK(nnf_layer_linear(&l, &rng, 3 * in_features, hidden, NNF_INIT_KAIMING));
    } else {
        OK(nnf_layer_linear(&l, &rng, in_features, hidden, NNF_INIT_KAIMING));
    }
    OK(nnf_model_add(n.m, l));
    OK(nnf_layer_new(&l, &count_fn, NULL));
    OK(nnf_model_add(n.m, l));
    OK(nnf_layer_relu(&l));
    OK(nnf_model_add(n.m, l));
    OK(nnf_layer_linear(&l, &rng, hidden, ce ? CLASSES : 1, NNF_INIT_KAIMING));
    OK(nnf_model_add(n.m, l));
    OK(nnf_sgd_new(&n.opt, nnf_model_num_parameters(n.m), nnf_model_parameters(n.m), 0.05f,
                   0.9f, 0.01f));
    return n;
}

static void free_net(net n)
{
    nnf_sgd_free(n.opt);
    nnf_model_free(n.m);
}

/* Batch b: x (rows x in_features) uniform, labels or regression targets. */
static void make_batch(nnf_tensor **x, nnf_tensor **y, int ce, int64_t rows, uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    if (conv_net)
        OK(nnf_randn(x, &rng, NNF_SHAPE(rows, 1, 4, in_features / 4)));
    else
        OK(nnf_randn(x, &rng, NNF_SHAPE(rows, in_features)));
    if (ce) {
        OK(nnf_empty_typed(y, NNF_SHAPE(rows), NNF_I64));
        int64_t *p = nnf_tensor_raw(*y);
        for (int64_t i = 0; i < rows; i++)
            p[i] = (int64_t)((seed * 7 + (uint64_t)i * 13) % CLASSES);
    } else {
        OK(nnf_randn(y, &rng, NNF_SHAPE(rows)));
    }
}

static void assert_same_params(const net *a, const net *b, const char *what)
{
    for (int p = 0; p < nnf_model_num_parameters(a->m); p++) {
        const nnf_tensor *s = nnf_model_parameters(a->m)[p], *t = nnf_model_parameters(b->m)[p];
        CHECK(memcmp(nnf_tensor_const_data(s), nnf_tensor_const_data(t),
                     (size_t)nnf_tensor_numel(s) * sizeof(float)) == 0,
              "%s: parameter %d differs", what, p);
    }
}

static float *copy_params(const net *n)
{
    size_t total = 0;
    for (int p = 0; p < nnf_model_num_parameters(n->m); p++)
        total += (size_t)nnf_tensor_numel(nnf_model_parameters(n->m)[p]);
    float *f = malloc(total * sizeof *f), *at = f;
    CHECK(f != NULL, "malloc");
    for (int p = 0; p < nnf_model_num_parameters(n->m); p++) {
        const nnf_tensor *t = nnf_model_parameters(n->m)[p];
        memcpy(at, nnf_tensor_const_data(t), (size_t)nnf_tensor_numel(t) * sizeof *at);
        at += nnf_tensor_numel(t);
    }
    return f;
}

static void assert_params_are(const net *n, const float *want, const char *what)
{
    float *got = copy_params(n);
    size_t total = 0;
    for (int p = 0; p < nnf_model_num_parameters(n->m); p++)
        total += (size_t)nnf_tensor_numel(nnf_model_parameters(n->m)[p]);
    CHECK(memcmp(got, want, total * sizeof *got) == 0, "%s: parameters changed", what);
    free(got);
}

/* One dist step on this rank's rows of (x, y). */
static nnf_status dist_step(nnf_dist_trainer *t, nnf_dist *d, float *loss, nnf_tensor *x,
                            nnf_tensor *y, int64_t rows)
{
    int64_t first, mine;
    nnf_status st = nnf_dist_shard(d, &first, &mine, rows);
    if (st != NNF_OK)   /* the step reports it on every rank: run it with the whole batch */
        return nnf_dist_trainer_step(t, loss, x, y, rows);
    nnf_tensor *xs = NULL, *ys = NULL;
    OK(nnf_narrow(&xs, x, 0, first, mine));
    OK(nnf_narrow(&ys, y, 0, first, mine));
    rows_seen = 0;
    st = nnf_dist_trainer_step(t, loss, xs, ys, rows);
    if (st == NNF_OK) {
        CHECK(rows_seen == mine, "forward saw %lld rows, the shard has %lld",
              (long long)rows_seen, (long long)mine);
        int64_t mb0, mbn, mbs = (rows + NNF_DIST_MICRO_BATCH - 1) / NNF_DIST_MICRO_BATCH;
        nnf_dist_trainer_micro_batches(t, &mb0, &mbn);
        int64_t base = mbs / size, extra = mbs % size;
        CHECK(mbn == base + (rank < extra), "%lld micro-batches", (long long)mbn);
        CHECK(mb0 == rank * base + (rank < extra ? rank : extra), "first %lld", (long long)mb0);
        CHECK(first == mb0 * NNF_DIST_MICRO_BATCH, "shard starts at row %lld", (long long)first);
        static const int64_t three[] = {0, 3, 6, 8};   /* the example: 3, 3, 2 */
        CHECK(size != 3 || rows != 8 * NNF_DIST_MICRO_BATCH || (mb0 == three[rank] && mb0 + mbn == three[rank + 1]),
              "8 micro-batches over 3 ranks: got [%lld, %lld)", (long long)mb0,
              (long long)(mb0 + mbn));
    }
    nnf_tensor_free(xs);
    nnf_tensor_free(ys);
    return st;
}

/* The portable kernels that give every ISA's bits: x86's scalar has no FMA, and its
 * exp and log differ in the last bit (nnf/isa.h); scalar_fma has it. */
static nnf_isa portable_isa(void)
{
    return nnf_isa_supported(NNF_ISA_SCALAR_FMA) ? NNF_ISA_SCALAR_FMA : NNF_ISA_SCALAR;
}

/* Steps on batches of these rows: single process (portable kernels) against dist. */
static void check_training(nnf_dist *d, int ce)
{
    static const int64_t batches[] = {8 * NNF_DIST_MICRO_BATCH, 100, 128, 192, 130};
    enum { STEPS = sizeof batches / sizeof batches[0] };
    const nnf_isa widest = nnf_isa_active();
    net ref = make_net(ce, 7), dn = make_net(ce, rank == 0 ? 7 : 1000 + (uint64_t)rank);
    nnf_dist_trainer *t = NULL;
    OK(nnf_dist_trainer_new(&t, d, dn.m, dn.opt));
    assert_same_params(&ref, &dn, "after the broadcast");
    for (int s = 0; s < STEPS; s++) {
        nnf_tensor *x = NULL, *y = NULL;
        make_batch(&x, &y, ce, batches[s], 100 + (uint64_t)s);
        float want, got;
        OK(nnf_isa_force(portable_isa()));
        rows_seen = 0;
        OK(nnf_model_call(ref.m, &want, x, y));
        nnf_sgd_zero_grad(ref.opt);
        OK(nnf_model_backward(ref.m));
        OK(nnf_sgd_step(ref.opt));
        OK(nnf_isa_force(widest));
        OK(dist_step(t, d, &got, x, y, batches[s]));
        CHECK(memcmp(&want, &got, sizeof want) == 0, "step %d: loss %.9g, single %.9g", s,
              (double)got, (double)want);
        /* the outputs of this rank's rows, before the update */
        int64_t first, mine;
        OK(nnf_dist_shard(d, &first, &mine, batches[s]));
        const nnf_tensor *all =
            nnf_layer_output(nnf_model_layer(ref.m, nnf_model_num_layers(ref.m) - 1));
        const nnf_tensor *out = nnf_dist_trainer_output(t);
        int64_t per = nnf_tensor_numel(all) / batches[s];
        CHECK(out != NULL && nnf_tensor_size(out, 0) == mine, "output rows");
        CHECK(memcmp(nnf_tensor_data(out), (const float *)nnf_tensor_data(all) + first * per,
                     (size_t)(mine * per) * sizeof(float)) == 0, "step %d: outputs differ", s);
        char what[64];
        snprintf(what, sizeof what, "%s%s step %d (%lld rows)", conv_net ? "cnn " : "",
                 ce ? "ce" : "mse", s, (long long)batches[s]);
        assert_same_params(&ref, &dn, what);
        if (rank == 0)
            printf("%s: loss %.9g, same bits as one process on %s\n", what, (double)got,
                   nnf_isa_name(portable_isa()));
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    nnf_dist_trainer_free(t);
    free_net(ref);
    free_net(dn);
}

static void expect_everywhere(nnf_status st, nnf_status code, const char *part)
{
    CHECK(st == code, "got %s, want %s (%s)", nnf_status_str(st), nnf_status_str(code),
          nnf_last_error());
    CHECK(strstr(nnf_last_error(), part) != NULL, "the message \"%s\" lacks \"%s\"",
          nnf_last_error(), part);
    CHECK(strstr(nnf_last_error(), part) != NULL, "message \"%s\" lacks \"%s\"",
          nnf_last_error(), part);
    CHECK(strncmp(nnf_last_error(), "nnf_dist_trainer_step: ", 23) == 0,
          "message \"%s\" does not start with the function's name", nnf_last_error());
    if (rank == 0)
        printf("every rank: %s\n", nnf_last_error());
}

static void check_failures(nnf_dist *d)
{
    net n = make_net(1, 7);
    nnf_dist_trainer *t = NULL;
    OK(nnf_dist_trainer_new(&t, d, n.m, n.opt));
    float *before = copy_params(&n), loss;
    nnf_tensor *x = NULL, *y = NULL;
    make_batch(&x, &y, 1, 128, 5);
    char part[64];

    if (size > 1) {
        /* size - 1 micro-batches for size ranks */
        nnf_tensor *xs = NULL, *ys = NULL;
        OK(nnf_narrow(&xs, x, 0, 0, NNF_DIST_MICRO_BATCH * (size - 1)));
        OK(nnf_narrow(&ys, y, 0, 0, NNF_DIST_MICRO_BATCH * (size - 1)));
        snprintf(part, sizeof part, "fewer than the %d ranks", size);
        expect_everywhere(dist_step(t, d, &loss, xs, ys, NNF_DIST_MICRO_BATCH * (size - 1)), NNF_ERR_INVALID,
                          part);
        nnf_tensor_free(xs);
        nnf_tensor_free(ys);
        assert_params_are(&n, before, "after too many ranks");
    }

    /* the last rank passes one row too few */
    int64_t first, mine;
    OK(nnf_dist_shard(d, &first, &mine, 128));
    nnf_tensor *xs = NULL, *ys = NULL;
    int64_t give = rank == size - 1 ? mine - 1 : mine;
    OK(nnf_narrow(&xs, x, 0, first, give));
    OK(nnf_narrow(&ys, y, 0, first, give));
    snprintf(part, sizeof part, "rank %d: x and targ must hold", size - 1);
    expect_everywhere(nnf_dist_trainer_step(t, &loss, xs, ys, 128), NNF_ERR_SHAPE, part);
    nnf_tensor_free(xs);
    nnf_tensor_free(ys);
    assert_params_are(&n, before, "after a bad shard");

    /* the last rank sees a batch of 127 rows (its shard then 63 rows), the others 128 */
    if (size > 1) {
        int64_t rows_here = rank == size - 1 ? 127 : 128;
        OK(nnf_dist_shard(d, &first, &mine, rows_here));
        OK(nnf_narrow(&xs, x, 0, first, mine));
        OK(nnf_narrow(&ys, y, 0, first, mine));
        expect_everywhere(nnf_dist_trainer_step(t, &loss, xs, ys, rows_here), NNF_ERR_INVALID,
                          "the ranks disagree on batch_rows: from 127 to 128");
        nnf_tensor_free(xs);
        nnf_tensor_free(ys);
        assert_params_are(&n, before, "after a disagreement on batch_rows");
        OK(nnf_dist_shard(d, &first, &mine, 128));
    }

    /* an allocation failure on the last rank: a fresh trainer allocates its loss sums in
     * its first step */
    nnf_dist_trainer_free(t);
    t = NULL;
    OK(nnf_dist_trainer_new(&t, d, n.m, n.opt));
    OK(nnf_narrow(&xs, x, 0, first, mine));
    OK(nnf_narrow(&ys, y, 0, first, mine));
    if (rank == size - 1)
        nnf__alloc_fail_after(1);
    snprintf(part, sizeof part, "rank %d: out of memory", size - 1);
    nnf_status st = nnf_dist_trainer_step(t, &loss, xs, ys, 128);
    nnf__alloc_fail_after(0);
    nnf_tensor_free(xs);
    nnf_tensor_free(ys);
    expect_everywhere(st, NNF_ERR_NOMEM, part);
    assert_params_are(&n, before, "after an allocation failure");

    OK(dist_step(t, d, &loss, x, y, 128));   /* and the next step works */
    nnf_dist_trainer_free(t);
    free(before);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    free_net(n);
}

/* The last rank never comes to the step (a hung or dead peer): every other rank returns
 * NNF_ERR_IO within about the timeout. The step's messages stay in flight on the
 * nnf_dist's communicator, so the run ends as the header says a program should then:
 * MPI_Abort (with code 0, which mpirun passes on). */
static void check_timeout(nnf_dist *d)
{
    net n = make_net(1, 7);
    nnf_dist_trainer *t = NULL;
    OK(nnf_dist_trainer_new(&t, d, n.m, n.opt));
    OK(nnf_dist_set_timeout(d, 2.0));
    if (rank != size - 1) {
        nnf_tensor *x = NULL, *y = NULL;
        make_batch(&x, &y, 1, 128, 5);
        float loss;
        double t0 = MPI_Wtime();
        nnf_status st = dist_step(t, d, &loss, x, y, 128);
        double took = MPI_Wtime() - t0;
        CHECK(st == NNF_ERR_IO && strstr(nnf_last_error(), "within 2 s") != NULL,
              "got %s: %s", nnf_status_str(st), nnf_last_error());
        CHECK(took < 10.0, "the step took %.1f s with a 2 s timeout", took);
        printf("rank %d after %.1f s: %s\n", rank, took, nnf_last_error());
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);   /* another communicator than the broken one */
    if (rank == 0)
        MPI_Abort(MPI_COMM_WORLD, 0);
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    nnf_dist *d = NULL;
    OK(nnf_dist_init(&d, MPI_COMM_WORLD));
    rank = nnf_dist_rank(d);
    size = nnf_dist_size(d);
    if (argc > 1 && strcmp(argv[1], "--timeout") == 0)
        check_timeout(d);
    OK(nnf_dist_set_timeout(d, 30.0));
    check_training(d, 1);
    check_training(d, 0);
    in_features = 200;
    hidden = 400;
    check_training(d, 1);
    in_features = 400;
    hidden = 200;
    check_training(d, 0);
    in_features = 12;
    hidden = 20;
    conv_net = 1;
    check_training(d, 1);
    conv_net = 0;
    check_failures(d);
    int64_t counts[2] = {rank, 1};
    OK(nnf_dist_sum(d, counts, 2));
    CHECK(counts[0] == (int64_t)size * (size - 1) / 2 && counts[1] == size, "nnf_dist_sum");
    if (rank == 0)
        printf("%d ranks: OK\n", size);
    nnf_dist_free(d);
    return 0;
}
