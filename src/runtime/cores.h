/* How many cores the process may use (the default thread count). */
#ifndef NNF_RUNTIME_CORES_H
#define NNF_RUNTIME_CORES_H

/* CPUs in the process's affinity mask, capped by its cgroup CPU quota; at least 1. */
int nnf__cores_available(void);

/* The tightest cgroup CPU quota, in whole cores rounded up (0: no quota), over the
 * cgroups listed in `proc_self_cgroup` (the text of /proc/self/cgroup) and their
 * ancestors, read under `root` (normally "/sys/fs/cgroup"): cgroup v2 cpu.max
 * ("150000 100000" is 2 cores, "max 100000" none) and cgroup v1 cpu.cfs_quota_us /
 * cpu.cfs_period_us (-1: none) under the cpu controller's mount. */
int nnf__cgroup_cpu_limit(const char *proc_self_cgroup, const char *root);

#endif
