/* Comparisons of float spans giving 0/1 bytes (IEEE: NaN compares false, except ne). */
#include "kernels/eltwise.h"

#define DEFINE_COMPARE(name, OP)                                                          \
    void nnf__f32_v##name##__scalar(size_t n, const float *a, ptrdiff_t inca,             \
                                    const float *b, ptrdiff_t incb, uint8_t *y,           \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        for (size_t i = 0; i < n; i++)                                                    \
            y[(ptrdiff_t)i * incy] = a[(ptrdiff_t)i * inca] OP b[(ptrdiff_t)i * incb];    \
    }

DEFINE_COMPARE(lt, <)
DEFINE_COMPARE(le, <=)
DEFINE_COMPARE(gt, >)
DEFINE_COMPARE(ge, >=)
DEFINE_COMPARE(eq, ==)
DEFINE_COMPARE(ne, !=)
