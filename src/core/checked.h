/* Overflow-checked int64 arithmetic for shapes, strides, offsets and sizes.
 *
 * Signed overflow is undefined behaviour: gcc wraps silently (a slice with a huge step
 * once returned OK with a wrapped stride) and UBSan aborts. Sizes and strides come from
 * callers, files and earlier views; an empty tensor's strides in particular are bounded
 * by nothing, since it addresses no memory. So every product or sum of them goes through
 * these helpers, and a caller turns an overflow into NNF_ERR_OVERFLOW with a message.
 *
 * Each returns 1 on overflow (then *r is unspecified) and 0 otherwise, as the
 * __builtin_*_overflow they wrap (gcc >= 5, clang >= 3.8).
 *
 * What needs no check: arithmetic on the geometry of a NON-EMPTY tensor that stays
 * inside its own extent (index * stride for an index < size, sums of those), since every
 * non-empty view addresses elements of its storage (nnf__make_view checks it).
 */
#ifndef NNF_CORE_CHECKED_H
#define NNF_CORE_CHECKED_H

#include <stdint.h>

static inline int nnf__add_ovf(int64_t a, int64_t b, int64_t *r)
{
    return __builtin_add_overflow(a, b, r);
}

static inline int nnf__mul_ovf(int64_t a, int64_t b, int64_t *r)
{
    return __builtin_mul_overflow(a, b, r);
}

/* *r = a * b + c */
static inline int nnf__muladd_ovf(int64_t a, int64_t b, int64_t c, int64_t *r)
{
    int64_t p;
    return nnf__mul_ovf(a, b, &p) || nnf__add_ovf(p, c, r);
}

/* Product of n sizes (each >= 0). A zero size makes it 0 whatever the others are, so
 * [2^40, 2^40, 0] has 0 elements rather than an overflow. */
static inline int nnf__prod_ovf(int n, const int64_t *size, int64_t *r)
{
    int64_t p = 1;
    int over = 0;
    for (int i = 0; i < n; i++) {
        if (size[i] == 0) {
            *r = 0;
            return 0;
        }
        over |= nnf__mul_ovf(p, size[i], &p);
    }
    *r = p;
    return over;
}

/* The element offsets (relative to element [0,...,0]) that a non-empty geometry
 * reaches: [*lo, *hi], from the dims' (size - 1) * stride. An empty geometry (a size
 * is 0) reaches nothing: *lo = *hi = 0 and no overflow whatever its strides. */
static inline int nnf__extent_ovf(int ndim, const int64_t *shape, const int64_t *stride,
                                  int64_t *lo, int64_t *hi)
{
    int64_t l = 0, h = 0;
    *lo = *hi = 0;
    for (int d = 0; d < ndim; d++)
        if (shape[d] == 0)
            return 0;
    for (int d = 0; d < ndim; d++) {
        int64_t step;
        if (nnf__mul_ovf(shape[d] - 1, stride[d], &step) ||
            nnf__add_ovf(step < 0 ? l : h, step, step < 0 ? &l : &h))
            return 1;
    }
    *lo = l;
    *hi = h;
    return 0;
}

#endif
