/* The loops around the sgemm kernels for a rectangle of C on one thread: the direct
 * (unpacked) path for small problems, and GEMV. The packed path is sgemm_packed.c.
 *
 * Every path hands each element of C to exactly one kernel call per KC block (or per
 * restart period, nnf__sgemm_restart), in k order, with beta for the first block and
 * 1 afterwards, so all of them compute
 * the numerics contract of kernels/sgemm_kernels.h and agree bit for bit.
 */
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_scratch.h"
#include "src/linalg/sgemm_view.h"

#include "src/ops/eltwise_iter.h"

enum {
    KC = NNF__SGEMM_KC,
    BUDGET = 64 * 1024,   /* floats: a quarter of a 1 MiB L2 */
    SHALLOW = 16,         /* k under which a direct tile is bound by its stores of C */
    FEW_ROWS = 256,       /* rows of A up to which a large B is taken by columns */
};

static nnf__sgemm_path forced_path = NNF__SGEMM_PATH_AUTO;

void nnf__sgemm_force_path(nnf__sgemm_path path)
{
    forced_path = path;
}

static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

/* Columns of the direct tiles for C n columns wide: as few tiles as direct_nr allows,
 * their vectors (of tail_vl) shared out evenly, widest first. 80 columns run as 6x48 and
 * 6x32 tiles, not 6x64 and a 6x16 of 6 latency-bound FMA chains: 200 x 64 @ 64 x 80
 * 11.0-11.6 -> 10.2-10.7 us; 96 as two 6x48, not 6x64 and 6x32 (12 FMAs a step against
 * 8 loads): 200 x 50 @ 50 x 96 10.15-10.39 -> 9.85-10.07 (thread CPU time, medians of
 * 31, old/new/new/old/old/new, loaded). */
static size_t direct_cols(const nnf__sgemm_kernels *kr, size_t n)
{
    const size_t NR = (size_t)kr->direct_nr, vl = (size_t)kr->tail_vl;
    if (vl == 0 || n <= NR)
        return NR;
    const size_t tiles = (n + NR - 1) / NR, vecs = (n + vl - 1) / vl;
    return (vecs + tiles - 1) / tiles * vl;
}

/* A column block of B read in place (run_direct's by_columns) is k rows, each nr floats
 * wide, at B's row stride: read again by every row band, it has to stay in the caches
 * between them. Rows a multiple of 64 bytes apart fall into WAY_BYTES / gcd(stride,
 * WAY_BYTES) positions of the L1d (a single one at a multiple of 4 KiB), each as many
 * sets wide as a row has lines: x86 L1ds of the last decade (32 KiB 8-way, 48 KiB
 * 12-way) have 64 sets of 64-byte lines, ARM ones as many or more, so the count errs on
 * the safe side there. In fewer than SETS_MIN sets the lines the prefetchers bring in
 * evict each other before the tiles read them. Zen 5, one thread, in place against
 * packed: AVX-512's 48-float rows 512 floats apart (6 sets) 1.18x, 1024 apart (3 sets)
 * 1.00x, and 1.23x with 16 floats more; AVX2's 16-float rows 512 apart (2 sets) 0.91x,
 * 768 apart (4 sets, k = 1024) 0.86x, 520 apart 1.16x. */
enum { LINE_BYTES = 64, WAY_BYTES = 4096, SETS = WAY_BYTES / LINE_BYTES, SETS_MIN = 6 };

static size_t block_sets(size_t ld, size_t nr)
{
    size_t g = WAY_BYTES, r = ld * sizeof(float) % WAY_BYTES;
    while (r != 0) {   /* g = gcd(stride, WAY_BYTES) */
        size_t t = g % r;
        g = r;
        r = t;
    }
    const size_t lines = (nr * sizeof(float) + LINE_BYTES - 1) / LINE_BYTES;
    const size_t sets = WAY_BYTES / g * lines;
    return sets < SETS ? sets : SETS;
}

