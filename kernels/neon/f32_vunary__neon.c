/* Unary float spans that are exact per element, 4 lanes (definitions in
 * kernels/eltwise.h). FNEG/FABS only touch the sign bit, so NaNs keep their payload. */
#include "kernels/eltwise.h"
#include "span__neon.h"

static inline float32x4_t copy4(float32x4_t x) { return x; }

static inline float32x4_t relu4(float32x4_t x)
{
    uint32x4_t neg = vcltq_f32(x, vdupq_n_f32(0.0f));
    return vbslq_f32(neg, vdupq_n_f32(0.0f), x);
}

static inline float32x4_t clamp4(float32x4_t x, float32x4_t lo, float32x4_t hi)
{
    float32x4_t t = vbslq_f32(vcltq_f32(x, lo), lo, x);
    return vbslq_f32(vcgtq_f32(t, hi), hi, t);
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__neon(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__NEON_UNARY(n, x, incx, y, incy, OP);                                         \
    }

DEFINE_UNARY(copy, copy4)
DEFINE_UNARY(neg, vnegq_f32)
DEFINE_UNARY(abs, vabsq_f32)
DEFINE_UNARY(sqrt, vsqrtq_f32)
DEFINE_UNARY(relu, relu4)

void nnf__f32_vclamp__neon(size_t n, const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                           float lo, float hi)
{
    const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
#define CLAMP4(v) clamp4(v, vlo, vhi)
    NNF__NEON_UNARY(n, x, incx, y, incy, CLAMP4);
#undef CLAMP4
}
