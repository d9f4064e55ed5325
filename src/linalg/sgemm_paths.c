/* The loops around the sgemm kernels for one thread's share of C: the packed BLIS
 * path, the direct (unpacked) path for small problems, and GEMV.
 *
 * Every path hands each element of C to exactly one kernel call per KC block, in
 * k order, with beta for the first block and 1 afterwards, so all of them compute
 * the numerics contract of kernels/sgemm.h and agree bit for bit.
 */
#include "src/linalg/sgemm_internal.h"

enum { KC = NNF__SGEMM_KC };

static nnf__sgemm_path forced_path = NNF__SGEMM_PATH_AUTO;

void nnf__sgemm_force_path(nnf__sgemm_path path)
{
    forced_path = path;
}

static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

static size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

nnf__sgemm_path nnf__sgemm_choose_path(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                       size_t k)
{
    if (forced_path != NNF__SGEMM_PATH_AUTO)
        return forced_path;
    /* Packing A pays off through reuse across the tiles of a row (n / nr of them) and
     * packing B through reuse across row panels (m / mr). Below 5 row panels or 3
     * tiles per row, or while B fits in 256 KiB (k * n <= 64K floats, a quarter of the
     * L2, e.g. 256^3 and all of the chapter's products), reading in place is cheaper. */
    if (m <= 4 * (size_t)kr->mr || n <= 2 * (size_t)kr->nr)
        return NNF__SGEMM_PATH_DIRECT;
    if (k * n <= 64 * 1024)
        return NNF__SGEMM_PATH_DIRECT;
    return NNF__SGEMM_PATH_PACKED;
}

/* Packs the w x kc block whose element (j, p) is src[j*s_w + p*s_k] into panels of W. */
static void pack(const nnf__sgemm_kernels *kr, size_t kc, size_t w, size_t W,
                 const float *src, ptrdiff_t s_w, ptrdiff_t s_k, float *out)
{
    if (s_w == 1)
        kr->pack_copy(kc, w, W, src, (size_t)s_k, out);
    else
        kr->pack_transpose(kc, w, W, src, (size_t)s_w, out);
}

static const float *at(nnf__sgemm_view v, size_t i, size_t j)
{
    return v.p + (ptrdiff_t)i * v.rs + (ptrdiff_t)j * v.cs;
}

static int is_gemv(size_t m, size_t n, nnf__sgemm_view a, nnf__sgemm_view b)
{
    return (n == 1 && a.cs == 1) || (m == 1 && b.rs == 1);
}

/* GEMV shapes whose operand rows are contiguous along k: one dots call per KC block. */
static void run_gemv(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                     float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta,
                     float *c, size_t ldc)
{
    for (size_t pc = 0; pc < k; pc += KC) {
        size_t kc = min_size(KC, k - pc);
        float beta_pc = pc == 0 ? beta : 1.0f;
        if (n == 1 && a.cs == 1)
            kr->dots(m, kc, at(a, 0, pc), (size_t)a.rs, at(b, pc, 0), b.rs, c,
                     (ptrdiff_t)ldc, alpha, beta_pc);
        else
            kr->dots(n, kc, at(b, pc, 0), (size_t)b.cs, at(a, 0, pc), a.cs, c, 1, alpha,
                     beta_pc);
    }
}

/* B's rows contiguous: both operands read in place, tile by tile, each tile over the
 * whole k in one call (the kernel cuts it into KC blocks). */
static void run_direct(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                       float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta,
                       float *c, size_t ldc)
{
    const size_t MR = (size_t)kr->direct_mr, NR = (size_t)kr->direct_nr;
    for (size_t ir = 0; ir < m; ir += MR) {
        size_t mr = min_size(MR, m - ir);
        for (size_t jr = 0; jr < n; jr += NR) {
            kr->ukernel(k, at(a, ir, 0), a.rs, a.cs, at(b, 0, jr), b.rs, c + ir * ldc + jr,
                        ldc, mr, min_size(NR, n - jr), alpha, beta);
        }
    }
}

