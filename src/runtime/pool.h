/* nnf's parallel runtime: a job is a numbered set of work items; the calling thread
 * and pool workers claim items as they come free. See pool.c for why it is built this
 * way and what it was measured against.
 *
 * The rules every op relies on:
 * - The caller always takes part and never waits for a worker that has not started:
 *   it waits only for items another thread has claimed and is running, and before it
 *   sleeps it lends its CPU to such a thread (pool.c, lend_cpu).
 * - An item's result must not depend on which thread runs it or on the thread count
 *   (so, e.g., k is never split in sgemm and reductions keep whole blocks).
 * - `ctx` is only read by the thread that claimed an item, while it runs it; a job
 *   with dependencies copies its `plan` into the pool, because ready() is called by
 *   threads that have not claimed anything yet, possibly after the call returned.
 */
#ifndef NNF_RUNTIME_POOL_H
#define NNF_RUNTIME_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Runs item `item`; `participant` is 0 for the caller and below the job's thread count
 * for workers, so it can index per-thread scratch. */
typedef void (*nnf__item_fn)(void *ctx, int64_t item, int participant);

/* Item states of a job with dependencies, read through nnf__item_done(). */
typedef _Atomic(unsigned char) nnf__item_state;
enum { NNF__ITEM_FREE, NNF__ITEM_CLAIMED, NNF__ITEM_DONE };

static inline int nnf__item_done(const nnf__item_state *states, int64_t item)
{
    return atomic_load_explicit(&states[item], memory_order_acquire) == NNF__ITEM_DONE;
}

/* 0 if unclaimed `item` may start now (every item it depends on is done); otherwise
 * the next index worth examining (> item), so a scan can skip a run of items that wait
 * for the same thing. Items may only depend on items with smaller indices; then the
 * smallest unclaimed item is always ready once everything claimed has finished. */
typedef int64_t (*nnf__ready_fn)(const void *plan, const nnf__item_state *states,
                                 int64_t item);

/* Optional beside ready(): 0 if `participant` (of `participants`) should take unclaimed
 * `item` before others' items, when the lowest unclaimed item is `lo`; otherwise the next
 * index worth examining for it (> item; >= the job's items: nothing more it prefers).
 * Preference keeps a thread on the data it touched before (its own caches) and never
 * makes anyone wait: a thread that finds no preferred item takes any ready one. */
typedef int64_t (*nnf__prefer_fn)(const void *plan, int64_t lo, int64_t item,
                                  int participant, int participants);

enum { NNF__JOB_PLAN_MAX = 256 };

/* Who claims, for a job with a prefer() (NULL: no preference). */
typedef struct nnf__claimer {
    nnf__prefer_fn prefer;
    int participant, participants;
} nnf__claimer;

/* Claims an unclaimed item at or after *lo_hint (below which every item is claimed; the
 * hint is advanced) that ready() accepts: the first that `who` prefers, else the first:
 * its index, NNF__CLAIM_NONE when every item is claimed, NNF__CLAIM_BLOCKED when the
 * unclaimed ones all wait for running items. The pool's scan, exposed for the
 * partitioning test's simulation. */
enum { NNF__CLAIM_NONE = -1, NNF__CLAIM_BLOCKED = -2 };
int64_t nnf__claim_ready(nnf__item_state *states, int64_t items, atomic_llong *lo_hint,
                         nnf__ready_fn ready, const void *plan, const nnf__claimer *who);

typedef struct nnf__job {
    int64_t items;
    nnf__item_fn run;
    void *ctx;
    nnf__ready_fn ready;      /* NULL: items are independent */
    const void *plan;         /* ready()'s argument, plan_size <= NNF__JOB_PLAN_MAX bytes */
    size_t plan_size;
    nnf__prefer_fn prefer;    /* NULL: no preference (only with ready) */
} nnf__job;

/* Whether this thread is running an nnf job's items (a worker, or a caller running
 * its job): nnf calls made there run on it alone (nnf__threads_for_call). */
int nnf__pool_in_job(void);

/* Runs every item of `job` on the calling thread and on up to threads - 1 workers;
 * returns when all are done. Items run in index order on one thread when threads <= 1,
 * when no worker can be had, or when all the pool's job slots are taken. */
void nnf__run(const nnf__job *job, int threads);

/* Shorthand for a job of independent items. */
void nnf__parallel_for(int threads, int64_t items, nnf__item_fn run, void *ctx);

