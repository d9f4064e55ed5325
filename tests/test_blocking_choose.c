/* The sgemm blocks as a pure function of recorded cache descriptions (as
 * test_dispatch_choose.c tests the ISA choice): the CPUs nnf has run on, a CPU that
 * describes no cache, absurd sizes; each choice checked against the cache-fit
 * inequalities written out again here. Then the OS fallback on a fake sysfs tree, and
 * the promise that makes the choice safe: products are the same bits whatever the
 * blocks (KC does not move), on every ISA and path that packs. */
#include "nnf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dispatch/blocking.h"
#include "dispatch/dispatch.h"
#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"
#include "test_tmpdir.h"

enum { KC = NNF__SGEMM_KC, KIB = 1024, MIB = 1024 * 1024 };

/* The Zen 5 these tests were written on (EPYC, family 26 model 2, a 2-vCPU KVM guest),
 * read with CPUID: no leaf 4 (AMD), 0x8000001D all zero (KVM hides it), and
 * 0x80000005/6 giving a 48 KiB L1d, a 1 MiB L2 (ways code 6: 8, on a 16-way L2) and the
 * host's 508 MiB as the L3, with nothing about sharing. glibc's sysconf says the same. */
static const nnf__x86_cpuid zen5_kvm = {
    .max_leaf = 0xd, .max_ext_leaf = 0x80000021,
    .leaf80000005_ecx = 0x300c0140, .leaf80000006_ecx = 0x04006140,
    .leaf80000006_edx = 0x0fe09140,
};

/* AMD Ryzen 9 7950X (Zen 4), bare metal. The subleaves of 0x8000001D are written out
 * from its published geometry (AMD's PPR for family 19h, the layout in
 * cpu_features.h): L1d 32 KiB 8-way and L2 1 MiB 8-way shared by the 2 threads of a
 * core, L3 32 MiB 16-way shared by a CCX's 16 threads; 0x80000005/6 as AMD fills them
 * (these must lose to 0x8000001D, so the L3 there is set to another size). */
static const nnf__x86_cpuid zen4 = {
    .max_leaf = 0x10, .max_ext_leaf = 0x80000021,
    .leaf8000001d = {
        {0x00004121, 0x01c0003f, 0x0000003f},   /* L1d: 8 x 1 x 64 B x 64 sets */
        {0x00004122, 0x01c0003f, 0x0000003f},   /* L1i */
        {0x00004143, 0x01c0003f, 0x000007ff},   /* L2: 8 x 64 B x 2048 sets, 2 threads */
        {0x0003c163, 0x03c0003f, 0x00007fff},   /* L3: 16 x 64 B x 32768 sets, 16 */
    },
    .leaf80000005_ecx = 0x20080140, .leaf80000006_ecx = 0x04006140,
    .leaf80000006_edx = 0x02009140,
};

/* Intel Xeon Platinum 8592+ (Emerald Rapids, 64 cores, 128 threads), leaf 4 written
 * out from its published geometry (Intel's product page: 320 MB L3; L1d 48 KiB 12-way,
 * L2 2 MiB 16-way per core) in the SDM's layout: EAX[31:26] cores - 1, sharing fields
 * as Intel encodes them (IDs sharing - 1: 1 for a core's two threads, 127 for the L3),
 * the L3 20-way. 0x80000006 ECX is Intel's (L2 2 MiB). */
static const nnf__x86_cpuid emerald_rapids = {
    .max_leaf = 0x20, .max_ext_leaf = 0x80000008,
    .leaf4 = {
        {0xfc004121, 0x02c0003f, 0x0000003f},   /* L1d: 12 x 64 B x 64 sets */
        {0xfc004122, 0x01c0003f, 0x0000003f},   /* L1i */
        {0xfc004143, 0x03c0003f, 0x000007ff},   /* L2: 16 x 64 B x 2048 sets */
        {0xfc1fc163, 0x04c0003f, 0x0003ffff},   /* L3: 20 x 64 B x 262144 sets, 128 */
    },
    .leaf80000006_ecx = 0x08007040,
};

/* A CPU (or VM) that describes no cache, and an OS that says nothing either. */
static const nnf__x86_cpuid silent = {.max_leaf = 0xd, .max_ext_leaf = 0x80000008};

static nnf__caches caches_of_x86(nnf__x86_cpuid r)
{
    nnf__cpu_features f = {.x86 = r};
    return nnf__caches_of(&f);
}

/* The kernel geometries of the tables, with their constants as the fallback. */
typedef struct {
    const char *name;
    int mr, nr;
    nnf__blocking fixed;
} geometry;
static const geometry geometries[] = {
    {"avx512", 8, 48, {2048, 384}},
    {"avx2", 6, 16, {2048, 256}},
    {"neon", 8, 12, {960, 240}},
    {"scalar", 4, 4, {256, 256}},
};