/* B transposed (its columns contiguous): A in place, B packed one kc x nr panel at a
 * time, each panel used by every row panel before the next is packed. The panel is
 * exactly as wide as the tile (rs_b = nr, not NR): 5x784x10 then packs 10 floats per
 * k step, not a 64-float row with 54 unused. It lives on the stack (KC x
 * NNF__SGEMM_STACK_NR floats, 48 KiB), so small products never allocate. Shallow
 * products get panels as wide as the register block (x @ w^T with k = 100 runs one
 * 50-wide tile per row band, not 32 + 18); deeper ones narrower, in multiples of 16
 * columns. */
static void run_direct_packed_b(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                size_t k, float alpha, nnf__sgemm_view a,
                                nnf__sgemm_view b, float beta, float *c, size_t ldc)
{
    enum { BUF = KC * NNF__SGEMM_STACK_NR };
    _Alignas(64) float bbuf[BUF];
    const size_t MR = (size_t)kr->direct_mr;
    /* A cut panel keeps whole 64-byte lines of 16 floats (whole vectors on any ISA). */
    enum { LINE = 16 };
    size_t NR = min_size((size_t)kr->direct_nr, BUF / min_size(KC, k));
    if (NR < (size_t)kr->direct_nr && NR > LINE)
        NR -= NR % LINE;
    for (size_t jr = 0; jr < n; jr += NR) {
        size_t nr = min_size(NR, n - jr);
        for (size_t pc = 0; pc < k; pc += KC) {
            size_t kc = min_size(KC, k - pc);
            pack(kr, kc, nr, nr, at(b, pc, jr), b.cs, b.rs, bbuf);
            for (size_t ir = 0; ir < m; ir += MR)
                kr->ukernel(kc, at(a, ir, pc), a.rs, a.cs, bbuf, (ptrdiff_t)nr,
                            c + ir * ldc + jr, ldc, min_size(MR, m - ir), nr, alpha,
                            pc == 0 ? beta : 1.0f);
        }
    }
}

/* The first of `parts` equal shares of `count` panels of `width`, for part `idx`. */
static size_t share_start(size_t count, int parts, int idx, size_t width)
{
    return count * (size_t)idx / (size_t)parts * width;
}

/* Packs this thread's share of a w-wide block's panels of W (team == 1: all of them). */
static void pack_share(const nnf__sgemm_kernels *kr, size_t kc, size_t w, size_t W,
                       const float *src, ptrdiff_t s_w, ptrdiff_t s_k, float *out, int t,
                       int team)
{
    size_t panels = (w + W - 1) / W;
    size_t j0 = share_start(panels, team, t, W), j1 = share_start(panels, team, t + 1, W);
    j1 = min_size(j1, w);
    if (j0 < j1)
        pack(kr, kc, j1 - j0, W, src + (ptrdiff_t)j0 * s_w, s_w, s_k, out + j0 * kc);
}

/* Row panel q of the packed blocks (mc x kc of A, kc x nc of B) against every tile of
 * the B block; cb is the blocks' corner of C. */
static void row_panel(const nnf__sgemm_kernels *kr, size_t q, size_t mc, size_t kc,
                      const float *abuf, size_t nc, const float *bbuf, float *cb, size_t ldc,
                      float alpha, float beta)
{
    const size_t MR = (size_t)kr->mr, NR = (size_t)kr->nr;
    const size_t mr = min_size(MR, mc - q * MR);
    const float *ap = abuf + q * MR * kc;
    float *cr = cb + q * MR * ldc;
    for (size_t jr = 0; jr < nc; jr += NR)
        kr->ukernel(kc, ap, 1, (ptrdiff_t)MR, bbuf + jr * kc, (ptrdiff_t)NR, cr + jr, ldc, mr,
                    min_size(NR, nc - jr), alpha, beta);
}

/* The BLIS loops, ordered for a micro-kernel that broadcasts A and loads B vectors:
 * a KC x NC block of B is packed into the L2 and swept by every MR x KC micro-panel
 * of A, which stays in the L1 while the NC / NR tiles of its row band pass by.
 * The MC x KC block of A is packed once, with the first NC block, and read from L3
 * for the later ones.
 *
 * A team of threads (every member calls this with its index t) shares the packed
 * blocks: each packs its share of the panels, and after a barrier the row panels are
 * handed out one at a time to whoever is free. So B is packed once however many
 * threads there are, and a thread slowed down by a busy core (a shared machine) does
 * fewer row panels instead of making the others wait. Which thread computes a tile
 * does not change its bits: each tile still gets one kernel call per KC block, in k
 * order, and the barriers keep the blocks in order. */
