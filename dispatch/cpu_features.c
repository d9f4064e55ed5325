/* Names for the feature bits, for NNF_VERBOSE and nnf-info. Bit positions are from the
 * Intel SDM (CPUID leaves 1 and 7) and Linux's arch/arm64 hwcap.h. */
#include "dispatch/cpu_features.h"

#include <stdio.h>

typedef struct {
    int word;   /* index into the words array below */
    int bit;
    const char *name;
} feature_bit;

#if defined(__aarch64__)
static const feature_bit arm_bits[] = {
    {0, 0, "fp"}, {0, 1, "asimd"}, {0, 3, "aes"}, {0, 4, "pmull"}, {0, 5, "sha1"},
    {0, 6, "sha2"}, {0, 7, "crc32"}, {0, 8, "atomics"}, {0, 9, "fphp"}, {0, 10, "asimdhp"},
    {0, 12, "asimdrdm"}, {0, 14, "fcma"}, {0, 20, "asimddp"}, {0, 23, "asimdfhm"},
    {0, 22, "sve"}, {1, 1, "sve2"}, {1, 13, "i8mm"}, {1, 14, "bf16"},
};
#else
static const feature_bit x86_bits[] = {
    {1, 26, "sse2"}, {0, 0, "sse3"}, {0, 9, "ssse3"}, {0, 19, "sse4.1"}, {0, 20, "sse4.2"},
    {0, 27, "osxsave"}, {0, 28, "avx"}, {0, 12, "fma"}, {0, 29, "f16c"},
    {2, 3, "bmi1"}, {2, 5, "avx2"}, {2, 8, "bmi2"},
    {2, 16, "avx512f"}, {2, 17, "avx512dq"}, {2, 28, "avx512cd"}, {2, 30, "avx512bw"},
    {2, 31, "avx512vl"}, {2, 21, "avx512ifma"}, {3, 1, "avx512vbmi"}, {3, 6, "avx512vbmi2"},
    {3, 11, "avx512vnni"}, {3, 12, "avx512bitalg"}, {3, 14, "avx512vpopcntdq"},
    {5, 5, "avx512bf16"}, {4, 23, "avx512fp16"}, {5, 4, "avxvnni"},
    {4, 24, "amx-tile"}, {4, 22, "amx-bf16"}, {4, 25, "amx-int8"},
};
#endif


static const char *list(const feature_bit *bits, size_t n, const uint64_t *words, char *buf,
                        size_t size)
{
    size_t used = 0;
    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!((words[bits[i].word] >> bits[i].bit) & 1))
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", bits[i].name);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

const char *nnf__cpu_features_str(const nnf__cpu_features *f, char *buf, size_t size)
{
#if defined(__aarch64__)
    const uint64_t words[] = {f->arm.hwcap, f->arm.hwcap2};
    return list(arm_bits, sizeof arm_bits / sizeof arm_bits[0], words, buf, size);
#else
    const nnf__x86_cpuid *r = &f->x86;
    const uint64_t words[] = {r->leaf1_ecx, r->leaf1_edx, r->leaf7_ebx, r->leaf7_ecx,
                              r->leaf7_edx, r->leaf7_1_eax};
    return list(x86_bits, sizeof x86_bits / sizeof x86_bits[0], words, buf, size);
#endif
}
