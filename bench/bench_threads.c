/* Where a threaded product's time goes, per thread (the pool's trace hook,
 * nnf__runtime_trace): the packed sgemm path's items by kind (B packing, the compute items
 * that pack their A panel, the other compute items), the waits (every unclaimed item
 * blocked on running ones; the caller's wait for the last running items), the time from
 * the job's start to a participant's first claim, and what is left of its wall time
 * (claiming, and a worker's time after it found nothing left). Wall times on a shared
 * machine mix in other programs; item times show it too (a descheduled item is long), so
 * medians of item times say whether the threads slowed each other down (caches, memory)
 * and the per-thread sums say where the wall time went.
 *
 *     build/native/bench/bench_threads [rounds [load [product... | step [a b c d]]]]
 *     chrt -f 20 build/native/bench/bench_threads 21 quiet 0 1 2
 *     build/native/bench/bench_threads 21 nice19 step
 *
 * `step` traces the whole big-MLP training step (bench/train_net.h's "mlp") job by job
 * instead: each job's wall time at 2 threads beside the same job run by the caller alone
 * (2 threads' items, no worker: so every job compares with itself), the caller's time
 * between jobs (ops below their thresholds), the participants' CPU time in the job, the
 * time the caller waited, when the worker and the caller made their first claim (a
 * worker asleep since the last job must be woken: the caller's futex wake and the
 * worker's start), and involuntary context switches per step. With a b c d, the 2-thread
 * step runs with idle workers spinning a-b us and c-d us (pool.c's least and most),
 * interleaved and paired, for sizing the workers' spin.
 *
 * load: quiet (default), nice19 or normal: a busy-loop process of this benchmark's own at
 * nice 19 or at its priority, running through the rounds. Products by their number in
 * bench/big_products.h (default all). Rounds alternate 1 and 2 threads. On a machine
 * others use, SCHED_FIFO (chrt) keeps them off the cores while it runs: the nearest to
 * a quiet machine there is. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/big_products.h"
#include "nnf/nnf.h"
#include "src/linalg/sgemm_packed.h"
#include "src/runtime/pool.h"

enum { MAX_ROUNDS = 201, MAX_PART = 2, KINDS = 4, EVENTS = 1 << 18 };
enum { K_PACK_B, K_COMPUTE_A, K_COMPUTE, K_OTHER };
static const char *const kind_names[KINDS] = {"pack B", "comp+A", "compute", "item"};

/* One call's figures, ns: per participant, items by kind and the rest. */
typedef struct {
    double wall, jobs;
    double items[MAX_PART][KINDS], count[MAX_PART][KINDS];
    double joined[MAX_PART], blocked[MAX_PART], end[MAX_PART], rest[MAX_PART];
    double part[MAX_PART], cpu[MAX_PART];   /* first claim to leaving: wall, CPU time */
} call;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[(n - 1) / 2];
}

static int kind_of(const nnf__trace *t, int job, int64_t item)
{
    if (!t->has_plan[job])
        return K_OTHER;
    nnf__sgemm_plan plan;
    memcpy(&plan, t->plans[job], sizeof plan);
    nnf__sgemm_item it = nnf__sgemm_plan_item(&plan, item);
    if (it.kind == NNF__SGEMM_ITEM_PACK_B)
        return K_PACK_B;
    return it.jc == 0 && it.ch == 0 ? K_COMPUTE_A : K_COMPUTE;
}

static nnf__trace trace;
static nnf__trace_event events[EVENTS];
/* Item durations (us) by thread count and kind, over every round. */
static double *durations[MAX_PART][KINDS];
static int ndur[MAX_PART][KINDS], capdur[MAX_PART][KINDS];

static int add_duration(int threads, int k, double us)
{
    int *n = &ndur[threads - 1][k], *cap = &capdur[threads - 1][k];
    if (*n == *cap) {
        double *grown = realloc(durations[threads - 1][k],
                                (size_t)(*cap ? 2 * *cap : 4096) * sizeof(double));
        if (grown == NULL)
            return 0;
        durations[threads - 1][k] = grown;
        *cap = *cap ? 2 * *cap : 4096;
    }
    durations[threads - 1][k][(*n)++] = us;
    return 1;
}