/* Whether A and one column block of B (nr wide) stay in the L2 while every row band
 * passes over the block: then run_direct reads B column block by column block. */
static int columns_fit(size_t m, size_t k, size_t nr)
{
    return m * k <= BUDGET && k * nr <= BUDGET;
}

/* The rows of nnf__sgemm_b_by_columns' products: 5 row panels to FEW_ROWS. */
static int few_rows(const nnf__sgemm_kernels *kr, size_t m)
{
    return m > 4 * (size_t)kr->mr && m <= FEW_ROWS;
}

/* B as stored, packing it (a write and a read of all of it) costs more than the few
 * row bands that reuse it gain from its packed layout; a transposed B is packed anyway,
 * but one panel at a time (run_direct_packed_b), each swept by every row band at once,
 * costs less than the packed path's job around its blocks. One thread, packed -> direct
 * (medians of 7-31 paired calls, Zen 5): AVX-512 40 x 784 @ 784 x 512 1.30x, 64 rows
 * 1.18-1.22x (the batch-64 Linear with W stored in x out), 80 rows 1.14x, 64 x 1000 @
 * 1000 x 1000 1.23x, 64 x 512 @ 512 x 2048 1.18x, 128 x 500 @ 500 x 1000 1.17x, 160 x
 * 400 @ 400 x 1000 1.11x, 256 x 256 @ 256 x 1024 1.07x; AVX2 48 and 64 rows 1.20x and
 * 1.16x; transposed, 48-80 x 784 @ (512 x 784)^T 1.09-1.15x (the batch-64 Linear with W
 * stored out x in, as PyTorch does), 64 x 1024 @ (1024 x 1024)^T 1.12x, 256 x 256 @
 * (1024 x 256)^T 1.05x. Past columns_fit (bands each reading all of B), 64 x 16384 @
 * 16384 x 512 took 1.7 times as long, and 160 x 784 @ 784 x 512 0.96x. Past FEW_ROWS,
 * 2 threads cutting C by columns (nnf__sgemm_rects_make) lost: 1024 x 64 @ 64 x 1024
 * 0.72x, where 512 x 128 @ 128 x 1024 gained 1.18x and 256 x 256 @ 256 x 1024 1.26x. */
int nnf__sgemm_b_by_columns(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                            const nnf__sgemm_view *b)
{
    if (!few_rows(kr, m) || k * n <= BUDGET || !columns_fit(m, k, direct_cols(kr, n)))
        return 0;
    return b->rs == 1 || (b->cs == 1 && block_sets((size_t)b->rs, (size_t)kr->nr) >= SETS_MIN);
}

nnf__sgemm_path nnf__sgemm_choose_path(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                       size_t k, const nnf__sgemm_view *b)
{
    if (forced_path != NNF__SGEMM_PATH_AUTO)
        return forced_path;
    /* Packing A pays off through reuse across the tiles of a row (n / nr of them) and
     * packing B through reuse across row panels (m / mr). Below 5 row panels or 3
     * tiles per row, or while B fits in 256 KiB (k * n <= 64K floats, a quarter of the
     * L2, e.g. 256^3 and all of the chapter's products), reading in place is cheaper;
     * and up to FEW_ROWS rows where B can be taken column block by column block
     * (nnf__sgemm_b_by_columns). */
    if (m <= 4 * (size_t)kr->mr || n <= 2 * (size_t)kr->nr || k * n <= BUDGET ||
        nnf__sgemm_b_by_columns(kr, m, n, k, b))
        return NNF__SGEMM_PATH_DIRECT;
    return NNF__SGEMM_PATH_PACKED;
}

