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
 * shuffles): the kernel 0.57 -> 0.50 us, nnf_sgemm's 200x50x1 0.63 -> 0.57. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/avx512/vec.h"
#include "kernels/avx512/kernels.h"
#include "kernels/sgemm_epilogue.h"

enum { VL = 16, GROUPS_MAX = 4, W_MAX = 4 };

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
    transpose_lanes(y, t);
    transpose_lanes(y + 4, s);
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

/* ---- Few rows of A against rows of B^T (x @ w.t() at small batch) ----
 *
 * Both operands are contiguous along k, and every element keeps its own in-order
 * chain, so the 16 lanes hold 16 columns of C: rows of B^T are transposed on the way
 * in as above (four 128-bit pieces per zmm, one in-lane 4x4 transpose per 4 steps)
 * and each row of A meets them through broadcasts. Packing B^T first (the direct
 * path's way) stored and reloaded the transposed panel and left its 5 FMA chains per
 * KC block latency-bound: 5x784x10 went from 1.7 to 0.9 us. The two KC blocks of a
 * pair run side by side (twice the chains, as in the tile kernels); the broadcasts
 * come from memory, except row 0's from one 128-bit load and in-lane permutes, which
 * moves a quarter of them from the load ports to the shuffle ports (measured best of
 * 0-5 such rows on Zen 5).
 *
 * A group covers up to 16 columns from j0 with lane blocks of 4 whole rows of B^T:
 * block L holds rows min(j0 + 4L, n - 4) .. + 3, so a narrow last group re-reads rows
 * of the block before it instead of reading past n (n >= 4), and the epilogue
 * permutes the lanes into column order. */

/* TAPERM: tb_rows's PERM for A transposed */
enum { TB_ROWS = 6, TB_QUADS = VL / 4, TAPERM = 3 };

/* Columns q = 0..3 of 4 steps from off of the group's rows: block L's 128-bit lane of
 * z[r] is row base[L] + r. The k tail (FULL == 0) reads the `cols` lanes, 0 else.
 * With NN, B is not transposed (the same kernel for few rows of A @ B, rows of B a
 * stride ldb apart): step off + q is row off + q of B from base[0], its `keep` lanes,
 * loaded as is. */
static inline __attribute__((always_inline)) void
tb_columns(const float *const base[TB_QUADS], size_t ldb, size_t off, __mmask8 cols,
           __mmask16 keep, __m512 col[4], const int NQ, const int FULL, const int NN)
{
    if (NN) {
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            col[q] = FULL || ((cols >> q) & 1)
                         ? _mm512_maskz_loadu_ps(keep, base[0] + (off + (size_t)q) * ldb)
                         : _mm512_setzero_ps();
        return;
    }
    __m512 z[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        const size_t o = (size_t)r * ldb + off;
        __m512 v = _mm512_castps128_ps512(piece(base[0] + o, cols, FULL));
        if (NQ > 1)
            v = _mm512_mask_broadcast_f32x4(v, 0x00F0, piece(base[1] + o, cols, FULL));
        if (NQ > 2)
            v = _mm512_mask_broadcast_f32x4(v, 0x0F00, piece(base[2] + o, cols, FULL));
        if (NQ > 3)
            v = _mm512_mask_broadcast_f32x4(v, 0xF000, piece(base[3] + o, cols, FULL));
        z[r] = v;
    }
    transpose_lanes(z, col);
}

/* acc[i] gets `steps` (4 when FULL) steps from off of row i of A. The first PERM rows'
 * broadcasts come from one 128-bit load and in-lane permutes, the others' from memory:
 * that balances the load ports against the shuffle ports, best at 1 row with the B^T
 * transposes on the shuffle ports and at 3 without them (NN: 5x784x10 0.90 -> 0.75 us;
 * 0, 2, 4 and 5 rows measured slower on Zen 5). */
