/* What detection reads from the CPU and OS, kept as raw register words so that the
 * choice of ISA is a pure function that tests can feed with recorded values.
 */
#ifndef NNF_DISPATCH_CPU_FEATURES_H
#define NNF_DISPATCH_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include "nnf/isa.h"

typedef struct nnf__x86_cpuid {
    uint32_t max_leaf;        /* CPUID leaf 0, EAX */
    uint32_t leaf1_ecx, leaf1_edx;
    uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;   /* leaf 7 subleaf 0; 0 if max_leaf < 7 */
    uint32_t leaf7_1_eax;                       /* leaf 7 subleaf 1 */
    uint64_t xcr0;            /* XGETBV(0); only meaningful when OSXSAVE is set */
} nnf__x86_cpuid;

typedef struct nnf__arm_hwcap {
    unsigned long hwcap, hwcap2;   /* getauxval(AT_HWCAP), getauxval(AT_HWCAP2) */
} nnf__arm_hwcap;

typedef struct nnf__cpu_features {
    nnf__x86_cpuid x86;
    nnf__arm_hwcap arm;
} nnf__cpu_features;

/* Reads this machine's words (detect_x86.c / detect_arm.c). */
void nnf__cpu_detect(nnf__cpu_features *f);

/* ---- The pure choice (isa_choose.c). ---- */
/* A cap that caps nothing (NNF_ISA unset or ignored). */
#define NNF__ISA_NO_CAP ((nnf_isa)-1)
/* The best ISA these words allow, capped at `cap` (x86 order scalar < avx2 < avx512).
 * *why (if not NULL) gets a constant sentence saying what decided it. */
nnf_isa nnf__isa_choose_x86(const nnf__x86_cpuid *r, nnf_isa cap, const char **why);
/* The same for aarch64 (scalar < neon). */
nnf_isa nnf__isa_choose_arm(const nnf__arm_hwcap *r, nnf_isa cap, const char **why);
/* Position of isa in this build's architecture order (0 = scalar), -1 if it belongs to
 * another architecture. */
int nnf__isa_rank(nnf_isa isa);
/* The choice for this build's architecture. */
nnf_isa nnf__isa_choose(const nnf__cpu_features *f, nnf_isa cap, const char **why);

/* Space-separated names of the detected features ("avx2 fma f16c avx512f ..."), into
 * buf (truncated to size); returns buf. */
const char *nnf__cpu_features_str(const nnf__cpu_features *f, char *buf, size_t size);

#endif
