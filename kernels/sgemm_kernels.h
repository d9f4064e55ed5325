/* The sgemm micro-kernel and packing routines: the contract between the driver in
 * src/linalg/ and kernels/<isa>/.
 *
 * Numerics (the same on every ISA, every path, every thread count). For each element
 * of C, the k range is cut into blocks at multiples of NNF__SGEMM_KC, and
 *
 *     acc = 0;  for p in the block, in order:  acc = fma(a[i][p], b[p][j], acc)
 *     first block:  c = alpha * acc                    if beta == 0 (c is not read)
 *                   c = fma(alpha, acc, beta * c)      otherwise
 *     later blocks: c = fma(alpha, acc, c)
 *
 * Every kernel below computes exactly this for the elements it owns (the driver passes
 * beta = 1 when a call starts at a later block, and 1 * c == c exactly), so the
 * packed path, the unpacked small-problem path and the GEMV path agree bit for bit,
 * and how tiles are shared among threads cannot change a result.
 */
#ifndef NNF_KERNELS_SGEMM_KERNELS_H
#define NNF_KERNELS_SGEMM_KERNELS_H

#include <math.h>
#include <stddef.h>

#include "kernels/canonical_nan.h"

/* One KC for every ISA, since it decides where the per-element sums restart.
 * 384 keeps the largest A micro-panel (AVX-512 and NEON, 8 x 384 floats = 12 KiB) in a
 * 32 KiB L1d beside the B rows and the C tile that stream past it, and makes C's
 * read-modify-write (once per KC block) cost ~1/200 of the FMAs for 8x48 tiles. */
#define NNF__SGEMM_KC 384

/* The direct path packs B panels on the stack, in KC x 32 floats (48 KiB): as many
 * columns as fit at the call's depth, up to its register block (AVX-512's 64 for
 * k <= 192, 32 at full KC depth; narrower panels run as narrower tiles). */
#define NNF__SGEMM_STACK_NR 32

/* C[0..mr) x [0..nr) (row stride ldc, unit column stride) gets a x b over k steps,
 * restarting the sums every NNF__SGEMM_KC steps with the epilogue above (beta for the
 * call's first block, 1 after); callers start a call on a block boundary. Element
 * (i, p) of A is a[i*rs_a + p*cs_a]; element (p, j) of B is b[p*rs_b + j]. Only
 * i < mr, j < nr are read or written (edges need no padding); mr x nr fits in the
 * kernel's register block (the table's mr x nr for `ukernel`, direct_mr x direct_nr
 * for `direct_ukernel`), k >= 1. A packed panel is rs_a = 1, cs_a = mr of the table
 * (one block per call); a packed B panel is rs_b = its width. Seeing several blocks at once lets a kernel overlap their
 * independent sums where few accumulators leave FMA latency exposed. */
typedef void (*nnf__sgemm_ukernel_fn)(size_t k, const float *a, ptrdiff_t rs_a,
                                      ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                      float *c, size_t ldc, size_t mr, size_t nr,
                                      float alpha, float beta);

/* The same with the sums restarting every `period` steps instead of every KC (period
 * divides KC; the micro-batch rule's restarts, nnf__sgemm_restart): beta for the first
 * period, 1 after. One call covers what a call of nnf__sgemm_ukernel_fn per period
 * would, with the C tile kept in the L1 and the tile chosen once. */
typedef void (*nnf__sgemm_ukernel_every_fn)(size_t period, size_t k, const float *a,
                                            ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                            ptrdiff_t rs_b, float *c, size_t ldc, size_t mr,
                                            size_t nr, float alpha, float beta);

/* The first block's epilogue above on one element: *c is read only if beta != 0. The
 * vector kernels' is kernels/sgemm_epilogue.h. Under the NaN rule (kernels/eltwise.h)
 * every NaN stored into C is 0x7FC00000, whichever operand's payload the FMA propagated
 * (the compiler picks the operand order); once NaN, an element stays NaN through later
 * blocks, so making each store canonical is enough. */