static inline __attribute__((always_inline)) void
tb_rows(__m512 acc[TB_ROWS], const float *a, size_t lda, size_t off, size_t steps,
        const __m512 col[4], const int ROWS, const int FULL, const int PERM, const int TA)
{
#define TB_A(i, q) (TA ? a[(off + (q)) * lda + (size_t)(i)] : a[(size_t)(i) * lda + off + (q)])
    if (!FULL) {
        for (int i = 0; i < ROWS; i++)
            for (size_t q = 0; q < steps; q++)
                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(TB_A(i, q)), col[q], acc[i]);
        return;
    }
    if (TA) {
        /* A transposed: the rows' elements of one step are adjacent, so the first PERM
         * rows' broadcasts come from one load of them and lane permutes (3: 5x784x10
         * with A transposed 0.93 -> 0.83 us; 0, 2 and 4 slower) */
        const __mmask8 rows4 = (__mmask8)((1u << (ROWS < 4 ? ROWS : 4)) - 1u);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            const __m512 x4 = _mm512_broadcast_f32x4(_mm_maskz_loadu_ps(rows4, a + (off + (size_t)q) * lda));
#pragma GCC unroll 6
            for (int i = 0; i < ROWS; i++)
                acc[i] = _mm512_fmadd_ps(
                    i < PERM ? _mm512_permutevar_ps(x4, _mm512_set1_epi32(i))
                             : _mm512_set1_ps(TB_A(i, q)),
                    col[q], acc[i]);
        }
        return;
    }
#pragma GCC unroll 6
    for (int i = 0; i < PERM && i < ROWS; i++) {
        const __m512 x4 = _mm512_broadcast_f32x4(_mm_loadu_ps(a + (size_t)i * lda + off));
        acc[i] = _mm512_fmadd_ps(_mm512_permute_ps(x4, 0x00), col[0], acc[i]);
        acc[i] = _mm512_fmadd_ps(_mm512_permute_ps(x4, 0x55), col[1], acc[i]);
        acc[i] = _mm512_fmadd_ps(_mm512_permute_ps(x4, 0xAA), col[2], acc[i]);
        acc[i] = _mm512_fmadd_ps(_mm512_permute_ps(x4, 0xFF), col[3], acc[i]);
    }
#pragma GCC unroll 6
    for (int i = PERM; i < ROWS; i++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(TB_A(i, q)), col[q], acc[i]);
#undef TB_A
}

/* Steps [0, kc) of one block from a and the group's rows at p0; with PAIR, steps
 * [0, kc1) of the next block (kc1 <= kc) beside them into acc1. */
static inline __attribute__((always_inline)) void
tb_block(__m512 acc[TB_ROWS], __m512 acc1[TB_ROWS], size_t kc, size_t kc1,
         const float *a, size_t lda, const float *const base[TB_QUADS], size_t ldb,
         __mmask16 keep, const int ROWS, const int NQ, const int PAIR, const int NN)
{
    enum { KC = NNF__SGEMM_KC };
    size_t p = 0;
    if (PAIR) {
        for (; p + 4 <= kc1; p += 4) {
            __m512 col[4], col1[4];
            tb_columns(base, ldb, p, 0xF, keep, col, NQ, 1, NN);
            tb_columns(base, ldb, p + KC, 0xF, keep, col1, NQ, 1, NN);
            tb_rows(acc, a, lda, p, 4, col, ROWS, 1, NN == 2 ? TAPERM : NN ? 3 : 1, NN == 2);
            tb_rows(acc1, a, lda, p + KC, 4, col1, ROWS, 1, NN == 2 ? TAPERM : NN ? 3 : 1,
                    NN == 2);
        }
        if (p < kc1) {
            __m512 col1[4];
            tb_columns(base, ldb, p + KC, (__mmask8)((1u << (kc1 - p)) - 1u), keep, col1, NQ,
                       0, NN);
            tb_rows(acc1, a, lda, p + KC, kc1 - p, col1, ROWS, 0, 0, NN == 2);
        }
    }
    for (; p + 4 <= kc; p += 4) {
        __m512 col[4];
        tb_columns(base, ldb, p, 0xF, keep, col, NQ, 1, NN);
        tb_rows(acc, a, lda, p, 4, col, ROWS, 1, NN == 2 ? TAPERM : NN ? 3 : 1, NN == 2);
    }
    if (p < kc) {
        __m512 col[4];
        tb_columns(base, ldb, p, (__mmask8)((1u << (kc - p)) - 1u), keep, col, NQ, 0, NN);
        tb_rows(acc, a, lda, p, kc - p, col, ROWS, 0, 0, NN == 2);
    }
}

/* One group's pass over k for ROWS rows: blocks in pairs where a second follows, each
 * block's epilogue (kernels/sgemm_kernels.h) in block order; `order` puts the lanes in column
 * order, `keep` masks the group's w columns. */
