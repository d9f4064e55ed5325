/* The NaN rule on one float (kernels/eltwise.h states it): a NaN becomes the canonical
 * quiet NaN 0x7FC00000, other values pass unchanged. For the scalar kernels, the
 * epilogues of the products and the results that src/ folds in C, where which NaN an
 * operation propagates depends on the operand order the compiler picks. */
#ifndef NNF_KERNELS_CANONICAL_NAN_H
#define NNF_KERNELS_CANONICAL_NAN_H

#include <stdint.h>
#include <string.h>

static inline float nnf__canonical_nan(float v)
{
    const uint32_t qnan = 0x7FC00000u;
    float q;
    memcpy(&q, &qnan, sizeof q);
    return v != v ? q : v;
}

#endif
