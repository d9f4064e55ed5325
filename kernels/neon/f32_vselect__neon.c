/* Selects on float spans: where(c, a, b) and ReLU's gradient.
 * where(c, a, b), 4 lanes: 4 condition bytes widened to a lane mask,
 * then BSL (bits copied, so NaN payloads survive). */
#include "kernels/eltwise.h"
#include "span__neon.h"

/* Lanes whose byte is nonzero, from 4 bytes at stride inc (the first m when m < 4). */
static inline uint32x4_t cond4(const uint8_t *c, ptrdiff_t inc, size_t m)
{
    uint8_t t[8] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = c[(ptrdiff_t)j * inc];
    uint32x4_t wide = vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(t))));
    return vcgtq_u32(wide, vdupq_n_u32(0));
}

void nnf__f32_vselect__neon(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                            ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                            ptrdiff_t incy)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        ptrdiff_t k = (ptrdiff_t)i;
        float32x4_t v = vbslq_f32(cond4(c + k * incc, incc, 4), nnf__ld4(a + k * inca, inca),
                                  nnf__ld4(b + k * incb, incb));
        nnf__st4(y + k * incy, incy, v);
    }
    if (i < n) {
        ptrdiff_t k = (ptrdiff_t)i;
        size_t m = n - i;
        float32x4_t v = vbslq_f32(cond4(c + k * incc, incc, m),
                                  nnf__ld4_part(a + k * inca, inca, m),
                                  nnf__ld4_part(b + k * incb, incb, m));
        nnf__st4_part(y + k * incy, incy, m, v);
    }
}

/* ReLU's gradient x <= 0 ? +0 : g: BIC clears g in the lanes where x <= 0 (false for a
 * NaN x, which passes g as torch's threshold_backward); the other lanes keep g's bits. */
static inline float32x4_t relu_grad4(float32x4_t x, float32x4_t g)
{
    uint32x4_t le0 = vclezq_f32(x);
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(g), le0));
}

void nnf__f32_vrelu_backward__neon(size_t n, const float *x, ptrdiff_t incx, const float *g,
                                   ptrdiff_t incg, float *y, ptrdiff_t incy)
{
    NNF__NEON_BINARY(n, x, incx, g, incg, y, incy, relu_grad4);
}
