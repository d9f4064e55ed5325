/* The thread count: nnf_set_num_threads, NNF_NUM_THREADS, OMP_NUM_THREADS, the cores
 * the process may use (nnf/threads.h gives the order). */
#include "nnf/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "nnf/nnf.h"
#include "src/core/error.h"
#include "src/core/log.h"
#include "src/runtime/cores.h"
#include "src/runtime/pool.h"
#include "src/runtime/threads.h"

enum { MAX_THREADS = 1024 };

static atomic_int count;   /* resolved, >= 1 once `once` has run */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A count from an environment variable: a decimal in [0, MAX_THREADS], followed by the
 * end or, where `list` allows (OMP_NUM_THREADS="4,2" for nested levels), a comma. */
static int parse_count(const char *s, int list, int *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (v < 0 || v > MAX_THREADS || !(*end == '\0' || (list && *end == ',')))
        return 0;
    *out = (int)v;
    return 1;
}

/* An invalid NNF_NUM_THREADS counts as unset (and says so); OMP_NUM_THREADS=0 is
 * invalid in OpenMP. */
static void resolve(void)
{
    const char *env = getenv("NNF_NUM_THREADS");
    const char *from = "the cores this process may use";
    int n = 0;
    if (parse_count(env, 0, &n)) {
        if (n > 0)
            from = "NNF_NUM_THREADS";
    } else {
        if (env != NULL && env[0] != '\0')
            nnf__log(NNF_LOG_WARNING, "NNF_NUM_THREADS=%s is not a count from 0 to %d; "
                     "ignored", env, MAX_THREADS);
        if (parse_count(getenv("OMP_NUM_THREADS"), 1, &n) && n > 0)
            from = "OMP_NUM_THREADS";
        else
            n = 0;
    }
    int threads = n > 0 ? n : nnf__cores_available();
    atomic_store(&count, threads);
    nnf__log(NNF_LOG_INFO, "threads: %d (%s)", threads, from);
}

void nnf__threads_reread_env(void)
{
    pthread_once(&once, resolve);
    resolve();
    nnf__pool_resize(atomic_load(&count));
}

nnf_status nnf_set_num_threads(int n)
{
    NNF_PUBLIC("nnf_set_num_threads");
    NNF_RETURN_IF(n < 0 || n > MAX_THREADS, NNF_ERR_INVALID,
                  "n must be between 0 and %d, got %d", MAX_THREADS, n);
    pthread_once(&once, resolve);
    int threads = n > 0 ? n : nnf__cores_available();
    atomic_store(&count, threads);
    nnf__pool_resize(threads);
    return NNF_OK;
}

int nnf_get_num_threads(void)
{
    pthread_once(&once, resolve);
    return atomic_load_explicit(&count, memory_order_relaxed);
}

int nnf_num_threads(void)
{
    return nnf_get_num_threads();
}

/* Weak: resolves to libgomp's when the application uses OpenMP, else stays NULL. */
extern int omp_in_parallel(void) __attribute__((weak));

int nnf__threads_for_call(void)
{
    if (nnf__pool_in_job())
        return 1;
    if (omp_in_parallel != NULL && omp_in_parallel())
        return 1;
    return nnf_get_num_threads();
}
