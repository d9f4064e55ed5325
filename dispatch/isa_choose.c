/* The ISA choice as a pure function of the register words: unit-tested on recorded
 * values (tests/test_dispatch_choose.c), so the rules below are checked on CPUs and
 * VMs we do not have. */
#include "dispatch/cpu_features.h"

/* CPUID.1:ECX */
#define L1C_FMA (1u << 12)
#define L1C_OSXSAVE (1u << 27)
#define L1C_AVX (1u << 28)
#define L1C_F16C (1u << 29)
/* CPUID.(7,0):EBX */
#define L7B_AVX2 (1u << 5)
#define L7B_AVX512F (1u << 16)
#define L7B_AVX512DQ (1u << 17)
#define L7B_AVX512BW (1u << 30)
#define L7B_AVX512VL (1u << 31)
/* XCR0: the OS saves XMM (bit 1) and YMM (bit 2) state; AVX-512 also needs opmask
 * (bit 5), ZMM_Hi256 (bit 6) and Hi16_ZMM (bit 7): 0xE6 with bits 1-2. */
#define XCR0_YMM 0x6u
#define XCR0_ZMM 0xE6u
/* AT_HWCAP on aarch64 Linux. */
#define HWCAP_ASIMD_BIT (1ul << 1)

static int has(uint32_t word, uint32_t bits)
{
    return (word & bits) == bits;
}

/* ---- The detection rules: one per line of nnf/isa_list.h, named rule_<name>. Each
 * returns 1 if the words allow that ISA, and sets *why to a constant sentence saying
 * why, or why not. ---- */

static int rule_scalar(const nnf__cpu_features *f, const char **why)
{
    (void)f;
    *why = "the portable C kernels run on every CPU";
    return 1;
}

#if defined(NNF__TEST_ISA)
static int rule_test(const nnf__cpu_features *f, const char **why)
{
    (void)f;
    *why = "the test configuration's dummy ISA (the scalar kernels) runs on every CPU";
    return 1;
}
#endif

/* CPUID `bits` of leaf 1 ECX and `bits7` of leaf 7 EBX, with the YMM state that every
 * VEX-encoded instruction needs (FMA is VEX-encoded, and -mfma lets the compiler use
 * any AVX instruction). `lacks` names the bits for the message. */
static int x86_vex(const nnf__x86_cpuid *r, uint32_t bits, uint32_t bits7, const char *lacks,
                   const char **why)
{
    /* Leaf 7 words are garbage when the CPU does not have leaf 7. */
    uint32_t leaf7_ebx = r->max_leaf >= 7 ? r->leaf7_ebx : 0;
    /* Without OSXSAVE, XGETBV is not there to ask (r->xcr0 is stale): no AVX state. */
    if (!has(r->leaf1_ecx, L1C_OSXSAVE))
        *why = "OSXSAVE is 0: the OS does not expose AVX state";
    else if (!has(r->leaf1_ecx, bits) || !has(leaf7_ebx, bits7))
        *why = lacks;
    else if ((r->xcr0 & XCR0_YMM) != XCR0_YMM)
        *why = "XCR0 bits 1-2 are not both set: the OS does not save YMM state";
    else
        return 1;
    return 0;
}

static int rule_scalar_fma(const nnf__cpu_features *f, const char **why)
{
    if (!x86_vex(&f->x86, L1C_AVX | L1C_FMA, 0, "the CPU lacks AVX or FMA", why))
        return 0;
    *why = "FMA with YMM state";
    return 1;
}

static int rule_avx2(const nnf__cpu_features *f, const char **why)
{
    if (!x86_vex(&f->x86, L1C_AVX | L1C_FMA | L1C_F16C, L7B_AVX2,
                 "the CPU lacks one of AVX2, FMA, F16C", why))
        return 0;
    *why = "AVX2+FMA+F16C with YMM state";
    return 1;
}