static int run(const product *p, const float *a, const float *b, float *c, int threads, call *out)
{
    size_t lda = p->ta == NNF_NO_TRANS ? p->k : p->m;
    size_t ldb = p->tb == NNF_NO_TRANS ? p->n : p->k;
    if (nnf_set_num_threads(threads) != NNF_OK)
        return 0;
    /* nnf_set_num_threads(1) stops the worker and the next call at 2 threads starts it
     * again: 0.1-0.2 ms before the first job (3 us when the count stays), 1.5% of 1024^3
     * on 2 threads. A small product first, so the traced call times the threads' work,
     * not their creation. */
    static float warm_in[160 * 160], warm_out[160 * 160];
    if (nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 160, 160, 160, 1.0f, warm_in, 160, warm_in, 160,
                  0.0f, warm_out, 160) != NNF_OK)
        return 0;
    trace.events = events;
    trace.cap = EVENTS;
    nnf__runtime_trace(&trace);
    uint64_t t0 = now_ns();
    nnf_status st = nnf_sgemm(p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, lda, b, ldb, 0.0f, c,
                              p->n);
    uint64_t t1 = now_ns();
    nnf__runtime_trace(NULL);
    if (st != NNF_OK || atomic_load(&trace.n) > EVENTS)
        return 0;
    memset(out, 0, sizeof *out);
    out->wall = (double)(t1 - t0);
    out->jobs = atomic_load(&trace.jobs);
    uint64_t last[MAX_PART] = {0};
    for (int64_t e = 0; e < atomic_load(&trace.n); e++) {
        const nnf__trace_event *ev = &events[e];
        int q = ev->participant;
        if (q >= MAX_PART)
            return 0;
        double d = (double)(ev->t1 - ev->t0);
        last[q] = ev->t1 > last[q] ? ev->t1 : last[q];
        switch (ev->what) {
        case NNF__TRACE_ITEM: {
            int k = kind_of(&trace, ev->job, ev->item);
            out->items[q][k] += d;
            out->count[q][k] += 1;
            if (!add_duration(threads, k, d * 1e-3))
                return 0;
            break;
        }
        case NNF__TRACE_BLOCKED:
            out->blocked[q] += d;
            break;
        case NNF__TRACE_END:
            out->end[q] += d;
            break;
        case NNF__TRACE_JOINED:
            out->joined[q] += d;
            break;
        case NNF__TRACE_TOOK_PART:
            out->part[q] += d;
            out->cpu[q] += (double)ev->item;
            break;
        }
    }
    for (int q = 0; q < threads; q++) {
        double used = out->joined[q] + out->blocked[q] + out->end[q];
        for (int k = 0; k < KINDS; k++)
            used += out->items[q][k];
        out->rest[q] = out->wall - used;
    }
    return 1;
}

/* A cache line's round trip between CPUs 0 and 1 (ns, median of 5 runs of 20000): how
 * far apart the two cores are, which decides what sharing data between threads costs
 * (a VM's vCPUs may sit on one L3 or on two, and may move). */
static _Alignas(64) atomic_int ball;
static atomic_int give_up;
enum { TRIPS = 20000 };

