/* AVX-512 GEMV over contiguous rows (see kernels/sgemm_kernels.h). Each row keeps its own
 * in-order FMA chain, so the 16 lanes hold 16 different rows and A is transposed on
 * the way in: four 128-bit row pieces are loaded into the four lanes of a zmm
 * (masked 128-bit broadcasts from memory: on Intel their merge may run on port 0 or
 * 5, where vinsertf32x4 needs port 5, the shuffle port; 2-3% faster), and one in-lane 4x4
 * transpose (8 shuffles) turns 4 such registers into 4 columns of 16 rows. That is
 * 1 shuffle per 8 floats, half of what the 8x8 ymm transpose of the AVX2 kernel needs,
 * and the loads and the FMA chain of each group of 16 rows (4 dependent FMAs per 4
 * columns) bound this kernel, so four groups run side by side.
 *
 * On Zen 5 (200 x 50, 13 groups, alone in a loop, loaded), with that scheme alone: the
 * kernel 0.57 us; its 2496 128-bit loads by themselves 0.40 us (~1.8 a cycle), the
 * 1950 merges 0.10, the 1248 shuffles 0.13, the FMA chains of 4 passes of 4 groups x
 * 50 steps 0.225 (3.55 GHz). The loads bound it, so full groups now take 8 columns
 * at a time from 256-bit loads (eight_columns: half the loads, 1.5 times the
 * shuffles): the kernel 0.57 -> 0.50 us, nnf_sgemm's 200x50x1 0.63 -> 0.57.
 *
 * The few-row kernels (dots_tb, dots_nn, dots_tn) are in sgemm_dots_tb__avx512.c: in one
 * file with these, under clang's ASan + UBSan + fuzzer coverage, it compiled for 9.4 min,
 * the sanitizer build's longest step by far; apart, the two compile side by side (5.7
 * and 2.4 min; 15 s without sanitizers). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/avx512/sgemm_transpose16x16.h"
#include "kernels/avx512/vec.h"
#include "kernels/avx512/kernels.h"
#include "kernels/sgemm_epilogue.h"

enum { VL = 16, GROUPS_MAX = 4, W_MAX = 4 };

/* 8 floats at p; in the k tail (FULL == 0) only the lanes in `cols`, the rest 0. */
static inline __attribute__((always_inline)) __m256
octet(const float *p, __mmask8 cols, const int FULL)
{
    return FULL ? _mm256_loadu_ps(p) : _mm256_maskz_loadu_ps(cols, p);
}

/* y[j] holds 8 columns of rows j (lanes 0-1) and j + 8 (lanes 2-3); col[q] gets column
 * q of the 16 rows, in row order. The in-lane 4x4 transposes make t[q]: lane 0 column
 * q of rows 0-3, lane 1 column 4 + q, lanes 2-3 the same of rows 8-11 (s[q]: rows 4-7
 * and 12-15), and masked lane shuffles gather each column's 4 lanes. */
static inline __attribute__((always_inline)) void transpose_pairs(const __m512 y[8],
                                                                  __m512 col[8])
{
    __m512 t[4], s[4];
    nnf__transpose4x4_lanes_avx512(y[0], y[1], y[2], y[3], t);
    nnf__transpose4x4_lanes_avx512(y[4], y[5], y[6], y[7], s);
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        col[q] = _mm512_mask_shuffle_f32x4(t[q], 0xF0F0, s[q], s[q], 0x80);
        col[q + 4] = _mm512_mask_shuffle_f32x4(s[q], 0x0F0F, t[q], t[q], 0x31);
    }
}

/* Columns 0..7 (the `cols` of them unless FULL) of the 16 rows at a: a zmm takes 8
 * columns of rows j and j + 8 (a 256-bit load and an insert). Per 8 columns: 16 loads
 * (8 with an insert) and 24 shuffles, where 4-column pieces of rows j, j+4, j+8, j+12
 * (four 128-bit loads, three merged) took 32 loads (24 with a merge) and 16 shuffles.
 * Rows 4b..4b+3 come from quad[b] and offsets of 0-3 row strides: hidden from the
 * compiler, these 4 pointers keep it from holding 15 row offsets in registers
 * (spilled, their reloads took load slots, the resource this kernel is short of). */
