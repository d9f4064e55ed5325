/* Training: the model API makes the loop ten lines. The task is a known function: a
 * random "teacher" network labels random inputs, and a student of the chapter's shape
 * learns to imitate it with MSE, SGD and momentum.
 *
 * The student is trained twice: with nnf's ReLU, and with MyRelu, the ReLU written
 * against the layer-function interface (the chapter's further research: "implement ReLU
 * as a torch.autograd.Function and train a model with it"). Both see the same weights
 * and batches, so their losses agree to the last printed digit.
 */
#include <math.h>

#include "common.h"
#include "my_layers.h"

enum { N = 2000, N_IN = 20, HIDDEN = 50, EPOCHS = 30, BATCH = 100 };

/* y = relu(x @ a) @ b for random a, b: a target the student's shape can represent. */
static nnf_tensor *teacher(const nnf_tensor *x, nnf_rng *rng)
{
    nnf_tensor *a = NULL, *b = NULL, *h = NULL, *y = NULL, *y1 = NULL;
    CHECK(nnf_randn(&a, rng, NNF_SHAPE(N_IN, 30)));
    CHECK(nnf_div_scalar(&a, a, sqrtf(N_IN)));
    CHECK(nnf_randn(&b, rng, NNF_SHAPE(30, 1)));
    CHECK(nnf_matmul(&h, x, a));
    CHECK(nnf_relu(&h, h));
    CHECK(nnf_matmul(&y1, h, b));
    CHECK(nnf_squeeze(&y, y1, 1));   /* (N, 1) -> (N): targets as the chapter's y */
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(h);
    nnf_tensor_free(y1);
    return y;
}

static float train(int user_relu, nnf_tensor *x, nnf_tensor *y)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    nnf_loss *mse = NULL;
    nnf_model *model = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    nnf_sgd *opt = NULL;
    nnf_loader *loader = NULL;
    CHECK(nnf_loss_mse(&mse));
    CHECK(nnf_model_new(&model, mse));
    CHECK(nnf_layer_linear(&l1, &rng, N_IN, HIDDEN, NNF_INIT_KAIMING));
    CHECK(user_relu ? my_relu(&act) : nnf_layer_relu(&act));
    CHECK(nnf_layer_linear(&l2, &rng, HIDDEN, 1, NNF_INIT_KAIMING));
    CHECK(nnf_model_add(model, l1));
    CHECK(nnf_model_add(model, act));
    CHECK(nnf_model_add(model, l2));
    CHECK(nnf_sgd_new(&opt, nnf_model_num_parameters(model), nnf_model_parameters(model),
                      0.01f, 0.9f, 0.0f));
    CHECK(nnf_loader_new(&loader, x, y, BATCH, 42));

    printf("\n%s:\n  epoch   loss\n",
           user_relu ? "with MyRelu (the layer interface)" : "with nnf's ReLU");
    float epoch_loss = 0;
    /* The loop. */
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        CHECK(nnf_loader_shuffle(loader));
        epoch_loss = 0;
        for (int64_t i = 0; i < nnf_loader_len(loader); i++) {
            nnf_tensor *xb, *yb;
            float loss;
            CHECK(nnf_loader_get_batch(loader, &xb, &yb, i));
            CHECK(nnf_model_call(model, &loss, xb, yb));   /* loss = model(xb, yb) */
            nnf_sgd_zero_grad(opt);                           /* opt.zero_grad() */
            CHECK(nnf_model_backward(model));                 /* loss.backward() */
            CHECK(nnf_sgd_step(opt));                         /* opt.step() */
            epoch_loss += loss / (float)nnf_loader_len(loader);
        }
        if (epoch == 1 || epoch % 5 == 0) printf("  %5d   %.5f\n", epoch, (double)epoch_loss);
    }

    nnf_loader_free(loader);
    nnf_sgd_free(opt);
    nnf_model_free(model);
    return epoch_loss;
}

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 0);
    nnf_tensor *x = NULL;
    CHECK(nnf_randn(&x, &rng, NNF_SHAPE(N, N_IN)));
    nnf_tensor *y = teacher(x, &rng);
    nnf_tensor *var = NULL;
    CHECK(nnf_var(&var, y, NNF_ALL_DIMS, 0, 0));
    printf("%d samples of %d features; the targets' variance, the loss of predicting their "
           "mean: %.4f\n", N, N_IN, (double)item(var));

    float builtin = train(0, x, y);
    float mine = train(1, x, y);
    printf("\nfinal loss: %.5f with nnf's ReLU, %.5f with MyRelu\n", (double)builtin,
           (double)mine);

    int ok = builtin < 0.05f * item(var) && fabsf(builtin - mine) <= 1e-5f * builtin;
    nnf_tensor_free(var);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    return ok ? 0 : 1;
}
