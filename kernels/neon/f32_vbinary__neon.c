/* Binary arithmetic on float spans, 4 lanes (definitions in kernels/eltwise.h).
 * FMAX/FMIN already are the IEEE 754-2019 maximum/minimum the scalar code spells out:
 * -0 < +0, and a NaN operand propagates through the same NaN rules as FADD. */
#include "kernels/eltwise.h"
#include "span__neon.h"

#define DEFINE_BINARY(name, OP)                                                           \
    void nnf__f32_v##name##__neon(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, float *y, ptrdiff_t incy) \
    {                                                                                     \
        NNF__NEON_BINARY(n, a, inca, b, incb, y, incy, OP);                               \
    }

DEFINE_BINARY(add, vaddq_f32)
DEFINE_BINARY(sub, vsubq_f32)
DEFINE_BINARY(mul, vmulq_f32)
DEFINE_BINARY(div, vdivq_f32)
DEFINE_BINARY(maximum, vmaxq_f32)
DEFINE_BINARY(minimum, vminq_f32)
