/* AVX-512 GEMV over contiguous rows (see kernels/sgemm.h). Each row keeps its own
 * in-order FMA chain, so the 16 lanes hold 16 different rows and A is transposed on
 * the way in: four 128-bit row pieces are loaded into the four lanes of a zmm
 * (vinsertf32x4 from memory does that on the load ports), and one in-lane 4x4
 * transpose (8 shuffles) turns 4 such registers into 4 columns of 16 rows. That is
 * 1 shuffle per 8 floats, half of what the 8x8 ymm transpose of the AVX2 kernel needs,
 * and the shuffles, not the FMAs, bound this kernel. Two groups of 16 rows run side by
 * side so that two FMA chains overlap the next block's loads and shuffles. */
#include <immintrin.h>

#include "kernels/sgemm.h"

enum { VL = 16 };

/* 4 floats at p; in the k tail (FULL == 0) only the lanes in `cols`, the rest 0. */
static inline __attribute__((always_inline)) __m128
piece(const float *p, __mmask8 cols, const int FULL)
{
    return FULL ? _mm_loadu_ps(p) : _mm_maskz_loadu_ps(cols, p);
}

/* Columns off..off+3 of the 16 rows. */
static inline __attribute__((always_inline)) void
four_columns(const float *const row[VL], size_t off, __mmask8 cols, __m512 col[4],
             const int FULL)
{
    __m512 z[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        __m512 v = _mm512_castps128_ps512(piece(row[j] + off, cols, FULL));
        v = _mm512_insertf32x4(v, piece(row[j + 4] + off, cols, FULL), 1);
        v = _mm512_insertf32x4(v, piece(row[j + 8] + off, cols, FULL), 2);
        z[j] = _mm512_insertf32x4(v, piece(row[j + 12] + off, cols, FULL), 3);
    }
    __m512 u0 = _mm512_unpacklo_ps(z[0], z[1]), u1 = _mm512_unpackhi_ps(z[0], z[1]);
    __m512 u2 = _mm512_unpacklo_ps(z[2], z[3]), u3 = _mm512_unpackhi_ps(z[2], z[3]);
    col[0] = _mm512_shuffle_ps(u0, u2, 0x44);
    col[1] = _mm512_shuffle_ps(u0, u2, 0xEE);
    col[2] = _mm512_shuffle_ps(u1, u3, 0x44);
    col[3] = _mm512_shuffle_ps(u1, u3, 0xEE);
}

/* G groups of 16 rows from a; the last group may have fewer (`last_rows`): its missing
 * rows read the group's last row again and are never stored. */
static inline __attribute__((always_inline)) void
groups(size_t kc, const float *a, size_t lda, const float *x, ptrdiff_t incx, float *y,
       ptrdiff_t incy, float alpha, float beta, const int G, size_t last_rows)
{
    const float *row[2][VL];
    __m512 acc[2];
    for (int g = 0; g < G; g++) {
        size_t rows = g == G - 1 ? last_rows : VL;
        for (size_t r = 0; r < VL; r++)
            row[g][r] = a + ((size_t)g * VL + (r < rows ? r : rows - 1)) * lda;
        acc[g] = _mm512_setzero_ps();
    }
    size_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        __m512 col[2][4];
#pragma GCC unroll 2
        for (int g = 0; g < G; g++)
            four_columns(row[g], p, 0xF, col[g], 1);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            __m512 xq = _mm512_set1_ps(x[(ptrdiff_t)(p + q) * incx]);
#pragma GCC unroll 2
            for (int g = 0; g < G; g++)
                acc[g] = _mm512_fmadd_ps(col[g][q], xq, acc[g]);
        }
    }
    if (p < kc) {
        size_t left = kc - p;
        __m512 col[2][4];
        for (int g = 0; g < G; g++)
            four_columns(row[g], p, (__mmask8)((1u << left) - 1u), col[g], 0);
        for (size_t q = 0; q < left; q++) {
            __m512 xq = _mm512_set1_ps(x[(ptrdiff_t)(p + q) * incx]);
            for (int g = 0; g < G; g++)
                acc[g] = _mm512_fmadd_ps(col[g][q], xq, acc[g]);
        }
    }
    const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    for (int g = 0; g < G; g++) {
        size_t rows = g == G - 1 ? last_rows : VL;
        float old[VL], out[VL];
        float *yg = y + (ptrdiff_t)g * VL * incy;
        __m512 r;
        if (beta == 0.0f) {
            r = _mm512_mul_ps(valpha, acc[g]);
        } else {
            for (size_t i = 0; i < rows; i++)
                old[i] = yg[(ptrdiff_t)i * incy];
            __m512 c = _mm512_maskz_loadu_ps((__mmask16)((1u << rows) - 1u), old);
            r = _mm512_fmadd_ps(valpha, acc[g], _mm512_mul_ps(vbeta, c));
        }
        _mm512_storeu_ps(out, r);
        for (size_t i = 0; i < rows; i++)
            yg[(ptrdiff_t)i * incy] = out[i];
    }
}

void nnf__sgemm_dots__avx512(size_t m, size_t kc, const float *a, size_t lda,
                             const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                             float alpha, float beta)
{
    size_t i = 0;
    for (; i + 2 * VL <= m; i += 2 * VL)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta,
               2, VL);
    if (i < m)
        groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha, beta,
               m - i > VL ? 2 : 1, m - i > VL ? m - i - VL : m - i);
}
