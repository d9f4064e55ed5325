/* The packed (BLIS) path as a job of items that whichever thread is free claims: B's
 * packing, A's packing and the micro-kernel sweeps alike (the item list is described
 * in sgemm_packed.h).
 *
 * The team version before issue 12 packed each shared block between two barriers and
 * handed out row panels after them: one descheduled thread stopped the others at every
 * block (the pool.c comment has the figures). Here no thread waits on a share of work
 * that another has not started: an item is claimed only once everything it reads is
 * done, a thread that finds its next item blocked takes a later one, and waiting
 * happens only when every unclaimed item depends on items that are running.
 *
 * A stored by rows is not packed at all: the kernels read its rows in place (run_item).
 *
 * The order of items is the BLIS loop order, which a single thread follows exactly
 * (it runs the items in index order, where every dependency comes first): a B block is
 * packed into the L2 and swept by every row panel of the A block before the next one.
 * Several threads each sweep the block from their own L2, as before, each preferring
 * its own share of the row panels (the same at every block and level), so that the A
 * panels and C tiles it reads are the ones it wrote (nnf__sgemm_plan_prefer). Unlike the old
 * loop, B stays packed for the whole job, so products taller than one A block no
 * longer pack B once per block.
 *
 * Packing reads operands that nothing has touched for a whole level, from memory: on
 * the Zen 5 VM here a line outside the L2 takes 120-400 ns (no L3 to speak of), and a
 * packing walk that waits for each row of its block ran at a third to a fifth of its
 * speed from the L2 (an 8 x 384 A panel 1.3-1.8k TSC ticks against 0.5k, a 48-wide B
 * panel 15-17k against 3k). So while a compute item's kernels run, they ask the
 * caches for what the next packing will read (prefetch_runs): a share of the next A
 * packer's source (A_RUN_BYTES-wide runs of a transposed A; A stored by rows is not
 * packed), and a share of the next B block's source in the last items before it.
 */
#include <stdint.h>

#include "src/core/error.h"
#include "src/linalg/sgemm_packed.h"
#include "src/linalg/sgemm_paths.h"
#include "src/linalg/sgemm_scratch.h"
#include "src/linalg/sgemm_view.h"

enum { KC = NNF__SGEMM_KC };

/* Scratch per job, in floats: (rows + cols) x KC per level, cols x KC where A is read
 * in place. Alone, 1M floats (4 MiB) keeps one level of a 1024^3 product (0.8M), as
 * the old single-block buffers did (3.6 MiB). A team gets 4M (16 MiB): 1024^3 and the
 * big MLP's products are one or two jobs, since every job ends by waiting for the
 * items still running. */
#define SCRATCH_ALONE ((size_t)1 << 20)
#define SCRATCH_TEAM ((size_t)1 << 22)

/* A level's B block is packed by at most this many items (a few NR panels each,
 * 48-72 KiB of packed floats: 3-7 us), so threads share the packing without each
 * item costing more to claim than to do. */
#define PACK_ITEMS_PER_BLOCK 8

/* The next B block's source is asked for over this many compute items before it is
 * packed, a few lines per kernel call: 16 to 32 gave the B packing its lowest times
 * at 1024^3 and on the big MLP's products (4 left it at 1.3x; the whole group of 64-128
 * items, 1.2x, its first lines gone from the L2 again). */
#define PREFETCH_ITEMS 16

/* With threads, a job of at most this many rows of A read in place gives each thread
 * whole B blocks instead of a share of every block's row panels (own_blocks): the B it
 * packs is the B it reads, so no packed line is written by one core after the other
 * read it. Shared, the rewrites of B's lines cost the two cores here (no shared L3)
 * more than they split: x @ W^T at 64 x 784 -> 512, 2 threads over 1 in the same
 * process, went from 0.94 to 1.46x, 128 rows 1.24 -> 1.46x, 64 x 1024 @ 1024 x 1024
 * 1.08 -> 1.50x; 256 rows 1.51 against 1.49x (TB) and 1.46 against 1.38 (NN), 512 rows
 * 1.70 against 1.54, where row panels share out more evenly than blocks (medians of
 * 21 paired rounds). Not for many threads, where whole blocks share out unevenly (16
 * simulated threads on 64 x 4096 x 512: 0.89 of the ideal time, test_partition). */
