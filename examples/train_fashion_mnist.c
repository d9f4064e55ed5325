/* Train a classifier on Fashion-MNIST with nnf: the chapter's model, on real data.
 *
 * By default an MLP, 784 -> hidden -> 10, learns with softmax cross-entropy and SGD with
 * momentum; one line per epoch gives the loss, the training and test accuracy and the
 * time. --loss mse trains the same model with the chapter's MSE against one-hot targets
 * (--loss both runs the two and compares them), and --model cnn swaps in a small CNN
 * built from conv2d = unfold + matmul (the chapter's further research). --save writes the
 * trained weights as a numpy .npz with PyTorch's state_dict names, --load starts from
 * such a file (with --epochs 0 it only evaluates). --dist (nnf built with MPI) trains
 * data-parallel over the ranks of mpirun, printing the same lines as one process.
 *
 *     train_fashion_mnist --epochs 5 --hidden 256
 *     train_fashion_mnist --epochs 2 --save mlp.npz
 *     train_fashion_mnist --load mlp.npz --epochs 0
 *     train_fashion_mnist --help
 *     mpirun -np 2 train_fashion_mnist --dist --epochs 5
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#ifdef NNF_EXAMPLE_DIST
#include <nnf/dist.h>
/* Set by --dist: every rank runs this program; rank 0 prints and writes files. */
static nnf_dist *dist;
#endif

enum { LOSS_CE = 1, LOSS_MSE = 2, LOSS_BOTH = 3 };
enum { CLASSES = 10, EVAL_BATCH = 1000 };

typedef struct {
    int epochs;
    int64_t hidden, batch, limit;
    float lr, momentum, weight_decay;   /* lr 0: the default for the loss */
    uint64_t seed;
    const char *data, *save, *load;
    int loss, cnn, progress, dist;
} options;

static const char *const class_names[CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                                 "Ankle boot"};

/* " scalar avx2 ...": the ISAs this nnf knows, from its one list. */
#define ISA_NAME(ID, name, value, arch) " " #name

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [options]\n"
            "Train a classifier on Fashion-MNIST (70000 28x28 grey images of 10 kinds of\n"
            "clothing) with nnf, printing one line per epoch.\n"
            "\n"
            "  -e, --epochs N         passes over the training set (default 5; 0 with --load:\n"
            "                         only evaluate the loaded weights)\n"
            "  -H, --hidden N         width of the MLP's hidden layer (default 256)\n"
            "  -l, --lr X             peak SGD learning rate, cosine-annealed to 0 over the\n"
            "                         run (default 0.05; 0.02 for the CNN)\n"
            "  -m, --momentum X       SGD momentum (default 0.9)\n"
            "  -w, --weight-decay X   L2 weight decay (default 0)\n"
            "  -b, --batch-size N     minibatch size (default 128)\n"
            "  -s, --seed N           seed of the weights and the shuffling (default 42)\n"
            "  -d, --data DIR         where the IDX files are (default\n"
            "                         /usr/share/datasets/fashion-mnist, from Debian's\n"
            "                         dataset-fashion-mnist); .gz or uncompressed\n"
            "      --loss ce|mse|both softmax cross-entropy (default), the chapter's MSE\n"
            "                         against one-hot targets, or both, one after the other\n"
            "      --model mlp|cnn    784 -> hidden -> 10 (default), or a CNN of three 3x3\n"
            "                         convolutions (unfold + matmul) and a linear layer\n"
            "      --limit N          use only the first N training and N test images\n"
            "      --save PATH        write the trained weights to PATH, a numpy .npz with\n"
            "                         PyTorch's state_dict names (0.weight, 0.bias, 2.weight..)\n"
            "      --load PATH        start from the weights in PATH (same --model and\n"
            "                         --hidden as when they were saved)\n"
            "      --dist             data-parallel over MPI: run under mpirun -np N; each\n"
            "                         rank trains on its share of every batch, and the\n"
            "                         lines printed are those of one process (MLP only)\n"
            "  -q, --quiet            no progress bar\n"
            "  -h, --help             this text\n"
            "\n"
            "Each epoch prints the mean training loss, the training accuracy (each batch\n"
            "scored by the model just before its update), the test accuracy and the time.\n"
            "\n"
            "Threads: NNF_NUM_THREADS, else OMP_NUM_THREADS (default: every core). Kernels:\n"
            "NNF_ISA=<name> caps the instruction set, one of:" NNF_ISA_LIST(ISA_NAME) ";\n"
            "results are the same bits on each but x86's scalar (no FMA: exp and log within\n"
            "1 ULP).\n",
            prog);
}

