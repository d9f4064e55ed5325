/* Unary float spans that are exact per element: copy, sign and magnitude, sqrt, and the
 * selects relu and clamp (definitions in kernels/eltwise.h). */
#include <math.h>
#include "kernels/eltwise.h"

static inline float copy_op(float x) { return x; }
static inline float neg_op(float x) { return -x; }
static inline float abs_op(float x) { return fabsf(x); }
static inline float sqrt_op(float x) { return sqrtf(x); }
static inline float relu_op(float x) { return x < 0.0f ? 0.0f : x; }

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__scalar(size_t n, const float *x, ptrdiff_t incx, float *y,   \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        if (incx == 1 && incy == 1) {                                                     \
            for (size_t i = 0; i < n; i++)                                                \
                y[i] = OP(x[i]);                                                          \
        } else {                                                                          \
            for (size_t i = 0; i < n; i++)                                                \
                y[(ptrdiff_t)i * incy] = OP(x[(ptrdiff_t)i * incx]);                      \
        }                                                                                 \
    }

DEFINE_UNARY(copy, copy_op)
DEFINE_UNARY(neg, neg_op)
DEFINE_UNARY(abs, abs_op)
DEFINE_UNARY(sqrt, sqrt_op)
DEFINE_UNARY(relu, relu_op)

void nnf__f32_vclamp__scalar(size_t n, const float *x, ptrdiff_t incx, float *y,
                             ptrdiff_t incy, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[(ptrdiff_t)i * incx];
        v = v < lo ? lo : v;
        y[(ptrdiff_t)i * incy] = v > hi ? hi : v;
    }
}
