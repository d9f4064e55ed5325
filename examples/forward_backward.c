/* The forward and backward passes by hand, as the chapter writes them, for its model
 * x (200 x 100) -> lin -> relu -> lin -> out (200 x 1), loss mse(out, y):
 *
 *     def mse_grad(inp, targ): inp.g = 2. * (inp.squeeze() - targ).unsqueeze(-1) / inp.shape[0]
 *     def relu_grad(inp, out): inp.g = (inp > 0).float() * out.g
 *     def lin_grad(inp, out, w, b):
 *         inp.g = out.g @ w.t()
 *         w.g = inp.t() @ out.g
 *         b.g = out.g.sum(0)
 *
 * The linear layer's gradients in matrix notation (the chapter's further research):
 * for y = x W + b and a loss L, each y[i,j] = sum_k x[i,k] W[k,j] + b[j], so
 *     dL/dx[i,k] = sum_j dL/dy[i,j] W[k,j]    i.e.  dL/dx = dL/dy W^T
 *     dL/dW[k,j] = sum_i x[i,k] dL/dy[i,j]    i.e.  dL/dW = x^T dL/dy
 *     dL/db[j]   = sum_i dL/dy[i,j]           i.e.  the column sums of dL/dy
 * which is lin_grad line by line. The chain rule runs them from the loss backwards,
 * each step using the `.g` the step after it wrote: mse_grad, lin_grad, relu_grad,
 * lin_grad. Every gradient is then checked against central finite differences.
 */
#include <math.h>

#include "common.h"

/* The chapter's globals: w is n_in x n_out here (x @ w), unlike nn.Linear. */
static nnf_tensor *w1, *b1, *w2, *b2;

/* lin(x, w, b) = x @ w + b, into *out (created on the first call, reused after). */
static void lin(nnf_tensor **out, const nnf_tensor *x, const nnf_tensor *w, const nnf_tensor *b)
{
    CHECK(nnf_matmul(out, x, w));
    CHECK(nnf_add(out, *out, b));
}

/* mse(output, targ) = (output.squeeze(-1) - targ).pow(2).mean() */
static float mse(const nnf_tensor *output, const nnf_tensor *targ)
{
    nnf_tensor *sq = NULL, *diff = NULL, *m = NULL;
    CHECK(nnf_squeeze(&sq, output, -1));
    CHECK(nnf_sub(&diff, sq, targ));
    CHECK(nnf_pow_scalar(&diff, diff, 2));
    CHECK(nnf_mean(&m, diff, NNF_ALL_DIMS, 0));
    float loss = item(m);
    nnf_tensor_free(sq);
    nnf_tensor_free(diff);
    nnf_tensor_free(m);
    return loss;
}

/* The gradient tensor of t (the chapter's t.g), created on first use. */
static nnf_tensor *grad(nnf_tensor *t)
{
    nnf_tensor *g = NULL;
    CHECK(nnf_tensor_grad_get(t, &g));
    return g;
}

static void mse_grad(nnf_tensor *inp, const nnf_tensor *targ)
{
    nnf_tensor *sq = NULL, *diff = NULL, *col = NULL, *g = grad(inp);
    CHECK(nnf_squeeze(&sq, inp, -1));
    CHECK(nnf_sub(&diff, sq, targ));
    CHECK(nnf_unsqueeze(&col, diff, -1));
    CHECK(nnf_mul_scalar(&g, col, 2.0f / (float)nnf_tensor_size(inp, 0)));
    nnf_tensor_free(sq);
    nnf_tensor_free(diff);
    nnf_tensor_free(col);
}

static void relu_grad(nnf_tensor *inp, nnf_tensor *out)
{
    nnf_tensor *zero = NULL, *mask = NULL, *maskf = NULL, *g = grad(inp);
    CHECK(nnf_zeros(&zero, 0, NULL));
    CHECK(nnf_gt(&mask, inp, zero));        /* inp > 0: a bool tensor */
    CHECK(nnf_empty_like(&maskf, inp));
    CHECK(nnf_copy(maskf, mask));           /* .float() */
    CHECK(nnf_mul(&g, maskf, grad(out)));
    nnf_tensor_free(zero);
    nnf_tensor_free(mask);
    nnf_tensor_free(maskf);
}