/* ---- Arguments ---- */

static int64_t parse_int(const char *name, const char *s, int64_t min)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min) {
        fprintf(stderr, "--%s must be an integer >= %lld, got '%s'\n", name, (long long)min, s);
        exit(2);
    }
    return v;
}

static float parse_float(const char *name, const char *s, float min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= min) || !isfinite(v)) {
        fprintf(stderr, "--%s must be a number >= %g, got '%s'\n", name, (double)min, s);
        exit(2);
    }
    return (float)v;
}

static options parse_args(int argc, char **argv)
{
    options o = {.epochs = 5, .hidden = 256, .batch = 128, .momentum = 0.9f, .seed = 42,
                 .data = "/usr/share/datasets/fashion-mnist", .loss = LOSS_CE,
                 .progress = isatty(STDERR_FILENO)};
    static const struct option longs[] = {
        {"epochs", required_argument, NULL, 'e'}, {"hidden", required_argument, NULL, 'H'},
        {"lr", required_argument, NULL, 'l'}, {"momentum", required_argument, NULL, 'm'},
        {"weight-decay", required_argument, NULL, 'w'},
        {"batch-size", required_argument, NULL, 'b'}, {"seed", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'd'}, {"loss", required_argument, NULL, 'L'},
        {"model", required_argument, NULL, 'M'}, {"limit", required_argument, NULL, 'n'},
        {"save", required_argument, NULL, 'S'}, {"load", required_argument, NULL, 'O'},
        {"dist", no_argument, NULL, 'D'},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "e:H:l:m:w:b:s:d:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'e': o.epochs = (int)parse_int("epochs", optarg, 0); break;
        case 'H': o.hidden = parse_int("hidden", optarg, 1); break;
        case 'l': o.lr = parse_float("lr", optarg, 1e-12f); break;
        case 'm': o.momentum = parse_float("momentum", optarg, 0); break;
        case 'w': o.weight_decay = parse_float("weight-decay", optarg, 0); break;
        case 'b': o.batch = parse_int("batch-size", optarg, 1); break;
        case 's': o.seed = (uint64_t)parse_int("seed", optarg, 0); break;
        case 'd': o.data = optarg; break;
        case 'n': o.limit = parse_int("limit", optarg, 1); break;
        case 'S': o.save = optarg; break;
        case 'O': o.load = optarg; break;
        case 'q': o.progress = 0; break;
        case 'D': o.dist = 1; break;
        case 'L':
            o.loss = !strcmp(optarg, "ce") ? LOSS_CE : !strcmp(optarg, "mse") ? LOSS_MSE
                   : !strcmp(optarg, "both") ? LOSS_BOTH : 0;
            if (!o.loss) {
                fprintf(stderr, "--loss must be ce, mse or both, got '%s'\n", optarg);
                exit(2);
            }
            break;
        case 'M':
            if (strcmp(optarg, "mlp") && strcmp(optarg, "cnn")) {
                fprintf(stderr, "--model must be mlp or cnn, got '%s'\n", optarg);
                exit(2);
            }
            o.cnn = !strcmp(optarg, "cnn");
            break;
        case 'h': usage(stdout, argv[0]); exit(0);
        default: usage(stderr, argv[0]); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
        usage(stderr, argv[0]);
        exit(2);
    }
    if (o.epochs == 0 && !o.load) {
        fprintf(stderr, "--epochs 0 trains nothing: it needs --load\n");
        exit(2);
    }
    if ((o.save || o.load) && o.loss == LOSS_BOTH) {
        fprintf(stderr, "--save and --load go with one model: --loss ce or mse, not both\n");
        exit(2);
    }
#ifndef NNF_EXAMPLE_DIST
    if (o.dist) {
        fprintf(stderr, "--dist needs nnf built with MPI (meson setup -Dmpi=enabled)\n");
        exit(2);
    }
#endif
    if (o.momentum >= 1) {
        fprintf(stderr, "--momentum must be below 1, got %g\n", (double)o.momentum);
        exit(2);
    }
    return o;
}

