/* relu and its backward on float spans, forward beside backward: exact selects, so
 * the bits of x (forward) and g (backward) are moved unchanged.
 *   relu(x)             = x < 0 ? +0 : x   (NaN and -0 pass through, as torch.relu)
 *   relu_backward(x, g) = x <= 0 ? +0 : g  (a NaN x passes g, as threshold_backward) */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf relu_op(nnf__vf x)
{
    return nnf__v_select(nnf__v_lt(x, nnf__v_zero()), nnf__v_zero(), x);
}

static inline nnf__vf relu_backward_op(nnf__vf x, nnf__vf g)
{
    return nnf__v_select(nnf__v_le(x, nnf__v_zero()), nnf__v_zero(), g);
}

NNF__DEFINE_UNARY(relu, relu_op, NNF__BITS)
NNF__DEFINE_BINARY(relu_backward, relu_backward_op, NNF__BITS)
