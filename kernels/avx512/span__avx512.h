/* Loading and storing 16-float spans at stride 1, 0 (broadcast) or any other, and the
 * loops every AVX-512 elementwise kernel shares. Static inline only: this header is
 * included by files compiled with -mavx512f and nothing in it may run before dispatch.
 *
 * Contiguous tails (n % 16 elements) use masked loads and stores, which are cheap on
 * Zen 4 and never touch memory past the span; masked-off lanes load as zero.
 */
#ifndef NNF_KERNELS_AVX512_SPAN_H
#define NNF_KERNELS_AVX512_SPAN_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* m <= 16 (1u << 16 is still defined for a 32-bit unsigned). */
static inline __mmask16 nnf__tail16(size_t m)
{
    return (__mmask16)((1u << m) - 1u);
}

static inline __m512 nnf__ld16(const float *x, ptrdiff_t inc)
{
    if (inc == 1)
        return _mm512_loadu_ps(x);
    if (inc == 0)
        return _mm512_set1_ps(*x);
    float t[16];
    for (int j = 0; j < 16; j++)
        t[j] = x[j * inc];
    return _mm512_loadu_ps(t);
}

static inline void nnf__st16(float *y, ptrdiff_t inc, __m512 v)
{
    if (inc == 1) {
        _mm512_storeu_ps(y, v);
        return;
    }
    float t[16];
    _mm512_storeu_ps(t, v);
    for (int j = 0; j < 16; j++)
        y[j * inc] = t[j];
}

/* The first m (< 16) lanes; the others are zero. */
static inline __m512 nnf__ld16_part(const float *x, ptrdiff_t inc, size_t m)
{
    if (inc == 1)
        return _mm512_maskz_loadu_ps(nnf__tail16(m), x);
    if (inc == 0)
        return _mm512_set1_ps(*x);
    float t[16] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = x[(ptrdiff_t)j * inc];
    return _mm512_loadu_ps(t);
}

static inline void nnf__st16_part(float *y, ptrdiff_t inc, size_t m, __m512 v)
{
    if (inc == 1) {
        _mm512_mask_storeu_ps(y, nnf__tail16(m), v);
        return;
    }
    float t[16];
    _mm512_storeu_ps(t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* The first m (<= 16) comparison results as bytes 0 / 1. */
static inline void nnf__st16_bytes(uint8_t *y, ptrdiff_t inc, size_t m, __mmask16 k)
{
    __m128i v = _mm_maskz_mov_epi8(k, _mm_set1_epi8(1));
    if (inc == 1) {
        _mm_mask_storeu_epi8(y, nnf__tail16(m), v);
        return;
    }
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

#define NNF__AVX512_UNARY_LOOP(n, x, incx, y, incy, OP)                                   \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 16 <= (n); i_ += 16)                                                  \
            nnf__st16((y) + (ptrdiff_t)i_ * (incy), (incy),                               \
                      OP(nnf__ld16((x) + (ptrdiff_t)i_ * (incx), (incx))));               \
        if (i_ < (n))                                                                     \
            nnf__st16_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                \
                           OP(nnf__ld16_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_))); \
    } while (0)

/* Expanded with literal strides for the common cases so the loop body has no tests. */
#define NNF__AVX512_UNARY(n, x, incx, y, incy, OP)                                        \
    do {                                                                                  \
        if ((incx) == 1 && (incy) == 1)                                                   \
            NNF__AVX512_UNARY_LOOP(n, x, 1, y, 1, OP);                                    \
        else if ((incx) == 0 && (incy) == 1)                                              \
            NNF__AVX512_UNARY_LOOP(n, x, 0, y, 1, OP);                                    \
        else                                                                              \
            NNF__AVX512_UNARY_LOOP(n, x, incx, y, incy, OP);                              \
    } while (0)

