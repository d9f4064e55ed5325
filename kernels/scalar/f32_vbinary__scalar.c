/* Binary arithmetic on float spans, one element at a time: the reference definitions
 * (see kernels/eltwise.h) that every vector ISA reproduces bit for bit. */
#include <math.h>
#include <string.h>
#include "kernels/eltwise.h"

/* The bitwise AND/OR of two equal values is that value, except for +0 and -0 where
 * AND gives +0 (the maximum) and OR gives -0 (the minimum). */
static inline float and_bits(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua &= ub;
    memcpy(&a, &ua, 4);
    return a;
}

static inline float or_bits(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua |= ub;
    memcpy(&a, &ua, 4);
    return a;
}

static inline float max_op(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return and_bits(a, b);
    return a > b ? a : b;
}

static inline float min_op(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return or_bits(a, b);
    return a < b ? a : b;
}

#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define DIV(a, b) ((a) / (b))

#define DEFINE_BINARY(name, OP)                                                           \
    void nnf__f32_v##name##__scalar(size_t n, const float *a, ptrdiff_t inca,             \
                                    const float *b, ptrdiff_t incb, float *y,             \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        if (inca == 1 && incb == 1 && incy == 1) {                                        \
            for (size_t i = 0; i < n; i++)                                                \
                y[i] = OP(a[i], b[i]);                                                    \
        } else {                                                                          \
            for (size_t i = 0; i < n; i++)                                                \
                y[(ptrdiff_t)i * incy] = OP(a[(ptrdiff_t)i * inca], b[(ptrdiff_t)i * incb]); \
        }                                                                                 \
    }

DEFINE_BINARY(add, ADD)
DEFINE_BINARY(sub, SUB)
DEFINE_BINARY(mul, MUL)
DEFINE_BINARY(div, DIV)
DEFINE_BINARY(maximum, max_op)
DEFINE_BINARY(minimum, min_op)