void nnf__sgemm_post_fill(const nnf__sgemm_post *post, size_t j0, float *c, size_t ldc,
                          size_t rows, size_t cols)
{
    if (post == NULL || post->bias == NULL)
        return;
    const float *bias = post->bias + (ptrdiff_t)j0 * post->bias_inc;
    if (cols == 1) {   /* a GEMV's column: see column_relu */
        for (size_t i = 0; i < rows; i++)
            c[i * ldc] = *bias;
        return;
    }
    nnf__elt_kernels()->copy_rows(rows, cols, bias, post->bias_inc, c, ldc);
}

/* nnf_relu's own kernel on a tile, so the bits are its bits. A GEMV's column (the
 * chapter's two sparse-tail columns of 200 rows, one element per line) as a plain loop
 * of kernels/eltwise.h's definition, x < 0 ? +0 : x, a select with the same bits: the
 * kernel's strided span gathers and scatters, and that with the strided fill above cost
 * the chapter's 200 x 50 forward ~0.5 us. */
void nnf__sgemm_post_relu(const nnf__sgemm_post *post, float *c, size_t ldc, size_t rows,
                          size_t cols)
{
    if (post == NULL || !post->relu)
        return;
    if (cols == 1) {
        for (size_t i = 0; i < rows; i++)
            c[i * ldc] = c[i * ldc] < 0.0f ? 0.0f : c[i * ldc];
        return;
    }
    nnf__elt_kernels()->relu_rows(rows, cols, c, ldc);
}

static int is_gemv(size_t m, size_t n, nnf__sgemm_view a, nnf__sgemm_view b)
{
    return (n == 1 && a.cs == 1) || (m == 1 && b.rs == 1);
}

/* GEMV shapes whose operand rows are contiguous along k: one dots call per restart
 * period (a KC block, or a divisor of KC). */
static void run_gemv(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n,
                     size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta,
                     float *c, size_t ldc, const nnf__sgemm_post *post)
{
    nnf__sgemm_post_fill(post, 0, c, ldc, m, n);
    for (size_t pc = 0; pc < k; pc += period) {
        size_t kc = min_size(period, k - pc);
        float beta_pc = pc == 0 ? beta : 1.0f;
        if (n == 1 && a.cs == 1)
            kr->dots(m, kc, nnf__sgemm_at(a, 0, pc), (size_t)a.rs, nnf__sgemm_at(b, pc, 0),
                     b.rs, c, (ptrdiff_t)ldc, alpha, beta_pc);
        else
            kr->dots(n, kc, nnf__sgemm_at(b, pc, 0), (size_t)b.cs, nnf__sgemm_at(a, 0, pc),
                     a.cs, c, 1, alpha, beta_pc);
    }
    nnf__sgemm_post_relu(post, c, ldc, m, n);
}

/* Rows of the direct tiles for C n columns wide: more of them where the kernel keeps
 * a narrow C's rows in its registers (AVX-512: 32^3 as 4 tiles of 8x32 instead of 5 of
 * 6x32 and a 2x32, 0.40 -> 0.375 us, libxsmm 0.32; paired rounds, loaded). */
static size_t direct_rows(const nnf__sgemm_kernels *kr, size_t n)
{
    return kr->direct_narrow_mr > 0 && 2 * n <= (size_t)kr->direct_nr
               ? (size_t)kr->direct_narrow_mr
               : (size_t)kr->direct_mr;
}

/* A register block of the direct path: its rows and (widest) columns, and its kernel. */
typedef struct {
    size_t mr, nr;
    nnf__sgemm_ukernel_fn ukernel;
    nnf__sgemm_ukernel_every_fn every;
} direct_block;

/* The direct kernel in MR x NR tiles, or the packed path's register block (kr->mr x
 * kr->nr) where run_direct's comment says it takes the bands. */