static inline float nnf__sgemm_epilogue1(float acc, const float *c, float alpha, float beta)
{
    return nnf__canonical_nan(beta == 0.0f ? alpha * acc : fmaf(alpha, acc, beta * *c));
}

/* One element's sum over kc steps of a block, in k order from zero: a row of A (unit
 * stride) against x (stride incx). The GEMVs' rows that no vector holds. */
static inline float nnf__sgemm_dot_row(size_t kc, const float *a, const float *x,
                                       ptrdiff_t incx)
{
    float acc = 0.0f;
    for (size_t p = 0; p < kc; p++)
        acc = fmaf(a[p], x[(ptrdiff_t)p * incx], acc);
    return acc;
}

/* The k loop around a kernel's one-block body (`block` takes kc <= KC steps): each
 * KC block in order, with the call's beta for the first and 1 after. Kernels that
 * look at two blocks at once (AVX-512's, for few rows) cut k themselves. */
static inline void nnf__sgemm_each_block(nnf__sgemm_ukernel_fn block, size_t k,
                                         const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                                         const float *b, ptrdiff_t rs_b, float *c,
                                         size_t ldc, size_t mr, size_t nr, float alpha,
                                         float beta)
{
    for (size_t p0 = 0; p0 < k; p0 += NNF__SGEMM_KC)
        block(k - p0 < NNF__SGEMM_KC ? k - p0 : NNF__SGEMM_KC,
              a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a, b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc,
              mr, nr, alpha, p0 == 0 ? beta : 1.0f);
}

/* One shape of a register-tile kernel (AVX2's, NEON's): steps [0, k) of one KC block,
 * the sums restarting every `period` (KC, or a divisor: nnf__sgemm_ukernel_every_fn). */
typedef void nnf__sgemm_tile_fn(size_t k, size_t period, const float *a, ptrdiff_t rs_a,
                                ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, float *c,
                                size_t ldc, size_t nr, float alpha, float beta);

/* Defines tile_<rows>_<nv>_<unit>, an nnf__sgemm_tile_fn running `body` (always_inline,
 * the parameters above then rows, nv, unit as constants) for that one shape. A function
 * per shape: inlined into one function, AVX2's 24 shapes took minutes to compile under a
 * sanitizer, and NEON's 48 with the period loop 28 s, against 7-10 s split (gcc, loaded). */
#define NNF__SGEMM_TILE_FN(body, rows, nv, unit)                                        \
    static __attribute__((noinline)) void tile_##rows##_##nv##_##unit(                  \
        size_t k, size_t period, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,        \
        const float *b, ptrdiff_t rs_b, float *c, size_t ldc, size_t nr, float alpha,   \
        float beta)                                                                     \
    {                                                                                   \
        body(k, period, a, rs_a, cs_a, b, rs_b, c, ldc, nr, alpha, beta, rows, nv,      \
             unit);                                                                     \
    }

/* An nnf__sgemm_ukernel_every_fn over the tile chosen for the call: one tile call per KC
 * block, with the call's beta for the first and 1 after. */
static inline void nnf__sgemm_tile_each_block(nnf__sgemm_tile_fn *tile, size_t period,
                                              size_t k, const float *a, ptrdiff_t rs_a,
                                              ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                              float *c, size_t ldc, size_t nr, float alpha,
                                              float beta)
{
    for (size_t p0 = 0; p0 < k; p0 += NNF__SGEMM_KC)
        tile(k - p0 < NNF__SGEMM_KC ? k - p0 : NNF__SGEMM_KC, period,
             a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a, b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc, nr,
             alpha, p0 == 0 ? beta : 1.0f);
}

