/* Comparisons of float spans giving 0/1 bytes, 16 lanes. Ordered predicates (NaN gives
 * false) except ne, which is unordered (NaN gives true), as C's operators. */
#include "kernels/eltwise.h"
#include "span__avx512.h"

#define DEFINE_COMPARE(name, PRED)                                                        \
    void nnf__f32_v##name##__avx512(size_t n, const float *a, ptrdiff_t inca,             \
                                    const float *b, ptrdiff_t incb, uint8_t *y,           \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        NNF__AVX512_COMPARE(n, a, inca, b, incb, y, incy, PRED);                          \
    }

DEFINE_COMPARE(lt, _CMP_LT_OQ)
DEFINE_COMPARE(le, _CMP_LE_OQ)
DEFINE_COMPARE(gt, _CMP_GT_OQ)
DEFINE_COMPARE(ge, _CMP_GE_OQ)
DEFINE_COMPARE(eq, _CMP_EQ_OQ)
DEFINE_COMPARE(ne, _CMP_NEQ_UQ)
