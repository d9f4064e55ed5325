/* Training-step time of train_fashion_mnist's MLP (784 -> 256 -> ReLU -> 10, softmax
 * cross-entropy, SGD with momentum) on one process and over MPI ranks (libnnf_dist):
 *
 *     NNF_NUM_THREADS=1 build/bench/bench/bench_dist                 one process, no MPI
 *     mpirun -np 1 build/bench/bench/bench_dist --dist               the trainer, 1 rank
 *     mpirun -np 2 build/bench/bench/bench_dist --dist               2 ranks, 1 thread each
 *
 * bench/bench_dist.sh runs one process and 2 ranks in turn and prints the speed-up.
 * Options: --batch N (128), --steps N per round (200). Five rounds; the median and the
 * best step time and samples per second are printed by rank 0, with the gradient's size
 * (what each rank sends twice per step). Random data: the time does not depend on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnf/dist.h"

#define CHECK(call)                                                                      \
    do {                                                                                 \
        nnf_status st_ = (call);                                                         \
        if (st_ != NNF_OK) {                                                             \
            fprintf(stderr, "%s failed: %s\n", #call, nnf_last_error());                 \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

enum { ROUNDS = 5 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int use_dist = 0;
    int64_t batch = 128, steps = 200;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dist"))
            use_dist = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--dist] [--batch N] [--steps N]\n", argv[0]);
            return 2;
        }
    }
    nnf_dist *d = NULL;
    if (use_dist)
        CHECK(nnf_dist_init(&d, MPI_COMM_WORLD));
    int rank = nnf_dist_rank(d);

    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    nnf_layer *l = NULL;
    CHECK(nnf_loss_cross_entropy(&loss));
    CHECK(nnf_model_new(&m, loss));
    CHECK(nnf_layer_linear(&l, &rng, 784, 256, NNF_INIT_KAIMING));
    CHECK(nnf_model_add(m, l));
    CHECK(nnf_layer_relu(&l));
    CHECK(nnf_model_add(m, l));
    CHECK(nnf_layer_linear(&l, &rng, 256, 10, NNF_INIT_KAIMING));
    CHECK(nnf_model_add(m, l));
    nnf_sgd *opt = NULL;
    CHECK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), 0.01f, 0.9f,
                      0.0f));
    nnf_tensor *x = NULL, *y = NULL, *xs = NULL, *ys = NULL;
    CHECK(nnf_randn(&x, &rng, NNF_SHAPE(batch, 784)));
    CHECK(nnf_empty_typed(&y, NNF_SHAPE(batch), NNF_I64));
    for (int64_t i = 0; i < batch; i++)
        ((int64_t *)nnf_tensor_raw(y))[i] = i % 10;
    nnf_dist_trainer *t = NULL;
    int64_t first = 0, rows = batch;
    if (d) {
        CHECK(nnf_dist_trainer_new(&t, d, m, opt));
        CHECK(nnf_dist_shard(d, &first, &rows, batch));
    }
    CHECK(nnf_narrow(&xs, x, 0, first, rows));
    CHECK(nnf_narrow(&ys, y, 0, first, rows));

    double per_step[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (int64_t s = 0; s < steps; s++) {
            float value;
            if (t != NULL) {
                CHECK(nnf_dist_trainer_step(t, &value, xs, ys, batch));
            } else {
                CHECK(nnf_model_call(m, &value, x, y));
                nnf_sgd_zero_grad(opt);
                CHECK(nnf_model_backward(m));
                CHECK(nnf_sgd_step(opt));
            }
        }
        per_step[r] = (now() - t0) / (double)steps;
    }
    qsort(per_step, ROUNDS, sizeof *per_step, by_value);
    char who[32] = "one process";
    if (d)
        snprintf(who, sizeof who, "%d rank%s", nnf_dist_size(d), nnf_dist_size(d) == 1 ? "" : "s");
    if (rank == 0)
        printf("%s, batch %lld, %d thread%s: %.3f ms/step median (best %.3f), %.0f samples/s "
               "median; gradient %.2f MB\n",
               who, (long long)batch, nnf_get_num_threads(),
               nnf_get_num_threads() == 1 ? "" : "s", per_step[ROUNDS / 2] * 1e3,
               per_step[0] * 1e3, (double)batch / per_step[ROUNDS / 2],
               (784.0 * 256 + 256 + 256 * 10 + 10) * 4 / 1e6);
    nnf_dist_trainer_free(t);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_tensor_free(xs);
    nnf_tensor_free(ys);
    nnf_sgd_free(opt);
    nnf_model_free(m);
    nnf_dist_free(d);
    return 0;
}
