/* The caches as the OS describes them: the fallback where CPUID says nothing (aarch64
 * always; x86 VMs that hide the cache leaves). */
#include "dispatch/cpu_features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of dir/index<i>/<name>, without its newline; 0 if unreadable. */
static int index_file(const char *dir, int i, const char *name, char *line, int size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/index%d/%s", dir, i, name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    int ok = fgets(line, size, f) != NULL;
    fclose(f);
    if (!ok)
        line[0] = '\0';   /* an empty file: fgets left line as it was */
    line[strcspn(line, "\n")] = '\0';
    return ok;
}

/* "48K", "1024K", "32M": bytes; 0 if it does not parse. */
static uint64_t size_bytes(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t unit = *end == 'K' ? 1u << 10 : *end == 'M' ? 1u << 20 : *end == '\0' ? 1 : 0;
    return v > UINT64_MAX / ((uint64_t)1 << 20) ? 0 : (uint64_t)v * unit;
}

/* CPUs in a list such as "0-1,4-5" (4); 0 if it does not parse. */
static uint32_t cpu_count(const char *s)
{
    uint32_t n = 0;
    while (*s != '\0') {
        char *end;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end == s)
            return 0;
        if (*end == '-') {
            s = end + 1;
            hi = strtoul(s, &end, 10);
            if (end == s || hi < lo)
                return 0;
        }
        n += (uint32_t)(hi - lo + 1 > 1u << 20 ? 1u << 20 : hi - lo + 1);
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return 0;
    }
    return n;
}

void nnf__os_caches_read(nnf__os_caches *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 16; i++) {
        char level[16], type[32], size[32], shared[256];
        if (!index_file(dir, i, "level", level, sizeof level))
            break;
        if (!index_file(dir, i, "type", type, sizeof type) ||
            !index_file(dir, i, "size", size, sizeof size) || strcmp(type, "Instruction") == 0)
            continue;
        uint32_t sharing = index_file(dir, i, "shared_cpu_list", shared, sizeof shared)
                               ? cpu_count(shared) : 0;
        if (strcmp(level, "1") == 0) {
            c->l1d = size_bytes(size);
        } else if (strcmp(level, "2") == 0) {
            c->l2 = size_bytes(size);
            c->l2_sharing = sharing;
        } else if (strcmp(level, "3") == 0) {
            c->l3 = size_bytes(size);
            c->l3_sharing = sharing;
        }
    }
}

/* glibc's sysconf reads CPUID on x86 and reports 0 on most aarch64 systems: a
 * second source, for the levels sysfs left out. */
static uint64_t sysconf_bytes(int name)
{
    long v = sysconf(name);
    return v > 0 ? (uint64_t)v : 0;
}

void nnf__os_caches_detect(nnf__os_caches *c)
{
    nnf__os_caches_read(c, "/sys/devices/system/cpu/cpu0/cache");
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    if (c->l1d == 0)
        c->l1d = sysconf_bytes(_SC_LEVEL1_DCACHE_SIZE);
    if (c->l2 == 0)
        c->l2 = sysconf_bytes(_SC_LEVEL2_CACHE_SIZE);
    if (c->l3 == 0)
        c->l3 = sysconf_bytes(_SC_LEVEL3_CACHE_SIZE);
#endif
}
