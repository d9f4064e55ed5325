/* Many cores on paper: the sgemm partitioning for 16, 32 and 64 virtual threads, with
 * no real threads. A discrete-event simulation runs each job of a product: whenever a
 * virtual thread is free it claims through the pool's own scan (nnf__claim_ready, with
 * the job's real ready() and preference for the packed path; in index order for the rectangles of the
 * unpacked paths), and an item takes as long as its flops, a float packed counting as
 * PACK_COST flops. It shows, for every kernel table compiled in:
 * - every thread's share of the work is fair: the product finishes within a few percent
 *   of (all work) / threads, and no thread does much less than its share;
 * - packing does not grow with the thread count: B and A are packed exactly once per
 *   job, whatever the number of threads.
 *
 * Expected limits (what the figures printed by this test show):
 * - Each packed job ends with its last items: the makespan exceeds the ideal by about
 *   one compute item (MR x b_block_cols x KC x 2 = 2.4 MFLOP on AVX-512), 1-3% of a 64-thread
 *   share of 1024^3 and the big MLP's products; less work per thread (512^3 on 64
 *   threads) makes that tail weigh more.
 * - A product of F flops gets at most F / 2 MFLOP threads: the 4096 x 4096 GEMV (33.5
 *   MFLOP) runs on 16, whatever is available.
 * - With m <= 64 the rows give too few items for 64 threads, so a level's B blocks are
 *   cut into column chunks (down to one NR panel each), and the unpacked path cuts
 *   columns: fair, but each item is smaller.
 * - Item claiming is one atomic on a shared counter (the rectangles) or a short scan
 *   of a shared state array (packed), which 64 threads contend for once per 10-20 us
 *   item; not modelled here.
 */
#include "nnf_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dispatch/kernel_table.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_view.h"
#include "src/runtime/pool.h"

/* Packing reads a source block from the L3 at memcpy speed (~10 GB/s, 2.5 G floats/s)
 * while the kernel does ~200 GFLOPS: a float packed costs the time of ~80 flops. */
#define PACK_COST 80.0

enum { KC = NNF__SGEMM_KC };

typedef double (*cost_fn)(const void *ctx, int64_t item);

typedef struct {
    double makespan, total, min_busy;
} sim;

/* Runs one job of `items` on v virtual threads (ready == NULL: independent items), each
 * claiming with the job's preference (prefer, may be NULL) as the pool's participant t;
 * by (unless NULL) gets the thread that ran each item. */
static sim simulate(int v, int64_t items, nnf__ready_fn ready, nnf__prefer_fn prefer,
                    const void *plan, cost_fn cost, const void *ctx, int *by)
{
    nnf__item_state *st = calloc((size_t)items, sizeof *st);
    double *free_at = calloc((size_t)v, sizeof *free_at);
    double *busy = calloc((size_t)v, sizeof *busy);
    double *end = calloc((size_t)v, sizeof *end);
    int64_t *running = malloc((size_t)v * sizeof *running);
    for (int t = 0; t < v; t++)
        running[t] = -1;
    atomic_llong lo = 0;
    int active = v;
    sim r = {0.0, 0.0, 0.0};
    while (active > 0) {
        int th = -1;
        for (int t = 0; t < v; t++)
            if (free_at[t] >= 0.0 && (th < 0 || free_at[t] < free_at[th]))
                th = t;
        double now = free_at[th];
        for (int t = 0; t < v; t++)
            if (running[t] >= 0 && end[t] <= now) {
                atomic_store(&st[running[t]], NNF__ITEM_DONE);
                running[t] = -1;
            }
        int64_t i;
        if (ready != NULL) {
            nnf__claimer who = {prefer, th, v};
            i = nnf__claim_ready(st, items, &lo, ready, plan, &who);
        } else {
            i = atomic_load(&lo) < items ? atomic_fetch_add(&lo, 1) : NNF__CLAIM_NONE;
        }
        if (i >= 0) {
            if (by != NULL)
                by[i] = th;
            double c = cost(ctx, i);
            running[th] = i;
            end[th] = free_at[th] = now + c;
            busy[th] += c;
            r.total += c;
        } else if (i == NNF__CLAIM_BLOCKED) {
            double next = INFINITY;
            for (int t = 0; t < v; t++)
                if (running[t] >= 0 && end[t] > now && end[t] < next)
                    next = end[t];
            assert_true(isfinite(next));   /* blocked only on running items */
            free_at[th] = next;
        } else {
            free_at[th] = -1.0;
            active--;
        }
    }
    for (int t = 0; t < v; t++) {
        r.makespan = end[t] > r.makespan ? end[t] : r.makespan;
        r.min_busy = t == 0 || busy[t] < r.min_busy ? busy[t] : r.min_busy;
    }
    free(st);
    free(free_at);
    free(busy);
    free(end);
    free(running);
    return r;
}