static direct_block choose_block(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                                 size_t MR, size_t NR, int by_columns)
{
    const size_t PR = (size_t)kr->mr, PN = (size_t)kr->nr;
    const int fewer_bands = (m + PR - 1) / PR < (m + MR - 1) / MR && k >= SHALLOW;
    const int full_last = n % PN == 0 || n % PN > PN / 2;
    if (PR > MR && m > MR && (by_columns || (fewer_bands && (m <= PR || full_last))))
        return (direct_block){PR, PN, kr->ukernel, kr->ukernel_every};
    return (direct_block){MR, NR, kr->direct_ukernel, kr->direct_ukernel_every};
}

/* B's rows contiguous: both operands read in place, tile by tile, each tile over the
 * whole k in one call (the kernel cuts it into KC blocks).
 *
 * Few rows against a B past the budget of choose_path (k * n > 64K floats, a quarter
 * of the L2) go column block by column block, every row band through a block before
 * the next: band by band, every band read all of B again from memory (a batch of 8
 * through a 784 x 512 weight stored in x out read its 1.6 MB twice). Only while A and
 * a block of B are as small (m * k and k * NR <= 64K floats): the blocks each read A
 * again, and a block must still be in the L2 for the next band (10 x 4096 @ 4096 x 512,
 * the big MLP's g^T @ h, in 48-column blocks 4096 deep: 131 -> 121 GFLOPS).
 *
 * Where the packed path's register block has more rows than the direct one (AVX-512:
 * 8x48 against 6x64, the same 24 accumulators), it takes over when that saves row bands
 * (each a pass over B, and 7-8 rows are two bands of 4: 12-16 FMA chains instead of
 * 24), unless its last tile would be a narrow one (n = 160 or 256 end on 16 columns,
 * one vector of 8 chains) or k is under 16 (such tiles are bound by their stores of C,
 * and 48-wide rows straddle lines that 64-wide ones fill: 4096 x 10 @ 10 x 512, the big
 * MLP's g @ W2, lost 4%), and on the column blocks above. The bits are the same either
 * way (the contract of kernels/sgemm_kernels.h). Zen 5, one thread, old and new library
 * in alternating processes, medians of 7: 8 x 784 @ 784 x 512 104 -> 149 GFLOPS, 12 rows
 * 140 -> 170, 8 x 384 @ 384 x 96 172 -> 211, 128^3 190 -> 202, 224^3 194 -> 205; 160^3,
 * 100^3 and 256^3 unchanged. */
static void run_direct(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n,
                       size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta,
                       float *c, size_t ldc, const nnf__sgemm_post *post)
{
    const size_t MR = direct_rows(kr, n), NR = direct_cols(kr, n);
    if (n > 0 && n <= NR && post == NULL && kr->direct_column != NULL) {
        /* One column of tiles, nothing between them: the kernel walks the bands. (n is 0
         * when every column went to the sparse tail.) */
        kr->direct_column(period, m, MR, k, a.p, a.rs, a.cs, b.p, b.rs, c, ldc, n, alpha,
                          beta);
        return;
    }
    const int by_columns = k * n > BUDGET && columns_fit(m, k, NR);
    const direct_block t = choose_block(kr, m, n, k, MR, NR, by_columns);
    /* by_columns: one tile's columns per pass over the bands; else all of them */
    const size_t block = by_columns ? t.nr : n;
    for (size_t j0 = 0; j0 < n; j0 += block) {
        const size_t j1 = min_size(n, j0 + block);
        for (size_t ir = 0, mr; ir < m; ir += mr) {
            mr = nnf__sgemm_band(m, t.mr, ir);
            for (size_t jr = j0; jr < j1; jr += t.nr) {
                float *tile = c + ir * ldc + jr;
                size_t nr = min_size(t.nr, j1 - jr);
                nnf__sgemm_post_fill(post, jr, tile, ldc, mr, nr);
                nnf__sgemm_ukernel_every(t.ukernel, t.every, period, k,
                                         nnf__sgemm_at(a, ir, 0), a.rs, a.cs,
                                         nnf__sgemm_at(b, 0, jr), b.rs, tile, ldc, mr, nr,
                                         alpha, beta);
                nnf__sgemm_post_relu(post, tile, ldc, mr, nr);
            }
        }
    }
}