/* One block against its rule: the table's constant if its cache is unknown (budget
 * 0), else whole panels of `unit` within [NNF__BLOCK_MIN, max], `got` lines of `line`
 * bytes in the budget and one more panel not (where a bound does not clamp). */
static void check_block(int got, int unit, int fixed, double budget, double line, int max)
{
    if (budget == 0) {
        assert_int_equal(got, fixed);
        return;
    }
    assert_int_equal(got % unit, 0);
    assert_true(got >= NNF__BLOCK_MIN && got <= max);
    if (got - unit >= NNF__BLOCK_MIN)
        assert_true(got * line <= budget);
    if (got + unit <= max)
        assert_true((got + unit) * line > budget);
}

/* The rules in blocking_choose.c, restated: B (KC x cols floats) in half the L2; A
 * (rows x KC floats) in three quarters of a core's share of the L3 (L3 x threads per
 * core / threads sharing it, at most 4 MiB when the sharing is unknown). */
static void check_fits(const nnf__caches *c, const geometry *g, nnf__blocking b)
{
    const double line = (double)KC * sizeof(float);
    double share = 0;
    if (c->l3 != 0 && c->l3_sharing == 0)
        share = c->l3 < 4.0 * MIB ? (double)c->l3 : 4.0 * MIB;
    else if (c->l3 != 0)
        share = (double)c->l3 / (c->l3_sharing / (c->l2_sharing ? c->l2_sharing : 1));
    check_block(b.b_block_cols, g->nr, g->fixed.b_block_cols, (double)c->l2 / 2, line,
                NNF__B_BLOCK_COLS_MAX);
    check_block(b.a_block_rows, g->mr, g->fixed.a_block_rows, share * 3 / 4, line,
                NNF__A_BLOCK_ROWS_MAX);
}

static nnf__blocking choose(const nnf__caches *c, const geometry *g)
{
    nnf__blocking b = nnf__blocking_choose(c, g->mr, g->nr, KC, sizeof(float), g->fixed);
    check_fits(c, g, b);
    return b;
}

/* The expected blocks of one CPU, per geometry in the order above. */
static void expect(const nnf__caches *c, const int want[4][2])
{
    for (int i = 0; i < 4; i++) {
        nnf__blocking b = choose(c, &geometries[i]);
        if (b.a_block_rows != want[i][0] || b.b_block_cols != want[i][1])
            fail_msg("%s: blocks %d x %d, expected %d x %d", geometries[i].name,
                     b.a_block_rows, b.b_block_cols, want[i][0], want[i][1]);
    }
}

/* A recorded CPU, what its words say and the blocks per geometry above. */
typedef struct {
    const char *name;
    const nnf__x86_cpuid *words;
    const char *source;
    uint64_t l1d, l2, l3;
    uint32_t l2_sharing, l3_sharing;
    int want[4][2];
} recorded;

static const recorded cpus[] = {
    /* The tables' constants were 2048 x 384 (AVX-512) and 2048 x 256 (AVX2): the A block
     * is the same (the 4 MiB a core is assumed to get of an L3 whose sharing is not
     * said), the B block 336 columns (504 KiB) for both, measured alike (README). */
    {"zen5_kvm", &zen5_kvm, "CPUID leaves 0x80000005/6", 48 * KIB, 1 * MIB,
     1016ull * 512 * KIB, 0, 0, {{2048, 336}, {2046, 336}, {2048, 336}, {2048, 340}}},
    /* 32 MiB over 8 cores: 4 MiB a core, 3 MiB for A. */
    {"zen4", &zen4, "CPUID leaf 0x8000001D", 32 * KIB, 1 * MIB, 32 * MIB, 2, 16,
     {{2048, 336}, {2046, 336}, {2048, 336}, {2048, 340}}},
    /* 5 MiB a core: 3.75 MiB for A (2560 rows); 1 MiB for B (682 columns). */
    {"emerald_rapids", &emerald_rapids, "CPUID leaf 4", 48 * KIB, 2 * MIB, 320 * MIB, 2, 128,
     {{2560, 672}, {2556, 672}, {2560, 672}, {2560, 680}}},
};

static void test_recorded_cpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cpus / sizeof cpus[0]; i++) {
        const recorded *r = &cpus[i];
        nnf__caches c = caches_of_x86(*r->words);
        print_message("%s\n", r->name);
        assert_string_equal(c.source, r->source);
        assert_int_equal(c.l1d, r->l1d);
        assert_int_equal(c.l2, r->l2);
        assert_int_equal(c.l3, r->l3);
        assert_int_equal(c.l2_sharing, r->l2_sharing);
        assert_int_equal(c.l3_sharing, r->l3_sharing);
        expect(&c, r->want);
    }
}