/* ---- Data ---- */

typedef struct {
    nnf_tensor *x, *labels;   /* n x 784 (or n x 1 x 28 x 28), n int64 labels */
} split;

static split make_split(const nnf_dataset *d, int64_t limit, int images)
{
    split s = {0};
    int64_t n = nnf_tensor_size(d->x, 0);
    if (limit && limit < n) n = limit;
    nnf_tensor *rows = NULL;
    CHECK(nnf_narrow(&rows, d->x, 0, 0, n));
    if (images) {
        CHECK(nnf_view(&s.x, rows, NNF_SHAPE(n, 1, 28, 28)));
        nnf_tensor_free(rows);
    } else {
        s.x = rows;
    }
    CHECK(nnf_narrow(&s.labels, d->y, 0, 0, n));
    return s;
}

static void free_split(split *s)
{
    nnf_tensor_free(s->x);
    nnf_tensor_free(s->labels);
}

/* The chapter's MSE needs a float target per output: row i is 1 at labels[i], else 0.
 * *t is reused while the batch size stays. */
static void one_hot(nnf_tensor **t, const nnf_tensor *labels)
{
    int64_t n = nnf_tensor_size(labels, 0);
    if (*t && nnf_tensor_size(*t, 0) != n) {
        nnf_tensor_free(*t);
        *t = NULL;
    }
    if (!*t) CHECK(nnf_empty(t, NNF_SHAPE(n, CLASSES)));
    CHECK(nnf_fill(*t, 0.0f));
    const int64_t *y = nnf_tensor_raw(labels);
    float *d = nnf_tensor_data(*t);
    for (int64_t i = 0; i < n; i++) d[i * CLASSES + y[i]] = 1.0f;
}

/* ---- The models ---- */

static nnf_model *make_model(const options *o, int loss_kind, nnf_rng *rng, char *desc,
                             size_t desc_size)
{
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    CHECK(loss_kind == LOSS_CE ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss));
    CHECK(nnf_model_new(&m, loss));
    nnf_layer *layers[10];
    int n = 0;
    if (o->cnn) {
        /* 28x28 -> 28x28 x 8 -> 14x14 x 16 -> 7x7 x 32 -> 10 */
        CHECK(nnf_layer_conv2d_nchw(&layers[n++], rng, 1, 8, 3, 1, 1, NNF_INIT_KAIMING));
        CHECK(nnf_layer_relu(&layers[n++]));
        CHECK(nnf_layer_conv2d_nchw(&layers[n++], rng, 8, 16, 3, 2, 1, NNF_INIT_KAIMING));
        CHECK(nnf_layer_relu(&layers[n++]));
        CHECK(nnf_layer_conv2d_nchw(&layers[n++], rng, 16, 32, 3, 2, 1, NNF_INIT_KAIMING));
        CHECK(nnf_layer_relu(&layers[n++]));
        CHECK(nnf_layer_flatten(&layers[n++]));
        CHECK(nnf_layer_linear(&layers[n++], rng, 32 * 7 * 7, CLASSES, NNF_INIT_KAIMING));
        snprintf(desc, desc_size, "Conv2d(1, 8, 3, pad 1) -> ReLU -> Conv2d(8, 16, 3, stride 2) "
                 "-> ReLU -> Conv2d(16, 32, 3, stride 2) -> ReLU -> Flatten -> Lin(1568, 10)");
    } else {
        CHECK(nnf_layer_linear(&layers[n++], rng, 784, o->hidden, NNF_INIT_KAIMING));
        CHECK(nnf_layer_relu(&layers[n++]));
        CHECK(nnf_layer_linear(&layers[n++], rng, o->hidden, CLASSES, NNF_INIT_KAIMING));
        snprintf(desc, desc_size, "Lin(784, %lld) -> ReLU -> Lin(%lld, 10)",
                 (long long)o->hidden, (long long)o->hidden);
    }
    for (int i = 0; i < n; i++) CHECK(nnf_model_add(m, layers[i]));
    return m;
}

