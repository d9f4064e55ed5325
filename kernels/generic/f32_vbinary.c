/* Binary arithmetic on float spans (definitions in kernels/eltwise.h): one IEEE
 * operation per element, or the vector layer's maximum/minimum. */
#include "kernels/eltwise.h"
#include "span.h"

#define DEFINE_BINARY(name, OP)                                                           \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, float *y, ptrdiff_t incy) \
    {                                                                                     \
        nnf__span2(n, a, inca, b, incb, y, incy, OP);                                     \
    }

DEFINE_BINARY(add, nnf__v_add)
DEFINE_BINARY(sub, nnf__v_sub)
DEFINE_BINARY(mul, nnf__v_mul)
DEFINE_BINARY(div, nnf__v_div)
DEFINE_BINARY(maximum, nnf__v_maximum)
DEFINE_BINARY(minimum, nnf__v_minimum)