static inline __attribute__((always_inline)) void
tb_group(size_t k, const float *a, size_t lda, const float *const base[TB_QUADS],
         size_t ldb, float *c, size_t ldc, __m512i order, __mmask16 keep, float alpha,
         float beta, const int ROWS, const int NQ, const int NN)
{
    enum { KC = NNF__SGEMM_KC };
    const __m512 valpha = _mm512_set1_ps(alpha);
    for (size_t p0 = 0; p0 < k;) {
        size_t kc = k - p0 < KC ? k - p0 : KC;
        size_t kc1 = k - p0 - kc < KC ? k - p0 - kc : KC;
        const float *b0[TB_QUADS];
        for (int L = 0; L < TB_QUADS; L++)
            b0[L] = base[L] + p0 * (NN ? ldb : 1);
        __m512 acc[TB_ROWS], acc1[TB_ROWS];
        for (int i = 0; i < ROWS; i++)
            acc[i] = acc1[i] = _mm512_setzero_ps();
        if (kc1 > 0)
            tb_block(acc, acc1, kc, kc1, a + p0 * (NN == 2 ? lda : 1), lda, b0, ldb, keep, ROWS, NQ,
                     1, NN);
        else
            tb_block(acc, acc1, kc, 0, a + p0 * (NN == 2 ? lda : 1), lda, b0, ldb, keep, ROWS, NQ,
                     0, NN);
        const float bt = p0 == 0 ? beta : 1.0f;
        for (int i = 0; i < ROWS; i++) {
            float *ci = c + (size_t)i * ldc;
            const __m512 sum = NN ? acc[i] : _mm512_permutexvar_ps(order, acc[i]);
            __m512 r;
            if (bt == 0.0f)
                r = _mm512_mul_ps(valpha, sum);
            else
                r = _mm512_fmadd_ps(valpha, sum, _mm512_mul_ps(_mm512_set1_ps(bt),
                                                               _mm512_maskz_loadu_ps(keep, ci)));
            if (kc1 > 0)
                r = _mm512_fmadd_ps(valpha, NN ? acc1[i] : _mm512_permutexvar_ps(order, acc1[i]),
                                    r);
            _mm512_mask_storeu_ps(ci, keep, nnf__v_canon(r));
        }
        p0 += kc + kc1;
    }
}

typedef void tb_group_fn(size_t k, const float *a, size_t lda,
                         const float *const base[TB_QUADS], size_t ldb, float *c,
                         size_t ldc, __m512i order, __mmask16 keep, float alpha, float beta);

#define TB_GROUP(rows, nq)                                                               \
    static __attribute__((noinline)) void tb_group_##rows##_##nq(                          \
        size_t k, const float *a, size_t lda, const float *const base[TB_QUADS],           \
        size_t ldb, float *c, size_t ldc, __m512i order, __mmask16 keep, float alpha,      \
        float beta)                                                                         \
    {                                                                                       \
        tb_group(k, a, lda, base, ldb, c, ldc, order, keep, alpha, beta, rows, nq, 0);     \
        nnf__v_leave();                                                                     \
    }
#define TB_GROUPS(rows)                                                                  \
    TB_GROUP(rows, 1) TB_GROUP(rows, 2) TB_GROUP(rows, 3) TB_GROUP(rows, 4)
TB_GROUPS(1)
TB_GROUPS(2)
TB_GROUPS(3)
TB_GROUPS(4)
TB_GROUPS(5)
TB_GROUPS(6)
#define TB_BY_QUADS(rows)                                                                \
    {tb_group_##rows##_1, tb_group_##rows##_2, tb_group_##rows##_3, tb_group_##rows##_4}
/* The NN groups: B's rows loaded as they are, one shape per row count. */
#define NN_GROUP(rows, nn, name)                                                         \
    static __attribute__((noinline)) void name##_##rows(                                   \
        size_t k, const float *a, size_t lda, const float *const base[TB_QUADS],           \
        size_t ldb, float *c, size_t ldc, __m512i order, __mmask16 keep, float alpha,      \
        float beta)                                                                         \
    {                                                                                       \
        tb_group(k, a, lda, base, ldb, c, ldc, order, keep, alpha, beta, rows, 1, nn);     \
        nnf__v_leave();                                                                     \
    }
