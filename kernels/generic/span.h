/* The elementwise span loops, written once over the vector layer of the ISA being
 * compiled (kernels/<isa>/vec.h, found on that ISA's include path): each file in
 * kernels/generic/ is compiled once per ISA with exactly that ISA's flags.
 *
 * A span is addressed as p[i * inc] (kernels/eltwise.h). Loads and stores at stride 1
 * are the vector layer's; stride 0 splats the one value once; other strides gather and
 * scatter through a stack buffer, so every stride computes exactly what stride 1 does.
 * The last n % NNF__VL elements are one partial vector whose padding lanes are zero.
 *
 * Each loop is expanded with literal strides for the common cases (all 1, or an input
 * 0) so that the compiler drops the stride tests from the loop body; the op arrives as
 * a pointer to a static inline function, which always_inline turns into a constant and
 * the compiler inlines (no call is left in the loop).
 */
#ifndef NNF_KERNELS_GENERIC_SPAN_H
#define NNF_KERNELS_GENERIC_SPAN_H

#include <stddef.h>
#include <stdint.h>

/* Both from the ISA's folder on the include path: its vector layer, and the declarations
 * of its kernels, which the definitions here must match. */
#include "kernels.h"
#include "vec.h"

#define NNF__SPAN_INLINE static inline __attribute__((always_inline))

/* What a float result is (the NaN rule, kernels/eltwise.h): computed by arithmetic, so
 * every NaN is stored as the canonical 0x7FC00000, or input bits moved unchanged. */
typedef enum { NNF__ARITH, NNF__BITS } nnf__out;

typedef nnf__vf (*nnf__vop1)(nnf__vf);
typedef nnf__vf (*nnf__vop2)(nnf__vf, nnf__vf);
typedef nnf__vf (*nnf__vop3)(nnf__vf, nnf__vf, nnf__vf);
typedef nnf__vm (*nnf__vpred)(nnf__vf, nnf__vf);

/* The first m (<= NNF__VL) elements of a span; lanes past m are zero. */
NNF__SPAN_INLINE nnf__vf nnf__ld(const float *x, ptrdiff_t inc, size_t m)
{
    if (inc == 0)
        return nnf__v_splat(*x);
    if (inc == 1)
        return m == NNF__VL ? nnf__v_load(x) : nnf__v_load_part(x, m);
    float t[NNF__VL] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = x[(ptrdiff_t)j * inc];
    return nnf__v_load(t);
}

