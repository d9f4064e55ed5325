/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's 4-lane AdvSIMD u10
 * functions, which give the same bits as purecfma, AVX2 and AVX-512. */
#include <math.h>
#include <sleef.h>
#include "kernels/eltwise.h"
#include "span__neon.h"

/* 1 / (1 + exp(-x)): the same three IEEE steps as the scalar definition. */
static inline float32x4_t sigmoid4(float32x4_t x)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t e = Sleef_expf4_u10advsimd(vnegq_f32(x));
    return vdivq_f32(one, vaddq_f32(one, e));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__neon(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__NEON_UNARY(n, x, incx, y, incy, OP);                                         \
    }

DEFINE_UNARY(exp, Sleef_expf4_u10advsimd)
DEFINE_UNARY(log, Sleef_logf4_u10advsimd)
DEFINE_UNARY(tanh, Sleef_tanhf4_u10advsimd)
DEFINE_UNARY(sigmoid, sigmoid4)

void nnf__f32_vpow__neon(size_t n, const float *a, ptrdiff_t inca, const float *b,
                         ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    NNF__NEON_BINARY(n, a, inca, b, incb, y, incy, Sleef_powf4_u10advsimd);
}
