/* Which cache each block of the packed sgemm path lives in, and so how big it may be.
 *
 * The loops of src/linalg/sgemm_packed.c, outermost first: A blocks of a_block_rows
 * (packed a row panel at a time), KC levels, B blocks of KC x b_block_cols (packed once
 * per level), MR-row panels of the A block, NR-wide panels of the B block. So
 * - an MR x KC micro-panel of A is reused by every NR panel of the B block: the L1
 *   (8 x 384 floats = 12 KiB; fixed with KC, not chosen here);
 * - the KC x b_block_cols B block is reused by every MR-row panel of the A block: the
 *   L2, the block BLIS calls MC x KC (nnf's roles are BLIS's transposed: there the A
 *   block sits in the L2 and B micro-panels in the L1);
 * - the a_block_rows x KC A block is reused by every B block of the level: the L3,
 *   BLIS's KC x NC.
 * Low et al. ("Analytical modeling is enough for high-performance BLIS", TOMS 2016)
 * size each block as the ways of its cache left after the ways that the smaller
 * reused block and the streaming operand occupy. nnf's figures below are fractions of
 * the capacity instead, since a VM's CPUID often gives sizes without ways, or ways that
 * are wrong (KVM's 0x80000006 on the Zen 5 here says 8 for a 16-way L2).
 *
 * L2: half of it for B. Between two uses of a B line, one A micro-panel comes in from
 * the L3 through the L2, the MR x b_block_cols slice of C is read and written once, and
 * the packing of the next A panel reads its source rows; and the hardware prefetchers
 * run ahead of all three. On the Zen 5 here (1 MiB L2) every B block from 192 to 576
 * columns ran within the noise of a loaded machine at 1024^3 and on the big MLP's
 * products (bench_blocking; README): half the L2 (336 columns) is inside that plateau,
 * and on a 256 KiB L2 (Haswell) it gives 80 columns where the AVX2 table's constant,
 * 256 (384 KiB), was more than the whole L2.
 *
 * L3: three quarters of one core's share for A; the rest keeps the B block (in an
 * inclusive L3 it is there as well) and C passing through. A core's share is the L3
 * divided among the cores that share it, the L2's sharing counting the threads of one
 * core. When CPUID and the OS do not say how many share it (KVM hides 0x8000001D here
 * and reports the host's 508 MiB as the L3), a core is taken to get at most 4 MiB: the
 * slice of a Zen 2-5 core (32 MiB per 8), between Sapphire Rapids' 1.9 and Emerald
 * Rapids' 5 MiB.
 *
 * Both are rounded down to whole panels (MR rows, NR columns) and kept within
 * [NNF__BLOCK_MIN, *_MAX]: an absurd size (0 or the host's) can only move a block
 * within what the packed path's scratch (sgemm_packed.c) plans for. A level the CPU and
 * OS do not describe keeps the kernel table's constant.
 */
#include "dispatch/blocking.h"

enum { DEFAULT_CORE_L3 = 4 << 20 };

/* EAX EBX ECX of a leaf-4-style subleaf: the cache's level (0: no cache), size, and
 * sharing. Fields as in cpu_features.h; the size saturates. */
static int describe(const uint32_t w[3], uint64_t *bytes, uint32_t *sharing)
{
    uint32_t type = w[0] & 0x1f, level = (w[0] >> 5) & 7;
    if (type != 1 && type != 3)   /* data or unified; not instruction, not the end */
        return 0;
    uint64_t ways = (w[1] >> 22) + 1, parts = ((w[1] >> 12) & 0x3ff) + 1;
    uint64_t line = (w[1] & 0xfff) + 1, sets = (uint64_t)w[2] + 1;
    /* At most 2^10 * 2^10 * 2^12 = 2^32 before the sets: only the last product can
     * overflow. */
    uint64_t per_set = ways * parts * line;
    *bytes = sets > UINT64_MAX / per_set ? UINT64_MAX : per_set * sets;
    *sharing = ((w[0] >> 14) & 0xfff) + 1;
    return (int)level;
}

