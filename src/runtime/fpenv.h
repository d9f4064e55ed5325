/* The floating-point control state a worker takes over from the caller for each job:
 * flush-to-zero, denormals-are-zero, rounding and exception masks. MXCSR on x86 (the
 * SSE/AVX unit every kernel uses), FPCR on aarch64. A worker that kept its own would
 * make results with FTZ set depend on which thread computed them. */
#ifndef NNF_RUNTIME_FPENV_H
#define NNF_RUNTIME_FPENV_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

typedef uint64_t nnf__fpenv;

static inline nnf__fpenv nnf__fpenv_get(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return _mm_getcsr();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return v;
#else
    return 0;
#endif
}

static inline void nnf__fpenv_set(nnf__fpenv env)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr((unsigned)env);
#elif defined(__aarch64__)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(env));
#else
    (void)env;
#endif
}

#endif
