/* nnf/threads.h — how many threads nnf's parallel calls use.
 *
 * Large products, elementwise ops and reductions split their work into small items
 * that the calling thread and nnf's own worker threads take as they come free, so a
 * thread that the operating system deschedules (a busy machine) does less of the work
 * instead of making the others wait. Results are the same bits for every thread count.
 *
 * The count is, in order of precedence: the last nnf_set_num_threads(n) with n > 0;
 * the environment variable NNF_NUM_THREADS (read once, at the first parallel call);
 * OMP_NUM_THREADS (its first number) when NNF_NUM_THREADS is unset; else every core
 * the process may use — its CPU affinity mask, capped by a cgroup CPU quota
 * (cgroup v2 cpu.max or v1 cpu.cfs_quota_us, rounded up to whole cores).
 * nnf never reads or changes the caller's OpenMP settings beyond that variable.
 *
 * A call made inside a caller's active OpenMP parallel region, or from inside one of
 * nnf's own parallel calls, runs on the calling thread alone. Calls from several
 * application threads at once share one pool of workers; each call gets correct
 * results and the same bits as alone.
 *
 * Workers are started at the first call that needs them, sleep without using CPU
 * when idle, and run each call with the caller's floating-point control state
 * (flush-to-zero, denormals-are-zero and rounding: MXCSR on x86, FPCR on aarch64).
 * If a worker cannot be created, calls run on fewer threads. In a child created
 * by fork(), nnf starts new workers when first needed.
 */
#ifndef NNF_THREADS_H
#define NNF_THREADS_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the thread count of later parallel calls, for every thread of the process:
 * n >= 1 threads, or 0 for every core the process may use (see above). The count
 * may exceed the number of cores (results stay the same bits; speed suffers).
 * NNF_ERR_INVALID, and no change, for n < 0 or n > 1024. */
NNF_API NNF_NODISCARD nnf_status nnf_set_num_threads(int n);

/* The thread count parallel calls use outside OpenMP regions, at least 1. */
NNF_API int nnf_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