static int64_t count_parameters(const nnf_model *m)
{
    int64_t total = 0;
    for (int i = 0; i < nnf_model_num_parameters(m); i++)
        total += nnf_tensor_numel(nnf_model_parameters(m)[i]);
    return total;
}

/* ---- Accuracy ---- */

/* Number of rows whose largest logit is the label. */
static int64_t count_correct(const nnf_tensor *logits, const int64_t *labels, nnf_tensor **argmax)
{
    if (*argmax && nnf_tensor_size(*argmax, 0) != nnf_tensor_size(logits, 0)) {
        nnf_tensor_free(*argmax);
        *argmax = NULL;
    }
    CHECK(nnf_argmax(argmax, logits, 1, 0));
    const int64_t *pred = nnf_tensor_raw(*argmax);
    int64_t correct = 0;
    for (int64_t i = 0; i < nnf_tensor_size(logits, 0); i++) correct += pred[i] == labels[i];
    return correct;
}

static double evaluate(nnf_model *m, const split *s, nnf_tensor **argmax)
{
    int64_t n = nnf_tensor_size(s->x, 0), correct = 0;
    const int64_t *labels = nnf_tensor_raw(s->labels);
    for (int64_t start = 0; start < n; start += EVAL_BATCH) {
        nnf_tensor *xb = NULL, *out;
        CHECK(nnf_narrow(&xb, s->x, 0, start, n - start < EVAL_BATCH ? n - start : EVAL_BATCH));
        CHECK(nnf_model_infer(m, &out, xb));
        correct += count_correct(out, labels + start, argmax);
        nnf_tensor_free(xb);
    }
    return 100.0 * (double)correct / (double)n;
}

/* ---- Training ---- */

static void progress(int epoch, int64_t done, int64_t total, double loss)
{
    enum { WIDTH = 30 };
    int filled = (int)(WIDTH * done / total);
    fprintf(stderr, "\r%5d  [", epoch);
    for (int i = 0; i < WIDTH; i++) fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  loss %.4f", (int)(100 * done / total), loss);
    fflush(stderr);
}

/* Only rank 0 writes files (and, through main, prints). */
static int is_rank0(void)
{
#ifdef NNF_EXAMPLE_DIST
    return dist == NULL || nnf_dist_rank(dist) == 0;
#else
    return 1;
#endif
}

/* Trains one model for o->epochs and returns its final test accuracy. */
static double run(const options *o, int loss_kind, const split *train, const split *test)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, o->seed);
    char desc[200];
    nnf_model *m = make_model(o, loss_kind, &rng, desc, sizeof desc);
    /* MSE tolerates no larger a step: its curvature in the last layer's weights is
     * ~ |h|^2 / 5 for hidden activations h (|h|^2 ~ 256 here), so with momentum 0.9
     * SGD diverges above lr ~ 2 * 1.9 / 51 = 0.07 (measured: 0.1 gives nan, 0.05 84%). */
    float lr = o->lr > 0 ? o->lr : o->cnn ? 0.02f : 0.05f;
    nnf_sgd *opt = NULL;
    CHECK(nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m), lr, o->momentum,
                      o->weight_decay));
    nnf_loader *loader = NULL;
    CHECK(nnf_loader_new(&loader, train->x, train->labels, o->batch, o->seed));
    nnf_layer *last = nnf_model_layer(m, nnf_model_num_layers(m) - 1);

    printf("\nModel: %s, %lld parameters\n", desc, (long long)count_parameters(m));
    if (o->load) {
        CHECK(nnf_model_load_npz(m, o->load));
        printf("Weights loaded from %s\n", o->load);
    }
#ifdef NNF_EXAMPLE_DIST
    nnf_dist_trainer *trainer = NULL;
    if (dist)   /* rank 0's weights to every rank */
        CHECK(nnf_dist_trainer_new(&trainer, dist, m, opt));
