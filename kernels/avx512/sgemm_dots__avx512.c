/* AVX-512 GEMV over contiguous rows (see kernels/sgemm.h). Each row keeps its own
 * in-order FMA chain, so the 16 lanes hold 16 different rows and A is transposed on
 * the way in: four 128-bit row pieces are loaded into the four lanes of a zmm
 * (masked 128-bit broadcasts from memory: on Intel their merge may run on port 0 or
 * 5, where vinsertf32x4 needs port 5, the shuffle port; 2-3% faster), and one in-lane 4x4
 * transpose (8 shuffles) turns 4 such registers into 4 columns of 16 rows. That is
 * 1 shuffle per 8 floats, half of what the 8x8 ymm transpose of the AVX2 kernel needs,
 * and the shuffles and the FMA chain of each group of 16 rows (4 dependent FMAs per 4
 * columns) bound this kernel, so two groups run side by side. */
#include <immintrin.h>

#include "kernels/sgemm.h"

enum { VL = 16 };

/* z[j] holds rows j, j+4, j+8, j+12 (4 columns each) in its 4 lanes; col[q] gets
 * column q of all 16 rows, in row order. */
static inline __attribute__((always_inline)) void transpose_lanes(const __m512 z[4],
                                                                  __m512 col[4])
{
    __m512 u0 = _mm512_unpacklo_ps(z[0], z[1]), u1 = _mm512_unpackhi_ps(z[0], z[1]);
    __m512 u2 = _mm512_unpacklo_ps(z[2], z[3]), u3 = _mm512_unpackhi_ps(z[2], z[3]);
    col[0] = _mm512_shuffle_ps(u0, u2, 0x44);
    col[1] = _mm512_shuffle_ps(u0, u2, 0xEE);
    col[2] = _mm512_shuffle_ps(u1, u3, 0x44);
    col[3] = _mm512_shuffle_ps(u1, u3, 0xEE);
}

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
        v = _mm512_mask_broadcast_f32x4(v, 0x00F0, piece(row[j + 4] + off, cols, FULL));
        v = _mm512_mask_broadcast_f32x4(v, 0x0F00, piece(row[j + 8] + off, cols, FULL));
        z[j] = _mm512_mask_broadcast_f32x4(v, 0xF000, piece(row[j + 12] + off, cols, FULL));
    }
    transpose_lanes(z, col);
}

/* z[j] = rows j, j+4, j+8, j+12 of a full group at a, 4 columns from p each. */
static inline __attribute__((always_inline)) void
load_full(const float *a, size_t lda, size_t p, __m512 z[4])
{
    const size_t l4 = 4 * lda, l12 = 12 * lda;
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const float *q = a + (size_t)j * lda + p;
        __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(q));
        v = _mm512_mask_broadcast_f32x4(v, 0x00F0, _mm_loadu_ps(q + l4));
        v = _mm512_mask_broadcast_f32x4(v, 0x0F00, _mm_loadu_ps(q + 2 * l4));
        z[j] = _mm512_mask_broadcast_f32x4(v, 0xF000, _mm_loadu_ps(q + l12));
    }
}

/* The epilogue for `rows` (<= 16) rows of y. */
static inline void store_rows(__m512 acc, size_t rows, float *y, ptrdiff_t incy,
                              float alpha, float beta)
{
    float old[VL], out[VL];
    __m512 r;
    if (beta == 0.0f) {
        r = _mm512_mul_ps(_mm512_set1_ps(alpha), acc);
    } else {
        for (size_t i = 0; i < rows; i++)
            old[i] = y[(ptrdiff_t)i * incy];
        __m512 c = _mm512_maskz_loadu_ps((__mmask16)((1u << rows) - 1u), old);
        r = _mm512_fmadd_ps(_mm512_set1_ps(alpha), acc, _mm512_mul_ps(_mm512_set1_ps(beta), c));
    }
    _mm512_storeu_ps(out, r);
    for (size_t i = 0; i < rows; i++)
        y[(ptrdiff_t)i * incy] = out[i];
}

/* The k tail (< 4 columns from p) of 16 rows given by pointers. */
static inline __m512 tail(const float *const row[VL], size_t p, size_t kc, const float *x,
                          ptrdiff_t incx, __m512 acc)
{
    size_t left = kc - p;
    __m512 col[4];
    four_columns(row, p, (__mmask8)((1u << left) - 1u), col, 0);
    for (size_t q = 0; q < left; q++)
        acc = _mm512_fmadd_ps(col[q], _mm512_set1_ps(x[(ptrdiff_t)(p + q) * incx]), acc);
    return acc;
}

static inline void row_pointers(const float *a, size_t lda, size_t rows, const float *row[VL])
{
    for (size_t r = 0; r < VL; r++)
        row[r] = a + (r < rows ? r : rows - 1) * lda;
}

/* G (1 or 2) full groups of 16 rows side by side: two chains of 4-cycle FMAs overlap
 * each other's loads and shuffles. Rows are addressed from a few pointers and strides,
 * so nothing spills to the stack. */
static inline __attribute__((always_inline)) void
full_groups(size_t kc, const float *a, size_t lda, const float *x, ptrdiff_t incx,
            float *y, ptrdiff_t incy, float alpha, float beta, const int G)
{
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    size_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        __m512 col[2][4];
#pragma GCC unroll 2
        for (int g = 0; g < G; g++) {
            __m512 z[4];
            load_full(a + (size_t)g * VL * lda, lda, p, z);
            transpose_lanes(z, col[g]);
        }
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            __m512 xq = _mm512_set1_ps(x[(ptrdiff_t)(p + q) * incx]);
#pragma GCC unroll 2
            for (int g = 0; g < G; g++)
                acc[g] = _mm512_fmadd_ps(col[g][q], xq, acc[g]);
        }
    }
    for (int g = 0; g < G; g++) {
        const float *ga = a + (size_t)g * VL * lda;
        if (p < kc) {
            const float *row[VL];
            row_pointers(ga, lda, VL, row);
            acc[g] = tail(row, p, kc, x, incx, acc[g]);
        }
        store_rows(acc[g], VL, y + (ptrdiff_t)g * VL * incy, incy, alpha, beta);
    }
}

/* The last 1..15 rows: missing rows read the last row again and are never stored. */
static void partial_group(size_t kc, const float *a, size_t lda, size_t rows,
                          const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                          float alpha, float beta)
{
    const float *row[VL];
    row_pointers(a, lda, rows, row);
    __m512 acc = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        __m512 col[4];
        four_columns(row, p, 0xF, col, 1);
        for (int q = 0; q < 4; q++)
            acc = _mm512_fmadd_ps(col[q], _mm512_set1_ps(x[(ptrdiff_t)(p + q) * incx]), acc);
    }
    if (p < kc)
        acc = tail(row, p, kc, x, incx, acc);
    store_rows(acc, rows, y, incy, alpha, beta);
}

void nnf__sgemm_dots__avx512(size_t m, size_t kc, const float *a, size_t lda,
                             const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                             float alpha, float beta)
{
    size_t i = 0;
    for (; i + 2 * VL <= m; i += 2 * VL)
        full_groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha,
                    beta, 2);
    if (i + VL <= m) {
        full_groups(kc, a + i * lda, lda, x, incx, y + (ptrdiff_t)i * incy, incy, alpha,
                    beta, 1);
        i += VL;
    }
    if (i < m)
        partial_group(kc, a + i * lda, lda, m - i, x, incx, y + (ptrdiff_t)i * incy, incy,
                      alpha, beta);
}
