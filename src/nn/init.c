/* Weight initialisation: the chapter's 50-layer experiment shows why the scale matters
 * (randn weights overflow to nan, x0.01 vanish to zeros); std sqrt(2 / n_in) keeps the
 * activations' scale through ReLU layers. */
#include "src/nn/nn_internal.h"

#include <math.h>

#include "src/core/error.h"

nnf_status nnf_weight_init(nnf_tensor *w, nnf_rng *rng, nnf_init init)
{
    NNF_PUBLIC("nnf_weight_init");
    NNF_RETURN_IF(w == NULL, NNF_ERR_NULL, "nnf_weight_init: w is NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(w) != NNF_F32, NNF_ERR_DTYPE,
                  "nnf_weight_init: w must be a float32 tensor");
    NNF_RETURN_IF(nnf_tensor_ndim(w) != 2, NNF_ERR_SHAPE,
                  "nnf_weight_init: w must be 2-D (n_out x n_in), got a %d-D tensor",
                  nnf_tensor_ndim(w));
    NNF_RETURN_IF(init != NNF_INIT_KAIMING && init != NNF_INIT_XAVIER, NNF_ERR_INVALID,
                  "nnf_weight_init: unknown init %d", (int)init);
    double n_out = (double)nnf_tensor_shape(w)[0], n_in = (double)nnf_tensor_shape(w)[1];
    /* Kaiming: Var(w) = 2 / n_in, so a ReLU layer keeps E[y^2] = E[x^2] (He et al.).
     * Xavier: Var(w) = 2 / (n_in + n_out), the average of what forward and backward
     * need for unit variance (Glorot and Bengio). */
    double denom = init == NNF_INIT_KAIMING ? n_in : n_in + n_out;
    float std = denom > 0.0 ? (float)sqrt(2.0 / denom) : 0.0f;   /* empty: nothing to draw */
    nnf_tensor *r = NULL;
    NNF_FORWARD(nnf_randn(&r, rng, 2, nnf_tensor_shape(w)));
    nnf_status st = nnf_mul_scalar(&r, r, std);
    if (st == NNF_OK)
        st = nnf_copy(w, r);
    nnf_tensor_free(r);
    return st;
}