/* ---- the packed path ---- */

typedef struct {
    const nnf__sgemm_kernels *kr;
    const nnf__sgemm_plan *p;
    size_t m, n, k, level0;
    int64_t levels;              /* the product's */
    int a_in_place;              /* A stored by rows: the kernels read it unpacked */
    double packed_b, packed_a;   /* floats packed, summed over the items the cost saw */
} packed_ctx;

static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

static double packed_cost(const void *ctx, int64_t i)
{
    packed_ctx *c = (packed_ctx *)ctx;
    const nnf__sgemm_plan *p = c->p;
    const size_t NR = (size_t)c->kr->nr;
    nnf__sgemm_item it = nnf__sgemm_plan_item(p, i);
    size_t kc = nnf__sgemm_level_depth(c->k, c->levels, (int64_t)(c->level0 + (size_t)it.pc));
    size_t block, block_end;
    nnf__sgemm_plan_block(p, c->n, NR, it.jc, &block, &block_end);
    if (it.kind == NNF__SGEMM_ITEM_PACK_B) {
        size_t j0 = block + (size_t)it.g * (size_t)p->panels_per_pack * NR;
        double w = j0 < block_end ? (double)min_size((size_t)p->panels_per_pack * NR,
                                                     block_end - j0) : 0.0;
        c->packed_b += w * (double)kc;
        return w * (double)kc * PACK_COST;
    }
    const size_t QR = (size_t)p->q_rows;
    size_t i0 = (size_t)(it.ic * p->a_rows) + (size_t)it.q * QR;
    size_t rows_end = min_size(c->m, (size_t)((it.ic + 1) * p->a_rows));
    if (i0 >= rows_end)
        return 0.0;
    double mr = (double)min_size(QR, rows_end - i0), cost = 0.0;
    if (!c->a_in_place && it.jc == 0 && it.ch == 0 && it.q % p->a_panels == 0) {
        double rows = (double)min_size((size_t)p->a_panels * QR, rows_end - i0);
        c->packed_a += rows * (double)kc;
        cost += rows * (double)kc * PACK_COST;
    }
    size_t j0 = block + (size_t)(it.ch * p->cw), j1 = min_size(block_end, j0 + (size_t)p->cw);
    return cost + (j0 < j1 ? 2.0 * mr * (double)(j1 - j0) * (double)kc : 0.0);
}

typedef struct {
    double makespan, ideal, min_share;   /* min_share: least busy thread / ideal */
    double packed_b, packed_a;
    int threads;
} outcome;

/* The whole product on the packed path: its jobs one after another. */
static outcome run_packed(const nnf__sgemm_kernels *kr, nnf__sgemm_view a, size_t m, size_t n,
                          size_t k, int v)
{
    outcome o = {0.0, 0.0, INFINITY, 0.0, 0.0, v};
    nnf__sgemm_jobs jobs = nnf__sgemm_jobs_make(kr, m, n, k, v, a.cs == 1, 0);
    const size_t levels = (size_t)nnf__sgemm_levels(k, v);
    for (size_t r0 = 0; r0 < m; r0 += jobs.rows)
        for (size_t c0 = 0; c0 < n; c0 += jobs.cols)
            for (size_t l0 = 0; l0 < levels; l0 += (size_t)jobs.levels) {
                nnf__sgemm_plan p;
                size_t lv = min_size((size_t)jobs.levels, levels - l0);
                packed_ctx c = {kr, &p, min_size(jobs.rows, m - r0),
                                min_size(jobs.cols, n - c0), k, l0, (int64_t)levels,
                                a.cs == 1, 0.0, 0.0};
                nnf__sgemm_plan_make(&p, kr, c.m, c.n, (int64_t)lv, v, 0, 1, a);
                sim s = simulate(v, p.items, nnf__sgemm_plan_ready, nnf__sgemm_plan_prefer, &p,
                                 packed_cost, &c, NULL);
                o.makespan += s.makespan;
                o.ideal += s.total / v;
                double share = s.min_busy / (s.total / v);
                o.min_share = share < o.min_share ? share : o.min_share;
                o.packed_b += c.packed_b;
                o.packed_a += c.packed_a;
            }
    return o;
}

