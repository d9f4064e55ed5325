/* Comparisons of float spans giving 0/1 bytes, 4 lanes. FCM* are ordered (NaN gives
 * false); ne is the complement of eq, so NaN gives true, as C's operators. */
#include "kernels/eltwise.h"
#include "span__neon.h"

static inline uint32x4_t ne4(float32x4_t a, float32x4_t b)
{
    return vmvnq_u32(vceqq_f32(a, b));
}

#define DEFINE_COMPARE(name, CMP)                                                         \
    void nnf__f32_v##name##__neon(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, uint8_t *y,             \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__NEON_COMPARE(n, a, inca, b, incb, y, incy, CMP);                             \
    }

DEFINE_COMPARE(lt, vcltq_f32)
DEFINE_COMPARE(le, vcleq_f32)
DEFINE_COMPARE(gt, vcgtq_f32)
DEFINE_COMPARE(ge, vcgeq_f32)
DEFINE_COMPARE(eq, vceqq_f32)
DEFINE_COMPARE(ne, ne4)
