/* x - a * b on float spans: a rounded product then a subtraction, the bits of mul then
 * sub (kernels/eltwise.h), never an FMA. SGD's update p - lr * g (b the learning rate at
 * stride 0) reads p and g and writes p once, where mul then sub makes two passes. */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf sub_mul_op(nnf__vf x, nnf__vf a, nnf__vf b)
{
    return nnf__v_sub(x, nnf__v_mul(a, b));
}

void NNF__KERNEL(f32_vsub_mul)(size_t n, const float *x, ptrdiff_t incx, const float *a,
                               ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                               ptrdiff_t incy)
{
    /* SGD's strides get a loop of their own, with the scale splatted once. */
    if (incx == 1 && inca == 1 && incb == 0 && incy == 1)
        nnf__span3_at(n, x, 1, a, 1, b, 0, y, 1, sub_mul_op, NNF__ARITH);
    else
        nnf__span3(n, x, incx, a, inca, b, incb, y, incy, sub_mul_op, NNF__ARITH);
}