#define NN_GROUPS(nn, name)                                                              \
    NN_GROUP(1, nn, name) NN_GROUP(2, nn, name) NN_GROUP(3, nn, name)                    \
    NN_GROUP(4, nn, name) NN_GROUP(5, nn, name) NN_GROUP(6, nn, name)
NN_GROUPS(1, nn_group)
NN_GROUPS(2, tn_group)

void nnf__sgemm_dots_tb__avx512(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *bt, size_t ldb, float *c, size_t ldc,
                                float alpha, float beta)
{
    static tb_group_fn *const groups[TB_ROWS][TB_QUADS] = {
        TB_BY_QUADS(1), TB_BY_QUADS(2), TB_BY_QUADS(3),
        TB_BY_QUADS(4), TB_BY_QUADS(5), TB_BY_QUADS(6),
    };
    for (size_t j0 = 0; j0 < n; j0 += VL) {
        const size_t w = n - j0 < VL ? n - j0 : VL;
        const size_t nq = (w + 3) / 4;
        const float *base[TB_QUADS];
        int32_t lane_of[VL] = {0};
        for (size_t L = 0; L < TB_QUADS; L++) {
            size_t first = L < nq ? j0 + 4 * L : j0;
            first = first + 4 <= n ? first : n - 4;
            base[L] = bt + first * ldb;
            /* Lane 4L + r holds column first + r; the last block's may repeat columns
             * of the one before, whose lanes keep them. */
            for (size_t r = 0; r < 4 && L < nq; r++)
                if (first + r >= j0 + 4 * L)
                    lane_of[first + r - j0] = (int32_t)(4 * L + r);
        }
        const __m512i order = _mm512_loadu_si512(lane_of);
        const __mmask16 keep = (__mmask16)((1u << w) - 1u);
        for (size_t i0 = 0; i0 < m; i0 += TB_ROWS) {
            const size_t rows = m - i0 < TB_ROWS ? m - i0 : TB_ROWS;
            groups[rows - 1][nq - 1](k, a + i0 * lda, lda, base, ldb, c + i0 * ldc + j0,
                                     ldc, order, keep, alpha, beta);
        }
    }
}

/* Few rows of A against B as stored (rows of B a stride ldb apart): the same groups
 * with B's rows loaded as they are, no transposes, 16 columns at a time. The direct
 * path's 6x64 tiles pair KC blocks too, but ran 5x784x10 at 0.95-1.0 us where this
 * runs it at 0.79-0.90 (libxsmm 0.89-0.91, 7 interleaved rounds). */
static void nn_groups(tb_group_fn *const groups[TB_ROWS], size_t m, size_t n, size_t k,
                      const float *a, size_t lda, size_t row_step, const float *b, size_t ldb,
                      float *c, size_t ldc, float alpha, float beta)
{
    const __m512i order = _mm512_setzero_si512();   /* unused: lanes are columns */
    for (size_t j0 = 0; j0 < n; j0 += VL) {
        const size_t w = n - j0 < VL ? n - j0 : VL;
        const float *base[TB_QUADS] = {b + j0, b + j0, b + j0, b + j0};
        const __mmask16 keep = (__mmask16)((1u << w) - 1u);
        for (size_t i0 = 0; i0 < m; i0 += TB_ROWS) {
            const size_t rows = m - i0 < TB_ROWS ? m - i0 : TB_ROWS;
            groups[rows - 1](k, a + i0 * row_step, lda, base, ldb, c + i0 * ldc + j0, ldc, order,
                             keep, alpha, beta);
        }
    }
}

void nnf__sgemm_dots_nn__avx512(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *b, size_t ldb, float *c, size_t ldc,
                                float alpha, float beta)
{
    static tb_group_fn *const groups[TB_ROWS] = {nn_group_1, nn_group_2, nn_group_3,
                                                 nn_group_4, nn_group_5, nn_group_6};
    nn_groups(groups, m, n, k, a, lda, lda, b, ldb, c, ldc, alpha, beta);
}

/* The same with A transposed: element (i, p) of A is a[p*lda + i]. */
void nnf__sgemm_dots_tn__avx512(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *b, size_t ldb, float *c, size_t ldc,
                                float alpha, float beta)
{
    static tb_group_fn *const groups[TB_ROWS] = {tn_group_1, tn_group_2, tn_group_3,
                                                 tn_group_4, tn_group_5, tn_group_6};
    nn_groups(groups, m, n, k, a, lda, 1, b, ldb, c, ldc, alpha, beta);
}
