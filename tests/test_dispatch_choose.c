/* The ISA choice as a pure function, on register values recorded from real CPUs and
 * on the cases that must not pick a vector ISA: OSXSAVE off, ZMM state off in a VM,
 * leaf 7 absent. Also the names, nnf_isa_supported and nnf_isa_force at run time. */
#include "nnf_test.h"

#include <string.h>

#include "dispatch/cpu_features.h"
#include "dispatch/dispatch.h"

/* AMD Ryzen 9 7950X (Zen 4), bare metal, from published CPUID dumps. */
static const nnf__x86_cpuid zen4 = {
    .max_leaf = 0x10, .leaf1_ecx = 0x7ef8320b, .leaf1_edx = 0x178bfbff,
    .leaf7_ebx = 0xf1bf97a9, .leaf7_ecx = 0x00405fce, .leaf7_edx = 0x10000010,
    .leaf7_1_eax = 0x00000020, .xcr0 = 0x2e7,
};
/* The KVM guest these tests were written on (Intel Xeon, Sapphire Rapids features),
 * read with CPUID and XGETBV. */
static const nnf__x86_cpuid kvm_spr = {
    .max_leaf = 0x20, .leaf1_ecx = 0xfffa3203, .leaf1_edx = 0x1f8bfbff,
    .leaf7_ebx = 0xf1bf27eb, .leaf7_ecx = 0x1b415fde, .leaf7_edx = 0xbfd14410,
    .leaf7_1_eax = 0x00001c30, .xcr0 = 0x602e7,
};
/* Intel Core i7-4770 (Haswell): AVX2+FMA+F16C, no AVX-512. */
static const nnf__x86_cpuid haswell = {
    .max_leaf = 0xd, .leaf1_ecx = 0x7ffafbff, .leaf1_edx = 0xbfebfbff,
    .leaf7_ebx = 0x000027ab, .xcr0 = 0x7,
};
/* Intel Core i7-2600 (Sandy Bridge): AVX but no AVX2, FMA or F16C. */
static const nnf__x86_cpuid sandy_bridge = {
    .max_leaf = 0xd, .leaf1_ecx = 0x1fbae3ff, .leaf1_edx = 0xbfebfbff, .xcr0 = 0x7,
};
/* What AMD's Piledriver (FX-8350) has: AVX, FMA and F16C but no AVX2; here Sandy
 * Bridge's words with the FMA and F16C bits set (leaf 1 ECX bits 12 and 29). */
static const nnf__x86_cpuid piledriver = {
    .max_leaf = 0xd, .leaf1_ecx = 0x1fbae3ff | 1u << 12 | 1u << 29, .leaf1_edx = 0xbfebfbff,
    .xcr0 = 0x7,
};

static nnf_isa choose(nnf__x86_cpuid r, nnf_isa cap, const char **why)
{
    return nnf__isa_choose_x86(&r, cap, why);
}

static void test_recorded_cpus(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const char *why;
        assert_int_equal(choose(zen4, NNF__ISA_NO_CAP, &why), NNF_ISA_AVX512);
        assert_int_equal(choose(kvm_spr, NNF__ISA_NO_CAP, &why), NNF_ISA_AVX512);
        assert_int_equal(choose(haswell, NNF__ISA_NO_CAP, &why), NNF_ISA_AVX2);
        assert_non_null(strstr(why, "no AVX-512"));
        assert_int_equal(choose(sandy_bridge, NNF__ISA_NO_CAP, &why), NNF_ISA_SCALAR);
        assert_non_null(strstr(why, "FMA"));
        /* FMA without AVX2: the portable kernels built with FMA. */
        assert_int_equal(choose(piledriver, NNF__ISA_NO_CAP, &why), NNF_ISA_SCALAR_FMA);
        assert_non_null(strstr(why, "AVX2"));
    }
}

/* Without OSXSAVE the OS has not enabled XSAVE: no AVX state, whatever CPUID and a
 * stale xcr0 field say. */
static void test_osxsave_off(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const char *why;
        nnf__x86_cpuid r = zen4;
        r.leaf1_ecx &= ~(1u << 27);
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, &why), NNF_ISA_SCALAR);
        assert_non_null(strstr(why, "OSXSAVE"));
        r = haswell;
        r.leaf1_ecx &= ~(1u << 27);
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR);
    }
}

/* A VM that passes AVX-512 through in CPUID but has not enabled opmask/ZMM state. */
static void test_vm_without_zmm_state(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const char *why;
        nnf__x86_cpuid r = zen4;
        r.xcr0 = 0x7;
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, &why), NNF_ISA_AVX2);
        assert_non_null(strstr(why, "ZMM"));
        /* Each of the three AVX-512 state bits is needed. */
        for (int bit = 5; bit <= 7; bit++) {
            r.xcr0 = 0xe7 & ~(1u << bit);
            assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_AVX2);
        }
        /* No YMM state: not even AVX2. */
        r.xcr0 = 0x3;
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, &why), NNF_ISA_SCALAR);
        assert_non_null(strstr(why, "YMM"));
        r.xcr0 = 0x5;
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR);
    }
}

