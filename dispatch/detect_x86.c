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
}
