/* clamp on float spans: t = x < lo ? lo : x; t > hi ? hi : t (exact selects). */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf clamp_op(nnf__vf x, nnf__vf lo, nnf__vf hi)
{
    nnf__vf t = nnf__v_select(nnf__v_lt(x, lo), lo, x);
    return nnf__v_select(nnf__v_gt(t, hi), hi, t);
}

/* lo and hi are inputs at stride 0: one value each along the span. */
void NNF__KERNEL(f32_vclamp)(size_t n, const float *x, ptrdiff_t incx, float *y,
                             ptrdiff_t incy, float lo, float hi)
{
    nnf__span3(n, x, incx, &lo, 0, &hi, 0, y, incy, clamp_op, NNF__BITS);
}
