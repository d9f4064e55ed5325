/* exp, log, tanh, sigmoid and pow on float spans through SLEEF's one-lane functions.
 *
 * This file is compiled twice. Plain, it uses the portable `purec` functions, which
 * run on any CPU but differ from the vector ISAs in the last bit for ~0.7% of exp
 * results (SLEEF computes them without FMA). With NNF_SLEEF_FMA (and -mfma on x86) it
 * uses `purecfma`, whose results equal SLEEF's AVX2, AVX-512 and AdvSIMD u10 functions
 * bit for bit (checked over 4M inputs for exp/log/tanh/pow), so the scalar ISA keeps
 * the bitwise promise wherever the CPU has FMA; dispatch runs that build only there.
 */
#include <math.h>   /* before sleef.h: FP_FAST_FMA (set by -mfma) gates purecfma's declarations */
#include <sleef.h>
#include "kernels/eltwise.h"

#if defined(NNF_SLEEF_FMA) && !defined(FP_FAST_FMA)
/* clang 14 does not define FP_FAST_FMA under -mfma alone, and sleef.h then leaves out
 * the declarations of purecfma (the library has the functions either way). */
float Sleef_expf1_u10purecfma(float);
float Sleef_logf1_u10purecfma(float);
float Sleef_tanhf1_u10purecfma(float);
float Sleef_powf1_u10purecfma(float, float);
#endif

#if defined(NNF_SLEEF_FMA)
#define SLEEF1(fn) Sleef_##fn##f1_u10purecfma
#define KERNEL(op) nnf__f32_v##op##__scalarfma
#else
#define SLEEF1(fn) Sleef_##fn##f1_u10purec
#define KERNEL(op) nnf__f32_v##op##__scalar
#endif

static inline float sigmoid_op(float x)
{
    return 1.0f / (1.0f + SLEEF1(exp)(-x));
}

#define DEFINE_UNARY(name, OP)                                                            \
    void KERNEL(name)(size_t n, const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy) \
    {                                                                                     \
        for (size_t i = 0; i < n; i++)                                                    \
            y[(ptrdiff_t)i * incy] = OP(x[(ptrdiff_t)i * incx]);                          \
    }

DEFINE_UNARY(exp, SLEEF1(exp))
DEFINE_UNARY(log, SLEEF1(log))
DEFINE_UNARY(tanh, SLEEF1(tanh))
DEFINE_UNARY(sigmoid, sigmoid_op)

void KERNEL(pow)(size_t n, const float *a, ptrdiff_t inca, const float *b, ptrdiff_t incb,
                 float *y, ptrdiff_t incy)
{
    for (size_t i = 0; i < n; i++)
        y[(ptrdiff_t)i * incy] = SLEEF1(pow)(a[(ptrdiff_t)i * inca], b[(ptrdiff_t)i * incb]);
}