/* ---- the unpacked paths: rectangles ---- */

typedef struct {
    nnf__sgemm_rects r;
    size_t k;
} rects_ctx;

static double rect_cost(const void *ctx, int64_t i)
{
    const rects_ctx *c = ctx;
    size_t m0, m1, n0, n1;
    nnf__sgemm_rect(&c->r, i, &m0, &m1, &n0, &n1);
    return 2.0 * (double)(m1 - m0) * (double)(n1 - n0) * (double)c->k;
}

static outcome run_rects(const nnf__sgemm_kernels *kr, nnf__sgemm_view b, size_t m, size_t n,
                         size_t k, int v)
{
    rects_ctx c = {nnf__sgemm_rects_make(m, n, k, (size_t)kr->direct_mr, (size_t)kr->direct_nr,
                                         v, 0, nnf__sgemm_b_by_columns(kr, m, n, k, &b)),
                   k};
    sim s = simulate(v, c.r.down * c.r.across, NULL, NULL, NULL, rect_cost, &c, NULL);
    outcome o = {s.makespan, s.total / v, s.min_busy / (s.total / v), 0.0, 0.0, v};
    return o;
}

/* ---- the cases ---- */

typedef struct {
    const char *name;
    size_t m, n, k;
    nnf_trans ta, tb;
    double efficiency, share;   /* asserted lower bounds: ideal / makespan, min_share */
} shape;

static const shape shapes[] = {
    {"1024^3", 1024, 1024, 1024, NNF_NO_TRANS, NNF_NO_TRANS, 0.95, 0.9},
    {"MLP forward 4096x784 @ (512x784)^T", 4096, 512, 784, NNF_NO_TRANS, NNF_TRANS, 0.95, 0.9},
    {"MLP weight gradient (4096x512)^T @ 4096x784", 512, 784, 4096, NNF_TRANS, NNF_NO_TRANS,
     0.95, 0.9},
    {"m = 64, n = 4096, k = 512", 64, 4096, 512, NNF_NO_TRANS, NNF_NO_TRANS, 0.9, 0.8},
    {"m = 16, n = 8192, k = 1024", 16, 8192, 1024, NNF_NO_TRANS, NNF_NO_TRANS, 0.9, 0.8},
    {"batch of 64, 784 -> 512, W stored in x out", 64, 512, 784, NNF_NO_TRANS, NNF_NO_TRANS,
     0.85, 0.8},
    {"batch of 64, 784 -> 512, W stored out x in", 64, 512, 784, NNF_NO_TRANS, NNF_TRANS,
     0.85, 0.8},
    {"GEMV 4096x4096 @ 4096", 4096, 1, 4096, NNF_NO_TRANS, NNF_NO_TRANS, 0.9, 0.8},
    {"GEMV 4096 @ 4096x4096", 1, 4096, 4096, NNF_NO_TRANS, NNF_NO_TRANS, 0.9, 0.8},
};