static void lin_grad(nnf_tensor *inp, nnf_tensor *out, nnf_tensor *w, nnf_tensor *b)
{
    nnf_tensor *wt = NULL, *inpt = NULL, *ig = grad(inp), *wg = grad(w), *bg = grad(b);
    CHECK(nnf_t(&wt, w));
    CHECK(nnf_t(&inpt, inp));
    CHECK(nnf_matmul(&ig, grad(out), wt));   /* inp.g = out.g @ w.t() */
    CHECK(nnf_matmul(&wg, inpt, grad(out))); /* w.g = inp.t() @ out.g */
    CHECK(nnf_sum(&bg, grad(out), NNF_DIMS(0), 0));   /* b.g = out.g.sum(0) */
    nnf_tensor_free(wt);
    nnf_tensor_free(inpt);
}

/* The activations of one pass, kept for the backward pass. */
typedef struct { nnf_tensor *l1, *l2, *out; } activations;

static float forward(activations *a, const nnf_tensor *inp, const nnf_tensor *targ)
{
    lin(&a->l1, inp, w1, b1);
    CHECK(nnf_relu(&a->l2, a->l1));
    lin(&a->out, a->l2, w2, b2);
    return mse(a->out, targ);
}

static float forward_and_backward(activations *a, nnf_tensor *inp, const nnf_tensor *targ)
{
    float loss = forward(a, inp, targ);   /* "we don't actually need the loss in backward!" */
    mse_grad(a->out, targ);
    lin_grad(a->l2, a->out, w2, b2);
    relu_grad(a->l1, a->l2);
    lin_grad(inp, a->l1, w1, b1);
    return loss;
}

static int sign_changed(const nnf_tensor *a, const nnf_tensor *b)
{
    const float *pa = nnf_tensor_data(a), *pb = nnf_tensor_data(b);
    for (int64_t i = 0; i < nnf_tensor_numel(a); i++)
        if ((pa[i] > 0) != (pb[i] > 0)) return 1;
    return 0;
}

/* Central difference of the loss in element i of t, in float32 with step 1e-2: the
 * rounding error of a loss near 1 is ~1e-7 / 1e-2 = 1e-5, far below most gradients.
 * *kink is set when some ReLU input changes sign within the step: there the loss has
 * no derivative for the difference to approximate. */
static double finite_difference(nnf_tensor *t, int64_t i, nnf_tensor *inp, const nnf_tensor *targ,
                                int *kink)
{
    const float h = 1e-2f;
    activations mid = {0}, up = {0}, down = {0};
    float *p = nnf_tensor_data(t);
    float saved = p[i];
    forward(&mid, inp, targ);
    p[i] = saved + h;
    double f_up = forward(&up, inp, targ);
    p[i] = saved - h;
    double f_down = forward(&down, inp, targ);
    p[i] = saved;
    *kink = sign_changed(mid.l1, up.l1) || sign_changed(mid.l1, down.l1);
    activations *all[3] = {&mid, &up, &down};
    for (int k = 0; k < 3; k++) {
        nnf_tensor_free(all[k]->l1);
        nnf_tensor_free(all[k]->l2);
        nnf_tensor_free(all[k]->out);
    }
    return (f_up - f_down) / (2.0 * h);
}