#define OWN_ROWS_MAX 128
#define OWN_THREADS_MAX 4

/* With threads, each level has at least this many compute items per thread (whole row
 * panels first, then narrower column chunks), so no thread is left without work for
 * long when another stalls. */
#define ITEMS_PER_THREAD 4

/* With threads, a compute item sweeps two MR panels when each thread still has at least
 * this many items of every B block. Why: claiming and finishing an item moves cache
 * lines between the cores (the item states the other thread writes, the job's counters):
 * traced at 2 threads, every thread spent 0.42 ms of 6.4 outside items at 1024^3 (0.06
 * at 1 thread) and 0.55 of 10.3 on the big MLP's weight gradient; with half the items,
 * 0.30 and 0.38 (bench_threads under SCHED_FIFO, medians of 11 rounds). Untraced, the
 * big MLP step at 2 threads took 21.77 ms against 22.06 (medians of 4 ABBA runs of 41
 * paired rounds); 1024^3 stayed at 6.3 ms. */
#define PAIRED_MIN_ITEMS 16

/* A packer item reads at least this many bytes of each source row of A when A's rows
 * run along i (A transposed: g^T of a weight gradient), i.e. 4 panels of 8 rows. One
 * panel per item read kc runs of half a line, 2 KiB apart, and its packing was ~9% of
 * the MLP's weight gradient (512x784, k = 4096: 18.3 ms, 16.7 with A's packing left
 * out); 2, 4, 8, 16 and 64 panels an item, with the next packer's source asked for
 * over the items before it, took 0.94-0.98 of that time, 4 the least (paired calls in
 * one process, medians of 41-61). */