/* Packs a block of w columns, kc deep, into ceil(w / W) k-major panels of W columns:
 * column j, step p goes to out[(j / W) * W * kc + p * W + j % W], taken from
 * copy:      src[p*ld + j]   (the block's rows are contiguous)
 * transpose: src[j*ld + p]   (its columns are contiguous)
 * Used for B blocks (W = nr) and A blocks (W = mr; A's NN layout is the transposing
 * case). A whole block per call lets the copy walk each source row once, front to
 * back, instead of hopping down a column of rows per panel. The columns of the last
 * panel past w are not written. */
typedef void (*nnf__sgemm_pack_fn)(size_t kc, size_t w, size_t W, const float *src,
                                   size_t ld, float *out);

/* GEMV with contiguous rows, one KC block: for i < m,
 * y[i*incy] gets acc_i = sum over p < kc of a[i*lda + p] * x[p*incx], with the
 * epilogue above. Vectorised across rows, so every row keeps its own in-order sum. */
typedef void (*nnf__sgemm_dots_fn)(size_t m, size_t kc, const float *a, size_t lda,
                                   const float *x, ptrdiff_t incx, float *y,
                                   ptrdiff_t incy, float alpha, float beta);

/* `dots` for w (1..4) columns of C at once: C[i][j] for i < m, j < w from A (rows or
 * columns contiguous: a[i*rs_a + p*cs_a], rs_a or cs_a 1) and B (b[p*rs_b + j*cs_b]),
 * one KC block. For the direct tiles' columns past their last full vector (sgemm_paths.c,
 * sparse_tail), vectorised along m: A's transposes (if its rows are contiguous) serve all
 * w columns, where a tile would spend a vector on 1-4 lanes. */
typedef void (*nnf__sgemm_dots_cols_fn)(size_t m, size_t w, size_t kc, const float *a,
                                        ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                        ptrdiff_t rs_b, ptrdiff_t cs_b, float *c, size_t ldc,
                                        float alpha, float beta);

/* C[i][j] for i < m, j < n (n >= 4) from rows of A and rows of B^T, both contiguous
 * along k: a[i*lda + p], bt[j*ldb + p]; the whole k, cut into KC blocks with the
 * epilogue above (beta for the first). For few rows of A (x @ w.t() at small batch),
 * where packing B^T costs as much as the product. */
typedef void (*nnf__sgemm_dots_tb_fn)(size_t m, size_t n, size_t k, const float *a,
                                      size_t lda, const float *bt, size_t ldb, float *c,
                                      size_t ldc, float alpha, float beta);

/* C[i][j] for i < m, j < n from k = 1: acc = fma(a[i*inca], b[j], 0), then the
 * epilogue above (c is read only if beta != 0). An outer product is one multiply per
 * element of C, so it runs at store bandwidth as a loop over rows of contiguous
 * stores, where the register tiles would pay a call and a tile setup per 8 x 48
 * (Lin's input gradient y.g @ w with n_out = 1: 200 x 1 @ 1 x 50). */
typedef void (*nnf__sgemm_outer_fn)(size_t m, size_t n, const float *a, ptrdiff_t inca,
                                    const float *b, float *c, size_t ldc, float alpha,
                                    float beta);

/* y = one element of C from a[p*inca] and x[p*incx], p < k, the sums restarting every
 * `period` steps (KC, or a divisor of it: nnf__sgemm_restart) with the epilogue above:
 * beta for the first, 1 after. A GEMV with one output has one lane of work for `dots`;
 * this runs the independent period sums side by side instead. */
typedef void (*nnf__sgemm_dot_every_fn)(size_t period, size_t k, const float *a,
                                        ptrdiff_t inca, const float *x, ptrdiff_t incx,
                                        float *y, float alpha, float beta);

/* direct_ukernel_every for a B in two blocks side by side: columns [0, direct_split)
 * of the tile from b (row stride rs_b), [direct_split, nr) from b2 (row stride rs_b2),
 * direct_split < nr <= direct_nr. A prepacked B whose last panel is narrow (64^3 as
 * panels of 48 and 16) then runs the tiles nnf_sgemm runs on B as stored. */