/* No cache described anywhere: every table keeps its constants. */
static void test_nothing_reported(void **state)
{
    (void)state;
    nnf__caches c = caches_of_x86(silent);
    assert_int_equal(c.l1d, 0);
    assert_int_equal(c.l2, 0);
    assert_int_equal(c.l3, 0);
    assert_string_equal(c.source, "none");
    for (int i = 0; i < 4; i++) {
        nnf__blocking b = choose(&c, &geometries[i]);
        assert_int_equal(b.a_block_rows, geometries[i].fixed.a_block_rows);
        assert_int_equal(b.b_block_cols, geometries[i].fixed.b_block_cols);
    }
}

/* Sizes no cache has: a leaf-4 entry of one byte (every field 0), one of the largest
 * the fields can say (2^64, saturated), a level missing in between. The blocks stay in
 * their bounds, in whole panels. */
static void test_absurd_sizes(void **state)
{
    (void)state;
    nnf__x86_cpuid tiny = {.max_leaf = 0xd};
    tiny.leaf4[0][0] = 0x41;                  /* L2 of 1 byte */
    tiny.leaf4[1][0] = 0x63;                  /* L3 of 1 byte */
    nnf__x86_cpuid huge = {.max_leaf = 0xd};
    huge.leaf4[0][0] = 0x43;                  /* L2: every field at its maximum */
    huge.leaf4[0][1] = 0xffffffff;
    huge.leaf4[0][2] = 0xffffffff;
    huge.leaf4[1][0] = 0x63 | 0xfffu << 14;   /* L3 the same, shared by 4096 */
    huge.leaf4[1][1] = 0xffffffff;
    huge.leaf4[1][2] = 0xffffffff;
    nnf__x86_cpuid no_l3 = zen4;              /* an L2 and no L3, as on many Arm cores */
    memset(no_l3.leaf8000001d[3], 0, sizeof no_l3.leaf8000001d[3]);
    no_l3.leaf80000006_edx = 0;
    nnf__caches c = caches_of_x86(tiny);
    assert_int_equal(c.l2, 1);
    assert_int_equal(c.l3, 1);
    static const int at_min[4][2] = {{64, 96}, {66, 64}, {64, 72}, {64, 64}};
    expect(&c, at_min);
    c = caches_of_x86(huge);
    assert_true(c.l2 == UINT64_MAX && c.l3 == UINT64_MAX);
    static const int at_max[4][2] = {{4096, 2016}, {4092, 2048}, {4096, 2040}, {4096, 2048}};
    expect(&c, at_max);
    c = caches_of_x86(no_l3);
    assert_int_equal(c.l3, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(choose(&c, &geometries[i]).a_block_rows,
                         geometries[i].fixed.a_block_rows);
    /* The same through the OS's fields. */
    nnf__cpu_features f = {.os = {.l1d = 1, .l2 = UINT64_MAX, .l3 = 1, .l3_sharing = 1}};
    nnf__caches o = nnf__caches_of(&f);
    assert_string_equal(o.source, "the OS");
    for (int i = 0; i < 4; i++)
        choose(&o, &geometries[i]);
}

/* An Arm server's sysfs (Neoverse N1 class: 64 KiB L1d, 1 MiB L2, a 32 MiB L3 shared
 * by 16 CPUs), with an instruction cache in between and the L3's sharing as a list. */
static void test_os_sysfs(void **state)
{
    (void)state;
    static const char *const entries[][4] = {
        {"1", "Data", "64K", "0"},
        {"1", "Instruction", "64K", "0"},
        {"2", "Unified", "1024K", "0"},
        {"3", "Unified", "32768K", "0-7,16-23"},
    };
    char dir[300];
    snprintf(dir, sizeof dir, "%s", tmp_path("cache"));
    assert_int_equal(mkdir(dir, 0700), 0);
    static const char *const files[4] = {"level", "type", "size", "shared_cpu_list"};
    for (int i = 0; i < 4; i++) {
        char path[500];
        snprintf(path, sizeof path, "%s/index%d", dir, i);
        assert_int_equal(mkdir(path, 0700), 0);
        for (int j = 0; j < 4; j++) {
            snprintf(path, sizeof path, "%s/index%d/%s", dir, i, files[j]);
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            fprintf(f, "%s\n", entries[i][j]);
            fclose(f);
        }
    }
    nnf__cpu_features f;
    memset(&f, 0, sizeof f);
    nnf__os_caches_read(&f.os, dir);
    assert_int_equal(f.os.l1d, 64 * KIB);
    assert_int_equal(f.os.l2, 1 * MIB);
    assert_int_equal(f.os.l3, 32 * MIB);
    assert_int_equal(f.os.l2_sharing, 1);
    assert_int_equal(f.os.l3_sharing, 16);
    nnf__caches c = nnf__caches_of(&f);
    /* 2 MiB a core: 1.5 MiB for A. */
    static const int want[4][2] = {{1024, 336}, {1020, 336}, {1024, 336}, {1024, 340}};
    expect(&c, want);
    /* A tree that is not there: nothing, not an error. */
    nnf__os_caches_read(&f.os, tmp_path("no-such-dir"));
    assert_int_equal(f.os.l2, 0);
}

/* What detection found here leads to blocks that obey the same rules, and the active
 * table carries them. */
static void test_this_machine(void **state)
{
    (void)state;
    nnf__dispatch_info info;
    nnf__dispatch_facts(&info);
    NNF_FOR_EACH_ISA(isa) {
        const nnf__sgemm_kernels *g = &nnf__kernels_active()->gemm;
        const geometry here = {nnf_isa_name(isa), g->mr, g->nr, {0, 0}};
        nnf__blocking b = {g->a_block_rows, g->b_block_cols};
        if (info.caches.l2 != 0 && info.caches.l3 != 0)
            check_fits(&info.caches, &here, b);
        print_message("%s: caches from %s (L2 %llu, L3 %llu bytes): %d x %d\n",
                      nnf_isa_name(isa), info.caches.source,
                      (unsigned long long)info.caches.l2, (unsigned long long)info.caches.l3,
                      b.a_block_rows, b.b_block_cols);
    }
    nnf_test_restore_isa();
}

/* The same bits with the smallest, the chosen and the largest blocks: products with
 * several A blocks, B blocks and KC levels (none a multiple), every op(A), op(B), on
 * every ISA, through the packed path and the default one, on 1 and 2 threads. */
static void test_bits_any_blocks(void **state)
{
    (void)state;
    enum { M = 131, N = 150, K = 2 * KC + 77 };   /* small enough for qemu and valgrind */
    static const int blocks[][2] = {{0, 0}, {NNF__BLOCK_MIN, NNF__BLOCK_MIN}, {72, 1000},
                                    {NNF__A_BLOCK_ROWS_MAX, NNF__B_BLOCK_COLS_MAX}};
    const int thin = nnf_test_thin();   /* valgrind: the smallest blocks, 1 thread */
    const size_t nb = thin ? 2 : sizeof blocks / sizeof blocks[0];
    float *a = malloc(M * K * sizeof *a), *b = malloc(K * N * sizeof *b);
    float *c0 = malloc(M * N * sizeof *c0), *c = malloc(M * N * sizeof *c);
    double *want = malloc(M * N * sizeof *want);
    assert_true(a && b && c0 && c && want);
    nnf_test_fill_uniform(a, M * K, 91, -1, 1);
    nnf_test_fill_uniform(b, K * N, 92, -1, 1);
    nnf__sgemm_set_parallel_min_flops(0);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            size_t lda = ta ? M : K, ldb = tb ? K : N;
            for (size_t i = 0; i < M; i++)
                for (size_t j = 0; j < N; j++) {
                    double s = 0;
                    for (size_t p = 0; p < K; p++)
                        s += (double)a[ta ? p * lda + i : i * lda + p] *
                             b[tb ? j * ldb + p : p * ldb + j];
                    want[i * N + j] = s;
                }
            NNF_FOR_EACH_ISA(isa) {
                for (int threads = 1; threads <= (thin ? 1 : 2); threads++) {
                    nnf_test_threads(threads);
                    for (int path = NNF__SGEMM_PATH_AUTO; path <= NNF__SGEMM_PATH_PACKED;
                         path += NNF__SGEMM_PATH_PACKED) {
                        nnf__sgemm_force_path((nnf__sgemm_path)path);
                        for (size_t v = 0; v < nb; v++) {
                            nnf__blocking_force(blocks[v][0], blocks[v][1]);
                            float *out = v == 0 ? c0 : c;
                            NNF_ASSERT_OK(nnf_sgemm(ta ? NNF_TRANS : NNF_NO_TRANS,
                                                    tb ? NNF_TRANS : NNF_NO_TRANS, M, N, K,
                                                    1.0f, a, lda, b, ldb, 0.0f, out, N));
                            if (v == 0)
                                nnf_test_assert_close(c0, want, M * N, 1e-4, 1e-4);
                            else
                                nnf_test_assert_bits_equal(c, c0, M * N);
                        }
                    }
                }
            }
        }
    nnf__blocking_force(0, 0);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    nnf__sgemm_set_parallel_min_flops(-1);
    nnf_test_threads(0);
    nnf_test_restore_isa();
    free(a);
    free(b);
    free(c0);
    free(c);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_cpus),
        cmocka_unit_test(test_nothing_reported),
        cmocka_unit_test(test_absurd_sizes),
        cmocka_unit_test(test_os_sysfs),
        cmocka_unit_test(test_this_machine),
        cmocka_unit_test(test_bits_any_blocks),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
