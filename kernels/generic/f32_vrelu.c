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

/* relu in place on a rows x cols block of rows ldc floats apart: the sgemm driver's
 * post-op on a tile of C right after its last KC block (src/linalg/matmul.h). One call
 * per tile, the span loop inlined per row, rather than an indirect call per row of 48
 * floats: the tiles of the chapter's 200 x 50 forward are 6 rows high. */
void NNF__KERNEL(f32_vrelu_rows)(size_t rows, size_t cols, float *c, size_t ldc)
{
    for (size_t i = 0; i < rows; i++)
        nnf__span1_at(cols, c + i * ldc, 1, c + i * ldc, 1, relu_op, NNF__BITS);
}
NNF__DEFINE_BINARY(relu_backward, relu_backward_op, NNF__BITS)