static int rule_avx512(const nnf__cpu_features *f, const char **why)
{
    const nnf__x86_cpuid *r = &f->x86;
    if (!rule_avx2(f, why))
        return 0;
    if (!has(r->max_leaf >= 7 ? r->leaf7_ebx : 0,
             L7B_AVX512F | L7B_AVX512DQ | L7B_AVX512BW | L7B_AVX512VL))
        *why = "AVX2+FMA+F16C with YMM state; no AVX-512 F+DQ+BW+VL";
    else if ((r->xcr0 & XCR0_ZMM) != XCR0_ZMM)
        *why = "AVX-512 in CPUID but XCR0 & 0xE6 != 0xE6: the OS has not enabled ZMM state";
    else {
        *why = "AVX-512 F+DQ+BW+VL with ZMM state enabled in XCR0";
        return 1;
    }
    return 0;
}

static int rule_neon(const nnf__cpu_features *f, const char **why)
{
    if (!(f->arm.hwcap & HWCAP_ASIMD_BIT)) {
        *why = "HWCAP has no ASIMD";
        return 0;
    }
    *why = "ASIMD (NEON) in HWCAP, baseline on armv8-a";
    return 1;
}

/* ---- The choice, the same for every list: the last entry of the architecture whose
 * rule holds, at or below the cap. ---- */

typedef struct {
    nnf_isa isa;
    int arch;   /* NNF__ARCH_* */
    int (*rule)(const nnf__cpu_features *f, const char **why);
} entry;

static const entry entries[] = {
#define ENTRY(ID, name, value, arch) {NNF_ISA_##ID, NNF__ARCH_##arch, rule_##name},
    NNF_ISA_LIST(ENTRY)
#undef ENTRY
};
enum { n_entries = sizeof entries / sizeof entries[0] };

static int on_arch(const entry *e, int arch)
{
    return e->arch == NNF__ARCH_ANY || e->arch == arch;
}

static nnf_isa choose_on(int arch, const nnf__cpu_features *f, nnf_isa cap, const char **why)
{
    /* A cap from another architecture caps nothing (a shared NNF_ISA=avx2 on Arm). */
    int cap_at = n_entries - 1;
    for (int i = 0; i < n_entries; i++)
        if (entries[i].isa == cap && on_arch(&entries[i], arch))
            cap_at = i;
    int chosen = -1;
    const char *reason = "";
    for (int i = 0; i <= cap_at; i++) {
        const char *w;
        if (on_arch(&entries[i], arch) && entries[i].rule(f, &w)) {
            chosen = i;
            reason = w;
        }
    }
    /* Why not higher: the cap, or the nearest entry above whose rule failed. */
    for (int i = chosen + 1; i < n_entries; i++) {
        const char *w;
        if (!on_arch(&entries[i], arch))
            continue;
        if (entries[i].rule(f, &w))
            reason = "capped by NNF_ISA";
        else
            reason = w;
        break;
    }
    if (why != NULL)
        *why = reason;
    /* The scalar rule always holds, so chosen is set; the fallback keeps that local. */
    return chosen >= 0 ? entries[chosen].isa : NNF_ISA_SCALAR;
}

nnf_isa nnf__isa_choose_x86(const nnf__x86_cpuid *r, nnf_isa cap, const char **why)
{
    nnf__cpu_features f = {.x86 = *r};
    return choose_on(NNF__ARCH_X86, &f, cap, why);
}

nnf_isa nnf__isa_choose_arm(const nnf__arm_hwcap *r, nnf_isa cap, const char **why)
{
    nnf__cpu_features f = {.arm = *r};
    return choose_on(NNF__ARCH_ARM, &f, cap, why);
}

nnf_isa nnf__isa_choose(const nnf__cpu_features *f, nnf_isa cap, const char **why)
{
    return choose_on(NNF__ARCH_HERE, f, cap, why);
}

int nnf__isa_rank(nnf_isa isa)
{
    int rank = 0;
    for (int i = 0; i < n_entries; i++) {
        if (!on_arch(&entries[i], NNF__ARCH_HERE))
            continue;
        if (entries[i].isa == isa)
            return rank;
        rank++;
    }
    return -1;
}

int nnf__isa_allowed(const nnf__cpu_features *f, nnf_isa isa)
{
    const char *why;
    for (int i = 0; i < n_entries; i++)
        if (entries[i].isa == isa)
            return on_arch(&entries[i], NNF__ARCH_HERE) && entries[i].rule(f, &why);
    return 0;
}