static void check_table(const char *isa, const nnf__sgemm_kernels *kr)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        nnf__sgemm_view a = {NULL, sh->ta == NNF_NO_TRANS ? (ptrdiff_t)sh->k : 1,
                             sh->ta == NNF_NO_TRANS ? 1 : (ptrdiff_t)sh->m};
        nnf__sgemm_view b = {NULL, sh->tb == NNF_NO_TRANS ? (ptrdiff_t)sh->n : 1,
                             sh->tb == NNF_NO_TRANS ? 1 : (ptrdiff_t)sh->k};
        nnf__sgemm_path path = nnf__sgemm_choose_path(kr, sh->m, sh->n, sh->k, &b);
        int packs = nnf__sgemm_packs(path, sh->m, sh->n, a, b);
        double flops = 2.0 * (double)sh->m * (double)sh->n * (double)sh->k;
        outcome first = {0};
        for (int v = 16; v <= 64; v *= 2) {
            int threads = nnf__sgemm_threads(flops, v);
            outcome o = packs ? run_packed(kr, a, sh->m, sh->n, sh->k, threads)
                              : run_rects(kr, b, sh->m, sh->n, sh->k, threads);
            double eff = o.ideal / o.makespan;
            print_message("%-7s %-44s %2d virtual threads (%2d used), %s: %.3f of the ideal "
                          "time, least busy thread %.3f of a share\n",
                          isa, sh->name, v, threads, packs ? "packed" : "rectangles", eff,
                          o.min_share);
            if (eff < sh->efficiency || o.min_share < sh->share)
                fail_msg("%s on %s with %d threads: %.3f of the ideal, least share %.3f",
                         sh->name, isa, threads, eff, o.min_share);
            if (packs) {
                /* Each operand packed once per job, the same for every thread count. */
                if (v == 16)
                    first = o;
                assert_true(o.packed_b == first.packed_b && o.packed_a == first.packed_a);
                nnf__sgemm_jobs j = nnf__sgemm_jobs_make(kr, sh->m, sh->n, sh->k, threads, a.cs == 1, 0);
                double row_groups = ceil((double)sh->m / (double)j.rows);
                double col_groups = ceil((double)sh->n / (double)j.cols);
                assert_true(o.packed_b == (double)sh->k * (double)sh->n * row_groups);
                double a_packs = a.cs == 1 ? 0.0 : col_groups;   /* in place: none */
                assert_true(o.packed_a == (double)sh->m * (double)sh->k * a_packs);
            }
        }
    }
}

static void test_many_virtual_threads(void **state)
{
    (void)state;
    check_table("scalar", &nnf__kernels_scalar.gemm);
#if defined(__x86_64__)
    check_table("avx2", &nnf__kernels_avx2.gemm);
    check_table("avx512", &nnf__kernels_avx512.gemm);
#endif
#if defined(__aarch64__)
    check_table("neon", &nnf__kernels_neon.gemm);
#endif
}

/* Every kernel table this machine can hold, by ISA name (for the messages). */
static const struct {
    const char *isa;
    const nnf__sgemm_kernels *kr;
} tables[] = {
    {"scalar", &nnf__kernels_scalar.gemm},
#if defined(__x86_64__)
    {"avx2", &nnf__kernels_avx2.gemm},
    {"avx512", &nnf__kernels_avx512.gemm},
#endif
#if defined(__aarch64__)
    {"neon", &nnf__kernels_neon.gemm},
#endif
};

/* A job of few rows of A read in place on 2-4 threads gives each participant whole B
 * blocks, their packing included (own_blocks), so no packed line is read by one core and
 * rewritten by another: with threads equally fast, every block is packed by its owner
 * and a thread runs another's items only at the end, B is packed once, and the threads
 * stay busy. Not with a transposed A (packed by
 * one item that the others' would wait for), more rows or more threads. */