static inline __attribute__((always_inline)) void
group_columns(const float *a, size_t lda, __mmask8 cols, __m512 col[8], const int FULL)
{
    __m512 y[8];
    const float *quad[4];
#pragma GCC unroll 4
    for (int b = 0; b < 4; b++) {
        quad[b] = a + (size_t)(4 * b) * lda;
        __asm__("" : "+r"(quad[b]));
    }
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        const size_t off = (size_t)(j % 4) * lda;
        y[j] = _mm512_insertf32x8(_mm512_castps256_ps512(octet(quad[j / 4] + off, cols, FULL)),
                                  octet(quad[j / 4 + 2] + off, cols, FULL), 1);
    }
    transpose_pairs(y, col);
}

/* The same for 16 rows given by pointers, columns off..off+7. */
static inline __attribute__((always_inline)) void
rows_columns(const float *const row[VL], size_t off, __mmask8 cols, __m512 col[8],
             const int FULL)
{
    __m512 y[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++)
        y[j] = _mm512_insertf32x8(_mm512_castps256_ps512(octet(row[j] + off, cols, FULL)),
                                  octet(row[j + 8] + off, cols, FULL), 1);
    transpose_pairs(y, col);
}

/* The epilogue for `rows` (<= 16) rows of y. */
static inline void store_rows(__m512 acc, size_t rows, float *y, ptrdiff_t incy,
                              float alpha, float beta)
{
    const __mmask16 keep = (__mmask16)((1u << rows) - 1u);
    float old[VL], out[VL];
    __m512 c = _mm512_setzero_ps();
    if (beta != 0.0f && incy == 1) {
        c = _mm512_maskz_loadu_ps(keep, y);
    } else if (beta != 0.0f) {
        for (size_t i = 0; i < rows; i++)
            old[i] = y[(ptrdiff_t)i * incy];
        c = _mm512_maskz_loadu_ps(keep, old);
    }
    const __m512 r = nnf__sgemm_epilogue_vf(acc, c, alpha, beta);
    /* A column of C stored as one (a C of one column, or a row): through the stack
     * buffer, processes whose stack and y met at some 4 KiB offsets ran 200x50x1 2-10
     * times slower. */
    if (incy == 1) {
        _mm512_mask_storeu_ps(y, keep, r);
        return;
    }
    _mm512_storeu_ps(out, r);
    for (size_t i = 0; i < rows; i++)
        y[(ptrdiff_t)i * incy] = out[i];
}

static inline void row_pointers(const float *a, size_t lda, size_t rows, const float *row[VL])
{
    for (size_t r = 0; r < VL; r++)
        row[r] = a + (r < rows ? r : rows - 1) * lda;
}

/* Columns p..p+n-1 (n = 8 when FULL, else 1..7: the k tail) of G full groups of 16
 * rows from a and, with PART, of the rows `row` points at after them, into acc[g][w]
 * in column order; x's column w is x[step * incx + w * incw]. A group's columns meet x
 * before the next group's are loaded: all of them at once (32 registers) spilled. With
 * TA, A is stored transposed (row i, step p at a[p*lda + i]): a column of 16 rows is
 * one load, `keep` its lanes in the partial group. */
static inline __attribute__((always_inline)) void
groups_step(__m512 acc[GROUPS_MAX + 1][W_MAX], const float *a, size_t lda,
            const float *const *row, __mmask16 keep, size_t p, size_t n, const float *x,
            ptrdiff_t incx, ptrdiff_t incw, const int G, const int PART, const int W,
            const int TA, const int FULL)
{
    const __mmask8 cols = (__mmask8)((1u << n) - 1u);
#pragma GCC unroll 5
    for (int g = 0; g < G + PART; g++) {
        __m512 col[8];
        if (TA) {
            const float *ag = a + p * lda + (size_t)g * VL;
#pragma GCC unroll 8
            for (int q = 0; q < 8; q++)
                col[q] = !FULL && (size_t)q >= n ? _mm512_setzero_ps()
                         : g == G                ? _mm512_maskz_loadu_ps(keep, ag + (size_t)q * lda)
                                                 : _mm512_loadu_ps(ag + (size_t)q * lda);
        } else if (g == G)
            rows_columns(row, p, cols, col, FULL);
        else
            group_columns(a + (size_t)g * VL * lda + p, lda, cols, col, FULL);
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++) {
            /* One pointer per step, hidden from the compiler: it strength-reduced every
             * step's W addresses into pointers of their own (32 at W = 4) and spilled
             * them; 200x50 @ 50x4 1.19 -> 1.06 us (medians of 41, loaded). */
            const float *xq = x + (ptrdiff_t)(p + (size_t)q) * incx;
            __asm__("" : "+r"(xq));
#pragma GCC unroll 4
            for (int w = 0; w < W; w++)
                if (FULL || (size_t)q < n)
                    acc[g][w] = _mm512_fmadd_ps(col[q], _mm512_set1_ps(xq[w * incw]),
                                                acc[g][w]);
        }
    }
}

