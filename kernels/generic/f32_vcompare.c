/* Comparisons of float spans giving 0/1 bytes: ordered predicates (NaN gives false)
 * except ne, which is unordered (NaN gives true), as C's operators. */
#include "kernels/eltwise.h"
#include "span.h"

#define DEFINE_COMPARE(name, PRED)                                                        \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, uint8_t *y,             \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        nnf__span_cmp(n, a, inca, b, incb, y, incy, PRED);                                \
    }

DEFINE_COMPARE(lt, nnf__v_lt)
DEFINE_COMPARE(le, nnf__v_le)
DEFINE_COMPARE(gt, nnf__v_gt)
DEFINE_COMPARE(ge, nnf__v_ge)
DEFINE_COMPARE(eq, nnf__v_eq)
DEFINE_COMPARE(ne, nnf__v_ne)