static void run_packed(const nnf__sgemm_kernels *kr, size_t m, size_t n, size_t k,
                       float alpha, nnf__sgemm_view a, nnf__sgemm_view b, float beta,
                       float *c, size_t ldc, float *abuf, float *bbuf, int t, int team)
{
    const size_t MR = (size_t)kr->mr, NR = (size_t)kr->nr, NC = (size_t)kr->nc;
    /* Equal MC blocks (1024 rows as 2 x 512, not 960 + 64): each block re-packs all
     * of B, which a thin last block would amortise over few rows. */
    const size_t blocks = (m + (size_t)kr->mc - 1) / (size_t)kr->mc;
    const size_t MC = round_up((m + blocks - 1) / blocks, MR);
    for (size_t ic = 0; ic < m; ic += MC) {
        size_t mc = min_size(MC, m - ic);
        const long panels = (long)((mc + MR - 1) / MR);
        for (size_t pc = 0; pc < k; pc += KC) {
            size_t kc = min_size(KC, k - pc);
            float beta_pc = pc == 0 ? beta : 1.0f;
            /* The previous block's tiles are done (the loop's closing barrier). */
            pack_share(kr, kc, mc, MR, at(a, ic, pc), a.rs, a.cs, abuf, t, team);
            for (size_t jc = 0; jc < n; jc += NC) {
                size_t nc = min_size(NC, n - jc);
                pack_share(kr, kc, nc, NR, at(b, pc, jc), b.cs, b.rs, bbuf, t, team);
                float *cb = c + ic * ldc + jc;
                /* Alone, no worksharing construct: called inside the caller's own parallel
                 * region, an orphaned `omp for` would bind to that region's team and
                 * hand this product's panels to threads busy with other products. */
                if (team == 1) {
                    for (long q = 0; q < panels; q++)
                        row_panel(kr, (size_t)q, mc, kc, abuf, nc, bbuf, cb, ldc, alpha,
                                  beta_pc);
                    continue;
                }
#pragma omp barrier
#pragma omp for schedule(dynamic)
                for (long q = 0; q < panels; q++)
                    row_panel(kr, (size_t)q, mc, kc, abuf, nc, bbuf, cb, ldc, alpha, beta_pc);
            }
        }
    }
}

int nnf__sgemm_packs(nnf__sgemm_path path, size_t m, size_t n, nnf__sgemm_view a,
                     nnf__sgemm_view b)
{
    return path == NNF__SGEMM_PATH_PACKED && !is_gemv(m, n, a, b);
}

size_t nnf__sgemm_scratch_floats(const nnf__sgemm_kernels *kr, nnf__sgemm_path path,
                                 size_t m, size_t n, size_t k, nnf__sgemm_view a,
                                 nnf__sgemm_view b)
{
    if (!nnf__sgemm_packs(path, m, n, a, b))
        return 0;
    size_t kc = min_size(KC, k);
    return round_up(min_size((size_t)kr->mc, m), (size_t)kr->mr) * kc +
           kc * round_up(min_size((size_t)kr->nc, n), (size_t)kr->nr);
}

void nnf__sgemm_run(const nnf__sgemm_kernels *kr, nnf__sgemm_path path, size_t m,
                    size_t n, size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b,
                    float beta, float *c, size_t ldc, float *scratch, int t, int team)
{
    if (is_gemv(m, n, a, b))
        run_gemv(kr, m, n, k, alpha, a, b, beta, c, ldc);
    else if (path == NNF__SGEMM_PATH_PACKED) {
        size_t kc = min_size(KC, k);
        float *abuf = scratch;
        float *bbuf = abuf + round_up(min_size((size_t)kr->mc, m), (size_t)kr->mr) * kc;
        run_packed(kr, m, n, k, alpha, a, b, beta, c, ldc, abuf, bbuf, t, team);
    } else if (b.cs == 1) {
        run_direct(kr, m, n, k, alpha, a, b, beta, c, ldc);
    } else {
        run_direct_packed_b(kr, m, n, k, alpha, a, b, beta, c, ldc);
    }
}