#define A_RUN_BYTES 128

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* A last level of at most this many steps joins the level before it: the tile's
 * kernel call then runs both KC blocks back to back (the kernel cuts k at KC, so the
 * sums are the same), where a level of its own was a whole extra pass over C for a
 * few steps: k = 784 (the big MLP's forward) ended on a 16-step level, 512 on 128.
 * Not for many threads: fewer levels leave fewer items to even out the threads' ends
 * (64 simulated threads on 64 x 4096 x 512 fell from 0.9 of the ideal to 0.84). */
#define TAIL_MAX 128
#define TAIL_MAX_THREADS 4

int64_t nnf__sgemm_levels(size_t k, int threads)
{
    int64_t levels = ceil_div((int64_t)k, KC);
    int join = threads <= TAIL_MAX_THREADS && k % KC != 0 && k % KC <= TAIL_MAX;
    return levels > 1 && join ? levels - 1 : levels;
}

size_t nnf__sgemm_level_depth(size_t k, int64_t levels, int64_t level)
{
    return level + 1 == levels ? k - (size_t)level * KC : KC;
}

static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

static size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

void nnf__sgemm_plan_make(nnf__sgemm_plan *p, const nnf__sgemm_kernels *kr, size_t m,
                          size_t n, int64_t levels, int threads, int fine, int pack_b,
                          nnf__sgemm_view a)
{
    const int64_t MR = kr->mr, NR = kr->nr, BCOLS = kr->b_block_cols;
    const int64_t panels_n = ceil_div((int64_t)n, NR);
    p->nic = ceil_div((int64_t)m, kr->a_block_rows);
    /* Equal A blocks (1024 rows as 2 x 512, not 960 + 64). */
    p->a_rows = (int64_t)round_up((size_t)ceil_div((int64_t)m, p->nic), (size_t)MR);
    p->npc = levels;
    p->njc = ceil_div((int64_t)n, BCOLS);
    /* A packed by the first item of each row panel: the items of the other blocks wait
     * for it. A read in place is nobody's to pack. */
    p->a_packed = a.cs != 1;
    p->own_blocks = threads > 1 && threads <= OWN_THREADS_MAX && !fine && !p->a_packed &&
                    (int64_t)m <= OWN_ROWS_MAX && panels_n >= threads;
    if (p->own_blocks) {   /* whole blocks per participant, one item per block and level */
        p->njc = ceil_div(p->njc, threads) * threads;
        p->njc = p->njc < panels_n ? p->njc : panels_n;
    }
    p->q_rows = MR;
    if (p->own_blocks)
        p->q_rows = p->a_rows;
    else if (threads > 1 && !fine && p->a_rows / (2 * MR) >= PAIRED_MIN_ITEMS * threads)
        p->q_rows = 2 * MR;
    p->nq = ceil_div(p->a_rows, p->q_rows);
    /* Equal B blocks too, in whole NR panels (nnf__sgemm_plan_block): a 16-column block
     * packs and sweeps at a third of the speed. */
    p->b_cols = ceil_div(panels_n, p->njc) * NR;
    /* NR panels per B block, at most */
    int64_t panels = ceil_div(p->b_cols, NR);
    p->panels_per_pack = fine ? 1
                         : p->own_blocks ? panels
                                         : ceil_div(panels, PACK_ITEMS_PER_BLOCK);
    p->nbp = pack_b ? ceil_div(panels, p->panels_per_pack) : 0;
    int64_t chunks = 1;
    if (fine)
        chunks = panels;
    else if (threads > 1 && !p->own_blocks && p->njc * p->nq < ITEMS_PER_THREAD * threads)
        chunks = ceil_div(ITEMS_PER_THREAD * threads, p->njc * p->nq);
    chunks = chunks < panels ? chunks : panels;
    int64_t per_chunk = ceil_div(panels, chunks);
    p->nch = ceil_div(panels, per_chunk);
    p->cw = per_chunk * NR;
    p->per = p->nq * p->nch;
    p->per0 = p->nbp + p->per;
    p->items0 = p->npc * p->njc * p->per0;
    p->items = p->items0 + (p->nic - 1) * p->npc * p->njc * p->per;
    /* A packer packs several row panels where A's source rows run along i, so that it
     * reads whole lines; not more than a thread's share of them: every thread's first
     * item of a level then packs, rather than waiting for a packer another thread
     * holds. */
    int64_t most = p->nq / (threads > 1 ? threads : 1);
    int64_t want = a.rs == 1 && a.cs != 1
                       ? ceil_div(A_RUN_BYTES, p->q_rows * (int64_t)sizeof(float))
                       : 1;
    p->a_panels = want < most ? want : most > 1 ? most : 1;
}

void nnf__sgemm_plan_block(const nnf__sgemm_plan *p, size_t n, size_t nr, int64_t jc,
                           size_t *c0, size_t *c1)
{
    /* Why panels: blocks of a fixed width left a sliver at the end whenever n is
     * a power of two, e.g. 2048 as 6 x 336 + 32 (43 panels of 48), where the 32
     * columns were a whole pass over A for 1.5% of the work; as 7 blocks of 6 or 7
     * panels there is none. */
    const size_t panels = (n + nr - 1) / nr, blocks = (size_t)p->njc;
    *c0 = (size_t)jc * panels / blocks * nr;
    *c1 = min_size(n, ((size_t)jc + 1) * panels / blocks * nr);
}

nnf__sgemm_item nnf__sgemm_plan_item(const nnf__sgemm_plan *p, int64_t i)
{
    nnf__sgemm_item it = {NNF__SGEMM_ITEM_COMPUTE, 0, 0, 0, 0, 0, 0};
    int64_t per = p->per0, r = i;
    if (i >= p->items0) {
        int64_t block = p->npc * p->njc * p->per;
        r = i - p->items0;
        it.ic = 1 + r / block;
        r %= block;
        per = p->per;
    }
    int64_t group = r / per, off = r % per;
    it.pc = group / p->njc;
    it.jc = group % p->njc;
    if (it.ic == 0) {
        if (off < p->nbp) {
            it.kind = NNF__SGEMM_ITEM_PACK_B;
            it.g = off;
            return it;
        }
        off -= p->nbp;
    }
    it.q = off / p->nch;
    it.ch = off % p->nch;
    return it;
}

/* The first index of the (ic, pc, jc) group. */
static int64_t group_start(const nnf__sgemm_plan *p, int64_t ic, int64_t pc, int64_t jc)
{
    int64_t g = pc * p->njc + jc;
    return ic == 0 ? g * p->per0 : p->items0 + ((ic - 1) * p->npc * p->njc + g) * p->per;
}

static int64_t compute_index(const nnf__sgemm_plan *p, int64_t ic, int64_t pc, int64_t jc,
                             int64_t q, int64_t ch)
{
    return group_start(p, ic, pc, jc) + (ic == 0 ? p->nbp : 0) + q * p->nch + ch;
}

int64_t nnf__sgemm_plan_ready(const void *plan, const nnf__item_state *states, int64_t i)
{
    const nnf__sgemm_plan *p = plan;
    nnf__sgemm_item it = nnf__sgemm_plan_item(p, i);
    if (it.kind == NNF__SGEMM_ITEM_PACK_B)
        return 0;
    int64_t packs = group_start(p, 0, it.pc, it.jc);
    for (int64_t g = 0; g < p->nbp; g++)
        if (!nnf__item_done(states, packs + g))   /* so is the rest of the group */
            return group_start(p, it.ic, it.pc, it.jc) + (it.ic == 0 ? p->per0 : p->per);
    if (it.pc > 0 &&
        !nnf__item_done(states, compute_index(p, it.ic, it.pc - 1, it.jc, it.q, it.ch)))
        return i + 1;
    int64_t packer = it.q - it.q % p->a_panels;
    if (p->a_packed && (it.jc != 0 || it.ch != 0 || it.q != packer) &&
        !nnf__item_done(states, compute_index(p, it.ic, it.pc, 0, packer, 0)))
        return i + 1;
    return 0;
}

/* The (ic, pc, jc) group of item i, numbered in index order. */
static int64_t group_of(const nnf__sgemm_plan *p, int64_t i)
{
    if (i < p->items0)
        return i / p->per0;
    return p->npc * p->njc + (i - p->items0) / p->per;
}

/* Why: when every thread claimed the lowest ready item, a row panel went to either
 * thread at each B block and level, so half the A panels and C tiles an item read had
 * last been written in the other core's caches. On the 2 vCPUs here (a cache line's
 * round trip between them takes 400-450 ns: they share no L3) that made the median
 * compute item 6-46% slower at 2 threads than at 1 and 2 threads 1.46-1.72x one at
 * 1024^3 and the big MLP's products; with shares, items take what they take alone and
 * 2 threads reach 1.84-2.00x (bench_threads under SCHED_FIFO, interleaved, load average
 * 6-7 from other users; README "Threads"). Pack items are everyone's: each B block is
 * packed once, by whoever is free. */
int64_t nnf__sgemm_plan_prefer(const void *plan, int64_t lo, int64_t i, int participant,
                               int participants)
{
    const nnf__sgemm_plan *p = plan;
    int64_t g = group_of(p, i);
    if (g > group_of(p, lo) + (p->own_blocks ? p->njc : 1))
        return p->items;
    nnf__sgemm_item it = nnf__sgemm_plan_item(p, i);
    if (p->own_blocks) {
        if (it.jc * participants / p->njc == participant)
            return 0;
        return group_start(p, it.ic, it.pc, it.jc) + (it.ic == 0 ? p->per0 : p->per);
    }
    if (it.kind == NNF__SGEMM_ITEM_PACK_B)
        return 0;
    /* Shares of the group's tiles in index order (row panel, then chunk). */
    int64_t tiles = p->nq * p->nch, t = it.q * p->nch + it.ch;
    int64_t first = tiles * participant / participants;
    int64_t end = tiles * (participant + 1) / participants;
    if (t >= first && t < end)
        return 0;
    int64_t compute0 = compute_index(p, it.ic, it.pc, it.jc, 0, 0);
    return t < first ? compute0 + first : compute0 + tiles;
}

nnf__sgemm_jobs nnf__sgemm_jobs_make(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                     size_t k, int threads, int a_in_place, int b_prepacked)
{
    const size_t MR = (size_t)kr->mr, NR = (size_t)kr->nr, BCOLS = (size_t)kr->b_block_cols;
    const size_t cap = threads > 1 ? SCRATCH_TEAM : SCRATCH_ALONE;
    nnf__sgemm_jobs j = {m, n, 1, 0};
    /* Columns first take at most half of a level; equal groups of whole B blocks. A
     * prepacked B takes none. */
    if (!b_prepacked && KC * round_up(n, NR) > cap / 2) {
        size_t most = cap / 2 / KC / BCOLS * BCOLS;
        most = most > BCOLS ? most : BCOLS;
        size_t groups = (n + most - 1) / most;
        j.cols = round_up((n + groups - 1) / groups, BCOLS);
    }
    const size_t b_cols = b_prepacked ? 0 : round_up(j.cols, NR);
    /* Rows only where A is packed: each row group packs all of B again. A read in
     * place once took room here too, and one thread packed B twice at 2048^3 (3870
     * packing calls, now 1935), twice for the big MLP's x @ W1^T and three times for
     * its g @ W1. Zen 5, one thread, alternating processes: that step 39.3 -> 39.1 ms
     * (faster in 6 rounds of 6); 2048^3 within the noise (0.995, 15 rounds): its
     * packing samples fell by a sixth, not by half. */
    size_t room = cap / KC - b_cols;
    if (!a_in_place && round_up(m, MR) > room) {
        size_t most = room / MR * MR;
        most = most > MR ? most : MR;
        size_t groups = (m + most - 1) / most;
        j.rows = round_up((m + groups - 1) / groups, MR);
    }
    const size_t a_rows = a_in_place ? 0 : round_up(j.rows, MR);
    size_t level = KC * (a_rows + b_cols);
    int64_t total = nnf__sgemm_levels(k, threads);
    int64_t most = level > 0 ? (int64_t)(cap / level) : total;
    most = most < 1 ? 1 : most;
    j.levels = ceil_div(total, ceil_div(total, most));
    /* Room for a last level deeper than KC (TAIL_MAX) in whichever job holds it. */
    size_t deepest = (size_t)j.levels * KC + TAIL_MAX;
    j.scratch_floats = deepest * (a_rows + b_cols);
    return j;
}

/* Part of an operand as a packing walk reads it: `runs` runs of `len` contiguous floats,
 * `stride` apart. */
typedef struct {
    const float *p;
    size_t len, runs;
    ptrdiff_t stride;
} source_runs;

/* The h x w block of v at (i, j): runs along its rows if they are contiguous, else
 * along its columns. */
static source_runs runs_of(nnf__sgemm_view v, size_t i, size_t j, size_t h, size_t w)
{
    const float *p = nnf__sgemm_at(v, i, j);
    return v.cs == 1 ? (source_runs){p, w, h, v.rs} : (source_runs){p, h, w, v.cs};
}

/* Asks the caches (all levels: on the Zen 5 a prefetch for the L2 alone was mostly
 * dropped) for the lines of runs [r0, r1). The empty asm keeps the loop: a prefetch is
 * no side effect in C, and GCC 12 deleted the loop around it without one. */
static void prefetch_runs(const source_runs *r, size_t r0, size_t r1)
{
    for (size_t q = r0; q < r1; q++) {
        const char *s = (const char *)(r->p + (ptrdiff_t)q * r->stride);
        const char *last = s + r->len * sizeof(float) - 1;
        for (; s < last; s += 64) {
            __builtin_prefetch(s, 0, 3);
            __asm__ volatile("" : : "r"(s));
        }
        __builtin_prefetch(last, 0, 3);
    }
}

/* Everything an item needs: one job's part of C and its packed operands. */
typedef struct {
    const nnf__sgemm_kernels *kr;
    nnf__sgemm_plan plan;
    size_t period;          /* the sums' restart period along k (KC or a divisor) */
    size_t m, n, k;         /* the job's rows and columns; k of the whole product */
    int64_t level0;         /* the job's first KC level in the product */
    int64_t levels;         /* the product's (nnf__sgemm_levels) */
    float alpha, beta;
    nnf__sgemm_view a, b;   /* from the job's first row / column */
    float *c;
    size_t ldc;
    float *abuf, *bbuf;     /* level pc of A at abuf + pc * KC * m_pad, same for B
                             * (a product's last level may be deeper: TAIL_MAX) */
    int a_in_place;         /* A's rows are contiguous: the kernels read A where it is */
    const float *b_panels;  /* B prepacked (nnf__sgemm_packed), from the job's first column,
                             * or NULL: packed into bbuf */
    size_t m_pad, n_pad;
    const nnf__sgemm_post *post;   /* from the job's first column, or NULL */
} packed_job;

/* This compute item's share of the source of the B block packed after its group: the
 * next block of the level, else the first of the next level (the next job's when the
 * job has one A block: the jobs advance along k first), spread over the group's last
 * PREFETCH_ITEMS compute items. Only A block 0 packs B, and a prepacked B is not
 * packed at all: asking the caches for the next block of its panels instead slowed
 * the sweeps more than it helped them (one thread, through a handle: 40x784x512
 * 170.9 -> 177.7 us, 4096x784x512 18.70 -> 19.09 ms, medians of 15). */
static source_runs next_b_share(const packed_job *j, const nnf__sgemm_item *it)
{
    const nnf__sgemm_plan *p = &j->plan;
    const source_runs none = {NULL, 0, 0, 0};
    int64_t items = p->nq * p->nch, share = it->q * p->nch + it->ch;
    int64_t from = items > PREFETCH_ITEMS ? items - PREFETCH_ITEMS : 0;
    int64_t pc = it->pc, jc = it->jc + 1;
    if (jc == p->njc) {
        jc = 0;
        pc++;
    }
    size_t k0 = (size_t)(j->level0 + pc) * KC;
    if (j->b_panels != NULL || it->ic != 0 || share < from || j->level0 + pc >= j->levels ||
        (pc == p->npc && p->nic > 1))
        return none;
    size_t c0, c1;
    nnf__sgemm_plan_block(p, j->n, (size_t)j->kr->nr, jc, &c0, &c1);
    size_t depth = nnf__sgemm_level_depth(j->k, j->levels, j->level0 + pc);
    source_runs r = runs_of(j->b, k0, c0, depth, c1 - c0);
    size_t shares = (size_t)(items - from), s = (size_t)(share - from);
    size_t r0 = r.runs * s / shares, r1 = r.runs * (s + 1) / shares;
    r.p += (ptrdiff_t)r0 * r.stride;
    r.runs = r1 - r0;
    return r;
}

static void run_item(void *ctx, int64_t i, int participant)
{
    (void)participant;
    const packed_job *j = ctx;
    const nnf__sgemm_plan *p = &j->plan;
    const nnf__sgemm_kernels *kr = j->kr;
    const size_t MR = (size_t)kr->mr, NR = (size_t)kr->nr;
    nnf__sgemm_item it = nnf__sgemm_plan_item(p, i);
    size_t k0 = (size_t)(j->level0 + it.pc) * KC;
    size_t kc = nnf__sgemm_level_depth(j->k, j->levels, j->level0 + it.pc);
    /* In a level, the NR panel holding column jr starts at jr * kc (A: row i at i * kc). */
    float *blevel = j->bbuf != NULL ? j->bbuf + (size_t)it.pc * KC * j->n_pad : NULL;
    size_t block, block_end;
    nnf__sgemm_plan_block(p, j->n, NR, it.jc, &block, &block_end);
    if (it.kind == NNF__SGEMM_ITEM_PACK_B) {
        size_t j0 = block + (size_t)(it.g * p->panels_per_pack) * NR;
        if (j0 < block_end)
            nnf__sgemm_pack(kr, kc, min_size((size_t)p->panels_per_pack * NR, block_end - j0),
                            NR, nnf__sgemm_at(j->b, k0, j0), j->b.cs, j->b.rs,
                            blevel + j0 * kc);
        return;
    }
    const size_t QR = (size_t)p->q_rows;
    size_t i0 = (size_t)(it.ic * p->a_rows) + (size_t)it.q * QR;
    size_t rows_end = min_size(j->m, (size_t)((it.ic + 1) * p->a_rows));
    if (i0 >= rows_end)
        return;
    size_t i1 = min_size(rows_end, i0 + QR);
    /* A whose rows are contiguous is read where it is, 8 rows of kc floats at its row
     * stride (as the prepacked path does): packing it cost a write and a read of the
     * whole of A per level that nothing overlapped. At 512^3, one thread, nnf's time
     * against dnnl_sgemm's in the same process went from 1.03-1.06x to 1.02-1.06x
     * with the caches warm and from 1.08-1.10x to 1.04-1.06x with 32 MiB touched
     * between calls (medians of 41, loaded). The kernel's k order, and so every bit,
     * is the same either way. A transposed A stays packed: read in place, its 8 rows
     * of a step are half a line and every step a new line (2-4 KiB apart), and
     * 1024^3:TA fell from 1.01-1.07x dnnl_sgemm's speed to 0.89-0.91x (bench_sgemm,
     * 11 rounds, old/new/new/old, loaded). */
    const float *apanel = nnf__sgemm_at(j->a, i0, k0);
    ptrdiff_t rs_a = j->a.rs, cs_a = 1, a_step = j->a.rs;
    const size_t a_rows = (size_t)p->a_panels * QR;
    if (!j->a_in_place) {   /* packed: the level's panel, packed by its group's first item */
        float *packed = j->abuf + (size_t)it.pc * KC * j->m_pad + i0 * kc;
        if (it.jc == 0 && it.ch == 0 && it.q % p->a_panels == 0)
            nnf__sgemm_pack(kr, kc, min_size(a_rows, rows_end - i0), MR,
                            nnf__sgemm_at(j->a, i0, k0), j->a.rs, j->a.cs, packed);
        apanel = packed;
        rs_a = 1;
        cs_a = (ptrdiff_t)MR;
        a_step = (ptrdiff_t)kc;
    }
    float beta = j->level0 + it.pc == 0 ? j->beta : 1.0f;
    size_t j0 = block + (size_t)(it.ch * p->cw), j1 = min_size(block_end, j0 + (size_t)p->cw);
    float *crow = j->c + i0 * j->ldc;
    /* What the next packings read, asked for a part before each kernel call: this
     * item's share of the next A packer's source, and of the next B block's. Not for
     * one panel of a transposed A (kc runs of MR floats, half a line each): asking for
     * its 384 lines slowed the sweep more than it sped the packing (per-item medians,
     * mlp-wgrad: sweep 16.4k -> 17.2k TSC ticks, packing 2.8k -> 2.3k; NN at 1024^3:
     * 16.4k -> 16.9k and 1.34k -> 0.59k); a_panels packs several at once instead.
     * Nor for an A read in place, which no packer reads: asking for the next row
     * panel's 8 rows (192 lines a B block) cost the sweeps more than the caches' own
     * prefetchers lose on 8 sequential rows. On the Zen 5, 1024^3 went from 206 to
     * 209-210 GFLOPS, 2048^3 from 203 to 207, 512^3 from 207 to 208.5 (old and new
     * libraries in alternating processes, medians of 6-12); the big MLP's forward
     * stayed at 199. */
    source_runs next_a = {NULL, 0, 0, 0}, next_b = next_b_share(j, &it);
    size_t next0 = (size_t)(it.ic * p->a_rows) + (size_t)(it.q - it.q % p->a_panels) * QR + a_rows;
    if (!j->a_in_place && it.jc == 0 && it.ch == 0 && next0 < rows_end && p->a_panels > 1) {
        next_a = runs_of(j->a, next0, k0, min_size(a_rows, rows_end - next0), kc);
        size_t share = (size_t)(it.q % p->a_panels), shares = (size_t)p->a_panels;
        size_t r0 = next_a.runs * share / shares, r1 = next_a.runs * (share + 1) / shares;
        next_a.p += (ptrdiff_t)r0 * next_a.stride;
        next_a.runs = r1 - r0;
    }
    size_t calls = (j1 - j0 + NR - 1) / NR * ((i1 - i0 + MR - 1) / MR), t = 0;
    /* Panel by panel, as one item each would: the MR panel of A stays in the L1 while
     * the block's B panels stream from the L2. */
    for (size_t ir = i0; ir < i1; ir += MR, crow += MR * j->ldc) {
        size_t mr = min_size(MR, i1 - ir);
        const float *ap = apanel + (ptrdiff_t)(ir - i0) * a_step;
        for (size_t jr = j0; jr < j1; jr += NR, t++) {
            prefetch_runs(&next_a, next_a.runs * t / calls, next_a.runs * (t + 1) / calls);
            prefetch_runs(&next_b, next_b.runs * t / calls, next_b.runs * (t + 1) / calls);
            size_t nr = min_size(NR, j1 - jr);
            if (j->level0 + it.pc == 0)
                nnf__sgemm_post_fill(j->post, jr, crow + jr, j->ldc, mr, nr);
            /* A prepacked panel is as wide as its columns, all k steps in a row. */
            const float *bp = j->b_panels != NULL ? j->b_panels + jr * j->k + k0 * nr
                                                  : blevel + jr * kc;
            nnf__sgemm_ukernel_every(kr->ukernel, kr->ukernel_every, j->period, kc, ap, rs_a,
                                     cs_a, bp, (ptrdiff_t)(j->b_panels != NULL ? nr : NR),
                                     crow + jr, j->ldc, mr, nr, j->alpha, beta);
            if (k0 + kc == j->k)   /* the tile's last level */
                nnf__sgemm_post_relu(j->post, crow + jr, j->ldc, mr, nr);
        }
    }
}

nnf_status nnf__sgemm_packed(const nnf__sgemm_kernels *kr, size_t period, size_t m, size_t n,
                             size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b,
                             const float *b_panels, float beta, float *c, size_t ldc,
                             int threads, const nnf__sgemm_post *post)
{
    const int a_in_place = a.cs == 1;
    nnf__sgemm_jobs jobs =
        nnf__sgemm_jobs_make(kr, m, n, k, threads, a_in_place, b_panels != NULL);
    /* Up front, so a failed allocation leaves C untouched. Cached per calling thread
     * (sgemm_scratch.c); the job's workers share it. None when neither A nor B is
     * packed here. */
    float *scratch = jobs.scratch_floats > 0 ? nnf__sgemm_scratch(jobs.scratch_floats) : NULL;
    NNF_RETURN_IF(scratch == NULL && jobs.scratch_floats > 0, NNF_ERR_NOMEM,
                  "out of memory for %zu bytes of packing buffers "
                  "(m = %zu, n = %zu, k = %zu)", jobs.scratch_floats * sizeof(float), m, n, k);
    const int64_t levels = nnf__sgemm_levels(k, threads);
    const int fine = nnf__runtime_test_spread();
    for (size_t r0 = 0; r0 < m; r0 += jobs.rows) {
        for (size_t c0 = 0; c0 < n; c0 += jobs.cols) {
            for (int64_t l0 = 0; l0 < levels; l0 += jobs.levels) {
                nnf__sgemm_post shifted;
                packed_job j = {.kr = kr, .period = period, .m = min_size(jobs.rows, m - r0),
                                .n = min_size(jobs.cols, n - c0), .k = k, .level0 = l0,
                                .levels = levels,
                                .alpha = alpha, .beta = beta, .c = c + r0 * ldc + c0,
                                .ldc = ldc, .post = nnf__sgemm_post_at(post, c0, &shifted)};
                j.a = (nnf__sgemm_view){nnf__sgemm_at(a, r0, 0), a.rs, a.cs};
                if (b_panels == NULL)   /* else b is not read (nor formed: it is NULL) */
                    j.b = (nnf__sgemm_view){nnf__sgemm_at(b, 0, c0), b.rs, b.cs};
                j.m_pad = round_up(j.m, (size_t)kr->mr);
                j.n_pad = round_up(j.n, (size_t)kr->nr);
                int64_t lv = levels - l0 < jobs.levels ? levels - l0 : jobs.levels;
                j.abuf = scratch;
                j.a_in_place = a_in_place;
                j.b_panels = b_panels != NULL ? b_panels + c0 * k : NULL;
                /* The job's levels of A (unless read in place), the last up to TAIL_MAX
                 * deeper, then B's. */
                size_t depth = (size_t)(lv - 1) * KC +
                               nnf__sgemm_level_depth(k, levels, l0 + lv - 1);
                j.bbuf = b_panels != NULL ? NULL
                                          : scratch + (a_in_place ? 0 : depth * j.m_pad);
                nnf__sgemm_plan_make(&j.plan, kr, j.m, j.n, lv, threads, fine,
                                     b_panels == NULL, a);
                nnf__job job = {j.plan.items, run_item, &j, nnf__sgemm_plan_ready, &j.plan,
                                sizeof j.plan, nnf__sgemm_plan_prefer};
                nnf__run(&job, threads);
            }
        }
    }
    if (scratch != NULL)
        nnf__sgemm_scratch_done(scratch);
    return NNF_OK;
}