static void *return_ball(void *arg)
{
    (void)arg;
    for (int i = 0; i < TRIPS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1)
            if (atomic_load_explicit(&give_up, memory_order_relaxed))
                return NULL;
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double round_trip_ns(void)
{
    double t[5];
    cpu_set_t own, c0, c1;
    if (sched_getaffinity(0, sizeof own, &own) != 0 || !CPU_ISSET(0, &own) ||
        !CPU_ISSET(1, &own))
        return 0;
    CPU_ZERO(&c0);
    CPU_SET(0, &c0);
    CPU_ZERO(&c1);
    CPU_SET(1, &c1);
    for (int r = 0; r < 5; r++) {
        pthread_attr_t attr;
        pthread_t other;
        pthread_attr_init(&attr);
        pthread_attr_setaffinity_np(&attr, sizeof c1, &c1);
        sched_setaffinity(0, sizeof c0, &c0);
        atomic_store(&ball, 0);
        if (pthread_create(&other, &attr, return_ball, NULL) != 0)
            return 0;
        /* Bounded: under SCHED_FIFO another real-time task may hold CPU 1. */
        uint64_t t0 = now_ns();
        for (int i = 0; i < TRIPS && !atomic_load(&give_up); i++) {
            atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
            for (long spin = 0; atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2;)
                if (++spin % 65536 == 0 && now_ns() - t0 > 1000000000u) {
                    atomic_store(&give_up, 1);
                    break;
                }
        }
        t[r] = (double)(now_ns() - t0) / TRIPS;
        pthread_join(other, NULL);
        if (atomic_load(&give_up)) {
            sched_setaffinity(0, sizeof own, &own);
            return 0;
        }
        pthread_attr_destroy(&attr);
    }
    sched_setaffinity(0, sizeof own, &own);
    return median(t, 5);
}

static call calls[2][MAX_ROUNDS];
static int rounds;

/* The median over rounds of a figure of the calls at `threads` (a field's offset in
 * `call`, as a double array index), or of the 1-thread wall over this one's. */
static double median_of(int threads, const double *field_of_call0, int ratio)
{
    static double v[MAX_ROUNDS];
    size_t at = (size_t)(field_of_call0 - (const double *)&calls[0][0]);
    for (int r = 0; r < rounds; r++) {
        const double *x = (const double *)&calls[threads - 1][r];
        v[r] = ratio ? calls[0][r].wall / x[at] : x[at];
    }
    return median(v, rounds);
}
#define MEDIAN_OF(threads, field) median_of(threads, &calls[0][0].field, 0)

/* ---- the big MLP training step, call by call ---- */

/* The step of bench/train_net.h's "mlp" (batch 4096, 784 -> 512 -> ReLU -> 10, softmax
 * cross-entropy, SGD), built here in C. */
typedef struct {
    nnf_model *m;
    nnf_tensor *x, *y;
    nnf_sgd *opt;
} mlp;

static int mlp_new(mlp *n)
{
    enum { N = 4096, IN = 784, HIDDEN = 512, OUT = 10 };
    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    nnf_loss *loss = NULL;
    nnf_layer *l1 = NULL, *act = NULL, *l2 = NULL;
    const int64_t xshape[2] = {N, IN}, yshape[1] = {N};
    if (nnf_loss_cross_entropy(&loss) != NNF_OK || nnf_model_new(&n->m, loss) != NNF_OK ||
        nnf_layer_linear(&l1, &rng, IN, HIDDEN, NNF_INIT_KAIMING) != NNF_OK ||
        nnf_model_add(n->m, l1) != NNF_OK || nnf_layer_relu(&act) != NNF_OK ||
        nnf_model_add(n->m, act) != NNF_OK ||
        nnf_layer_linear(&l2, &rng, HIDDEN, OUT, NNF_INIT_KAIMING) != NNF_OK ||
        nnf_model_add(n->m, l2) != NNF_OK ||
        nnf_rand(&n->x, NULL, 2, xshape) != NNF_OK ||
        nnf_empty_typed(&n->y, 1, yshape, NNF_I64) != NNF_OK)
        return 0;
    int64_t *labels = nnf_tensor_raw(n->y);
    for (int i = 0; i < N; i++)
        labels[i] = i * 7 % OUT;
    return nnf_sgd_new(&n->opt, nnf_model_num_parameters(n->m), nnf_model_parameters(n->m),
                       0.01f, 0.0f, 0.0f) == NNF_OK;
}

static int mlp_step(mlp *n)
{
    float v;
    if (nnf_model_call(n->m, &v, n->x, n->y) != NNF_OK)
        return 0;
    nnf_sgd_zero_grad(n->opt);
    return nnf_model_backward(n->m) == NNF_OK && nnf_sgd_step(n->opt) == NNF_OK;
}

/* Involuntary context switches of `who` (RUSAGE_THREAD or _SELF) so far. */
static double preempted(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return (double)u.ru_nivcsw;
}

/* The calling thread's sleeps (voluntary context switches) so far. */
static double slept(void)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return (double)u.ru_nvcsw;
}

