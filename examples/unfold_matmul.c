/* The chapter's further research: "Learn about the unfold method in PyTorch, and use it
 * along with matrix multiplication to implement your own 2D convolution function. Then
 * train a CNN that uses it."
 *
 * unfold copies every kernel-sized window of the image into a column; a convolution is
 * then one matrix product of the flattened kernels with those columns. nnf_conv2d_nchw and
 * the Conv2d layer are built exactly so (src/nn/conv2d.c); this program shows the idea
 * step by step, checks it against the definition written as loops, and trains a small
 * CNN of Conv2d layers. `train_fashion_mnist --model cnn` trains one on real images.
 */
#include <math.h>

#include "common.h"

/* out[n, o, y, z] = b[o] + sum_{c,i,j} w[o, c, i, j] * x[n, c, y*s - p + i, z*s - p + j] */
static double direct(const float *x, const float *w, const float *b, int C, int H, int W, int k,
                     int s, int p, int n, int o, int y, int z)
{
    double sum = b[o];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                int ih = y * s - p + i, iw = z * s - p + j;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    sum += (double)w[((o * C + c) * k + i) * k + j] *
                           x[((n * C + c) * H + ih) * W + iw];
            }
    return sum;
}

/* 8x8 images: a horizontal bar (class 0) or a vertical one (class 1) at a random row or
 * column, plus noise. The bar can be anywhere; a convolution's 3x3 filters, shared by
 * every position, find it wherever it is. */
