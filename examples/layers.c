/* The chapter's refactor, from functions to layer objects to "going to PyTorch":
 *
 *   class Model():
 *       def __init__(self, w1, b1, w2, b2):
 *           self.layers = [Lin(w1,b1), Relu(), Lin(w2,b2)]
 *           self.loss = Mse()
 *       def __call__(self, x, targ):
 *           for l in self.layers: x = l(x)
 *           return self.loss(x, targ)
 *       def backward(self):
 *           self.loss.backward()
 *           for l in reversed(self.layers): l.backward()
 *
 * nnf's sequential model is that class. Its layers follow the LayerFunction pattern
 * (forward keeps its input and output, backward needs no arguments), and that pattern is
 * a public interface: MyRelu and MyLinear (my_layers.c) are written against it, like the
 * chapter's torch.autograd.Function and nn.Module, and behave like the built-in ones.
 */
#include <math.h>

#include "common.h"
#include "my_layers.h"

/* The chapter's model: n_in -> 50 -> 1, from either the built-in or the user's layers. */
static nnf_model *make_model(int user_layers, nnf_rng *rng)
{
    nnf_loss *mse = NULL;
    nnf_model *model = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    CHECK(nnf_loss_mse(&mse));
    CHECK(nnf_model_new(&model, mse));
    if (user_layers) {
        CHECK(my_linear(&l1, 100, 50, rng));
        CHECK(my_relu(&act));
        CHECK(my_linear(&l2, 50, 1, rng));
    } else {
        CHECK(nnf_layer_linear(&l1, rng, 100, 50, NNF_INIT_KAIMING));
        CHECK(nnf_layer_relu(&act));
        CHECK(nnf_layer_linear(&l2, rng, 50, 1, NNF_INIT_KAIMING));
    }
    CHECK(nnf_model_add(model, l1));
    CHECK(nnf_model_add(model, act));
    CHECK(nnf_model_add(model, l2));
    return model;
}

static void print_parameters(nnf_model *model)
{
    nnf_tensor *const *params = nnf_model_parameters(model);
    for (int i = 0; i < nnf_model_num_parameters(model); i++) {
        nnf_tensor *g = nnf_tensor_grad(params[i]);
        nnf_tensor *norm = NULL, *sq = NULL;
        CHECK(nnf_mul(&sq, g, g));
        CHECK(nnf_sum(&norm, sq, NNF_ALL_DIMS, 0));
        printf("  p%d.shape = ", i + 1);
        print_size(params[i]);
        printf("   |p%d.g| = %.4f\n", i + 1, sqrt(item(norm)));
        nnf_tensor_free(norm);
        nnf_tensor_free(sq);
    }
}

static void gradcheck(nnf_model *model, nnf_tensor *x, const nnf_tensor *y)
{
    nnf_gradcheck_report r;
    /* The default step and tolerance; 20 points per tensor keep it quick. */
    nnf_gradcheck_options opts = {.max_points = 20, .seed = 1};
    CHECK(nnf_model_gradcheck(model, &r, x, y, &opts));
    printf("  gradient check (finite differences): %lld points, %lld at a ReLU kink skipped, "
           "%lld failed, max error %.1e\n", (long long)r.checked, (long long)r.skipped,
           (long long)r.failed, r.max_abs_err);
    if (r.failed) {
        printf("  %s\n", r.first_failure);
        exit(1);
    }
}

int main(void)
{
    nnf_rng data_rng, rng_a, rng_b;
    nnf_rng_seed(&data_rng, 0);
    nnf_tensor *x = NULL, *y = NULL;
    CHECK(nnf_randn(&x, &data_rng, NNF_SHAPE(200, 100)));
    CHECK(nnf_randn(&y, &data_rng, NNF_SHAPE(200)));

    printf("## model = Model(Lin, Relu, Lin) with Mse: nnf's built-in layers\n\n");
    nnf_rng_seed(&rng_a, 7);
    nnf_model *model = make_model(0, &rng_a);
    float loss;
    CHECK(nnf_model_call(model, &loss, x, y));   /* loss = model(x, y) */
    CHECK(nnf_model_backward(model));               /* model.backward() */
    printf("  loss = model(x, y) = %.4f; model.backward(); model.parameters():\n", (double)loss);
    print_parameters(model);
    gradcheck(model, x, y);

    printf("\n## The same model from MyLinear and MyRelu, written against the layer interface\n\n");
    nnf_rng_seed(&rng_b, 7);   /* same seed: the same weights as above */
    nnf_model *mine = make_model(1, &rng_b);
    float my_loss;
    CHECK(nnf_model_call(mine, &my_loss, x, y));
    CHECK(nnf_model_backward(mine));
    printf("  loss = %.4f (built-in layers: %.4f)\n", (double)my_loss, (double)loss);
    print_parameters(mine);
    gradcheck(mine, x, y);

    /* Both run the same matmul and elementwise ops: their gradients agree to rounding,
     * which an order of operations that differs (where the bias is added) could bring. */
    double worst = 0;
    for (int i = 0; i < nnf_model_num_parameters(model); i++) {
        const nnf_tensor *ga = nnf_tensor_grad(nnf_model_parameters(model)[i]);
        const nnf_tensor *gb = nnf_tensor_grad(nnf_model_parameters(mine)[i]);
        const float *pa = nnf_tensor_data(ga), *pb = nnf_tensor_data(gb);
        for (int64_t k = 0; k < nnf_tensor_numel(ga); k++) worst = fmax(worst, fabs(pa[k] - pb[k]));
    }
    printf("  largest difference from the built-in model's gradients: %.1e\n", worst);

    printf("\n## lin = LinearLayer(10, 2); p1, p2 = lin.parameters(); p1.shape, p2.shape\n\n");
    nnf_layer *lin = NULL;
    CHECK(my_linear(&lin, 10, 2, NULL));
    printf("  (");
    print_size(nnf_layer_parameter(lin, 0));
    printf(", ");
    print_size(nnf_layer_parameter(lin, 1));
    printf(")\n");

    printf("\n## MyRelu and MyLinear alone, against finite differences\n\n");
    nnf_layer *relu = NULL;
    CHECK(my_relu(&relu));
    nnf_tensor *xs = NULL;
    CHECK(nnf_randn(&xs, &data_rng, NNF_SHAPE(8, 10)));
    nnf_layer *layers[2] = {relu, lin};
    nnf_gradcheck_options some = {.max_points = 40, .seed = 1};
    for (int i = 0; i < 2; i++) {
        nnf_gradcheck_report r;
        CHECK(nnf_layer_gradcheck(layers[i], &r, xs, &some, 1));
        printf("  %-9s %lld points, %lld skipped at the kink, %lld failed, max error %.1e\n",
               nnf_layer_name(layers[i]), (long long)r.checked, (long long)r.skipped,
               (long long)r.failed, r.max_abs_err);
        if (r.failed) return 1;
    }

    nnf_layer_free(lin);
    nnf_layer_free(relu);
    nnf_model_free(model);
    nnf_model_free(mine);
    nnf_tensor_free(xs);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    return worst < 1e-5 ? 0 : 1;
}
