/* The cores a process may use: its affinity mask (taskset, cpusets, container CPU
 * pinning) and its cgroup CPU quota (docker --cpus, Kubernetes CPU limits), whichever is
 * tighter. A quota of 1.5 cores counts as 2: the scheduler lets the process run on two
 * cores at once for 75% of each period, and nnf's items spread over whatever it gets. */
#include "src/runtime/cores.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PATH_MAX_LEN = 4096 };

/* Reads a small file into buf (NUL-terminated); 0 if it cannot. */
static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

static int ceil_div(long long q, long long p)
{
    long long c = (q + p - 1) / p;
    return c < 1 ? 1 : c > 1 << 20 ? 1 << 20 : (int)c;
}

static int limit_v2(const char *dir)
{
    char path[PATH_MAX_LEN + 16], text[128];
    snprintf(path, sizeof path, "%s/cpu.max", dir);
    long long q, p;
    if (!read_text(path, text, sizeof text) || sscanf(text, "%lld %lld", &q, &p) != 2 ||
        q <= 0 || p <= 0)
        return 0;   /* "max 100000" does not scan as two numbers */
    return ceil_div(q, p);
}

static int limit_v1(const char *dir)
{
    char path[PATH_MAX_LEN + 32], text[64];
    long long q, p;
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
    if (!read_text(path, text, sizeof text) || sscanf(text, "%lld", &q) != 1 || q <= 0)
        return 0;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
    if (!read_text(path, text, sizeof text) || sscanf(text, "%lld", &p) != 1 || p <= 0)
        return 0;
    return ceil_div(q, p);
}

static int tighter(int a, int b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* The tightest limit from `base` + `path` up to `base` itself: a cgroup is bound by its
 * ancestors' quotas, and inside a container the listed path may not exist below the
 * container's own mount, whose root is then the cgroup that matters. */
static int walk_up(const char *base, const char *path, int (*limit)(const char *))
{
    char dir[PATH_MAX_LEN];
    if ((size_t)snprintf(dir, sizeof dir, "%s%s", base, path) >= sizeof dir)
        return 0;
    size_t keep = strlen(base);
    int best = 0;
    for (;;) {
        size_t len = strlen(dir);
        while (len > keep && dir[len - 1] == '/')
            dir[--len] = '\0';
        best = tighter(best, limit(dir));
        char *slash = strrchr(dir, '/');
        if (len <= keep || slash == NULL || (size_t)(slash - dir) < keep)
            return best;
        *slash = '\0';
    }
}

/* 1 if the comma-separated controller list names "cpu". */
static int lists_cpu(const char *list, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && list[j] != ',')
            j++;
        if (j - i == 3 && memcmp(list + i, "cpu", 3) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

int nnf__cgroup_cpu_limit(const char *proc_self_cgroup, const char *root)
{
    static const char *const v1_mounts[] = {"cpu,cpuacct", "cpu", "cpuacct,cpu"};
    int best = 0;
    for (const char *line = proc_self_cgroup; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        /* "hierarchy-id:controllers:path" */
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2 != NULL) {
            char path[PATH_MAX_LEN];
            size_t plen = len - (size_t)(c2 + 1 - line);
            if (plen < sizeof path) {
                memcpy(path, c2 + 1, plen);
                path[plen] = '\0';
                char base[PATH_MAX_LEN];
                if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
                    best = tighter(best, walk_up(root, path, limit_v2));
                } else if (lists_cpu(c1 + 1, (size_t)(c2 - c1 - 1))) {
                    for (size_t m = 0; m < sizeof v1_mounts / sizeof *v1_mounts; m++) {
                        snprintf(base, sizeof base, "%s/%s", root, v1_mounts[m]);
                        best = tighter(best, walk_up(base, path, limit_v1));
                    }
                }
            }
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return best;
}

/* CPUs in the affinity mask, with a mask sized for machines beyond CPU_SETSIZE. */
static int affinity_count(void)
{
    for (int ncpu = 1024; ncpu <= 1 << 16; ncpu *= 4) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        if (set == NULL)
            break;
        size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
        int n = sched_getaffinity(0, size, set) == 0 ? CPU_COUNT_S(size, set) : 0;
        CPU_FREE(set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int nnf__cores_available(void)
{
    int cores = affinity_count();
    char text[8192];
    if (read_text("/proc/self/cgroup", text, sizeof text)) {
        int quota = nnf__cgroup_cpu_limit(text, "/sys/fs/cgroup");
        if (quota > 0 && quota < cores)
            cores = quota;
    }
    return cores;
}