#define NNF__AVX512_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP)                         \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 16 <= (n); i_ += 16)                                                  \
            nnf__st16((y) + (ptrdiff_t)i_ * (incy), (incy),                               \
                      OP(nnf__ld16((a) + (ptrdiff_t)i_ * (inca), (inca)),                 \
                         nnf__ld16((b) + (ptrdiff_t)i_ * (incb), (incb))));               \
        if (i_ < (n))                                                                     \
            nnf__st16_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                \
                           OP(nnf__ld16_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                              nnf__ld16_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_))); \
    } while (0)

#define NNF__AVX512_BINARY(n, a, inca, b, incb, y, incy, OP)                              \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__AVX512_BINARY_LOOP(n, a, 1, b, 1, y, 1, OP);                             \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__AVX512_BINARY_LOOP(n, a, 1, b, 0, y, 1, OP);                             \
        else if ((inca) == 0 && (incb) == 1 && (incy) == 1)                               \
            NNF__AVX512_BINARY_LOOP(n, a, 0, b, 1, y, 1, OP);                             \
        else                                                                              \
            NNF__AVX512_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP);                    \
    } while (0)

#define NNF__AVX512_COMPARE_LOOP(n, a, inca, b, incb, y, incy, PRED)                      \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 16 <= (n); i_ += 16)                                                  \
            nnf__st16_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), 16,                     \
                            _mm512_cmp_ps_mask(nnf__ld16((a) + (ptrdiff_t)i_ * (inca), (inca)), \
                                               nnf__ld16((b) + (ptrdiff_t)i_ * (incb), (incb)), \
                                               PRED));                                    \
        if (i_ < (n))                                                                     \
            nnf__st16_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,               \
                            _mm512_cmp_ps_mask(                                           \
                                nnf__ld16_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                                nnf__ld16_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_), \
                                PRED));                                                   \
    } while (0)

#define NNF__AVX512_COMPARE(n, a, inca, b, incb, y, incy, PRED)                           \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__AVX512_COMPARE_LOOP(n, a, 1, b, 1, y, 1, PRED);                          \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__AVX512_COMPARE_LOOP(n, a, 1, b, 0, y, 1, PRED);                          \
        else                                                                              \
            NNF__AVX512_COMPARE_LOOP(n, a, inca, b, incb, y, incy, PRED);                 \
    } while (0)

/* Three inputs (sub_div). The first case is the normalisation's: x contiguous,
 * the per-channel mean and std one value each along the span. */
#define NNF__AVX512_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP)           \
    do {                                                                              \
        size_t i_ = 0;                                                                \
        for (; i_ + 16 <= (n); i_ += 16)                                              \
            nnf__st16((y) + (ptrdiff_t)i_ * (incy), (incy),                           \
                     OP(nnf__ld16((x) + (ptrdiff_t)i_ * (incx), (incx)),              \
                        nnf__ld16((a) + (ptrdiff_t)i_ * (inca), (inca)),              \
                        nnf__ld16((b) + (ptrdiff_t)i_ * (incb), (incb))));            \
        if (i_ < (n))                                                                 \
            nnf__st16_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,            \
                OP(nnf__ld16_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_),    \
                   nnf__ld16_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_),    \
                   nnf__ld16_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_)));  \
    } while (0)

#define NNF__AVX512_TERNARY(n, x, incx, a, inca, b, incb, y, incy, OP)                \
    do {                                                                              \
        if ((incx) == 1 && (inca) == 0 && (incb) == 0 && (incy) == 1)                 \
            NNF__AVX512_TERNARY_LOOP(n, x, 1, a, 0, b, 0, y, 1, OP);                  \
        else if ((incx) == 1 && (inca) == 1 && (incb) == 1 && (incy) == 1)            \
            NNF__AVX512_TERNARY_LOOP(n, x, 1, a, 1, b, 1, y, 1, OP);                  \
        else                                                                          \
            NNF__AVX512_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP);      \
    } while (0)

#endif
