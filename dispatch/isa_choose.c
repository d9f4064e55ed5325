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

nnf_isa nnf__isa_choose_x86(const nnf__x86_cpuid *r, nnf_isa cap, const char **why)
{
    const char *reason;
    nnf_isa level = NNF_ISA_SCALAR;
    uint32_t leaf7_ebx = r->max_leaf >= 7 ? r->leaf7_ebx : 0;
    /* Without OSXSAVE, XGETBV is not there to ask: no AVX state is usable. */
    uint64_t xcr0 = has(r->leaf1_ecx, L1C_OSXSAVE) ? r->xcr0 : 0;
    if (!has(r->leaf1_ecx, L1C_OSXSAVE))
        reason = "OSXSAVE is 0: the OS does not expose AVX state";
    else if (!has(r->leaf1_ecx, L1C_AVX | L1C_FMA | L1C_F16C) || !has(leaf7_ebx, L7B_AVX2))
        reason = "the CPU lacks one of AVX2, FMA, F16C";
    else if ((xcr0 & XCR0_YMM) != XCR0_YMM)
        reason = "XCR0 bits 1-2 are not both set: the OS does not save YMM state";
    else {
        level = NNF_ISA_AVX2;
        if (!has(leaf7_ebx, L7B_AVX512F | L7B_AVX512DQ | L7B_AVX512BW | L7B_AVX512VL))
            reason = "AVX2+FMA+F16C with YMM state; no AVX-512 F+DQ+BW+VL";
        else if ((xcr0 & XCR0_ZMM) != XCR0_ZMM)
            reason = "AVX-512 in CPUID but XCR0 & 0xE6 != 0xE6: the OS has not enabled ZMM state";
        else {
            level = NNF_ISA_AVX512;
            reason = "AVX-512 F+DQ+BW+VL with ZMM state enabled in XCR0";
        }
    }
    int cap_rank = cap == NNF_ISA_AVX512   ? 2
                   : cap == NNF_ISA_AVX2   ? 1
                   : cap == NNF_ISA_SCALAR ? 0
                                           : -1;
    int level_rank = level == NNF_ISA_AVX512 ? 2 : level == NNF_ISA_AVX2 ? 1 : 0;
    if (cap_rank >= 0 && cap_rank < level_rank) {
        level = cap;
        reason = "capped by NNF_ISA";
    }
    if (why != NULL)
        *why = reason;
    return level;
}

nnf_isa nnf__isa_choose_arm(const nnf__arm_hwcap *r, nnf_isa cap, const char **why)
{
    nnf_isa level = NNF_ISA_SCALAR;
    const char *reason = "HWCAP has no ASIMD";
    if (r->hwcap & HWCAP_ASIMD_BIT) {
        level = NNF_ISA_NEON;
        reason = "ASIMD (NEON) in HWCAP, baseline on armv8-a";
        if (cap == NNF_ISA_SCALAR) {
            level = NNF_ISA_SCALAR;
            reason = "capped by NNF_ISA";
        }
    }
    if (why != NULL)
        *why = reason;
    return level;
}

int nnf__isa_rank(nnf_isa isa)
{
#if defined(__x86_64__)
    switch (isa) {
    case NNF_ISA_SCALAR: return 0;
    case NNF_ISA_AVX2: return 1;
    case NNF_ISA_AVX512: return 2;
    default: return -1;
    }
#elif defined(__aarch64__)
    return isa == NNF_ISA_SCALAR ? 0 : isa == NNF_ISA_NEON ? 1 : -1;
#else
    return isa == NNF_ISA_SCALAR ? 0 : -1;
#endif
}

nnf_isa nnf__isa_choose(const nnf__cpu_features *f, nnf_isa cap, const char **why)
{
#if defined(__x86_64__)
    return nnf__isa_choose_x86(&f->x86, cap, why);
#elif defined(__aarch64__)
    return nnf__isa_choose_arm(&f->arm, cap, why);
#else
    (void)f;
    (void)cap;
    if (why != NULL)
        *why = "no vector ISA is compiled for this architecture";
    return NNF_ISA_SCALAR;
#endif
}
