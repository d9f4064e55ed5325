/* Why initialisation matters: the chapter's activation statistics.
 *
 * Each output of x @ w sums n_in products; with x and w standard normal the sum has
 * std sqrt(n_in), 10 for 100 inputs. Fifty such layers multiply the scale by 10^50 and
 * float32 overflows (inf, then inf - inf = nan); scaling w by 0.01 shrinks it by 10^50
 * to zero. 1/sqrt(n_in) (Xavier Glorot) keeps std near 1 through linear layers; ReLU
 * zeroes half the values, halving the variance each layer, which sqrt(2/n_in) (Kaiming
 * He) restores.
 */
#include <math.h>

#include "common.h"

static void stats(const nnf_tensor *t, float *mean, float *std)
{
    nnf_tensor *m = NULL, *s = NULL;
    CHECK(nnf_mean(&m, t, NNF_ALL_DIMS, 0));
    CHECK(nnf_std(&s, t, NNF_ALL_DIMS, 1, 0));   /* unbiased, like torch.std */
    *mean = item(m);
    *std = item(s);
    nnf_tensor_free(m);
    nnf_tensor_free(s);
}

static void print_stats(const char *code, const nnf_tensor *t)
{
    float mean, std;
    stats(t, &mean, &std);
    printf(">>> %s\n(tensor(%.4f), tensor(%.4f))\n", code, (double)mean, (double)std);
}

/* x[0:5, 0:5] */
static void print_corner(const nnf_tensor *x)
{
    nnf_tensor *rows = NULL, *corner = NULL;
    CHECK(nnf_slice(&rows, x, 0, 0, 5, 1));
    CHECK(nnf_slice(&corner, rows, 1, 0, 5, 1));
    CHECK(nnf_print(corner));
    nnf_tensor_free(rows);
    nnf_tensor_free(corner);
}

typedef enum { PLAIN, RELU } activation;

/* x = randn(200, 100); 50 times: x = act(x @ (randn(100, 100) * scale)). Prints x's std
 * after layers 1, 10, 20, 30, 40, 50 on one line, and returns x. With scale 0, the
 * weights come from the library's Kaiming initialisation instead. */
static nnf_tensor *deep(const char *label, float scale, activation act, nnf_rng *rng)
{
    nnf_tensor *x = NULL, *w = NULL, *next = NULL;
    CHECK(nnf_randn(&x, rng, NNF_SHAPE(200, 100)));
    printf("  %-34s", label);
    for (int layer = 1; layer <= 50; layer++) {
        nnf_tensor_free(w);
        w = NULL;
        if (scale > 0) {
            CHECK(nnf_randn(&w, rng, NNF_SHAPE(100, 100)));
            CHECK(nnf_mul_scalar(&w, w, scale));
        } else {
            CHECK(nnf_empty(&w, NNF_SHAPE(100, 100)));
            CHECK(nnf_weight_init(w, rng, NNF_INIT_KAIMING));
        }
        CHECK(nnf_matmul(&next, x, w));   /* into last layer's buffer after the first */
        if (act == RELU) CHECK(nnf_relu(&next, next));
        nnf_tensor *t = x;
        x = next;
        next = t;
        if (layer == 1 || layer % 10 == 0) {
            float mean, std;
            stats(x, &mean, &std);
            if (isnan(std)) printf(" %9s", "nan");   /* not glibc's "-nan" */
            else printf(" %9.3g", (double)std);
        }
    }
    printf("\n");
    nnf_tensor_free(w);
    nnf_tensor_free(next);
    return x;
}

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 0);

    printf("## One layer: x (200 x 100) @ w1 (100 x 50) + b1\n\n");
    nnf_tensor *x = NULL, *w1 = NULL, *b1 = NULL, *l1 = NULL, *l2 = NULL, *w1t = NULL;
    CHECK(nnf_randn(&x, &rng, NNF_SHAPE(200, 100)));
    CHECK(nnf_randn(&w1, &rng, NNF_SHAPE(100, 50)));
    CHECK(nnf_zeros(&b1, NNF_SHAPE(50)));
    /* nnf_linear takes w as (n_out, n_in), like nn.Linear: the chapter's w1 transposed */
    CHECK(nnf_t(&w1t, w1));
    CHECK(nnf_linear(&l1, x, w1t, b1));
    print_stats("w1 = torch.randn(100, 50); l1 = lin(x, w1, b1); l1.mean(), l1.std()", l1);

    nnf_tensor *big = NULL, *sq = NULL;
    CHECK(nnf_randn(&big, &rng, NNF_SHAPE(1000, 1000)));
    CHECK(nnf_matmul(&sq, big, big));
    print_stats("test = torch.randn(1000, 1000); test = test @ test; test.mean(), test.std()",
                sq);
    printf("(std sqrt(1000) = %.1f: every output sums 1000 products)\n", sqrt(1000.0));

    CHECK(nnf_div_scalar(&w1, w1, sqrtf(100)));
    CHECK(nnf_linear(&l1, x, w1t, b1));   /* w1t is a view: it sees the rescaled w1 */
    print_stats("w1 = torch.randn(100, 50) / sqrt(100); l1 = lin(x, w1, b1); l1.mean(), l1.std()",
                l1);
    CHECK(nnf_relu(&l2, l1));
    print_stats("l2 = relu(l1); l2.mean(), l2.std()", l2);
    CHECK(nnf_mul_scalar(&w1, w1, sqrtf(2)));   /* now randn * sqrt(2 / 100) */
    CHECK(nnf_linear(&l1, x, w1t, b1));
    CHECK(nnf_relu(&l2, l1));
    print_stats("w1 = torch.randn(100, 50) * sqrt(2 / 100); l2 = relu(lin(x, w1, b1)); "
                "l2.mean(), l2.std()", l2);

    printf("\n## Fifty layers: x = act(x @ (torch.randn(100, 100) * scale)), std of x after"
           " layer\n\n");
    printf("  %-34s %9s %9s %9s %9s %9s %9s\n", "", "1", "10", "20", "30", "40", "50");
    nnf_tensor *runs[6];
    const char *labels[6] = {"x @ randn", "x @ (randn * 0.01)", "x @ (randn * 0.1)",
                             "relu(x @ (randn * 0.1))", "relu(x @ (randn * sqrt(2/100)))",
                             "relu(x @ w), Kaiming init (nnf)"};
    runs[0] = deep(labels[0], 1.0f, PLAIN, &rng);
    runs[1] = deep(labels[1], 0.01f, PLAIN, &rng);
    runs[2] = deep(labels[2], 0.1f, PLAIN, &rng);
    runs[3] = deep(labels[3], 0.1f, RELU, &rng);
    runs[4] = deep(labels[4], sqrtf(2.0f / 100), RELU, &rng);
    runs[5] = deep(labels[5], 0.0f, RELU, &rng);
    for (int r = 0; r < 6; r++) {
        printf("\n>>> x[0:5, 0:5]   # %s\n", labels[r]);
        print_corner(runs[r]);
    }

    for (int r = 0; r < 6; r++) nnf_tensor_free(runs[r]);
    nnf_tensor *all[] = {x, w1, b1, l1, l2, w1t, big, sq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return 0;
}
