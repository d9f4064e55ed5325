/* Loading and storing 8-float spans at stride 1, 0 (broadcast) or any other, and the
 * loops every AVX2 elementwise kernel shares. Static inline only: this header is
 * included by files compiled with -mavx2 and nothing in it may run before dispatch.
 *
 * Tails (n % 8 elements) go through an 8-float stack buffer: AVX2's masked moves
 * (vmaskmovps) are very slow on Zen 4 (FACTS.md), and the padding lanes are computed
 * and dropped, which is harmless because no op here traps.
 */
#ifndef NNF_KERNELS_AVX2_SPAN_H
#define NNF_KERNELS_AVX2_SPAN_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

static inline __m256 nnf__ld8(const float *x, ptrdiff_t inc)
{
    if (inc == 1)
        return _mm256_loadu_ps(x);
    if (inc == 0)
        return _mm256_set1_ps(*x);
    return _mm256_setr_ps(x[0], x[inc], x[2 * inc], x[3 * inc], x[4 * inc], x[5 * inc],
                          x[6 * inc], x[7 * inc]);
}

static inline void nnf__st8(float *y, ptrdiff_t inc, __m256 v)
{
    if (inc == 1) {
        _mm256_storeu_ps(y, v);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int j = 0; j < 8; j++)
        y[j * inc] = t[j];
}

/* The first m (< 8) lanes; the others are zero. */
static inline __m256 nnf__ld8_part(const float *x, ptrdiff_t inc, size_t m)
{
    if (inc == 0)
        return _mm256_set1_ps(*x);
    float t[8] = {0};
    for (size_t j = 0; j < m; j++)
        t[j] = x[(ptrdiff_t)j * inc];
    return _mm256_loadu_ps(t);
}

static inline void nnf__st8_part(float *y, ptrdiff_t inc, size_t m, __m256 v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* 8 comparison masks (all-ones / zero lanes) as 8 bytes 0 / 1 in the low half. */
static inline __m128i nnf__mask8_to_bytes(__m256 mask)
{
    __m256i one = _mm256_and_si256(_mm256_castps_si256(mask), _mm256_set1_epi32(1));
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(one), _mm256_extracti128_si256(one, 1));
    return _mm_packus_epi16(w, w);
}

static inline void nnf__st8_bytes(uint8_t *y, ptrdiff_t inc, size_t m, __m128i v)
{
    if (inc == 1 && m == 8) {
        _mm_storel_epi64((__m128i *)y, v);
        return;
    }
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, v);
    for (size_t j = 0; j < m; j++)
        y[(ptrdiff_t)j * inc] = t[j];
}

/* The loops. Each is expanded with literal strides for the common cases (all 1, or
 * one input 0) so that the compiler drops the stride tests from the loop body. */
#define NNF__AVX2_UNARY_LOOP(n, x, incx, y, incy, OP)                                     \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 8 <= (n); i_ += 8)                                                    \
            nnf__st8((y) + (ptrdiff_t)i_ * (incy), (incy),                                \
                     OP(nnf__ld8((x) + (ptrdiff_t)i_ * (incx), (incx))));                 \
        if (i_ < (n))                                                                     \
            nnf__st8_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                 \
                          OP(nnf__ld8_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_))); \
    } while (0)

#define NNF__AVX2_UNARY(n, x, incx, y, incy, OP)                                          \
    do {                                                                                  \
        if ((incx) == 1 && (incy) == 1)                                                   \
            NNF__AVX2_UNARY_LOOP(n, x, 1, y, 1, OP);                                      \
        else if ((incx) == 0 && (incy) == 1)                                              \
            NNF__AVX2_UNARY_LOOP(n, x, 0, y, 1, OP);                                      \
        else                                                                              \
            NNF__AVX2_UNARY_LOOP(n, x, incx, y, incy, OP);                                \
    } while (0)

#define NNF__AVX2_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP)                           \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 8 <= (n); i_ += 8)                                                    \
            nnf__st8((y) + (ptrdiff_t)i_ * (incy), (incy),                                \
                     OP(nnf__ld8((a) + (ptrdiff_t)i_ * (inca), (inca)),                   \
                        nnf__ld8((b) + (ptrdiff_t)i_ * (incb), (incb))));                 \
        if (i_ < (n))                                                                     \
            nnf__st8_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                 \
                          OP(nnf__ld8_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                             nnf__ld8_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_))); \
    } while (0)