/* Fills the levels of c still unknown from a table of subleaves; 1 if it gave any. */
static int from_leaf(nnf__caches *c, const uint32_t w[NNF__CACHE_SUBLEAVES][3])
{
    int any = 0;
    for (int i = 0; i < NNF__CACHE_SUBLEAVES; i++) {
        uint64_t bytes;
        uint32_t sharing;
        int level = describe(w[i], &bytes, &sharing);
        if (level == 1 && c->l1d == 0) {
            c->l1d = bytes;
        } else if (level == 2 && c->l2 == 0) {
            c->l2 = bytes;
            c->l2_sharing = sharing;
        } else if (level == 3 && c->l3 == 0) {
            c->l3 = bytes;
            c->l3_sharing = sharing;
        } else {
            continue;
        }
        any = 1;
    }
    return any;
}

nnf__caches nnf__caches_of(const nnf__cpu_features *f)
{
    nnf__caches c = {0, 0, 0, 0, 0, "none"};
    /* Read on every build, so that tests anywhere can feed x86 words; detection
     * leaves them zero on aarch64. */
    const nnf__x86_cpuid *r = &f->x86;
    if (from_leaf(&c, r->leaf4))
        c.source = "CPUID leaf 4";
    else if (from_leaf(&c, r->leaf8000001d))
        c.source = "CPUID leaf 0x8000001D";
    if (c.l2 == 0 && (r->leaf80000006_ecx >> 16) != 0) {
        c.source = "CPUID leaves 0x80000005/6";
        if (c.l1d == 0)
            c.l1d = (uint64_t)(r->leaf80000005_ecx >> 24) << 10;
        c.l2 = (uint64_t)(r->leaf80000006_ecx >> 16) << 10;
        if (c.l3 == 0)
            c.l3 = (uint64_t)(r->leaf80000006_edx >> 18) << 19;
    }
    const nnf__os_caches *os = &f->os;
    if (c.l2 == 0 && os->l2 != 0)
        c.source = "the OS";
    if (c.l1d == 0)
        c.l1d = os->l1d;
    if (c.l2 == 0) {
        c.l2 = os->l2;
        c.l2_sharing = os->l2_sharing;
    }
    if (c.l3 == 0) {
        c.l3 = os->l3;
        c.l3_sharing = os->l3_sharing;
    }
    return c;
}

/* bytes / row_bytes, rounded down to a multiple of unit, within [lo, hi] rounded to
 * whole units (lo up, hi down). */
static int fit(uint64_t bytes, uint64_t row_bytes, int unit, int lo, int hi)
{
    uint64_t u = (uint64_t)unit;
    uint64_t min = (lo + u - 1) / u * u, max = hi / u * u;
    uint64_t n = bytes / row_bytes / u * u;
    return (int)(n < min ? min : n > max ? max : n);
}

nnf__blocking nnf__blocking_choose(const nnf__caches *c, int mr, int nr, int kc,
                                   size_t elem_size, nnf__blocking fallback)
{
    nnf__blocking b = fallback;
    const uint64_t row_bytes = (uint64_t)kc * elem_size;   /* one row of A, column of B */
    if (c->l2 != 0)
        b.b_block_cols = fit(c->l2 / 2, row_bytes, nr, NNF__BLOCK_MIN, NNF__B_BLOCK_COLS_MAX);
    if (c->l3 != 0) {
        uint64_t share;
        if (c->l3_sharing != 0) {
            uint64_t threads_per_core = c->l2_sharing != 0 ? c->l2_sharing : 1;
            uint64_t cores = c->l3_sharing / threads_per_core;
            share = c->l3 / (cores != 0 ? cores : 1);
        } else {
            share = c->l3 < DEFAULT_CORE_L3 ? c->l3 : DEFAULT_CORE_L3;
        }
        b.a_block_rows = fit(share / 4 * 3, row_bytes, mr, NNF__BLOCK_MIN,
                             NNF__A_BLOCK_ROWS_MAX);
    }
    return b;
}