/* Each required CPUID bit, cleared alone, drops the level. */
static void test_each_required_bit(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const int leaf1_fma[] = {12, 28};               /* FMA, AVX: scalar_fma needs both */
        const int leaf7_avx512[] = {16, 17, 30, 31};    /* F, DQ, BW, VL */
        for (size_t i = 0; i < sizeof leaf1_fma / sizeof leaf1_fma[0]; i++) {
            nnf__x86_cpuid r = zen4;
            r.leaf1_ecx &= ~(1u << leaf1_fma[i]);
            assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR);
        }
        /* Without F16C or AVX2, FMA still runs. */
        nnf__x86_cpuid r = zen4;
        r.leaf1_ecx &= ~(1u << 29);
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR_FMA);
        r = zen4;
        r.leaf7_ebx &= ~(1u << 5);
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR_FMA);
        for (size_t i = 0; i < sizeof leaf7_avx512 / sizeof leaf7_avx512[0]; i++) {
            r = zen4;
            r.leaf7_ebx &= ~(1u << leaf7_avx512[i]);
            assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_AVX2);
        }
        /* Leaf 7 words are garbage when the CPU does not have leaf 7. */
        r = zen4;
        r.max_leaf = 6;
        assert_int_equal(choose(r, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR_FMA);
    }
}

/* NNF_ISA caps the level and never raises it; another architecture's ISA caps nothing. */
static void test_cap(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const char *why;
        assert_int_equal(choose(zen4, NNF_ISA_AVX512, NULL), NNF_ISA_AVX512);
        assert_int_equal(choose(zen4, NNF_ISA_AVX2, &why), NNF_ISA_AVX2);
        assert_non_null(strstr(why, "NNF_ISA"));
        assert_int_equal(choose(zen4, NNF_ISA_SCALAR, NULL), NNF_ISA_SCALAR);
        assert_int_equal(choose(zen4, NNF_ISA_NEON, NULL), NNF_ISA_AVX512);
        assert_int_equal(choose(haswell, NNF_ISA_AVX512, NULL), NNF_ISA_AVX2);
        assert_int_equal(choose(sandy_bridge, NNF_ISA_AVX2, NULL), NNF_ISA_SCALAR);
        /* scalar_fma sits between scalar and avx2. */
        assert_int_equal(choose(zen4, NNF_ISA_SCALAR_FMA, &why), NNF_ISA_SCALAR_FMA);
        assert_non_null(strstr(why, "NNF_ISA"));
        assert_int_equal(choose(haswell, NNF_ISA_SCALAR_FMA, NULL), NNF_ISA_SCALAR_FMA);
        assert_int_equal(choose(piledriver, NNF_ISA_AVX512, NULL), NNF_ISA_SCALAR_FMA);
        assert_int_equal(choose(piledriver, NNF_ISA_SCALAR, NULL), NNF_ISA_SCALAR);
        assert_int_equal(choose(sandy_bridge, NNF_ISA_SCALAR_FMA, NULL), NNF_ISA_SCALAR);
#if defined(NNF__TEST_ISA)
        /* The test configuration's dummy ISA: ranked lowest, chosen only as a cap. */
        assert_int_equal(choose(zen4, NNF_ISA_TEST, &why), NNF_ISA_TEST);
        assert_non_null(strstr(why, "NNF_ISA"));
        nnf__x86_cpuid none = {0};
        assert_int_equal(choose(none, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR);
        assert_int_equal(choose(none, NNF_ISA_TEST, NULL), NNF_ISA_TEST);
#endif
    }
}

static void test_arm(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* A Cortex-A72's AT_HWCAP (fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid). */
        const nnf__arm_hwcap a72 = {.hwcap = 0x8ff, .hwcap2 = 0};
        const nnf__arm_hwcap none = {0, 0};
        const char *why;
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF__ISA_NO_CAP, &why), NNF_ISA_NEON);
        assert_non_null(strstr(why, "ASIMD"));
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF_ISA_SCALAR, NULL), NNF_ISA_SCALAR);
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF_ISA_NEON, NULL), NNF_ISA_NEON);
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF_ISA_AVX2, NULL), NNF_ISA_NEON);
        /* FMA is baseline on aarch64: scalar has it, scalar_fma is x86's. */
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF_ISA_SCALAR_FMA, NULL), NNF_ISA_NEON);
#if defined(NNF__TEST_ISA)
        assert_int_equal(nnf__isa_choose_arm(&a72, NNF_ISA_TEST, NULL), NNF_ISA_TEST);