static double cpu_s(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

/* Per step: wall, the caller's and the other threads' CPU time, involuntary context
 * switches; per job: its wall on the caller (start to the end of its wait), the delay to
 * the worker's first claim (-1: it took none) and to the caller's, the caller's time
 * before it (since the previous job ended), the participants' CPU time and waits, the
 * items each ran. ns. */
enum { J = NNF__TRACE_JOBS };
typedef struct {
    double wall, cpu_caller, cpu_others, jobs, preempted_caller, preempted_all, slept_caller;
    double back_late;   /* summed over the caller's final waits that slept */
    double job[J], joined[J], started[J], gap[J], cpu[J], waited[J], long_waits[J], ran[J][2];
    int64_t items[J];
} step_call;

/* variant 0: 1 thread; 1: 2 threads; 2: 2 threads' jobs, run by the caller alone (no
 * worker can be started), so that each job compares with itself on 2 threads; 3: 2
 * threads again. Variants 1 and 3 set the idle workers' spin bounds to spin_ns[variant]
 * unless they are negative (pool.c's spin_idle_ns, spin_idle_max_ns). */
static long spin_ns[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};

static int step_run(mlp *n, int variant, step_call *out)
{
    nnf__runtime_set_spin(-1, spin_ns[variant][0], spin_ns[variant][1]);
    if (variant == 2 && nnf_set_num_threads(1) != NNF_OK)
        return 0;
    nnf__runtime_fail_thread_create_after(variant == 2);
    if (nnf_set_num_threads(variant ? 2 : 1) != NNF_OK || !mlp_step(n))
        return 0;
    trace.events = events;
    trace.cap = EVENTS;
    nnf__runtime_trace(&trace);
    double v0 = preempted(RUSAGE_THREAD), a0 = preempted(RUSAGE_SELF), s0 = slept();
    double c0 = cpu_s(RUSAGE_THREAD), p0 = cpu_s(RUSAGE_SELF);
    uint64_t t0 = now_ns();
    int ok = mlp_step(n);
    uint64_t t1 = now_ns();
    double c1 = cpu_s(RUSAGE_THREAD), p1 = cpu_s(RUSAGE_SELF);
    double v1 = preempted(RUSAGE_THREAD), a1 = preempted(RUSAGE_SELF), s1 = slept();
    nnf__runtime_trace(NULL);
    nnf__runtime_fail_thread_create_after(0);
    if (!ok || atomic_load(&trace.n) > EVENTS)
        return 0;
    memset(out, 0, sizeof *out);
    out->wall = (double)(t1 - t0);
    out->cpu_caller = (c1 - c0) * 1e9;
    out->cpu_others = ((p1 - p0) - (c1 - c0)) * 1e9;
    out->preempted_caller = v1 - v0;
    out->preempted_all = a1 - a0;
    out->slept_caller = s1 - s0;
    int jobs = atomic_load(&trace.jobs);
    out->jobs = jobs;
    uint64_t start[J] = {0}, end[J] = {0}, last_item[J] = {0};
    for (int j = 0; j < NNF__TRACE_JOBS; j++)
        out->joined[j] = -1;
    for (int64_t e = 0; e < atomic_load(&trace.n); e++) {
        const nnf__trace_event *ev = &events[e];
        int j = ev->job;
        if (j >= NNF__TRACE_JOBS)
            continue;
        if (start[j] == 0 || ev->t0 < start[j])
            start[j] = ev->t0;
        if (ev->participant == 0 && ev->t1 > end[j])
            end[j] = ev->t1;
        if (ev->what == NNF__TRACE_JOINED)
            (ev->participant ? out->joined : out->started)[j] = (double)(ev->t1 - ev->t0);
        if (ev->what == NNF__TRACE_TOOK_PART)
            out->cpu[j] += (double)ev->item;
        if (ev->what == NNF__TRACE_BLOCKED || ev->what == NNF__TRACE_END)
            out->waited[j] += (double)(ev->t1 - ev->t0);
        /* Past the pool's 20 us spin the caller sleeps. */
        if ((ev->what == NNF__TRACE_BLOCKED || ev->what == NNF__TRACE_END) &&
            ev->participant == 0 && ev->t1 - ev->t0 > 20000)
            out->long_waits[j] += 1;
        if (ev->what == NNF__TRACE_ITEM)
            out->ran[j][ev->participant > 0] += 1;
        if (ev->what == NNF__TRACE_ITEM && ev->t1 > last_item[j])
            last_item[j] = ev->t1;
    }
    /* A caller that slept in its final wait (past the 20 us spin) runs again some time
     * after the last item ended: at once on an idle CPU, later if another task took it. */
    for (int64_t e = 0; e < atomic_load(&trace.n); e++) {
        const nnf__trace_event *ev = &events[e];
        if (ev->job < NNF__TRACE_JOBS && ev->what == NNF__TRACE_END &&
            ev->t1 - ev->t0 > 20000 && ev->t1 > last_item[ev->job])
            out->back_late += (double)(ev->t1 - last_item[ev->job]);
    }
    uint64_t prev = t0;
    for (int j = 0; j < jobs && j < NNF__TRACE_JOBS; j++) {
        out->job[j] = (double)(end[j] - start[j]);
        out->gap[j] = (double)start[j] - (double)prev;
        out->items[j] = trace.items[j];
        prev = end[j];
    }
    return 1;
}

static step_call step_calls[4][MAX_ROUNDS];

static double step_median(int variant, size_t offset_doubles)
{
    static double v[MAX_ROUNDS];
    int k = 0;
    for (int r = 0; r < rounds; r++) {
        double x = ((const double *)&step_calls[variant][r])[offset_doubles];
        if (x >= 0)
            v[k++] = x;
    }
    return k ? median(v, k) : -1;
}
static double step_mean(int variant, size_t offset_doubles)
{
    double sum = 0;
    for (int r = 0; r < rounds; r++)
        sum += ((const double *)&step_calls[variant][r])[offset_doubles];
    return sum / rounds;
}
#define STEP_AT(field) (offsetof(step_call, field) / sizeof(double))

/* One variant's jobs, beside the alone variant's. */
static void print_jobs(int v)
{
    printf("  job  items    alone   2 thr  ratio  gap-al  gap-2  CPU-2  waited joined(us) "
           "caller-start(us) items 0/1, caller's waits > 20 us (mean)\n");
    double sum[4] = {0};
    int jobs = (int)step_median(v, STEP_AT(jobs));
    for (int j = 0; j < jobs && j < NNF__TRACE_JOBS; j++) {
        double a = step_median(2, STEP_AT(job) + (size_t)j);
        double b = step_median(v, STEP_AT(job) + (size_t)j);
        double ga = step_median(2, STEP_AT(gap) + (size_t)j);
        double g2 = step_median(v, STEP_AT(gap) + (size_t)j);
        sum[0] += a, sum[1] += b, sum[2] += ga, sum[3] += g2;
        printf("  %3d %6lld %8.3f %7.3f %5.2f %7.3f %6.3f %6.3f %6.3f %8.1f %8.1f  %.0f/%.0f %.2f\n",
               j, (long long)step_calls[v][0].items[j], a * 1e-6, b * 1e-6, a / b, ga * 1e-6,
               g2 * 1e-6, step_median(v, STEP_AT(cpu) + (size_t)j) * 1e-6,
               step_median(v, STEP_AT(waited) + (size_t)j) * 1e-6,
               step_median(v, STEP_AT(joined) + (size_t)j) * 1e-3,
               step_median(v, STEP_AT(started) + (size_t)j) * 1e-3,
               step_median(v, STEP_AT(ran) + 2 * (size_t)j),
               step_median(v, STEP_AT(ran) + 2 * (size_t)j + 1), step_mean(v, STEP_AT(long_waits) + (size_t)j));
    }
    printf("  sums of medians: jobs %.3f -> %.3f, gaps %.3f -> %.3f\n", sum[0] * 1e-6,
           sum[1] * 1e-6, sum[2] * 1e-6, sum[3] * 1e-6);
}

/* The median over rounds of variant a's step wall over variant b's in the same round. */
static double paired_ratio(int a, int b)
{
    static double v[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        v[r] = step_calls[a][r].wall / step_calls[b][r].wall;
    return median(v, rounds);
}

/* variants: 4 with a second 2-thread variant (spin_ns[1] against spin_ns[3]), else 3. */
static int trace_step(int variants)
{
    if (nnf_set_log_level(0) != NNF_OK)   /* variant 2's "could not start" warnings */
        return 0;
    mlp n = {0};
    if (!mlp_new(&n)) {
        fprintf(stderr, "%s\n", nnf_last_error());
        return 0;
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < variants; i++) {
            int v = r % 2 ? variants - 1 - i : i;
            if (!step_run(&n, v, &step_calls[v][r]))
                return 0;
        }
    printf("\nMLP step: wall 1 thread %.3f (CPU %.3f), 2 threads' jobs alone %.3f, 2 threads "
           "%.3f: %.2fx (paired %.2fx); CPU at 2 threads: caller %.3f, others %.3f; jobs %.0f\n",
           step_median(0, STEP_AT(wall)) * 1e-6, step_median(0, STEP_AT(cpu_caller)) * 1e-6,
           step_median(2, STEP_AT(wall)) * 1e-6, step_median(1, STEP_AT(wall)) * 1e-6,
           step_median(0, STEP_AT(wall)) / step_median(1, STEP_AT(wall)), paired_ratio(0, 1),
           step_median(1, STEP_AT(cpu_caller)) * 1e-6, step_median(1, STEP_AT(cpu_others)) * 1e-6,
           step_median(1, STEP_AT(jobs)));
    printf("  involuntary context switches per step (caller / all threads): 1 thread %.0f/%.0f, "
           "alone %.0f/%.0f, 2 threads %.0f/%.0f\n", step_median(0, STEP_AT(preempted_caller)),
           step_median(0, STEP_AT(preempted_all)), step_median(2, STEP_AT(preempted_caller)),
           step_median(2, STEP_AT(preempted_all)), step_median(1, STEP_AT(preempted_caller)),
           step_median(1, STEP_AT(preempted_all)));
    printf("  the caller's sleeps per step at 2 threads: %.0f; after final waits that slept, it "
           "ran again %.3f ms (mean per step) after the last item ended\n",
           step_median(1, STEP_AT(slept_caller)), step_mean(1, STEP_AT(back_late)) * 1e-6);
    print_jobs(1);
    if (variants == 4) {
        printf("\n2 threads, idle spin %ld-%ld us: %.3f (CPU: caller %.3f, others %.3f); over "
               "idle spin %ld-%ld us, paired: %.3fx the wall\n", spin_ns[3][0] / 1000,
               spin_ns[3][1] / 1000, step_median(3, STEP_AT(wall)) * 1e-6,
               step_median(3, STEP_AT(cpu_caller)) * 1e-6,
               step_median(3, STEP_AT(cpu_others)) * 1e-6, spin_ns[1][0] / 1000,
               spin_ns[1][1] / 1000, paired_ratio(3, 1));
        print_jobs(3);
    }
    return 1;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_threads [rounds (1-%d) [product (0-%d)...]]\n",
                MAX_ROUNDS, NPRODUCTS - 1);
        return 2;
    }
    const double trip = round_trip_ns();   /* before the load starts */
    const char *load = argc > 2 ? argv[2] : "quiet";
    int busy_nice;
    errno = 0;
    int own = getpriority(PRIO_PROCESS, 0);
    if (strcmp(load, "quiet") == 0) {
        busy_nice = INT32_MIN;
    } else if (strcmp(load, "nice19") == 0) {
        busy_nice = 19;
    } else if (strcmp(load, "normal") == 0) {
        busy_nice = errno == 0 ? own : 0;
    } else {
        fprintf(stderr, "load: quiet, nice19 or normal\n");
        return 2;
    }
    pid_t busy = 0;
    if (busy_nice != INT32_MIN && (busy = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* gone with the benchmark, however it ends */
        struct sched_param none = {0};
        sched_setscheduler(0, SCHED_OTHER, &none);   /* not the SCHED_FIFO of chrt */
        setpriority(PRIO_PROCESS, 0, busy_nice);
        for (volatile unsigned long x = 0;; x = x + 1)
            ;
    }
    if (argc > 3 && strcmp(argv[3], "step") == 0) {
        printf("ISA %s, %d rounds, load %s; medians over rounds, ms; a cache line's round "
               "trip between CPUs 0 and 1: %.0f ns\n", nnf_isa_name(nnf_isa_active()), rounds,
               load, trip);
        for (int i = 0; argc > 7 && i < 4; i++)
            spin_ns[i < 2 ? 1 : 3][i % 2] = atol(argv[4 + i]) * 1000;
        int ok = trace_step(argc > 7 ? 4 : 3);
        if (busy > 0) {
            kill(busy, SIGKILL);
            waitpid(busy, NULL, 0);
        }
        return ok ? 0 : 1;
    }
    int chosen[NPRODUCTS], nchosen = 0;
    for (int i = 3; i < argc && nchosen < NPRODUCTS; i++)
        chosen[nchosen++] = atoi(argv[i]) % NPRODUCTS;
    if (nchosen == 0)
        for (; nchosen < NPRODUCTS; nchosen++)
            chosen[nchosen] = nchosen;
    printf("ISA %s, %d rounds, load %s; medians over rounds, ms (item times: us); a cache "
           "line's round trip between CPUs 0 and 1: %.0f ns\n",
           nnf_isa_name(nnf_isa_active()), rounds, load, trip);
    for (int s = 0; s < nchosen; s++) {
        const product *p = &products[chosen[s]];
        float *a = malloc(p->m * p->k * sizeof *a), *b = malloc(p->k * p->n * sizeof *b);
        float *c = malloc(p->m * p->n * sizeof *c);
        if (a == NULL || b == NULL || c == NULL)
            return 1;
        for (size_t i = 0; i < p->m * p->k; i++)
            a[i] = (float)(i * 7919 % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < p->k * p->n; i++)
            b[i] = (float)(i * 104729 % 1000) / 1000.0f - 0.5f;
        memset(ndur, 0, sizeof ndur);
        call warm;
        run(p, a, b, c, 1, &warm);
        run(p, a, b, c, 2, &warm);
        memset(ndur, 0, sizeof ndur);
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < 2; i++) {
                int threads = r % 2 ? 2 - i : 1 + i;
                if (!run(p, a, b, c, threads, &calls[threads - 1][r]))
                    return 1;
            }
        double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
        double w1 = MEDIAN_OF(1, wall), w2 = MEDIAN_OF(2, wall);
        printf("\n%s: %.0f jobs at 2 threads; wall 1 thread %.3f (%.0f GFLOPS), 2 threads "
               "%.3f (%.0f GFLOPS), %.2fx (median of per-round ratios %.2fx)\n",
               p->name, MEDIAN_OF(2, jobs), w1 * 1e-6, flops / w1, w2 * 1e-6, flops / w2,
               w1 / w2, median_of(2, &calls[0][0].wall, 1));
        if (trace.has_plan[0]) {
            nnf__sgemm_plan pl;
            memcpy(&pl, trace.plans[0], sizeof pl);
            printf("  first job: %lld items; A blocks %lld of %lld rows, %lld levels, B blocks "
                   "%lld of %lld columns in %lld pack items, %lld row panels x %lld chunks of "
                   "%lld columns\n", (long long)pl.items, (long long)pl.nic,
                   (long long)pl.a_rows, (long long)pl.npc, (long long)pl.njc,
                   (long long)pl.b_cols, (long long)pl.nbp, (long long)pl.nq,
                   (long long)pl.nch, (long long)pl.cw);
        }
        printf("  %-14s", "");
        for (int k = 0; k < KINDS; k++)
            printf(" %9s", kind_names[k]);
        printf(" %9s %9s %9s %9s %7s\n", "joined", "blocked", "end wait", "rest", "on CPU");
        for (int threads = 1; threads <= 2; threads++)
            for (int q = 0; q < threads; q++) {
                printf("  %d thr, thr %d: ", threads, q);
                for (int k = 0; k < KINDS; k++)
                    printf(" %9.3f", MEDIAN_OF(threads, items[q][k]) * 1e-6);
                printf(" %9.3f %9.3f %9.3f %9.3f", MEDIAN_OF(threads, joined[q]) * 1e-6,
                       MEDIAN_OF(threads, blocked[q]) * 1e-6,
                       MEDIAN_OF(threads, end[q]) * 1e-6,
                       MEDIAN_OF(threads, rest[q]) * 1e-6);
                printf(" %6.1f%%\n", 100 * MEDIAN_OF(threads, cpu[q]) /
                                          MEDIAN_OF(threads, part[q]));
            }
        printf("  items per call at 2 threads, thread 0 / 1:");
        for (int k = 0; k < KINDS; k++)
            printf(" %s %.0f/%.0f", kind_names[k], MEDIAN_OF(2, count[0][k]),
                   MEDIAN_OF(2, count[1][k]));
        printf("\n  item time, median [90th pct] us, 1 thread -> 2 threads:");
        for (int k = 0; k < KINDS; k++) {
            if (ndur[0][k] == 0)
                continue;
            double m1 = median(durations[0][k], ndur[0][k]);
            double p1 = durations[0][k][(ndur[0][k] - 1) * 9 / 10];
            double m2 = median(durations[1][k], ndur[1][k]);
            double p2 = ndur[1][k] ? durations[1][k][(ndur[1][k] - 1) * 9 / 10] : 0;
            printf(" %s %.2f [%.2f] -> %.2f [%.2f]", kind_names[k], m1, p1, m2, p2);
        }
        printf("\n");
        free(a);
        free(b);
        free(c);
    }
    if (busy > 0) {
        kill(busy, SIGKILL);
        waitpid(busy, NULL, 0);
    }
    return 0;
}
