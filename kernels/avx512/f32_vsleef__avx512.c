/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's 16-lane AVX-512 u10
 * functions, which give the same bits as purecfma, AVX2 and AdvSIMD. */
#include <math.h>
#include <sleef.h>
#include "kernels/eltwise.h"
#include "span__avx512.h"

/* 1 / (1 + exp(-x)): the same three IEEE steps as the scalar definition. */
static inline __m512 sigmoid16(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = Sleef_expf16_u10avx512f(_mm512_xor_ps(x, _mm512_set1_ps(-0.0f)));
    return _mm512_div_ps(one, _mm512_add_ps(one, e));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__avx512(size_t n, const float *x, ptrdiff_t incx, float *y,   \
                                    ptrdiff_t incy)                                       \
    {                                                                                     \
        NNF__AVX512_UNARY(n, x, incx, y, incy, OP);                                       \
    }

DEFINE_UNARY(exp, Sleef_expf16_u10avx512f)
DEFINE_UNARY(log, Sleef_logf16_u10avx512f)
DEFINE_UNARY(tanh, Sleef_tanhf16_u10avx512f)
DEFINE_UNARY(sigmoid, sigmoid16)

void nnf__f32_vpow__avx512(size_t n, const float *a, ptrdiff_t inca, const float *b,
                           ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    NNF__AVX512_BINARY(n, a, inca, b, incb, y, incy, Sleef_powf16_u10avx512f);
}