/* B transposed (its columns contiguous): A in place, B packed one kc x nr panel at a
 * time, each panel used by every row panel before the next is packed; kc is all of k
 * where that fits the buffer, and narrow panels get the narrow row bands of
 * direct_rows, as B as stored does. Both for a classifier's x @ w.t(), where each KC
 * level read A and C again, in 6-row bands of 6 FMA chains for one vector a row (Zen 5,
 * alternating processes, medians of 5: 4096x512x10 71-81 -> 87-98 GFLOPS, 1000x784x16
 * 146 -> 166). The panel is exactly as wide as the tile (rs_b = nr, not NR): 5x784x10
 * then packs 10 floats per k step, not a 64-float row with 54 unused. It lives on the
 * stack (KC x NNF__SGEMM_STACK_NR floats, 48 KiB), so small products never allocate.
 * Shallow products get panels as wide as the register block (x @ w^T with k = 100 runs
 * one 50-wide tile per row band, not 32 + 18); deeper ones narrower, in multiples of 16
 * columns. The register block is chosen as run_direct's (choose_block): 8 x 784 @ (512 x
 * 784)^T, a batch of 8 through a Linear without a prepacked handle, 90 -> 99 GFLOPS,
 * 7 x 300 @ (100 x 300)^T 80 -> 90 (Zen 5, alternating processes, medians of 5). */
static void run_direct_packed_b(const nnf__sgemm_kernels *kr, size_t period, size_t m,
                                size_t n, size_t k, float alpha, nnf__sgemm_view a,
                                nnf__sgemm_view b, float beta, float *c, size_t ldc,
                                const nnf__sgemm_post *post)
{
    enum { STACK = KC * NNF__SGEMM_STACK_NR };
    _Alignas(64) float stack[STACK];
    const direct_block t = choose_block(kr, m, n, k, direct_rows(kr, n),
                                        (size_t)kr->direct_nr, 0);
    /* For few_rows (nnf__sgemm_b_by_columns' rows), panels as wide as the tile over all
     * of k from the thread's scratch: 48-80 x 784 @ (512 x 784)^T and 64 x 1024 @ (1024 x
     * 1024)^T 1.02-1.06x the stack's 32-wide KC-deep panels; fewer rows took 0.96-1.12x
     * (8 to 24 rows), so they keep the stack. */
    float *heap = few_rows(kr, m) && k * t.nr > STACK ? nnf__sgemm_scratch(k * t.nr) : NULL;
    float *bbuf = heap != NULL ? heap : stack;
    const size_t BUF = heap != NULL ? k * t.nr : STACK;
    /* A cut panel keeps whole 64-byte lines of 16 floats (whole vectors on any ISA). */
    enum { LINE = 16 };
    size_t NR = min_size(t.nr, BUF / min_size(KC, k));
    if (NR < t.nr && NR > LINE)
        NR -= NR % LINE;
    for (size_t jr = 0; jr < n; jr += NR) {
        size_t nr = min_size(NR, n - jr);
        /* All of k at once where it fits: each tile then runs over the whole k (the
         * kernel cuts the KC blocks), so A is read in one pass and C once. */
        const size_t depth = k * nr <= BUF ? k : KC;
        for (size_t pc = 0; pc < k; pc += depth) {
            size_t kc = min_size(depth, k - pc);
            nnf__sgemm_pack(kr, kc, nr, nr, nnf__sgemm_at(b, pc, jr), b.cs, b.rs, bbuf);
            for (size_t ir = 0, mr; ir < m; ir += mr) {
                float *tile = c + ir * ldc + jr;
                mr = nnf__sgemm_band(m, t.mr, ir);
                if (pc == 0)
                    nnf__sgemm_post_fill(post, jr, tile, ldc, mr, nr);
                nnf__sgemm_ukernel_every(t.ukernel, t.every, period, kc,
                                         nnf__sgemm_at(a, ir, pc), a.rs, a.cs, bbuf,
                                         (ptrdiff_t)nr, tile, ldc, mr, nr, alpha,
                                         pc == 0 ? beta : 1.0f);
                if (pc + kc == k)
                    nnf__sgemm_post_relu(post, tile, ldc, mr, nr);
            }
        }
    }
    if (heap != NULL)
        nnf__sgemm_scratch_done(heap);
}

