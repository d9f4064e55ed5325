/* The fused normalisation (x - a) / b on float spans, 4 lanes: a rounded subtraction
 * then a division, the bits of sub then div (kernels/eltwise.h) in one pass. */
#include "kernels/eltwise.h"
#include "span__neon.h"

static inline float32x4_t sub_div4(float32x4_t x, float32x4_t a, float32x4_t b)
{
    return vdivq_f32(vsubq_f32(x, a), b);
}

void nnf__f32_vsub_div__neon(size_t n, const float *x, ptrdiff_t incx, const float *a,
                            ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                            ptrdiff_t incy)
{
    NNF__NEON_TERNARY(n, x, incx, a, inca, b, incb, y, incy, sub_div4);
}
