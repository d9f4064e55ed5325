/* Loading and storing 4-float spans at stride 1, 0 (broadcast) or any other, and the
 * loops every NEON elementwise kernel shares. Static inline only.
 *
 * Tails (n % 4 elements) go through a 4-float stack buffer; the padding lanes are
 * computed and dropped, which is harmless because no op here traps.
 */
#ifndef NNF_KERNELS_NEON_SPAN_H
#define NNF_KERNELS_NEON_SPAN_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

static inline float32x4_t nnf__ld4(const float *x, ptrdiff_t inc)
{
    if (inc == 1)
        return vld1q_f32(x);
    if (inc == 0)
        return vdupq_n_f32(*x);
    float t[4] = {x[0], x[inc], x[2 * inc], x[3 * inc]};
    return vld1q_f32(t);
}

static inline void nnf__st4(float *y, ptrdiff_t inc, float32x4_t v)
{
    if (inc == 1) {
        vst1q_f32(y, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (int j = 0; j < 4; j++)
        y[j * inc] = t[j];
}

/* The first m (< 4) lanes; the others are zero. */
static inline float32x4_t nnf__ld4_part(const float *x, ptrdiff_t inc, size_t m)
{
    if (inc == 0)
        return vdupq_n_f32(*x);
    float t[4] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = x[(ptrdiff_t)j * inc];
    return vld1q_f32(t);
}

static inline void nnf__st4_part(float *y, ptrdiff_t inc, size_t m, float32x4_t v)
{
    float t[4];
    vst1q_f32(t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* The first m (<= 4) lanes of a comparison mask as bytes 0 / 1. */
static inline void nnf__st4_bytes(uint8_t *y, ptrdiff_t inc, size_t m, uint32x4_t mask)
{
    uint16x4_t h = vmovn_u32(mask);
    uint8x8_t b = vand_u8(vmovn_u16(vcombine_u16(h, h)), vdup_n_u8(1));
    uint8_t t[8];
    vst1_u8(t, b);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

#define NNF__NEON_UNARY_LOOP(n, x, incx, y, incy, OP)                                     \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 4 <= (n); i_ += 4)                                                    \
            nnf__st4((y) + (ptrdiff_t)i_ * (incy), (incy),                                \
                     OP(nnf__ld4((x) + (ptrdiff_t)i_ * (incx), (incx))));                 \
        if (i_ < (n))                                                                     \
            nnf__st4_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                 \
                          OP(nnf__ld4_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_))); \
    } while (0)

/* Expanded with literal strides for the common cases so the loop body has no tests. */
#define NNF__NEON_UNARY(n, x, incx, y, incy, OP)                                          \
    do {                                                                                  \
        if ((incx) == 1 && (incy) == 1)                                                   \
            NNF__NEON_UNARY_LOOP(n, x, 1, y, 1, OP);                                      \
        else if ((incx) == 0 && (incy) == 1)                                              \
            NNF__NEON_UNARY_LOOP(n, x, 0, y, 1, OP);                                      \
        else                                                                              \
            NNF__NEON_UNARY_LOOP(n, x, incx, y, incy, OP);                                \
    } while (0)

#define NNF__NEON_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP)                           \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 4 <= (n); i_ += 4)                                                    \
            nnf__st4((y) + (ptrdiff_t)i_ * (incy), (incy),                                \
                     OP(nnf__ld4((a) + (ptrdiff_t)i_ * (inca), (inca)),                   \
                        nnf__ld4((b) + (ptrdiff_t)i_ * (incb), (incb))));                 \
        if (i_ < (n))                                                                     \
            nnf__st4_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                 \
                          OP(nnf__ld4_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                             nnf__ld4_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_))); \
    } while (0)

#define NNF__NEON_BINARY(n, a, inca, b, incb, y, incy, OP)                                \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__NEON_BINARY_LOOP(n, a, 1, b, 1, y, 1, OP);                               \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__NEON_BINARY_LOOP(n, a, 1, b, 0, y, 1, OP);                               \
        else if ((inca) == 0 && (incb) == 1 && (incy) == 1)                               \
            NNF__NEON_BINARY_LOOP(n, a, 0, b, 1, y, 1, OP);                               \
        else                                                                              \
            NNF__NEON_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP);                      \
    } while (0)

#define NNF__NEON_COMPARE_LOOP(n, a, inca, b, incb, y, incy, CMP)                         \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 4 <= (n); i_ += 4)                                                    \
            nnf__st4_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), 4,                       \
                           CMP(nnf__ld4((a) + (ptrdiff_t)i_ * (inca), (inca)),            \
                               nnf__ld4((b) + (ptrdiff_t)i_ * (incb), (incb))));          \
        if (i_ < (n))                                                                     \
            nnf__st4_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                \
                           CMP(nnf__ld4_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                               nnf__ld4_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_))); \
    } while (0)

#define NNF__NEON_COMPARE(n, a, inca, b, incb, y, incy, CMP)                              \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__NEON_COMPARE_LOOP(n, a, 1, b, 1, y, 1, CMP);                             \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__NEON_COMPARE_LOOP(n, a, 1, b, 0, y, 1, CMP);                             \
        else                                                                              \
            NNF__NEON_COMPARE_LOOP(n, a, inca, b, incb, y, incy, CMP);                    \
    } while (0)

/* Three inputs (sub_div). The first case is the normalisation's: x contiguous,
 * the per-channel mean and std one value each along the span. */
#define NNF__NEON_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP)             \
    do {                                                                              \
        size_t i_ = 0;                                                                \
        for (; i_ + 4 <= (n); i_ += 4)                                                \
            nnf__st4((y) + (ptrdiff_t)i_ * (incy), (incy),                            \
                     OP(nnf__ld4((x) + (ptrdiff_t)i_ * (incx), (incx)),               \
                        nnf__ld4((a) + (ptrdiff_t)i_ * (inca), (inca)),               \
                        nnf__ld4((b) + (ptrdiff_t)i_ * (incb), (incb))));             \
        if (i_ < (n))                                                                 \
            nnf__st4_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,             \
                OP(nnf__ld4_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_),     \
                   nnf__ld4_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_),     \
                   nnf__ld4_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_)));   \
    } while (0)

#define NNF__NEON_TERNARY(n, x, incx, a, inca, b, incb, y, incy, OP)                  \
    do {                                                                              \
        if ((incx) == 1 && (inca) == 0 && (incb) == 0 && (incy) == 1)                 \
            NNF__NEON_TERNARY_LOOP(n, x, 1, a, 0, b, 0, y, 1, OP);                    \
        else if ((incx) == 1 && (inca) == 1 && (incb) == 1 && (incy) == 1)            \
            NNF__NEON_TERNARY_LOOP(n, x, 1, a, 1, b, 1, y, 1, OP);                    \
        else                                                                          \
            NNF__NEON_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP);        \
    } while (0)

#endif