/* Few rows of A against B^T, both contiguous along k: one dots_tb call per restart
 * period (the kernel cuts KC blocks itself). Up to twice as many rows (two row bands,
 * B^T transposed twice) while B^T is one group of 16 rows: 8x784x10 went from 2.8 to
 * 1.6 us, 12x784x10 from 2.9 to 2.2; at n = 512 the bands tied with packing B^T. */
static int takes_dots_tb(const nnf__sgemm_kernels *kr, size_t m, size_t n, nnf__sgemm_view a)
{
    const size_t most = (size_t)kr->dots_tb_max_m * (n <= 16 ? 2 : 1);
    return kr->dots_tb != NULL && m <= most && n >= 4 && a.cs == 1;
}

/* The same kernels for B as stored (its rows contiguous), up to 16 columns, A's rows or
 * columns contiguous (NULL: the direct tiles): where those tiles have one vector per
 * row, these ran 5x784x10 at 0.8-0.9 us against 0.95-1.0, and with A transposed at
 * 0.83 against 0.93. */
static nnf__sgemm_dots_tb_fn dots_nn(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                     nnf__sgemm_view a)
{
    if (m > (size_t)kr->dots_tb_max_m || n > 16)
        return NULL;
    return a.cs == 1 ? kr->dots_nn : a.rs == 1 ? kr->dots_tn : NULL;
}

/* `dots` (dots_tb, or dots_nn with B's rows contiguous) over the whole k, in one call
 * per restart period. */
static void run_dots(nnf__sgemm_dots_tb_fn dots, size_t period, size_t m, size_t n, size_t k,
                     float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta, float *c,
                     size_t ldc, const nnf__sgemm_post *post)
{
    /* A few rows of C (at most 2 x dots_tb_max_m), all written by each call: the post-ops
     * around the calls find them in the L1. */
    nnf__sgemm_post_fill(post, 0, c, ldc, m, n);
    const size_t step = period == KC ? k : period, ldb = (size_t)(b.cs == 1 ? b.rs : b.cs);
    const size_t lda = (size_t)(a.cs == 1 ? a.rs : a.cs);
    for (size_t p0 = 0; p0 < k; p0 += step)
        dots(m, n, min_size(step, k - p0), nnf__sgemm_at(a, 0, p0), lda,
             nnf__sgemm_at(b, p0, 0), ldb, c, ldc, alpha, p0 == 0 ? beta : 1.0f);
    nnf__sgemm_post_relu(post, c, ldc, m, n);
}

int nnf__sgemm_packs(nnf__sgemm_path path, size_t m, size_t n, nnf__sgemm_view a,
                     nnf__sgemm_view b)
{
    return path == NNF__SGEMM_PATH_PACKED && !is_gemv(m, n, a, b);
}

/* Columns of C past the last full vector of the tiles' width, when they are few (at
 * most SPARSE_TAIL) and A's rows or columns are contiguous: all of them through
 * dots_cols (GEMVs vectorised along m, sharing A's transposes when its rows are
 * contiguous) rather than as a tile vector of FMAs that keeps 1-4 lanes of 16. x @ w.t()
 * at 200 x 100 -> 50 (the chapter's forward) runs 3 vectors per row and step instead of
 * 4, 200 x 50 -> 100 6 instead of 7. A C of 2-4 columns goes there whole: 200 x 50 @
 * 50 x 4 took 2.4-3.1 us as 6x16 tiles with 4 lanes, 1.2 this way (32 x 32 @ 32 x 4 0.30
 * -> 0.14; thread CPU time, medians of 31, loaded). Below MIN_ROWS rows the transposes
 * cost more. */
