/* What detection reads from the CPU and OS, kept as raw register words so that the
 * choice of ISA is a pure function that tests can feed with recorded values.
 */
#ifndef NNF_DISPATCH_CPU_FEATURES_H
#define NNF_DISPATCH_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include "nnf/isa.h"

/* Subleaves of the cache leaves kept: L1d, L1i, L2, L3 and an L4 or spare. */
#define NNF__CACHE_SUBLEAVES 6

typedef struct nnf__x86_cpuid {
    uint32_t max_leaf;        /* CPUID leaf 0, EAX */
    uint32_t leaf1_ecx, leaf1_edx;
    uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;   /* leaf 7 subleaf 0; 0 if max_leaf < 7 */
    uint32_t leaf7_1_eax;                       /* leaf 7 subleaf 1 */
    uint64_t xcr0;            /* XGETBV(0); only meaningful when OSXSAVE is set */
    /* The caches, for the sgemm blocking (blocking_choose.c). Leaf 4 (Intel) and leaf
     * 0x8000001D (AMD) describe one cache per subleaf in the same layout, EAX EBX ECX:
     * EAX type [4:0] (0: no more subleaves), level [7:5], logical CPUs sharing it - 1
     * [25:14]; EBX line bytes - 1 [11:0], partitions - 1 [21:12], ways - 1 [31:22];
     * ECX sets - 1. Zero where the leaf is absent (AMD has no leaf 4; KVM may hide
     * 0x8000001D, as on the Zen 5 these were written on). */
    uint32_t leaf4[NNF__CACHE_SUBLEAVES][3];
    uint32_t max_ext_leaf;    /* 0x80000000 EAX */
    uint32_t leaf8000001d[NNF__CACHE_SUBLEAVES][3];
    /* AMD's older summary, which KVM passes when it hides 0x8000001D: 0x80000005 ECX
     * (L1d KiB [31:24], ways [23:16], line bytes [7:0]), 0x80000006 ECX (L2 KiB
     * [31:16], ways code [15:12], line bytes [7:0]) and EDX (L3 in 512 KiB [31:18],
     * ways code [15:12]). Intel fills 0x80000006 ECX only. Nothing about sharing. */
    uint32_t leaf80000005_ecx, leaf80000006_ecx, leaf80000006_edx;
} nnf__x86_cpuid;

typedef struct nnf__arm_hwcap {
    unsigned long hwcap, hwcap2;   /* getauxval(AT_HWCAP), getauxval(AT_HWCAP2) */
} nnf__arm_hwcap;

/* The caches as the OS reports them (0: not reported; containers and qemu-user often
 * report nothing): /sys/devices/system/cpu/cpu0/cache, else sysconf. */
typedef struct nnf__os_caches {
    uint64_t l1d, l2, l3;          /* bytes */
    uint32_t l2_sharing, l3_sharing;   /* CPUs in shared_cpu_list; 0 if unknown */
} nnf__os_caches;

typedef struct nnf__cpu_features {
    nnf__x86_cpuid x86;
    nnf__arm_hwcap arm;
    nnf__os_caches os;
} nnf__cpu_features;

/* Reads this machine's words (detect_x86.c / detect_arm.c), and the OS's caches. */
void nnf__cpu_detect(nnf__cpu_features *f);
/* The OS's part (detect_os_caches.c): sysfs under `dir` (normally
 * /sys/devices/system/cpu/cpu0/cache; tests pass a fake tree), and for what the
 * detection does not find there, sysconf. */
void nnf__os_caches_read(nnf__os_caches *c, const char *dir);
void nnf__os_caches_detect(nnf__os_caches *c);

/* ---- The pure choice (isa_choose.c), over the list in nnf/isa_list.h. ---- */
/* Its arch column, and this build's architecture (-1: only ANY entries are compiled). */
enum { NNF__ARCH_ANY, NNF__ARCH_X86, NNF__ARCH_ARM };
#if defined(__x86_64__)
#define NNF__ARCH_HERE NNF__ARCH_X86
#elif defined(__aarch64__)
#define NNF__ARCH_HERE NNF__ARCH_ARM
#else
#define NNF__ARCH_HERE (-1)
#endif
/* A cap that caps nothing (NNF_ISA unset or ignored). */
#define NNF__ISA_NO_CAP ((nnf_isa)-1)
/* The best ISA of x86-64 these words allow (the last line of the list whose rule holds),
 * capped at `cap` if `cap` is one of x86-64's (arch column X86 or ANY). *why (if not
 * NULL) gets a constant sentence saying what decided it: the cap, or the rule of the
 * ISA above that failed. */
nnf_isa nnf__isa_choose_x86(const nnf__x86_cpuid *r, nnf_isa cap, const char **why);
/* The same for aarch64. */
nnf_isa nnf__isa_choose_arm(const nnf__arm_hwcap *r, nnf_isa cap, const char **why);
/* The choice for this build's architecture. */
nnf_isa nnf__isa_choose(const nnf__cpu_features *f, nnf_isa cap, const char **why);
/* Position of isa among this build's ISAs in the list's order (0 = the lowest), -1 if
 * it is not compiled in (another architecture's, or not in the list). */
int nnf__isa_rank(nnf_isa isa);
/* 1 if isa is compiled in and its rule holds on these words. */
int nnf__isa_allowed(const nnf__cpu_features *f, nnf_isa isa);

/* Space-separated names of the detected features ("avx2 fma f16c avx512f ..."), into
 * buf (truncated to size); returns buf. */
const char *nnf__cpu_features_str(const nnf__cpu_features *f, char *buf, size_t size);

#endif
