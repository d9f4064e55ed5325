/* Comparisons of float spans giving 0/1 bytes, 8 lanes. Ordered predicates (NaN gives
 * false) except ne, which is unordered (NaN gives true), as C's operators. */
#include "kernels/eltwise.h"
#include "span__avx2.h"

#define LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define LE(a, b) _mm256_cmp_ps(a, b, _CMP_LE_OQ)
#define GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define EQ(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define NE(a, b) _mm256_cmp_ps(a, b, _CMP_NEQ_UQ)

#define DEFINE_COMPARE(name, CMP)                                                         \
    void nnf__f32_v##name##__avx2(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, uint8_t *y,             \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__AVX2_COMPARE(n, a, inca, b, incb, y, incy, CMP);                             \
    }

DEFINE_COMPARE(lt, LT)
DEFINE_COMPARE(le, LE)
DEFINE_COMPARE(gt, GT)
DEFINE_COMPARE(ge, GE)
DEFINE_COMPARE(eq, EQ)
DEFINE_COMPARE(ne, NE)