/* G (0, 1, 2 or 4) full groups of 16 rows side by side, and with PART the last `rows`
 * (1..15) beside them, whose missing rows read the last row again and are never
 * stored: the groups' chains of 4-cycle FMAs overlap each other's loads and shuffles
 * (200 x 50: 0.67 -> 0.64 us from 2 to 4 groups; the last 8 rows alone took 0.065 us
 * of the kernel's 0.48, about their 50-FMA chain, and 0.03 beside a batch). W columns
 * of y (x's columns) share each group's transposes. */
static inline __attribute__((always_inline)) void
groups(size_t kc, const float *a, size_t lda, size_t rows, const float *x, ptrdiff_t incx,
       ptrdiff_t incw, float *y, ptrdiff_t incy, float alpha, float beta, const int G,
       const int PART, const int W, const int TA)
{
    const float *row[VL];
    const __mmask16 keep = (__mmask16)((1u << rows) - 1u);
    if (PART && !TA)
        row_pointers(a + (size_t)G * VL * lda, lda, rows, row);
    __m512 acc[GROUPS_MAX + 1][W_MAX];
#pragma GCC unroll 5
    for (int g = 0; g < G + PART; g++)
#pragma GCC unroll 4
        for (int w = 0; w < W; w++)
            acc[g][w] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 8 <= kc; p += 8)
        groups_step(acc, a, lda, row, keep, p, 8, x, incx, incw, G, PART, W, TA, 1);
    if (p < kc)
        groups_step(acc, a, lda, row, keep, p, kc - p, x, incx, incw, G, PART, W, TA, 0);
    for (int g = 0; g < G + PART; g++)
        for (int w = 0; w < W; w++)
            store_rows(acc[g][w], g == G ? rows : VL, y + (ptrdiff_t)g * VL * incy + w, incy,
                       alpha, beta);
}

#define GROUPS_FN(g, part, w, ta)                                                          \
    static __attribute__((noinline)) void groups_##g##_##part##_##w##_##ta(               \
        size_t kc, const float *a, size_t lda, size_t rows, const float *x,                \
        ptrdiff_t incx, ptrdiff_t incw, float *y, ptrdiff_t incy, float alpha, float beta) \
    {                                                                                       \
        groups(kc, a, lda, rows, x, incx, incw, y, incy, alpha, beta, g, part, w, ta);     \
        nnf__v_leave();                                                                     \
    }
#define GROUPS_UP_TO_2(w, ta)                                                              \
    GROUPS_FN(2, 0, w, ta) GROUPS_FN(2, 1, w, ta) GROUPS_FN(1, 0, w, ta)                   \
    GROUPS_FN(1, 1, w, ta) GROUPS_FN(0, 1, w, ta)
#define GROUPS_UP_TO_4(w, ta) GROUPS_FN(4, 0, w, ta) GROUPS_FN(4, 1, w, ta) GROUPS_UP_TO_2(w, ta)
GROUPS_UP_TO_4(1, 0)
GROUPS_UP_TO_4(2, 0)
GROUPS_UP_TO_2(3, 0)
GROUPS_UP_TO_2(4, 0)
GROUPS_UP_TO_4(1, 1)
GROUPS_UP_TO_4(2, 1)
GROUPS_UP_TO_4(3, 1)
GROUPS_UP_TO_4(4, 1)

typedef void groups_fn(size_t kc, const float *a, size_t lda, size_t rows, const float *x,
                       ptrdiff_t incx, ptrdiff_t incw, float *y, ptrdiff_t incy, float alpha,
                       float beta);

/* [full groups in the batch][the last rows beside them] */
typedef groups_fn *const batch_table[GROUPS_MAX + 1][2];

