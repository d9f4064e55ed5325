/* Why nnf has its own pool (src/runtime/pool.c): the same work run by nnf's pool and by
 * an OpenMP region (libgomp, the caller's settings: OMP_WAIT_POLICY as in the
 * environment), with and without a busy-loop process at this process's priority.
 *
 *   start      an empty job / region of 2 threads, 200 us after the previous one
 *   items      200 items of ~10 us of arithmetic, claimed from an atomic counter: by
 *              the calling thread alone, by an OpenMP region of 2 threads (no barrier
 *              but the region's end), and by nnf's pool with 2 threads
 *
 *     build/native/bench/bench_pool [rounds]
 *
 * Prints medians and 90th percentiles in microseconds; rounds (default 10) alternate
 * the quiet and loaded rows, 20 calls of each kind per round, kinds interleaved. */
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnf/nnf.h"
#include "src/runtime/pool.h"

enum { ITEMS = 200, ITEM_STEPS = 4000, CALLS = 20, KINDS = 5, MAX_ROUNDS = 50 };

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static volatile double sink;

static void work(void)
{
    double x = 1.0;
    for (int i = 0; i < ITEM_STEPS; i++)
        x = x * 1.0000001 + 1e-9;
    sink = x;
}

static void nothing(void *ctx, int64_t item, int participant)
{
    (void)ctx, (void)item, (void)participant;
}

static void one_item(void *ctx, int64_t item, int participant)
{
    (void)ctx, (void)item, (void)participant;
    work();
}

static atomic_long next_item;

static void run_kind(int kind)
{
    switch (kind) {
    case 0:   /* start: pool */
        nnf__parallel_for(2, 2, nothing, NULL);
        break;
    case 1:   /* start: OpenMP */
#pragma omp parallel num_threads(2)
        sink = sink + 0.0;
        break;
    case 2:   /* items: one thread */
        for (int i = 0; i < ITEMS; i++)
            work();
        break;
    case 3:   /* items: OpenMP, atomic counter */
        atomic_store(&next_item, 0);
#pragma omp parallel num_threads(2)
        while (atomic_fetch_add(&next_item, 1) < ITEMS)
            work();
        break;
    case 4:   /* items: pool */
        nnf__parallel_for(2, ITEMS, one_item, NULL);
        break;
    }
}

static const char *const kind_names[KINDS] = {
    "start: nnf pool", "start: OpenMP region", "200 items: 1 thread",
    "200 items: OpenMP, counter", "200 items: nnf pool"};

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double t[2][KINDS][MAX_ROUNDS * CALLS];

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    rounds = rounds < 1 ? 1 : rounds > MAX_ROUNDS ? MAX_ROUNDS : rounds;
    if (nnf_set_num_threads(2) != NNF_OK)
        return 1;
    errno = 0;
    int own = getpriority(PRIO_PROCESS, 0);
    for (int r = 0; r < rounds; r++) {
        for (int loaded = 0; loaded < 2; loaded++) {
            pid_t busy = 0;
            if (loaded && (busy = fork()) == 0) {
                setpriority(PRIO_PROCESS, 0, errno == 0 ? own : 0);
                for (;;)
                    sink = sink + 1.0;
            }
            struct timespec settle = {0, 20000000};
            nanosleep(&settle, NULL);
            for (int c = 0; c < CALLS; c++)
                for (int k = 0; k < KINDS; k++) {
                    int kind = (k + c) % KINDS;
                    struct timespec idle = {0, 200000};
                    nanosleep(&idle, NULL);
                    double t0 = now_us();
                    run_kind(kind);
                    t[loaded][kind][r * CALLS + c] = now_us() - t0;
                }
            if (busy > 0) {
                kill(busy, SIGKILL);
                waitpid(busy, NULL, 0);
            }
        }
    }
    int n = rounds * CALLS;
    printf("us per call, median [90th percentile], %d calls each; OMP_WAIT_POLICY=%s\n", n,
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)");
    printf("| | quiet | a busy loop at the same priority |\n|---|---|---|\n");
    for (int k = 0; k < KINDS; k++) {
        printf("| %s |", kind_names[k]);
        for (int loaded = 0; loaded < 2; loaded++) {
            qsort(t[loaded][k], (size_t)n, sizeof(double), cmp);
            printf(" %.1f [%.1f] |", t[loaded][k][n / 2], t[loaded][k][n * 9 / 10]);
        }
        printf("\n");
    }
    return 0;
}