#endif
    printf("Loss: %s; SGD lr %g (cosine-annealed to 0), momentum %g, weight decay %g; "
           "batch %lld; seed %llu\n\n",
           loss_kind == LOSS_CE ? "softmax cross-entropy" : "MSE against one-hot targets",
           (double)lr, (double)o->momentum, (double)o->weight_decay, (long long)o->batch,
           (unsigned long long)o->seed);
    if (o->epochs > 0)
        printf("epoch   train loss   train acc   test acc      time\n");

    nnf_tensor *argmax = NULL, *targets = NULL;
    double test_acc = o->epochs == 0 ? evaluate(m, test, &argmax) : 0, total_time = 0;
    for (int epoch = 1; epoch <= o->epochs; epoch++) {
        double start = now_seconds(), shown = 0, loss_sum = 0;
        int64_t correct = 0, seen = 0, nb = nnf_loader_len(loader);
        CHECK(nnf_loader_shuffle(loader));
        for (int64_t i = 0; i < nb; i++) {
            nnf_tensor *xb, *yb;
            float loss;
            /* Cosine annealing: lr falls from its peak to 0 over the run, so the last epochs
             * take small steps and settle instead of rattling around the minimum. */
            double progress_frac = ((double)(epoch - 1) * (double)nb + (double)i) /
                                   ((double)o->epochs * (double)nb);
            CHECK(nnf_sgd_set_lr(opt, (float)(0.5 * lr * (1.0 + cos(M_PI * progress_frac)))));
#ifdef NNF_EXAMPLE_DIST
            if (trainer) {
                /* this rank's rows of the batch; the step combines all ranks' */
                int64_t rows;
                CHECK(nnf_dist_trainer_get_batch(trainer, &xb, &yb, &rows, loader, i));
                if (loss_kind == LOSS_MSE) one_hot(&targets, yb);
                CHECK(nnf_dist_trainer_step(trainer, &loss, xb,
                                            loss_kind == LOSS_MSE ? targets : yb, rows));
                correct += count_correct(nnf_dist_trainer_output(trainer), nnf_tensor_raw(yb),
                                         &argmax);
                seen += rows;
            } else
#endif
            {
                CHECK(nnf_loader_get_batch(loader, &xb, &yb, i));
                if (loss_kind == LOSS_MSE) one_hot(&targets, yb);
                CHECK(nnf_model_call(m, &loss, xb, loss_kind == LOSS_MSE ? targets : yb));
                nnf_sgd_zero_grad(opt);
                CHECK(nnf_model_backward(m));
                CHECK(nnf_sgd_step(opt));
                /* the logits of this forward, before the step: a running training accuracy */
                correct += count_correct(nnf_layer_output(last), nnf_tensor_raw(yb), &argmax);
                seen += nnf_tensor_size(xb, 0);
            }
            loss_sum += loss;
            if (o->progress && (now_seconds() - shown > 0.1 || i == nb - 1)) {
                progress(epoch, i + 1, nb, loss_sum / (double)(i + 1));
                shown = now_seconds();
            }
        }
#ifdef NNF_EXAMPLE_DIST
        if (trainer)   /* each rank scored its own rows */
            CHECK(nnf_dist_sum(dist, &correct, 1));
#endif
        test_acc = evaluate(m, test, &argmax);
        double elapsed = now_seconds() - start;
        total_time += elapsed;
        if (o->progress) fprintf(stderr, "\r\033[K");
        printf("%5d   %10.4f   %8.2f%%  %8.2f%%  %6.1f s\n", epoch, loss_sum / (double)nb,
               100.0 * (double)correct / (double)seen, test_acc, elapsed);
        fflush(stdout);
    }
    printf("\nTest accuracy %.2f%% after %d epoch%s, %.1f s.\n", test_acc, o->epochs,
           o->epochs == 1 ? "" : "s", total_time);
    if (o->save && is_rank0()) {
        CHECK(nnf_model_save_npz(m, o->save));
        printf("Weights saved to %s\n", o->save);
    }

    /* The first test images, and what the model calls them. */
    nnf_tensor *xs = NULL, *out, *pred = NULL;
    int shown = nnf_tensor_size(test->x, 0) < 4 ? (int)nnf_tensor_size(test->x, 0) : 4;
    CHECK(nnf_narrow(&xs, test->x, 0, 0, shown));
    CHECK(nnf_model_infer(m, &out, xs));
    CHECK(nnf_argmax(&pred, out, 1, 0));
    printf("The first test images:");
    for (int i = 0; i < shown; i++) {
        int64_t p = ((const int64_t *)nnf_tensor_raw(pred))[i];
        int64_t y = ((const int64_t *)nnf_tensor_raw(test->labels))[i];
        printf("%s %s%s%s%s", i ? "," : "", class_names[p], p == y ? "" : " (is ",
               p == y ? "" : class_names[y], p == y ? "" : ")");
    }
    printf("\n");
    nnf_tensor_free(xs);
    nnf_tensor_free(pred);

    nnf_tensor_free(argmax);
    nnf_tensor_free(targets);