typedef void (*nnf__sgemm_ukernel_split_fn)(size_t period, size_t k, const float *a,
                                            ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                                            ptrdiff_t rs_b, const float *b2, ptrdiff_t rs_b2,
                                            float *c, size_t ldc, size_t mr, size_t nr,
                                            float alpha, float beta);

/* The rows of the row band that starts at row ir of m, in bands of `band` rows: `band`,
 * except that a remainder under half a band shares the last full band's rows with it
 * (6-row bands over 128 rows end 4 + 4, not 6 + 2). A tile of 1-2 rows has too few FMA
 * chains to cover the latency, and its prologue and epilogue are spread over few FMAs:
 * the 2x64 tile of 128^3 took 3.6% of the time for 1.6% of the work. Which rows share a
 * tile never changes a bit (each element's sums are its own). */
static inline size_t nnf__sgemm_band(size_t m, size_t band, size_t ir)
{
    const size_t left = m - ir;
    if (left > band && left < band + band / 2)
        return (left + 1) / 2;
    return left < band ? left : band;
}

/* direct_ukernel_every down a column of C m rows tall, nr <= direct_nr wide: bands of
 * `band` rows (direct_mr, or direct_narrow_mr where the width takes it) as
 * nnf__sgemm_band cuts them, each exactly the call above would make, so the bits are
 * its bits. */
typedef void (*nnf__sgemm_ukernel_column_fn)(size_t period, size_t m, size_t band, size_t k,
                                             const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                                             const float *b, ptrdiff_t rs_b, float *c,
                                             size_t ldc, size_t nr, float alpha, float beta);

typedef struct nnf__sgemm_kernels {
    int mr, nr;        /* register block of the micro-kernel on packed panels */
    int direct_mr, direct_nr;  /* ... and on operands read in place (the direct path) */
    /* > 0: direct_ukernel also takes up to this many rows when nr <= direct_nr / 2 (a
     * narrow C keeps the accumulators of more rows in the registers); 0: direct_mr. */
    int direct_narrow_mr;
    /* The packed path's cache blocks, named by operand because the roles are BLIS's
     * swapped: an MR x KC micro-panel of A stays in the L1 while NR-wide panels of a
     * KC x b_block_cols block of B (sized for the L2) stream past it, and A is packed
     * a_block_rows at a time (sized for the L3), the outermost loop. So b_block_cols
     * plays BLIS's MC (the L2 block) and a_block_rows its NC (the L3 block). */
    int a_block_rows, b_block_cols;
    nnf__sgemm_ukernel_fn ukernel;         /* mr x nr: packed panels, prepacked B */
    nnf__sgemm_ukernel_fn direct_ukernel;  /* direct_mr x direct_nr: operands in place */
    /* The two with a restart period; NULL: one call of the above per period. */
    nnf__sgemm_ukernel_every_fn ukernel_every, direct_ukernel_every;
    nnf__sgemm_pack_fn pack_copy;
    nnf__sgemm_pack_fn pack_transpose;
    nnf__sgemm_dots_fn dots;
    nnf__sgemm_dots_tb_fn dots_tb;  /* NULL: such products pack B^T (direct path) */
    int dots_tb_max_m;              /* ... and take dots_tb up to this many rows */
    /* The same for B as stored (bt[j*ldb + p] read as b[p*ldb + j]), up to dots_tb_max_m
     * rows and 16 columns; NULL: the direct tiles. */
    nnf__sgemm_dots_tb_fn dots_nn;
    nnf__sgemm_dots_tb_fn dots_tn;  /* ... and for A transposed (a[p*lda + i]) */
    nnf__sgemm_outer_fn outer;      /* NULL: k = 1 takes the tiles like any k */
    nnf__sgemm_dot_every_fn dot_every;  /* NULL: one output takes `dots` */
    int tail_vl;   /* > 0: the direct tiles' vector width; 1-4 columns past a multiple
                    * of it go through dots_cols (sgemm_paths.c, sparse_tail) */
    nnf__sgemm_dots_cols_fn dots_cols;
    nnf__sgemm_ukernel_split_fn direct_ukernel_split;   /* NULL: none */
    int direct_split;
    nnf__sgemm_ukernel_column_fn direct_column;   /* NULL: one call per band */
} nnf__sgemm_kernels;

