/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's 8-lane AVX2 u10
 * functions, which give the same bits as purecfma, AVX-512 and AdvSIMD. */
#include <math.h>
#include <sleef.h>
#include "kernels/eltwise.h"
#include "span__avx2.h"

/* 1 / (1 + exp(-x)): the same three IEEE steps as the scalar definition. */
static inline __m256 sigmoid8(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = Sleef_expf8_u10avx2(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)));
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void nnf__f32_v##name##__avx2(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        NNF__AVX2_UNARY(n, x, incx, y, incy, OP);                                         \
    }

DEFINE_UNARY(exp, Sleef_expf8_u10avx2)
DEFINE_UNARY(log, Sleef_logf8_u10avx2)
DEFINE_UNARY(tanh, Sleef_tanhf8_u10avx2)
DEFINE_UNARY(sigmoid, sigmoid8)

void nnf__f32_vpow__avx2(size_t n, const float *a, ptrdiff_t inca, const float *b,
                         ptrdiff_t incb, float *y, ptrdiff_t incy)
{
    NNF__AVX2_BINARY(n, a, inca, b, incb, y, incy, Sleef_powf8_u10avx2);
}
