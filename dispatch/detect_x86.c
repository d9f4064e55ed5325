/* The only code that executes CPUID and XGETBV. Compiled at the x86-64 baseline. */
#include "dispatch/cpu_features.h"

#include <cpuid.h>
#include <string.h>

/* XGETBV by its encoding: the xgetbv mnemonic and _xgetbv need -mxsave, which the
 * baseline build must not assume. Only executed when CPUID says OSXSAVE. */
static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Subleaves of a cache leaf (4 or 0x8000001D) up to the first of type 0. */
static void read_cache_leaf(unsigned leaf, uint32_t out[NNF__CACHE_SUBLEAVES][3])
{
    unsigned a, b, c, d;
    for (unsigned i = 0; i < NNF__CACHE_SUBLEAVES; i++) {
        __cpuid_count(leaf, i, a, b, c, d);
        if ((a & 0x1f) == 0)
            return;
        out[i][0] = a;
        out[i][1] = b;
        out[i][2] = c;
    }
}

void nnf__cpu_detect(nnf__cpu_features *f)
{
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    nnf__x86_cpuid *r = &f->x86;
    __cpuid(0, a, b, c, d);
    r->max_leaf = a;
    if (r->max_leaf >= 1) {
        __cpuid(1, a, b, c, d);
        r->leaf1_ecx = c;
        r->leaf1_edx = d;
    }
    if (r->max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        r->leaf7_ebx = b;
        r->leaf7_ecx = c;
        r->leaf7_edx = d;
        if (a >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            r->leaf7_1_eax = a;
        }
    }
    if (r->leaf1_ecx & (1u << 27))
        r->xcr0 = read_xcr0();
    if (r->max_leaf >= 4)
        read_cache_leaf(4, r->leaf4);
    __cpuid(0x80000000, a, b, c, d);
    r->max_ext_leaf = a;
    if (r->max_ext_leaf >= 0x8000001d)
        read_cache_leaf(0x8000001d, r->leaf8000001d);
    if (r->max_ext_leaf >= 0x80000006) {
        __cpuid(0x80000005, a, b, c, d);
        r->leaf80000005_ecx = c;
        __cpuid(0x80000006, a, b, c, d);
        r->leaf80000006_ecx = c;
        r->leaf80000006_edx = d;
    }
    nnf__os_caches_detect(&f->os);
}
