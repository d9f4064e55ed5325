/* The chapter's first cells: one neuron computed with a loop and as a dot product, the
 * ReLU activation, then a layer of neurons written as plain loops and as
 * y = x @ w.t() + b.
 *
 *     output = sum([x*w for x,w in zip(inputs, weights)]) + bias
 *     def relu(x): return x if x >= 0 else 0
 */
#include <math.h>

#include "common.h"

static float relu(float x) { return x >= 0 ? x : 0; }

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 42);

    /* weight = randn(100); inp = randn(100) * 100; bias = 0.2 */
    nnf_tensor *weight = NULL, *inp = NULL;
    const float bias = 0.2f;
    CHECK(nnf_randn(&weight, &rng, NNF_SHAPE(100)));
    CHECK(nnf_randn(&inp, &rng, NNF_SHAPE(100)));
    CHECK(nnf_mul_scalar(&inp, inp, 100.0f));

    printf("A neuron with 100 inputs: output = sum(x * w) + bias\n\n");
    const float *x = nnf_tensor_data(inp), *w = nnf_tensor_data(weight);
    float output = 0;
    for (int i = 0; i < 100; i++) output += x[i] * w[i];
    output += bias;
    printf("  as a loop over (x, w) pairs:  output = %.4f\n", (double)output);

    /* y = inp @ weight.T + bias: a 1-d @ 1-d matmul is the dot product, a 0-d tensor */
    nnf_tensor *y = NULL;
    CHECK(nnf_matmul(&y, inp, weight));
    CHECK(nnf_add_scalar(&y, y, bias));
    printf("  as inp @ weight + bias:       y = ");
    CHECK(nnf_print(y));
    printf("  (the last digits may differ: the same float32 sum, added in another order)\n");
    printf("  relu(output) = %g, relu(-343) = %g\n", (double)relu(output), (double)relu(-343));

    /* A layer of neurons: x is batch x n_inputs, w is n_neurons x n_inputs (nn.Linear's
     * layout), b has one bias per neuron; y[i, j] = sum_k x[i, k] * w[j, k] + b[j]. */
    enum { BATCH = 5, N_IN = 784, N_OUT = 10 };
    nnf_tensor *xb = NULL, *wl = NULL, *bl = NULL, *yl = NULL;
    CHECK(nnf_randn(&xb, &rng, NNF_SHAPE(BATCH, N_IN)));
    CHECK(nnf_randn(&wl, &rng, NNF_SHAPE(N_OUT, N_IN)));
    CHECK(nnf_randn(&bl, &rng, NNF_SHAPE(N_OUT)));
    CHECK(nnf_linear(&yl, xb, wl, bl));

    printf("\nA layer of %d neurons on a batch of %d inputs of %d values: y = x @ w.t() + b\n",
           N_OUT, BATCH, N_IN);
    printf("  y.shape = ");
    print_size(yl);
    const float *xd = nnf_tensor_data(xb), *wd = nnf_tensor_data(wl), *bd = nnf_tensor_data(bl);
    const float *yd = nnf_tensor_data(yl);
    double max_diff = 0;
    for (int i = 0; i < BATCH; i++)
        for (int j = 0; j < N_OUT; j++) {
            /* the plain loops the chapter's questionnaire asks for, in double */
            double s = bd[j];
            for (int k = 0; k < N_IN; k++) s += (double)xd[i * N_IN + k] * wd[j * N_IN + k];
            double diff = fabs(s - yd[i * N_OUT + j]);
            if (diff > max_diff) max_diff = diff;
        }
    printf("\n  largest difference from the same sums as plain loops in double: %.2g\n",
           max_diff);
    printf("  y[0] = ");
    nnf_tensor *row = NULL;
    CHECK(nnf_select(&row, yl, 0, 0));
    CHECK(nnf_print(row));

    nnf_tensor_free(row);
    nnf_tensor_free(xb);
    nnf_tensor_free(wl);
    nnf_tensor_free(bl);
    nnf_tensor_free(yl);
    nnf_tensor_free(y);
    nnf_tensor_free(weight);
    nnf_tensor_free(inp);
    /* float32 rounding over 784 products of size ~1: differences ~1e-5 */
    return max_diff < 1e-3 ? 0 : 1;
}
