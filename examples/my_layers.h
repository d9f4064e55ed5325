/* Layers written the way a user of nnf writes them: against the public layer-function
 * interface of nnf/nn.h and nothing else. The chapter's two examples:
 *
 *   MyRelu    its torch.autograd.Function: forward saves its input for backward
 *             (ctx.save_for_backward), backward returns grad_output * (i > 0).
 *   MyLinear  its LinearLayer(nn.Module): a weight (n_out x n_in, Kaiming-initialised)
 *             and a bias as parameters, forward x @ weight.t() + bias.
 */
#ifndef NNF_EXAMPLES_MY_LAYERS_H
#define NNF_EXAMPLES_MY_LAYERS_H

#include <nnf/nnf.h>

nnf_status my_relu(nnf_layer **out);
nnf_status my_linear(nnf_layer **out, int64_t n_in, int64_t n_out, nnf_rng *rng);

#endif
