/* The fused normalisation (x - a) / b on float spans: a rounded subtraction then a
 * division, the bits of sub then div (kernels/eltwise.h) while reading x and writing y
 * once instead of twice. */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf sub_div_op(nnf__vf x, nnf__vf a, nnf__vf b)
{
    return nnf__v_div(nnf__v_sub(x, a), b);
}

void NNF__KERNEL(f32_vsub_div)(size_t n, const float *x, ptrdiff_t incx, const float *a,
                               ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                               ptrdiff_t incy)
{
    nnf__span3(n, x, incx, a, inca, b, incb, y, incy, sub_div_op, NNF__ARITH);
}