/* Declarations of one ISA's kernels, for its kernels/<isa>/kernels.h: the micro-kernel
 * of a shape (e.g. 6x16), its restart-period entry, packing, GEMV, few-row B^T. */
#define NNF__SGEMM_DECLARE_UKERNEL(isa, shape)                                             \
    void nnf__sgemm_ukernel_##shape##__##isa(size_t, const float *, ptrdiff_t, ptrdiff_t,  \
                                             const float *, ptrdiff_t, float *, size_t,    \
                                             size_t, size_t, float, float);
#define NNF__SGEMM_DECLARE_UKERNEL_EVERY(isa, shape)                                       \
    void nnf__sgemm_ukernel_every_##shape##__##isa(size_t, size_t, const float *,         \
                                                   ptrdiff_t, ptrdiff_t, const float *,    \
                                                   ptrdiff_t, float *, size_t, size_t,     \
                                                   size_t, float, float);
#define NNF__SGEMM_DECLARE_PACK(isa)                                                       \
    void nnf__sgemm_pack_copy__##isa(size_t, size_t, size_t, const float *, size_t,       \
                                     float *);                                            \
    void nnf__sgemm_pack_transpose__##isa(size_t, size_t, size_t, const float *, size_t,   \
                                          float *);
#define NNF__SGEMM_DECLARE_DOTS(isa)                                                       \
    void nnf__sgemm_dots__##isa(size_t, size_t, const float *, size_t, const float *,      \
                                ptrdiff_t, float *, ptrdiff_t, float, float);
#define NNF__SGEMM_DECLARE_DOTS_COLS(isa)                                                  \
    void nnf__sgemm_dots_cols__##isa(size_t, size_t, size_t, const float *, ptrdiff_t,     \
                                     ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,       \
                                     float *, size_t, float, float);
#define NNF__SGEMM_DECLARE_DOTS_TB(isa)                                                    \
    void nnf__sgemm_dots_tb__##isa(size_t, size_t, size_t, const float *, size_t,          \
                                   const float *, size_t, float *, size_t, float, float);
#define NNF__SGEMM_DECLARE_DOTS_NN(isa)                                                    \
    void nnf__sgemm_dots_nn__##isa(size_t, size_t, size_t, const float *, size_t,          \
                                   const float *, size_t, float *, size_t, float, float);
#define NNF__SGEMM_DECLARE_DOTS_TN(isa)                                                    \
    void nnf__sgemm_dots_tn__##isa(size_t, size_t, size_t, const float *, size_t,          \
                                   const float *, size_t, float *, size_t, float, float);
#define NNF__SGEMM_DECLARE_OUTER(isa)                                                      \
    void nnf__sgemm_outer__##isa(size_t, size_t, const float *, ptrdiff_t, const float *,  \
                                 float *, size_t, float, float);
#define NNF__SGEMM_DECLARE_DOT_EVERY(isa)                                                  \
    void nnf__sgemm_dot_every__##isa(size_t, size_t, const float *, ptrdiff_t,             \
                                     const float *, ptrdiff_t, float *, float, float);
/* The usual set: one micro-kernel for both paths, packing and GEMV. */
#define NNF__SGEMM_DECLARE(isa, shape)                                                     \
    NNF__SGEMM_DECLARE_UKERNEL(isa, shape)                                                 \
    NNF__SGEMM_DECLARE_PACK(isa)                                                           \
    NNF__SGEMM_DECLARE_DOTS(isa)

#endif