#endif
        assert_int_equal(nnf__isa_choose_arm(&none, NNF__ISA_NO_CAP, NULL), NNF_ISA_SCALAR);
    }
}

static void test_names(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        assert_string_equal(nnf_isa_name(NNF_ISA_SCALAR), "scalar");
        assert_string_equal(nnf_isa_name(NNF_ISA_AVX2), "avx2");
        assert_string_equal(nnf_isa_name(NNF_ISA_AVX512), "avx512");
        assert_string_equal(nnf_isa_name(NNF_ISA_NEON), "neon");
        assert_string_equal(nnf_isa_name(NNF_ISA_SCALAR_FMA), "scalar_fma");
        /* The ABI's values. */
        assert_int_equal(NNF_ISA_SCALAR, 0);
        assert_int_equal(NNF_ISA_AVX2, 1);
        assert_int_equal(NNF_ISA_AVX512, 2);
        assert_int_equal(NNF_ISA_NEON, 3);
        assert_int_equal(NNF_ISA_SCALAR_FMA, 4);
        assert_string_equal(nnf_isa_name((nnf_isa)17), "unknown");
    }
}

/* What this machine supports agrees with the pure choice on its own registers. */
static void test_supported_here(void **state)
{
    (void)state;
    nnf__cpu_features f;
    nnf__cpu_detect(&f);
    nnf_isa best = nnf__isa_choose(&f, NNF__ISA_NO_CAP, NULL);
    assert_true(nnf_isa_supported(NNF_ISA_SCALAR));
    assert_true(nnf_isa_supported(best));
    NNF_TEST_ALL_ISAS(isa) {
        int rank = nnf__isa_rank(isa);
        assert_int_equal(nnf_isa_supported(isa), rank >= 0 && rank <= nnf__isa_rank(best));
    }
    assert_false(nnf_isa_supported((nnf_isa)17));
#if defined(__x86_64__)
    assert_false(nnf_isa_supported(NNF_ISA_NEON));
#elif defined(__aarch64__)
    assert_true(nnf_isa_supported(NNF_ISA_NEON));
    assert_false(nnf_isa_supported(NNF_ISA_AVX2));
    assert_false(nnf_isa_supported(NNF_ISA_SCALAR_FMA));
#endif
}

/* Forcing switches the table every later call sees; an unsupported ISA changes nothing. */
static void test_force(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const nnf__kernels *k = nnf__kernels_active();
        assert_int_equal(k->isa, isa);
        for (int i = 0; i <= (int)NNF_TEST_ISA_SLOTS; i++) {
            if (nnf_isa_supported((nnf_isa)i))
                continue;
            NNF_ASSERT_FAILS(nnf_isa_force((nnf_isa)i), NNF_ERR_UNSUPPORTED);
            assert_non_null(strstr(nnf_last_error(), nnf_isa_name((nnf_isa)i)));
            assert_ptr_equal(nnf__kernels_active(), k);
            assert_int_equal(nnf_isa_active(), isa);
        }
    }
    nnf_test_restore_isa();
}

static void test_features_str(void **state)
{
    (void)state;
    char buf[512], tiny[8];
    nnf__cpu_features f = {.x86 = haswell, .arm = {.hwcap = 0x3}};
    nnf__cpu_features_str(&f, buf, sizeof buf);
#if defined(__aarch64__)
    assert_string_equal(buf, "fp asimd");
#else
    assert_non_null(strstr(buf, "avx fma f16c"));
    assert_non_null(strstr(buf, "avx2"));
    assert_null(strstr(buf, "avx512"));
#endif
    nnf__cpu_features_str(&f, tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
}

/* nnf-info's facts agree with the public calls. */
static void test_dispatch_facts(void **state)
{
    (void)state;
    nnf__dispatch_info info;
    nnf__dispatch_facts(&info);
    assert_true(nnf_isa_supported(info.best));
    NNF_TEST_ALL_ISAS(isa)
        if (nnf_isa_supported(isa))
            assert_true(nnf__isa_rank(isa) <= nnf__isa_rank(info.best));
    assert_non_null(info.why);
    assert_true(strlen(info.features) > 0);
#if defined(__x86_64__)
    assert_non_null(strstr(info.features, "sse2"));
#elif defined(__aarch64__)
    assert_non_null(strstr(info.features, "asimd"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_cpus),
        cmocka_unit_test(test_osxsave_off),
        cmocka_unit_test(test_vm_without_zmm_state),
        cmocka_unit_test(test_each_required_bit),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_arm),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_supported_here),
        cmocka_unit_test(test_force),
        cmocka_unit_test(test_features_str),
        cmocka_unit_test(test_dispatch_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
