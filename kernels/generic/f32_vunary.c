/* Unary float spans that are exact per element: copy, sign and magnitude (bit
 * operations, so NaNs keep their payload), sqrt, and the selects relu and clamp
 * (definitions in kernels/eltwise.h). */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf copy_op(nnf__vf x) { return x; }

static inline nnf__vf relu_op(nnf__vf x)
{
    return nnf__v_select(nnf__v_lt(x, nnf__v_zero()), nnf__v_zero(), x);
}

static inline nnf__vf clamp_op(nnf__vf x, nnf__vf lo, nnf__vf hi)
{
    nnf__vf t = nnf__v_select(nnf__v_lt(x, lo), lo, x);
    return nnf__v_select(nnf__v_gt(t, hi), hi, t);
}

#define DEFINE_UNARY(name, OP)                                                            \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        nnf__span1(n, x, incx, y, incy, OP);                                              \
    }

DEFINE_UNARY(copy, copy_op)
DEFINE_UNARY(neg, nnf__v_neg)
DEFINE_UNARY(abs, nnf__v_abs)
DEFINE_UNARY(sqrt, nnf__v_sqrt)
DEFINE_UNARY(relu, relu_op)

/* lo and hi are inputs at stride 0: one value each along the span. */
void NNF__KERNEL(f32_vclamp)(size_t n, const float *x, ptrdiff_t incx, float *y,
                             ptrdiff_t incy, float lo, float hi)
{
    nnf__span3(n, x, incx, &lo, 0, &hi, 0, y, incy, clamp_op);
}