static void bars(nnf_tensor **x, nnf_tensor **y, int n, nnf_rng *rng)
{
    CHECK(nnf_rand(x, rng, NNF_SHAPE(n, 1, 8, 8)));
    CHECK(nnf_empty_typed(y, NNF_SHAPE(n), NNF_I64));
    nnf_tensor *where = NULL;
    CHECK(nnf_rand(&where, rng, NNF_SHAPE(n)));
    float *xd = nnf_tensor_data(*x);
    const float *wd = nnf_tensor_data(where);
    int64_t *yd = nnf_tensor_raw(*y);
    for (int i = 0; i < n; i++) {
        yd[i] = i % 2;
        int at = (int)(wd[i] * 8);
        for (int p = 0; p < 64; p++) {
            int on = yd[i] ? p % 8 == at : p / 8 == at;
            xd[i * 64 + p] = 0.6f * (xd[i * 64 + p] - 0.5f) + (on ? 1.0f : 0.0f);
        }
    }
    nnf_tensor_free(where);
}

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 0);

    printf("## unfold: every 2x2 window of a 4x4 image becomes a column\n\n");
    nnf_tensor *img = NULL, *img4 = NULL, *cols = NULL;
    CHECK(nnf_arange(&img, 0, 16, 1));
    CHECK(nnf_view(&img4, img, NNF_SHAPE(1, 1, 4, 4)));
    printf(">>> x = torch.arange(16.).view(1, 1, 4, 4)\n");
    CHECK(nnf_print(img4));
    CHECK(nnf_unfold(&cols, img4, 2, 2, 1, 0));
    printf("\n>>> F.unfold(x, kernel_size=2)   # (N, C*kh*kw, positions)\n");
    CHECK(nnf_print(cols));
    print_size(cols);
    printf("   # column 0 is the top-left window 0, 1, 4, 5\n");

    printf("\n## conv2d = w.view(C_out, -1) @ unfold(x), viewed as (N, C_out, OH, OW)\n\n");
    enum { N = 4, C = 3, H = 12, W = 10, CO = 5, K = 3, S = 2, P = 1 };
    const int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    nnf_tensor *x = NULL, *w = NULL, *b = NULL, *u = NULL, *w2 = NULL, *prod = NULL;
    nnf_tensor *by_hand = NULL, *lib = NULL;
    CHECK(nnf_randn(&x, &rng, NNF_SHAPE(N, C, H, W)));
    CHECK(nnf_randn(&w, &rng, NNF_SHAPE(CO, C, K, K)));
    CHECK(nnf_randn(&b, &rng, NNF_SHAPE(CO)));
    CHECK(nnf_unfold(&u, x, K, K, S, P));                       /* (4, 27, 30) */
    CHECK(nnf_view(&w2, w, NNF_SHAPE(CO, C * K * K)));          /* (5, 27) */
    CHECK(nnf_matmul(&prod, w2, u));                             /* (5, 27) @ (4, 27, 30) */
    nnf_tensor *b3 = NULL;
    CHECK(nnf_view(&b3, b, NNF_SHAPE(CO, 1)));
    CHECK(nnf_add(&prod, prod, b3));
    CHECK(nnf_view(&by_hand, prod, NNF_SHAPE(N, CO, OH, OW)));
    CHECK(nnf_conv2d_nchw(&lib, x, w, b, S, P));
    printf("x: ");
    print_size(x);
    printf(", w: ");
    print_size(w);
    printf(", stride %d, padding %d\nunfold(x): ", S, P);
    print_size(u);
    printf(", w.view(5, -1) @ unfold(x): ");
    print_size(prod);
    printf(" -> ");
    print_size(by_hand);
    printf("\n");
    double err_hand = 0, err_lib = 0;
    const float *xd = nnf_tensor_data(x), *wd = nnf_tensor_data(w), *bd = nnf_tensor_data(b);
    const float *hd = nnf_tensor_data(by_hand), *ld = nnf_tensor_data(lib);
    for (int n = 0, i = 0; n < N; n++)
        for (int o = 0; o < CO; o++)
            for (int y = 0; y < OH; y++)
                for (int z = 0; z < OW; z++, i++) {
                    double want = direct(xd, wd, bd, C, H, W, K, S, P, n, o, y, z);
                    err_hand = fmax(err_hand, fabs(hd[i] - want));
                    err_lib = fmax(err_lib, fabs(ld[i] - want));
                }
    printf("largest difference from the definition as loops in double: unfold + matmul %.1e, "
           "nnf_conv2d_nchw %.1e\n", err_hand, err_lib);

    printf("\n## A CNN from Conv2d layers, trained to tell horizontal from vertical bars\n\n");
    nnf_tensor *xtr = NULL, *ytr = NULL, *xte = NULL, *yte = NULL;
    bars(&xtr, &ytr, 512, &rng);
    bars(&xte, &yte, 256, &rng);
    nnf_loss *ce = NULL;
    nnf_model *cnn = NULL;
    nnf_layer *layers[6];
    CHECK(nnf_loss_cross_entropy(&ce));
    CHECK(nnf_model_new(&cnn, ce));
    CHECK(nnf_layer_conv2d_nchw(&layers[0], &rng, 1, 4, 3, 1, 1, NNF_INIT_KAIMING));   /* 8x8 */
    CHECK(nnf_layer_relu(&layers[1]));
    CHECK(nnf_layer_conv2d_nchw(&layers[2], &rng, 4, 8, 3, 2, 1, NNF_INIT_KAIMING));   /* 4x4 */
    CHECK(nnf_layer_relu(&layers[3]));
    CHECK(nnf_layer_flatten(&layers[4]));
    CHECK(nnf_layer_linear(&layers[5], &rng, 8 * 4 * 4, 2, NNF_INIT_KAIMING));
    for (int i = 0; i < 6; i++) CHECK(nnf_model_add(cnn, layers[i]));
    nnf_sgd *opt = NULL;
    nnf_loader *loader = NULL;
    CHECK(nnf_sgd_new(&opt, nnf_model_num_parameters(cnn), nnf_model_parameters(cnn), 0.05f, 0.9f,
                      0.0f));
    CHECK(nnf_loader_new(&loader, xtr, ytr, 32, 1));
    nnf_tensor *out, *pred = NULL;
    double acc = 0;
    printf("  epoch    loss   test accuracy\n");
    for (int epoch = 1; epoch <= 5; epoch++) {
        CHECK(nnf_loader_shuffle(loader));
        float sum = 0;
        for (int64_t i = 0; i < nnf_loader_len(loader); i++) {
            nnf_tensor *xb, *yb;
            float loss;
            CHECK(nnf_loader_get_batch(loader, &xb, &yb, i));
            CHECK(nnf_model_call(cnn, &loss, xb, yb));
            nnf_sgd_zero_grad(opt);
            CHECK(nnf_model_backward(cnn));
            CHECK(nnf_sgd_step(opt));
            sum += loss;
        }
        CHECK(nnf_model_infer(cnn, &out, xte));
        CHECK(nnf_argmax(&pred, out, 1, 0));
        int correct = 0;
        for (int i = 0; i < 256; i++)
            correct += ((const int64_t *)nnf_tensor_raw(pred))[i] ==
                       ((const int64_t *)nnf_tensor_raw(yte))[i];
        acc = 100.0 * correct / 256;
        printf("  %5d  %6.4f   %6.2f%%\n", epoch, sum / (double)nnf_loader_len(loader), acc);
    }

    nnf_loader_free(loader);
    nnf_sgd_free(opt);
    nnf_model_free(cnn);
    nnf_tensor *all[] = {img, img4, cols, x, w, b, u, w2, prod, b3, by_hand, lib, xtr, ytr, xte,
                         yte, pred};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return err_hand < 1e-4 && err_lib < 1e-4 && acc >= 90 ? 0 : 1;
}