enum { SPARSE_TAIL = 4, MIN_ROWS = 32 };

static size_t sparse_tail(const nnf__sgemm_kernels *kr, size_t m, size_t n, nnf__sgemm_view a)
{
    const size_t vl = (size_t)kr->tail_vl, tail = vl > 0 ? n % vl : 0;
    return tail <= SPARSE_TAIL && n > 1 && m >= MIN_ROWS && (a.cs == 1 || a.rs == 1) ? tail
                                                                                     : 0;
}

/* The sparse tail: `tail` columns of C from j0, the first at column 0 of bt, one
 * dots_cols call per restart period. The ReLU waits until the tiles are done: read
 * right after the kernel stored them, the strided elements made the chapter's
 * 200 x 100 -> 50 forward 0.45-0.5 us slower than nnf_linear + nnf_relu, after the
 * tiles 0.15-0.25 (paired medians of 41, loaded). */
static void run_tail(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t j0,
                     size_t tail, size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view bt,
                     float beta, float *c, size_t ldc, const nnf__sgemm_post *post)
{
    nnf__sgemm_post_fill(post, j0, c + j0, ldc, m, tail);
    for (size_t pc = 0; pc < k; pc += period)
        kr->dots_cols(m, tail, min_size(period, k - pc), nnf__sgemm_at(a, 0, pc), a.rs, a.cs,
                      nnf__sgemm_at(bt, pc, 0), bt.rs, bt.cs, c + j0, ldc, alpha,
                      pc == 0 ? beta : 1.0f);
}

/* The outer-product kernel (k = 1) in bands of rows, so that with post-ops each band is
 * still in the L1 when its ReLU runs (a band of at most OUTER_BAND floats, 16 KiB). The
 * kernel's elements are independent: any cut gives the same bits. */
enum { OUTER_BAND = 4096 };

static void run_outer(const nnf__sgemm_kernels *kr, size_t m, size_t n, nnf__sgemm_view a,
                      nnf__sgemm_view b, float alpha, float beta, float *c, size_t ldc,
                      const nnf__sgemm_post *post)
{
    if (post == NULL) {
        kr->outer(m, n, a.p, a.rs, b.p, c, ldc, alpha, beta);
        return;
    }
    const size_t band = n < OUTER_BAND ? OUTER_BAND / n : 1;
    for (size_t i0 = 0; i0 < m; i0 += band) {
        size_t rows = min_size(band, m - i0);
        float *ci = c + i0 * ldc;
        nnf__sgemm_post_fill(post, 0, ci, ldc, rows, n);
        kr->outer(rows, n, nnf__sgemm_at(a, i0, 0), a.rs, b.p, ci, ldc, alpha, beta);
        nnf__sgemm_post_relu(post, ci, ldc, rows, n);
    }
}