int main(void)
{
    /* The chain rule on the chapter's own example, f(g(x)) = sin(x^2): its derivative is
     * f'(g(x)) g'(x) = cos(x^2) * 2x. What SymPy derives symbolically, a finite
     * difference confirms numerically; the check below does the same for every layer. */
    double x0 = 1.5, h0 = 1e-6;
    printf(">>> d/dx sin(x^2) at x = 1.5\ncos(x^2) * 2x = %.6f, (sin((x+h)^2) - sin((x-h)^2)) / 2h "
           "= %.6f\n\n", cos(x0 * x0) * 2 * x0,
           (sin((x0 + h0) * (x0 + h0)) - sin((x0 - h0) * (x0 - h0))) / (2 * h0));

    nnf_rng rng;
    nnf_rng_seed(&rng, 0);
    nnf_tensor *x = NULL, *y = NULL;
    CHECK(nnf_randn(&x, &rng, NNF_SHAPE(200, 100)));
    CHECK(nnf_randn(&y, &rng, NNF_SHAPE(200)));
    /* w1 = torch.randn(100, 50) * sqrt(2 / 100), w2 = torch.randn(50, 1) * sqrt(2 / 50) */
    CHECK(nnf_randn(&w1, &rng, NNF_SHAPE(100, 50)));
    CHECK(nnf_mul_scalar(&w1, w1, sqrtf(2.0f / 100)));
    CHECK(nnf_zeros(&b1, NNF_SHAPE(50)));
    CHECK(nnf_randn(&w2, &rng, NNF_SHAPE(50, 1)));
    CHECK(nnf_mul_scalar(&w2, w2, sqrtf(2.0f / 50)));
    CHECK(nnf_zeros(&b2, NNF_SHAPE(1)));

    activations a = {0};
    float loss = forward_and_backward(&a, x, y);
    printf(">>> out = model(x); out.shape\n");
    print_size(a.out);
    printf("\n>>> loss = mse(out, y)\ntensor(%.4f)\n", (double)loss);

    /* Why mse squeezes: out is (200, 1), y is (200); without the squeeze they broadcast
     * to (200, 200), every prediction against every target, and the loss is wrong. */
    nnf_tensor *wrong = NULL, *wrong_mean = NULL;
    CHECK(nnf_sub(&wrong, a.out, y));
    CHECK(nnf_pow_scalar(&wrong, wrong, 2));
    CHECK(nnf_mean(&wrong_mean, wrong, NNF_ALL_DIMS, 0));
    printf("\n>>> (out - y).pow(2).mean()   # without squeeze: out - y has shape ");
    print_size(wrong);
    printf("\ntensor(%.4f)   # the mean over all 40000 (prediction, target) pairs\n",
           (double)item(wrong_mean));

    printf("\nThe backward pass, checked against central finite differences "
           "(f(v + h) - f(v - h)) / 2h, h = 0.01:\n\n");
    printf("  %-10s %14s %14s %12s\n", "element", "backward", "finite diff", "|difference|");
    struct { const char *name; nnf_tensor *t; int64_t cols; } params[] = {
        {"w1", w1, 50}, {"b1", b1, 0}, {"w2", w2, 1}, {"b2", b2, 0}, {"x", x, 100}};
    double worst = 0;
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
        int64_t n = nnf_tensor_numel(params[p].t);
        const float *g = nnf_tensor_data(nnf_tensor_grad(params[p].t));
        for (int s = 0; s < 3 && s < n; s++) {
            int64_t i = (int64_t)s * (n / 3) + (n > 7 ? 7 : 0);
            int kink;
            double fd = finite_difference(params[p].t, i, x, y, &kink);
            double diff = fabs(fd - g[i]);
            /* 1e-4 absolute covers the float32 rounding of the loss (see above) */
            if (!kink) worst = fmax(worst, diff / (1e-4 + 1e-2 * fabs(fd)));
            char name[64];
            if (params[p].cols) snprintf(name, sizeof name, "%s[%lld, %lld]", params[p].name,
                                         (long long)(i / params[p].cols),
                                         (long long)(i % params[p].cols));
            else snprintf(name, sizeof name, "%s[%lld]", params[p].name, (long long)i);
            printf("  %-10s %14.6f %14.6f %12.1e%s\n", name, (double)g[i], fd, diff,
                   kink ? "   a ReLU kink within h: skipped" : "");
        }
    }
    printf("\n%s: every difference away from a kink is within 1e-4 + 1%% of the finite "
           "difference\n", worst <= 1 ? "PASS" : "FAIL");

    nnf_tensor *all[] = {x, y, w1, b1, w2, b2, a.l1, a.l2, a.out, wrong, wrong_mean};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return worst <= 1 ? 0 : 1;
}