/* Batches of up to 4 groups (3 as 2 then 1; the tables without 4-group batches cut
 * them as 2 and 2), the last 1..15 rows beside the last batch; row i of A starts at
 * a + i * row_step (lda, or 1 for A transposed). */
static void run_batches(batch_table batch, size_t m, size_t kc, const float *a, size_t lda,
                        size_t row_step, const float *x, ptrdiff_t incx, ptrdiff_t incw,
                        float *y, ptrdiff_t incy, float alpha, float beta)
{
    size_t full = m / VL;
    const size_t rest = m % VL;
    const size_t most = batch[4][0] != NULL ? 4 : 2;
    while (full > 0 || rest > 0) {
        const size_t g = full >= most ? most : full == 3 ? 2 : full;
        const int part = rest > 0 && g == full;
        batch[g][part](kc, a, lda, rest, x, incx, incw, y, incy, alpha, beta);
        if (part)
            break;
        a += g * VL * row_step;
        y += (ptrdiff_t)(g * VL) * incy;
        full -= g;
    }
}

void nnf__sgemm_dots__avx512(size_t m, size_t kc, const float *a, size_t lda,
                             const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy,
                             float alpha, float beta)
{
    static batch_table batch = {{NULL, groups_0_1_1_0},
                                {groups_1_0_1_0, groups_1_1_1_0},
                                {groups_2_0_1_0, groups_2_1_1_0},
                                {NULL, NULL},
                                {groups_4_0_1_0, groups_4_1_1_0}};
    run_batches(batch, m, kc, a, lda, lda, x, incx, 0, y, incy, alpha, beta);
}

/* The GEMV's groups for w = 1..W_MAX columns of B at once (the columns of C past the
 * tiles' last full vector): each group's transposes serve all of them, and the W
 * columns' chains are independent, so 2 groups side by side give 8 chains at W = 3-4,
 * 4 groups at W = 2 (8 chains where 2 groups' 4 waited on the FMA latency: 200x50 @
 * 50x2 0.68 -> 0.63 us, thread CPU time, medians of 31, loaded). A stored transposed
 * needs no transposes: 4 groups side by side, 4-16 chains. */
#define COLS_BATCH_UP_TO_2(w, ta)                                                          \
    {{NULL, groups_0_1_##w##_##ta}, {groups_1_0_##w##_##ta, groups_1_1_##w##_##ta},         \
     {groups_2_0_##w##_##ta, groups_2_1_##w##_##ta}, {NULL, NULL}, {NULL, NULL}}
#define COLS_BATCH_UP_TO_4(w, ta)                                                          \
    {{NULL, groups_0_1_##w##_##ta}, {groups_1_0_##w##_##ta, groups_1_1_##w##_##ta},         \
     {groups_2_0_##w##_##ta, groups_2_1_##w##_##ta}, {NULL, NULL},                         \
     {groups_4_0_##w##_##ta, groups_4_1_##w##_##ta}}

void nnf__sgemm_dots_cols__avx512(size_t m, size_t w, size_t kc, const float *a,
                                  ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                  ptrdiff_t rs_b, ptrdiff_t cs_b, float *c, size_t ldc,
                                  float alpha, float beta)
{
    static batch_table rows[W_MAX - 1] = {COLS_BATCH_UP_TO_4(2, 0), COLS_BATCH_UP_TO_2(3, 0),
                                          COLS_BATCH_UP_TO_2(4, 0)};
    static batch_table ta[W_MAX] = {COLS_BATCH_UP_TO_4(1, 1), COLS_BATCH_UP_TO_4(2, 1),
                                    COLS_BATCH_UP_TO_4(3, 1), COLS_BATCH_UP_TO_4(4, 1)};
    if (cs_a != 1) {
        run_batches(ta[w - 1], m, kc, a, (size_t)cs_a, 1, b, rs_b, cs_b, c, (ptrdiff_t)ldc,
                    alpha, beta);
        return;
    }
    if (w == 1) {
        nnf__sgemm_dots__avx512(m, kc, a, (size_t)rs_a, b, rs_b, c, (ptrdiff_t)ldc, alpha,
                                beta);
        return;
    }
    run_batches(rows[w - 2], m, kc, a, (size_t)rs_a, (size_t)rs_a, b, rs_b, cs_b, c,
                (ptrdiff_t)ldc, alpha, beta);
}