NNF__SPAN_INLINE void nnf__st(float *y, ptrdiff_t inc, size_t m, nnf__vf v, nnf__out out)
{
    if (out == NNF__ARITH)
        v = nnf__v_canon(v);
    if (inc == 1) {
        if (m == NNF__VL)
            nnf__v_store(y, v);
        else
            nnf__v_store_part(y, m, v);
        return;
    }
    float t[NNF__VL];
    nnf__v_store(t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* A comparison's lanes as bytes 0 / 1. */
NNF__SPAN_INLINE void nnf__st_bytes(uint8_t *y, ptrdiff_t inc, size_t m, nnf__vm k)
{
    if (inc == 1) {
        if (m == NNF__VL)
            nnf__v_store_bytes(y, k);
        else
            nnf__v_store_bytes_part(y, m, k);
        return;
    }
    uint8_t t[NNF__VL];
    nnf__v_store_bytes(t, k);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* The lanes whose condition byte is nonzero. */
NNF__SPAN_INLINE nnf__vm nnf__ld_cond(const uint8_t *c, ptrdiff_t inc, size_t m)
{
    if (inc == 1 && m == NNF__VL)
        return nnf__v_mask_from_bytes(c);
    uint8_t t[NNF__VL] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = c[(ptrdiff_t)j * inc];
    return nnf__v_mask_from_bytes(t);
}

/* The n - i < NNF__VL elements after the full vectors, said so to the compiler: it then
 * drops the tail's full-vector branches (6 ns of a 1000-float add on AVX-512). */
NNF__SPAN_INLINE size_t nnf__tail(size_t n, size_t i)
{
    if (n - i >= NNF__VL)
        __builtin_unreachable();
    return n - i;
}

/* Elements [i, i + m) of each span: p + i * inc. */
#define NNF__AT(p, inc, i) ((p) + (ptrdiff_t)(i) * (inc))

/* Elements [i, i + m) of y = op(x, a, b), m <= NNF__VL. */
NNF__SPAN_INLINE void nnf__step3(size_t i, size_t m, const float *x, ptrdiff_t incx,
                                 const float *a, ptrdiff_t inca, const float *b,
                                 ptrdiff_t incb, float *y, ptrdiff_t incy, nnf__vop3 op,
                                    nnf__out out)
{
    nnf__vf v = op(nnf__ld(NNF__AT(x, incx, i), incx, m), nnf__ld(NNF__AT(a, inca, i), inca, m),
                   nnf__ld(NNF__AT(b, incb, i), incb, m));
    nnf__st(NNF__AT(y, incy, i), incy, m, v, out);
}

NNF__SPAN_INLINE void nnf__span3_at(size_t n, const float *x, ptrdiff_t incx,
                                    const float *a, ptrdiff_t inca, const float *b,
                                    ptrdiff_t incb, float *y, ptrdiff_t incy, nnf__vop3 op,
                                    nnf__out out)
{
    size_t i = 0;
    for (; i + NNF__VL <= n; i += NNF__VL)
        nnf__step3(i, NNF__VL, x, incx, a, inca, b, incb, y, incy, op, out);
    if (i < n)
        nnf__step3(i, nnf__tail(n, i), x, incx, a, inca, b, incb, y, incy, op, out);
}

NNF__SPAN_INLINE void nnf__step2(size_t i, size_t m, const float *a, ptrdiff_t inca,
                                 const float *b, ptrdiff_t incb, float *y, ptrdiff_t incy,
                                 nnf__vop2 op, nnf__out out)
{
    nnf__vf v = op(nnf__ld(NNF__AT(a, inca, i), inca, m), nnf__ld(NNF__AT(b, incb, i), incb, m));
    nnf__st(NNF__AT(y, incy, i), incy, m, v, out);
}

NNF__SPAN_INLINE void nnf__span2_at(size_t n, const float *a, ptrdiff_t inca, const float *b,
                                    ptrdiff_t incb, float *y, ptrdiff_t incy, nnf__vop2 op,
                                    nnf__out out)
{
    size_t i = 0;
    for (; i + NNF__VL <= n; i += NNF__VL)
        nnf__step2(i, NNF__VL, a, inca, b, incb, y, incy, op, out);
    if (i < n)
        nnf__step2(i, nnf__tail(n, i), a, inca, b, incb, y, incy, op, out);
}

NNF__SPAN_INLINE void nnf__step1(size_t i, size_t m, const float *x, ptrdiff_t incx, float *y,
                                 ptrdiff_t incy, nnf__vop1 op, nnf__out out)
{
    nnf__st(NNF__AT(y, incy, i), incy, m, op(nnf__ld(NNF__AT(x, incx, i), incx, m)), out);
}

NNF__SPAN_INLINE void nnf__span1_at(size_t n, const float *x, ptrdiff_t incx, float *y,
                                    ptrdiff_t incy, nnf__vop1 op, nnf__out out)
{
    size_t i = 0;
    for (; i + NNF__VL <= n; i += NNF__VL)
        nnf__step1(i, NNF__VL, x, incx, y, incy, op, out);
    if (i < n)
        nnf__step1(i, nnf__tail(n, i), x, incx, y, incy, op, out);
}

NNF__SPAN_INLINE void nnf__span1(size_t n, const float *x, ptrdiff_t incx, float *y,
                                 ptrdiff_t incy, nnf__vop1 op, nnf__out out)
{
    if (incx == 1 && incy == 1)
        nnf__span1_at(n, x, 1, y, 1, op, out);
    else if (incx == 0 && incy == 1)
        nnf__span1_at(n, x, 0, y, 1, op, out);
    else
        nnf__span1_at(n, x, incx, y, incy, op, out);
}

NNF__SPAN_INLINE void nnf__span2(size_t n, const float *a, ptrdiff_t inca, const float *b,
                                 ptrdiff_t incb, float *y, ptrdiff_t incy, nnf__vop2 op,
                                    nnf__out out)
{
    if (inca == 1 && incb == 1 && incy == 1)
        nnf__span2_at(n, a, 1, b, 1, y, 1, op, out);
    else if (inca == 1 && incb == 0 && incy == 1)
        nnf__span2_at(n, a, 1, b, 0, y, 1, op, out);
    else if (inca == 0 && incb == 1 && incy == 1)
        nnf__span2_at(n, a, 0, b, 1, y, 1, op, out);
    else
        nnf__span2_at(n, a, inca, b, incb, y, incy, op, out);
}

/* The first case is the normalisation's (and clamp's): x contiguous, the other two
 * inputs one value each along the span. */
NNF__SPAN_INLINE void nnf__span3(size_t n, const float *x, ptrdiff_t incx, const float *a,
                                 ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                                 ptrdiff_t incy, nnf__vop3 op, nnf__out out)
{
    if (incx == 1 && inca == 0 && incb == 0 && incy == 1)
        nnf__span3_at(n, x, 1, a, 0, b, 0, y, 1, op, out);
    else if (incx == 1 && inca == 1 && incb == 1 && incy == 1)
        nnf__span3_at(n, x, 1, a, 1, b, 1, y, 1, op, out);
    else
        nnf__span3_at(n, x, incx, a, inca, b, incb, y, incy, op, out);
}

NNF__SPAN_INLINE void nnf__step_cmp(size_t i, size_t m, const float *a, ptrdiff_t inca,
                                    const float *b, ptrdiff_t incb, uint8_t *y,
                                    ptrdiff_t incy, nnf__vpred pred)
{
    nnf__vm k = pred(nnf__ld(NNF__AT(a, inca, i), inca, m), nnf__ld(NNF__AT(b, incb, i), incb, m));
    nnf__st_bytes(NNF__AT(y, incy, i), incy, m, k);
}

NNF__SPAN_INLINE void nnf__span_cmp_at(size_t n, const float *a, ptrdiff_t inca,
                                       const float *b, ptrdiff_t incb, uint8_t *y,
                                       ptrdiff_t incy, nnf__vpred pred)
{
    size_t i = 0;
    for (; i + NNF__VL <= n; i += NNF__VL)
        nnf__step_cmp(i, NNF__VL, a, inca, b, incb, y, incy, pred);
    if (i < n)
        nnf__step_cmp(i, nnf__tail(n, i), a, inca, b, incb, y, incy, pred);
}

NNF__SPAN_INLINE void nnf__span_cmp(size_t n, const float *a, ptrdiff_t inca, const float *b,
                                    ptrdiff_t incb, uint8_t *y, ptrdiff_t incy, nnf__vpred pred)
{
    if (inca == 1 && incb == 1 && incy == 1)
        nnf__span_cmp_at(n, a, 1, b, 1, y, 1, pred);
    else if (inca == 1 && incb == 0 && incy == 1)
        nnf__span_cmp_at(n, a, 1, b, 0, y, 1, pred);
    else
        nnf__span_cmp_at(n, a, inca, b, incb, y, incy, pred);
}

/* Bits 0..m-1 (m <= 64): the lanes of a mask that hold data. */
static inline uint64_t nnf__low_bits(size_t m)
{
    return m >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << m) - 1;
}

/* The kernels nnf__f32_v<name>__<isa> (kernels/eltwise.h) as a span loop over op,
 * storing out (NNF__ARITH or NNF__BITS). */
#define NNF__DEFINE_UNARY(name, op, out)                                                  \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *x, ptrdiff_t incx, float *y,     \
                                  ptrdiff_t incy)                                         \
    {                                                                                     \
        nnf__span1(n, x, incx, y, incy, op, out);                                         \
    }
#define NNF__DEFINE_BINARY(name, op, out)                                                 \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, float *y, ptrdiff_t incy) \
    {                                                                                     \
        nnf__span2(n, a, inca, b, incb, y, incy, op, out);                                \
    }
#define NNF__DEFINE_COMPARE(name, pred)                                                   \
    void NNF__KERNEL(f32_v##name)(size_t n, const float *a, ptrdiff_t inca,               \
                                  const float *b, ptrdiff_t incb, uint8_t *y, ptrdiff_t incy) \
    {                                                                                     \
        nnf__span_cmp(n, a, inca, b, incb, y, incy, pred);                                \
    }

#endif