void nnf__sgemm_run(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n, size_t k,
                    float alpha, const nnf__sgemm_view *av, const nnf__sgemm_view *bv,
                    float beta, float *c, size_t ldc, const nnf__sgemm_post *post)
{
    /* Field by field, the strides hidden from the compiler: it read each view's two
     * strides with one 16-byte load, across the caller's two 8-byte stores, and such a
     * load waits for the stores to retire (a failed store-to-load forward). */
    ptrdiff_t a_cs = av->cs, b_cs = bv->cs;
    __asm__("" : "+r"(a_cs), "+r"(b_cs));
    const nnf__sgemm_view a = {av->p, av->rs, a_cs}, b = {bv->p, bv->rs, b_cs};
    /* Depth 1 (no restart can fall inside it): the outer-product kernel, one pass of
     * stores over C. 200 x 1 @ 1 x 50 went from 1.12 us on the 6x64 tiles (and two
     * GEMV columns) to 0.59 us (A/B medians, loaded machine). */
    if (k == 1 && b.cs == 1 && kr->outer != NULL) {
        run_outer(kr, m, n, a, b, alpha, beta, c, ldc, post);
        return;
    }
    /* One element (a 1-output Lin's bias gradient, ones @ y.g): its period sums side by
     * side, where `dots` would run them one after another in one lane of 16. */
    if (m == 1 && n == 1 && kr->dot_every != NULL) {
        nnf__sgemm_post_fill(post, 0, c, ldc, 1, 1);
        kr->dot_every(period, k, a.p, a.cs, b.p, b.rs, c, alpha, beta);
        nnf__sgemm_post_relu(post, c, ldc, 1, 1);
        return;
    }
    const size_t tail = is_gemv(m, n, a, b) ? 0 : sparse_tail(kr, m, n, a);
    if (tail > 0)
        run_tail(kr, period, m, n - tail, tail, k, alpha, a,
                 (nnf__sgemm_view){nnf__sgemm_at(b, 0, n - tail), b.rs, b.cs}, beta, c, ldc,
                 post);
    n -= tail;
    if (is_gemv(m, n, a, b))
        run_gemv(kr, period, m, n, k, alpha, a, b, beta, c, ldc, post);
    else if (b.cs == 1 && dots_nn(kr, m, n, a) != NULL)
        run_dots(dots_nn(kr, m, n, a), period, m, n, k, alpha, a, b, beta, c, ldc, post);
    else if (b.cs == 1)
        run_direct(kr, period, m, n, k, alpha, a, b, beta, c, ldc, post);
    else if (takes_dots_tb(kr, m, n, a))
        run_dots(kr->dots_tb, period, m, n, k, alpha, a, b, beta, c, ldc, post);
    else
        run_direct_packed_b(kr, period, m, n, k, alpha, a, b, beta, c, ldc, post);
    if (tail > 0)
        nnf__sgemm_post_relu(post, c + n, ldc, m, tail);
}

void nnf__sgemm_run_split(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                          float alpha, const nnf__sgemm_view *av, const float *b0,
                          const float *b1, float beta, float *c, size_t ldc,
                          const nnf__sgemm_post *post)
{
    const nnf__sgemm_view a = *av;
    const size_t split = (size_t)kr->direct_split, w1 = n - split;
    const nnf__sgemm_view first = {b0, (ptrdiff_t)split, 1}, second = {b1, (ptrdiff_t)w1, 1};
    const size_t tail = sparse_tail(kr, m, n, a);
    if (tail > 0)
        run_tail(kr, KC, m, n - tail, tail, k, alpha, a,
                 (nnf__sgemm_view){b1 + (w1 - tail), (ptrdiff_t)w1, 1}, beta, c, ldc, post);
    const size_t cols = n - tail;
    if (cols == split) {
        run_direct(kr, KC, m, split, k, alpha, a, first, beta, c, ldc, post);
    } else {
        /* As run_direct: one tile per band (cols <= direct_nr), as many rows as it takes
         * for this width. */
        const size_t MR = direct_rows(kr, cols);
        for (size_t ir = 0, mr; ir < m; ir += mr) {
            float *tile = c + ir * ldc;
            mr = nnf__sgemm_band(m, MR, ir);
            nnf__sgemm_post_fill(post, 0, tile, ldc, mr, cols);
            kr->direct_ukernel_split(KC, k, nnf__sgemm_at(a, ir, 0), a.rs, a.cs, first.p,
                                     first.rs, second.p, second.rs, tile, ldc, mr, cols,
                                     alpha, beta);
            nnf__sgemm_post_relu(post, tile, ldc, mr, cols);
        }
    }
    if (tail > 0)
        nnf__sgemm_post_relu(post, c + cols, ldc, m, tail);
}