/* Runs fn over [0, n) in ranges of `grain` (the last may be shorter) claimed as above;
 * on one thread, as the single range [0, n). */
typedef void (*nnf__range_fn)(void *ctx, int64_t begin, int64_t end, int participant);
void nnf__parallel_ranges(int threads, int64_t n, int64_t grain, nnf__range_fn fn, void *ctx);

/* Called by nnf_set_num_threads: stops workers beyond the new count. */
void nnf__pool_resize(int threads);

/* ---- Test and benchmark hooks ---- */

/* Stops and joins every worker (they are started again when needed) and frees what
 * the job slots keep between calls. Not to be called while another thread is inside
 * nnf, except by the unload hook at process exit (src/unload.c). */
void nnf__runtime_stop(void);
/* Workers alive now. */
int nnf__runtime_workers(void);
/* The CPU time the live workers have used, in seconds (their thread CPU clocks). */
double nnf__runtime_workers_cpu_seconds(void);
/* The nth worker creation from now (n >= 1) and every later one fail, as if
 * pthread_create had; 0 disables. Calls then run on the workers they have. */
void nnf__runtime_fail_thread_create_after(long n);
/* When on, the participants of a job each take one item before any takes a second
 * (as far as the items allow), so a test can see a real split; with it, every op's
 * size thresholds for threads drop to 0 and its items to their smallest size. */
void nnf__runtime_set_test_spread(int on);
int nnf__runtime_test_spread(void);
/* Participants (caller included) that ran at least one item of this thread's last
 * parallel job; 1 after a call that ran alone. */
int nnf__runtime_last_participants(void);
/* The most participants any parallel job had since the last reset (reset != 0: returns
 * that count and starts again from 1). */
int nnf__runtime_max_participants(int reset);
/* Reads NNF_NUM_THREADS and OMP_NUM_THREADS again, as at the first call (threads.c). */
void nnf__threads_reread_env(void);
/* The next item that `participant` (0: the caller) runs starts with a sleep of up to ns
 * that ends early when a caller lends a CPU (once; ns <= 0 disarms): a stand-in for a
 * thread descheduled inside an item. */
void nnf__runtime_set_test_stall(int participant, long ns);
/* Times a waiting caller has moved a worker still inside its job onto its own CPU
 * (pool.c, lend_cpu), since the process started. */
long nnf__runtime_lends(void);
/* Spin bounds, in ns, before a futex sleep: `wait` for a thread waiting on items in
 * progress; for a worker that found nothing to do, at least `idle` and at most
 * `idle_max` (sized from the gaps between its jobs, pool.c). Negative keeps a value. */
void nnf__runtime_set_spin(long wait_ns, long idle_ns, long idle_max_ns);

/* A trace of what each participant of the next jobs does, for bench_threads' per-thread
 * breakdown: every item run, every wait, with CLOCK_MONOTONIC times. Events past `cap`
 * are dropped (counted in n all the same); jobs past NNF__TRACE_JOBS are not traced. */
enum { NNF__TRACE_JOBS = 64 };
typedef enum {
    NNF__TRACE_ITEM,      /* ran `item` */
    NNF__TRACE_BLOCKED,   /* every unclaimed item waited for running ones */
    NNF__TRACE_END,       /* the caller waited for the last running items */
    NNF__TRACE_JOINED,    /* [t0, t1]: from the job's start to this participant's first claim */
    NNF__TRACE_TOOK_PART, /* [t0, t1]: from the first claim to leaving; `item`: the thread's
                           * CPU time in that span (ns) */
} nnf__trace_what;
typedef struct nnf__trace_event {
    uint64_t t0, t1;
    int64_t item;
    int job, participant;
    nnf__trace_what what;
} nnf__trace_event;
typedef struct nnf__trace {
    nnf__trace_event *events;
    int64_t cap;
    atomic_llong n;
    atomic_int jobs;
    /* Per job: its items and a copy of its plan (ready() jobs), to name the items. */
    int64_t items[NNF__TRACE_JOBS];
    int has_plan[NNF__TRACE_JOBS];
    _Alignas(16) unsigned char plans[NNF__TRACE_JOBS][NNF__JOB_PLAN_MAX];
} nnf__trace;
/* Starts tracing into *t (its counts zeroed here); NULL stops. The jobs started while
 * it is on must have finished before the trace is read or stopped. */
void nnf__runtime_trace(nnf__trace *t);

#endif