#define NNF__AVX2_BINARY(n, a, inca, b, incb, y, incy, OP)                                \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__AVX2_BINARY_LOOP(n, a, 1, b, 1, y, 1, OP);                               \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__AVX2_BINARY_LOOP(n, a, 1, b, 0, y, 1, OP);                               \
        else if ((inca) == 0 && (incb) == 1 && (incy) == 1)                               \
            NNF__AVX2_BINARY_LOOP(n, a, 0, b, 1, y, 1, OP);                               \
        else                                                                              \
            NNF__AVX2_BINARY_LOOP(n, a, inca, b, incb, y, incy, OP);                      \
    } while (0)

#define NNF__AVX2_COMPARE_LOOP(n, a, inca, b, incb, y, incy, CMP)                         \
    do {                                                                                  \
        size_t i_ = 0;                                                                    \
        for (; i_ + 8 <= (n); i_ += 8)                                                    \
            nnf__st8_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), 8,                       \
                           nnf__mask8_to_bytes(                                           \
                               CMP(nnf__ld8((a) + (ptrdiff_t)i_ * (inca), (inca)),        \
                                   nnf__ld8((b) + (ptrdiff_t)i_ * (incb), (incb)))));     \
        if (i_ < (n))                                                                     \
            nnf__st8_bytes((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,                \
                           nnf__mask8_to_bytes(CMP(                                       \
                               nnf__ld8_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_), \
                               nnf__ld8_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_)))); \
    } while (0)

#define NNF__AVX2_COMPARE(n, a, inca, b, incb, y, incy, CMP)                              \
    do {                                                                                  \
        if ((inca) == 1 && (incb) == 1 && (incy) == 1)                                    \
            NNF__AVX2_COMPARE_LOOP(n, a, 1, b, 1, y, 1, CMP);                             \
        else if ((inca) == 1 && (incb) == 0 && (incy) == 1)                               \
            NNF__AVX2_COMPARE_LOOP(n, a, 1, b, 0, y, 1, CMP);                             \
        else                                                                              \
            NNF__AVX2_COMPARE_LOOP(n, a, inca, b, incb, y, incy, CMP);                    \
    } while (0)

/* Three inputs (sub_div). The first case is the normalisation's: x contiguous,
 * the per-channel mean and std one value each along the span. */
#define NNF__AVX2_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP)             \
    do {                                                                              \
        size_t i_ = 0;                                                                \
        for (; i_ + 8 <= (n); i_ += 8)                                                \
            nnf__st8((y) + (ptrdiff_t)i_ * (incy), (incy),                            \
                     OP(nnf__ld8((x) + (ptrdiff_t)i_ * (incx), (incx)),               \
                        nnf__ld8((a) + (ptrdiff_t)i_ * (inca), (inca)),               \
                        nnf__ld8((b) + (ptrdiff_t)i_ * (incb), (incb))));             \
        if (i_ < (n))                                                                 \
            nnf__st8_part((y) + (ptrdiff_t)i_ * (incy), (incy), (n) - i_,             \
                OP(nnf__ld8_part((x) + (ptrdiff_t)i_ * (incx), (incx), (n) - i_),     \
                   nnf__ld8_part((a) + (ptrdiff_t)i_ * (inca), (inca), (n) - i_),     \
                   nnf__ld8_part((b) + (ptrdiff_t)i_ * (incb), (incb), (n) - i_)));   \
    } while (0)

#define NNF__AVX2_TERNARY(n, x, incx, a, inca, b, incb, y, incy, OP)                  \
    do {                                                                              \
        if ((incx) == 1 && (inca) == 0 && (incb) == 0 && (incy) == 1)                 \
            NNF__AVX2_TERNARY_LOOP(n, x, 1, a, 0, b, 0, y, 1, OP);                    \
        else if ((incx) == 1 && (inca) == 1 && (incb) == 1 && (incy) == 1)            \
            NNF__AVX2_TERNARY_LOOP(n, x, 1, a, 1, b, 1, y, 1, OP);                    \
        else                                                                          \
            NNF__AVX2_TERNARY_LOOP(n, x, incx, a, inca, b, incb, y, incy, OP);        \
    } while (0)

#endif
