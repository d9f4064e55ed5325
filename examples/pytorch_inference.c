/* Inference in nnf on a model trained in PyTorch.
 *
 * scripts/train_pytorch_fashion_mnist.py trains nn.Sequential(Linear(784, H), ReLU(),
 * Linear(H, 10)) on Fashion-MNIST and saves its state_dict with numpy.savez. This program
 * reads the file's shapes to build the same model from nnf's layers, loads the weights
 * by their PyTorch names, and classifies the 10000 test images:
 *
 *     /usr/bin/python3 scripts/train_pytorch_fashion_mnist.py mlp.npz
 *     pytorch_inference mlp.npz [--data DIR] [--logits OUT.npz]
 *
 * --logits writes the test set's logits ({"logits": 10000 x 10}) for a comparison with
 * PyTorch's (examples/check_pytorch_inference.py).
 */
#include <string.h>

#include "common.h"

enum { CLASSES = 10, PIXELS = 784, BATCH = 1000 };

static const char *const class_names[CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                                 "Ankle boot"};

/* The hidden width H, from the first layer's weight (H, 784) in the file. */
static int64_t hidden_width(const char *path)
{
    nnf_npz *z = NULL;
    CHECK(nnf_npz_load(&z, path));
    const nnf_tensor *w = nnf_npz_get(z, "0.weight");
    if (w == NULL || nnf_tensor_ndim(w) != 2 || nnf_tensor_size(w, 1) != PIXELS) {
        fprintf(stderr, "%s: no \"0.weight\" of shape (H, 784): not the MLP of "
                "scripts/train_pytorch_fashion_mnist.py\n", path);
        exit(1);
    }
    int64_t h = nnf_tensor_size(w, 0);
    printf("%s: %d arrays:", path, nnf_npz_len(z));
    for (int i = 0; i < nnf_npz_len(z); i++) {
        printf(" %s ", nnf_npz_key(z, i));
        print_size(nnf_npz_tensor(z, i));
        printf(i + 1 < nnf_npz_len(z) ? "," : "\n");
    }
    nnf_npz_free(z);
    return h;
}

int main(int argc, char **argv)
{
    const char *weights = NULL, *data = "/usr/share/datasets/fashion-mnist", *logits_out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--logits") && i + 1 < argc) logits_out = argv[++i];
        else if (argv[i][0] != '-' && !weights) weights = argv[i];
        else {
            fprintf(stderr, "Usage: %s WEIGHTS.npz [--data DIR] [--logits OUT.npz]\n"
                    "Classifies Fashion-MNIST's test images with an MLP trained in PyTorch\n"
                    "(scripts/train_pytorch_fashion_mnist.py writes WEIGHTS.npz).\n", argv[0]);
            return 2;
        }
    }
    if (!weights) {
        fprintf(stderr, "%s: which weights? (see --help)\n", argv[0]);
        return 2;
    }

    /* nn.Sequential(Linear(784, H), ReLU(), Linear(H, 10)): state_dict names 0.weight,
     * 0.bias, 2.weight, 2.bias, which nnf gives the same three layers. */
    int64_t h = hidden_width(weights);
    nnf_model *m = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    CHECK(nnf_model_new(&m, NULL));
    CHECK(nnf_layer_linear(&l1, NULL, PIXELS, h, NNF_INIT_KAIMING));
    CHECK(nnf_model_add(m, l1));
    CHECK(nnf_layer_relu(&act));
    CHECK(nnf_model_add(m, act));
    CHECK(nnf_layer_linear(&l2, NULL, h, CLASSES, NNF_INIT_KAIMING));
    CHECK(nnf_model_add(m, l2));
    CHECK(nnf_model_load_npz(m, weights));
    printf("Model: Lin(784, %lld) -> ReLU -> Lin(%lld, 10), weights from PyTorch\n",
           (long long)h, (long long)h);

    nnf_dataset test = {0};
    if (nnf_mnist_load(&test, data, "t10k") != NNF_OK) {
        fprintf(stderr, "Cannot load Fashion-MNIST: %s\n", nnf_last_error());
        return 1;
    }
    int64_t n = nnf_tensor_size(test.x, 0), correct = 0;
    const int64_t *labels = nnf_tensor_raw(test.y);
    nnf_tensor *all = NULL;
    CHECK(nnf_empty(&all, NNF_SHAPE(n, CLASSES)));
    for (int64_t start = 0; start < n; start += BATCH) {
        int64_t rows = n - start < BATCH ? n - start : BATCH;
        nnf_tensor *xb = NULL, *out, *pred = NULL, *dst = NULL;
        CHECK(nnf_narrow(&xb, test.x, 0, start, rows));
        CHECK(nnf_model_infer(m, &out, xb));
        CHECK(nnf_narrow(&dst, all, 0, start, rows));
        CHECK(nnf_copy(dst, out));
        CHECK(nnf_argmax(&pred, out, 1, 0));
        for (int64_t i = 0; i < rows; i++)
            correct += ((const int64_t *)nnf_tensor_raw(pred))[i] == labels[start + i];
        nnf_tensor_free(xb);
        nnf_tensor_free(dst);
        nnf_tensor_free(pred);
    }
    printf("Test accuracy %.2f%% (%lld of %lld)\n", 100.0 * (double)correct / (double)n,
           (long long)correct, (long long)n);

    printf("The first test images:");
    nnf_tensor *first = NULL, *pred = NULL;
    CHECK(nnf_narrow(&first, all, 0, 0, 5));
    CHECK(nnf_argmax(&pred, first, 1, 0));
    for (int i = 0; i < 5; i++) {
        int64_t p = ((const int64_t *)nnf_tensor_raw(pred))[i];
        printf("%s %s%s%s%s", i ? "," : "", class_names[p], p == labels[i] ? "" : " (is ",
               p == labels[i] ? "" : class_names[labels[i]], p == labels[i] ? "" : ")");
    }
    printf("\n");

    if (logits_out) {
        const char *key = "logits";
        const nnf_tensor *arrays[] = {all};
        CHECK(nnf_npz_save(logits_out, 1, &key, arrays));
        printf("Logits written to %s\n", logits_out);
    }
    nnf_tensor_free(first);
    nnf_tensor_free(pred);
    nnf_tensor_free(all);
    nnf_dataset_free(&test);
    nnf_model_free(m);
    return 0;
}