static void test_own_blocks(void **state)
{
    (void)state;
    const size_t m = 64, n = 512, k = 784;
    const nnf__sgemm_view a = {NULL, (ptrdiff_t)k, 1}, at = {NULL, 1, (ptrdiff_t)m};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const nnf__sgemm_kernels *kr = tables[t].kr;
        const char *isa = tables[t].isa;
        for (int v = 2; v <= 4; v++) {
            const int64_t levels = nnf__sgemm_levels(k, v);
            nnf__sgemm_plan p;
            nnf__sgemm_plan_make(&p, kr, m, n, levels, v, 0, 1, a);
            assert_true(p.own_blocks && p.njc >= v);
            packed_ctx c = {kr, &p, m, n, k, 0, levels, 1, 0.0, 0.0};
            int *by = malloc((size_t)p.items * sizeof *by);
            assert_non_null(by);
            sim s = simulate(v, p.items, nnf__sgemm_plan_ready, nnf__sgemm_plan_prefer, &p,
                             packed_cost, &c, by);
            /* Every B block packed by its owner; at most one compute item per thread
             * taken from another's block, at the end, by a thread whose blocks were
             * narrower (11 panels of 48 as 2 + 3 + 3 + 3). */
            int stolen = 0;
            for (int64_t i = 0; i < p.items; i++) {
                nnf__sgemm_item it = nnf__sgemm_plan_item(&p, i);
                int owner = (int)(it.jc * v / p.njc);
                if (by[i] != owner && it.kind == NNF__SGEMM_ITEM_PACK_B)
                    fail_msg("%s, %d threads: B block %lld (level %lld) packed by %d, "
                             "not its owner %d", isa, v, (long long)it.jc,
                             (long long)it.pc, by[i], owner);
                stolen += by[i] != owner;
            }
            if (stolen >= v)
                fail_msg("%s, %d threads: %d items ran off their owner", isa, v, stolen);
            assert_true(c.packed_b == (double)k * (double)n);
            double eff = s.total / v / s.makespan;
            print_message("%-6s %d threads: %.3f of the ideal time\n", isa, v, eff);
            assert_true(eff > 0.75);
            free(by);
            nnf__sgemm_plan_make(&p, kr, m, n, levels, v, 0, 1, at);
            assert_false(p.own_blocks);
            nnf__sgemm_plan_make(&p, kr, 4 * m, n, levels, v, 0, 1, a);
            assert_false(p.own_blocks);
        }
        nnf__sgemm_plan p;
        nnf__sgemm_plan_make(&p, kr, m, n, nnf__sgemm_levels(k, 8), 8, 0, 1, a);
        assert_false(p.own_blocks);
    }
}

/* A large B against few rows, taken by column blocks (nnf__sgemm_b_by_columns: in place
 * as stored, packed a panel at a time transposed), on 2-4 threads: C is cut by columns,
 * and by rows only as far as every thread needs a rectangle, so each column of B is
 * read or packed by as few rectangles as the threads allow; and the threads stay busy.
 * Not from 257 rows on, nor where A is larger than 64K floats. */
static void test_columns_first(void **state)
{
    (void)state;
    const size_t m = 64, n = 512, k = 784;
    /* B stored k x n with rows 520 floats apart (every ISA's blocks spread over the L1d),
     * and stored n x k (x @ W^T) */
    const nnf__sgemm_view bs[] = {{NULL, 520, 1}, {NULL, 1, (ptrdiff_t)k}};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const nnf__sgemm_kernels *kr = tables[t].kr;
        const char *isa = tables[t].isa;
        for (size_t bi = 0; bi < 2; bi++) {
            const char *b_name = bi ? "B^T" : "B";
            if (!nnf__sgemm_b_by_columns(kr, m, n, k, &bs[bi]) ||
                nnf__sgemm_b_by_columns(kr, 257, n, 200, &bs[bi]) ||
                nnf__sgemm_b_by_columns(kr, 84, n, k, &bs[bi]))   /* 84 rows: A past 64K */
                fail_msg("%s, %s: not taken by columns at 64 rows, or taken at 257 or with "
                         "A past 64K floats", isa, b_name);
            for (int v = 2; v <= 4; v++) {
                rects_ctx c = {nnf__sgemm_rects_make(m, n, k, (size_t)kr->direct_mr,
                                                     (size_t)kr->direct_nr, v, 0, 1),
                               k};
                const int64_t items = c.r.down * c.r.across;
                /* each column of C (and of B) in `down` rectangles: one fewer row cut
                 * would leave a thread without one */
                if (items < v || (c.r.down - 1) * c.r.across >= v)
                    fail_msg("%s, %s, %d threads: %lld x %lld rectangles", isa, b_name, v,
                             (long long)c.r.down, (long long)c.r.across);
                sim s = simulate(v, items, NULL, NULL, NULL, rect_cost, &c, NULL);
                double eff = s.total / v / s.makespan;
                print_message("%-6s %s, %d threads: %lld x %lld rectangles, %.3f of the "
                              "ideal time\n", isa, b_name, v, (long long)c.r.down,
                              (long long)c.r.across, eff);
                if (eff <= 0.85)
                    fail_msg("%s, %s, %d threads: %.3f of the ideal time", isa, b_name, v,
                             eff);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_virtual_threads),
        cmocka_unit_test(test_own_blocks),
        cmocka_unit_test(test_columns_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
