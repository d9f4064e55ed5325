/* AVX-512 kernels for few rows of A against rows of B^T (x @ w.t() at small batch), and
 * against B as stored (see kernels/sgemm_kernels.h).
 *
 * Both operands are contiguous along k, and every element keeps its own in-order
 * chain, so the 16 lanes hold 16 columns of C: rows of B^T are transposed on the way
 * in (four 128-bit pieces per zmm, one in-lane 4x4 transpose per 4 steps)
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
#include <immintrin.h>
#include <stdint.h>

#include "kernels/avx512/sgemm_transpose16x16.h"
#include "kernels/avx512/vec.h"
#include "kernels/avx512/kernels.h"
#include "kernels/sgemm_epilogue.h"

enum { VL = 16 };

/* 4 floats at p; in the k tail (FULL == 0) only the lanes in `cols`, the rest 0. */
static inline __attribute__((always_inline)) __m128
piece(const float *p, __mmask8 cols, const int FULL)
{
    return FULL ? _mm_loadu_ps(p) : _mm_maskz_loadu_ps(cols, p);
}

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
    nnf__transpose4x4_lanes_avx512(z[0], z[1], z[2], z[3], col);
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