#ifdef NNF_EXAMPLE_DIST
    nnf_dist_trainer_free(trainer);
#endif
    nnf_loader_free(loader);
    nnf_sgd_free(opt);
    nnf_model_free(m);
    return test_acc;
}

int main(int argc, char **argv)
{
    options o = parse_args(argc, argv);
#ifdef NNF_EXAMPLE_DIST
    if (o.dist) {
        CHECK(nnf_dist_init(&dist, MPI_COMM_WORLD));
        if (nnf_dist_rank(dist) != 0) {
            /* the same lines as rank 0's, which speaks for all; errors still show */
            if (freopen("/dev/null", "w", stdout) == NULL) exit(1);
            o.progress = 0;
        }
    }
#endif

    double t0 = now_seconds();
    nnf_dataset train = {0}, test = {0};
    if (nnf_mnist_load(&train, o.data, "train") != NNF_OK ||
        nnf_mnist_load(&test, o.data, "t10k") != NNF_OK) {
        fprintf(stderr, "Cannot load Fashion-MNIST: %s\n(install Debian's dataset-fashion-mnist "
                "or pass --data DIR)\n", nnf_last_error());
        nnf_dataset_free(&train);
        return 1;
    }
    float mean, std;
    CHECK(nnf_dataset_stats(&train, &mean, &std));
    CHECK(nnf_dataset_normalize(&train, mean, std));
    CHECK(nnf_dataset_normalize(&test, mean, std));
    split tr = make_split(&train, o.limit, o.cnn);
    split te = make_split(&test, o.limit, o.cnn);

    printf("nnf %s, %s kernels, %d thread%s\n", nnf_version(), nnf_isa_name(nnf_isa_active()),
           nnf_get_num_threads(), nnf_get_num_threads() == 1 ? "" : "s");
    printf("Fashion-MNIST from %s: %lld training and %lld test images of 28x28 "
           "(loaded in %.2f s)\n", o.data, (long long)nnf_tensor_size(tr.x, 0),
           (long long)nnf_tensor_size(te.x, 0), now_seconds() - t0);
    printf("Pixels normalised with the training set's mean %.4f and std %.4f\n", (double)mean,
           (double)std);
#ifdef NNF_EXAMPLE_DIST
    if (dist)
        printf("Data-parallel over %d MPI ranks, %d thread%s each\n", nnf_dist_size(dist),
               nnf_get_num_threads(), nnf_get_num_threads() == 1 ? "" : "s");
#endif

    double acc_ce = 0, acc_mse = 0;
    if (o.loss & LOSS_CE) acc_ce = run(&o, LOSS_CE, &tr, &te);
    if (o.loss & LOSS_MSE) acc_mse = run(&o, LOSS_MSE, &tr, &te);
    if (o.loss == LOSS_BOTH)
        printf("\nSame model, same data: %.2f%% with cross-entropy, %.2f%% with MSE on one-hot "
               "targets.\n", acc_ce, acc_mse);

    free_split(&tr);
    free_split(&te);
    nnf_dataset_free(&train);
    nnf_dataset_free(&test);
#ifdef NNF_EXAMPLE_DIST
    nnf_dist_free(dist);
#endif
    return 0;
}
