/* nnf's thread pool: persistent workers, jobs of small items claimed as threads come free.
 *
 * Why not OpenMP. nnf used libgomp until issue 12. On this 2-vCPU VM (Zen 5), 512^3
 * sgemm at 2 threads spent most of each call waiting in the packed path's barriers
 * whenever another runnable thread shared the cores (scratch/cause.c, instrumented
 * barriers, load average 10-13 from other builds, ms per call):
 *
 *                          wall (1 thread)  wall (2)  CPU (2)  in barriers (each thread)
 *   busy loop, normal prio      21.5-25.2   98-150    19-34         74-121
 *   same, OMP_WAIT_POLICY=passive  18-20     9-15     1.8-1.9         8-12
 *
 * Two causes, both measured: (1) libgomp's waiters spin (GOMP_SPINCOUNT) and so keep
 * their core while the thread they wait for is descheduled: CPU time per call went
 * from 1.8 ms of work to 19-34 ms; (2) even passive, every barrier and the implicit
 * join at a region's end wait for the slowest member, and a member that the scheduler
 * has not run yet holds everyone for up to a time slice (8-12 ms of 9-15 above). The
 * first is a setting a library must not change for its caller (OMP_WAIT_POLICY is
 * process-wide); the second is in OpenMP's fork-join model itself: a region's end waits
 * for every thread of the team, including one that has not yet started. So nnf keeps
 * its own pool, built on these rules:
 *
 * - A job is a numbered set of items; threads claim them from an atomic counter (or,
 *   for sgemm's packed path, whichever ready item comes first, see sgemm_plan.c). The
 *   calling thread works too and, once nothing is left to claim, waits only for items
 *   that other threads are actually running. A worker that wakes late finds nothing
 *   left and goes back to sleep; no one waited for it.
 * - Waiting is a bounded spin (20 us by default) and then a futex sleep, so a waiter
 *   hands its core to whoever it waits for within microseconds, and an idle worker uses
 *   no CPU at all (test_threads checks getrusage after calls return).
 * - Jobs live in a fixed array of slots that the pool owns. A worker that wakes after
 *   the job it was woken for has finished touches only the slot (reference counted, so
 *   it is not reused under it), never the finished call's stack.
 *
 * Workers are joinable: nnf__runtime_stop (and nnf_set_num_threads lowering the count)
 * stops and joins them, which is what an unload hook needs (issue 14). They block every
 * signal, so the application's handlers never run on them, and hold no thread-exit
 * destructors of their own: they allocate nothing per thread.
 */
#include "src/runtime/pool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "nnf/threads.h"
#include "src/runtime/fpenv.h"
#include "src/runtime/wait.h"

/* Concurrent parallel calls beyond this many run on their caller alone. */
enum { NSLOTS = 32 };
enum { SLOT_FREE, SLOT_ACTIVE, SLOT_FINISHED };

typedef struct slot {
    /* The owner (the calling thread) holds one reference from start to finish, each
     * worker one while it looks at or works on the job; the slot is free at 0. */
    _Alignas(64) atomic_int refs;
    atomic_int state;
    atomic_int joined;     /* participants so far, the caller included */
    atomic_int ran;        /* participants that ran at least one item */
#ifdef NNF_TEST_PLANT_RACE
    int planted_ran;
#endif
    /* Written by the owner while no worker can read them (state not ACTIVE). */
    int64_t items;
    int max_participants;
    nnf__item_fn run;
    void *ctx;
    nnf__ready_fn ready;
    nnf__fpenv fpenv;
    nnf__item_state *states;
    int64_t states_cap;
    _Alignas(16) unsigned char plan[NNF__JOB_PLAN_MAX];
    /* Independent items: the next to claim. With dependencies: every item below it
     * has been claimed. */
    _Alignas(64) atomic_llong next;
    _Alignas(64) atomic_llong done;
    atomic_uint progress;  /* futex word: bumped when an item finishes */
    atomic_int sleepers;
} slot;

static struct {
    pthread_mutex_t lock;   /* creating, stopping and joining workers */
    pthread_t *tids;
    int tids_cap;
    atomic_int nworkers;
    atomic_int stop_from;   /* workers with an index at or above it exit */
    atomic_int create_failed;
    atomic_uint wake_seq;   /* futex word of idle workers: bumped when a job starts */
    atomic_int sleepers;
    slot slots[NSLOTS];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .stop_from = INT_MAX};

/* 20 us: the mean wait for an item in progress is half an item (2.5-10 us for nnf's
 * 1-4 MFLOP items), while a futex sleep and wake-up costs ~10-30 us here; past that the
 * awaited thread is likely descheduled and the core is better given away. Idle workers
 * spin 50 us so that back-to-back calls (a training step's dozens of ops) find them
 * awake; see README for the measurements. */
static atomic_long spin_wait_ns = 20000;
static atomic_long spin_idle_ns = 50000;

static atomic_long fail_create_after;
static atomic_int test_spread;
static atomic_int max_participants_seen = 1;
static _Thread_local int in_job;
static _Thread_local int last_participants = 1;

/* Weak: resolves to libgomp's when the application uses OpenMP, else stays NULL. */
extern int omp_in_parallel(void) __attribute__((weak));

int nnf__threads_for_call(void)
{
    if (in_job)
        return 1;
    if (omp_in_parallel != NULL && omp_in_parallel())
        return 1;
    return nnf_get_num_threads();
}

/* ---- claiming and running items ---- */

static int64_t claim_next(slot *s)
{
    int64_t i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
    return i < s->items ? i : NNF__CLAIM_NONE;
}

int64_t nnf__claim_ready(nnf__item_state *states, int64_t items, atomic_llong *lo_hint,
                         nnf__ready_fn ready, const void *plan)
{
    int64_t lo = atomic_load_explicit(lo_hint, memory_order_relaxed);
    while (lo < items && atomic_load_explicit(&states[lo], memory_order_relaxed) != 0)
        lo++;
    if (lo >= items)
        return NNF__CLAIM_NONE;
    long long seen = atomic_load_explicit(lo_hint, memory_order_relaxed);
    while (seen < lo && !atomic_compare_exchange_weak_explicit(lo_hint, &seen, lo,
                                                               memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
    for (int64_t i = lo; i < items;) {
        if (atomic_load_explicit(&states[i], memory_order_relaxed) != NNF__ITEM_FREE) {
            i++;
            continue;
        }
        int64_t skip = ready(plan, states, i);
        if (skip != 0) {
            i = skip;
            continue;
        }
        unsigned char want = NNF__ITEM_FREE;
        if (atomic_compare_exchange_strong_explicit(&states[i], &want, NNF__ITEM_CLAIMED,
                                                    memory_order_acquire,
                                                    memory_order_relaxed))
            return i;
        i++;
    }
    return NNF__CLAIM_BLOCKED;   /* lo was unclaimed, so something is left */
}

static void finish_item(slot *s, int64_t i)
{
    if (s->ready != NULL)
        atomic_store_explicit(&s->states[i], NNF__ITEM_DONE, memory_order_release);
    atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
    atomic_fetch_add(&s->progress, 1);
    nnf__wake_sleepers(&s->progress, &s->sleepers, INT_MAX);
}

static int unclaimed_left(slot *s)
{
    return atomic_load_explicit(&s->next, memory_order_relaxed) < s->items;
}

/* Test hook: after its first item, a participant lets the others take theirs. Bounded,
 * in case a worker is busy elsewhere; the test then sees fewer participants and fails. */
static void spread_wait(slot *s)
{
    uint64_t end = nnf__now_ns() + 2000000000u;
    while (atomic_load(&s->ran) < s->max_participants && unclaimed_left(s) &&
           nnf__now_ns() < end)
        sched_yield();
}

/* Waits for an item of s to finish (after `seen` was read). */
static void wait_progress(slot *s, unsigned seen)
{
    nnf__wait_change(&s->progress, seen, &s->sleepers, (uint64_t)atomic_load(&spin_wait_ns));
}

static void participate(slot *s, int participant)
{
    int ran = 0;
    for (;;) {
        unsigned seen = atomic_load(&s->progress);
        int64_t i = s->ready != NULL ? nnf__claim_ready(s->states, s->items, &s->next, s->ready,
                                                        s->plan)
                                     : claim_next(s);
        if (i == NNF__CLAIM_NONE)
            return;
        if (i == NNF__CLAIM_BLOCKED) {
            /* Every unclaimed item waits for one that is running. */
            wait_progress(s, seen);
            continue;
        }
        s->run(s->ctx, i, participant);
#ifdef NNF_TEST_PLANT_RACE
        /* A race for scripts/tsan.sh to prove that ThreadSanitizer sees this code: the
         * count of participants kept in a plain int, written by every one of them. */
        if (!ran)
            s->planted_ran = s->planted_ran + 1;
#endif
        if (!ran)
            atomic_fetch_add(&s->ran, 1);
        finish_item(s, i);
        if (!ran && atomic_load_explicit(&test_spread, memory_order_relaxed))
            spread_wait(s);
        ran = 1;
    }
}

/* ---- workers ---- */

/* A worker joins the job in slot s if it is running and has items left. */
static int try_serve(slot *s)
{
    int r = atomic_load_explicit(&s->refs, memory_order_relaxed);
    do {
        if (r == 0)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&s->refs, &r, r + 1, memory_order_acquire,
                                                    memory_order_relaxed));
    int served = 0;
    if (atomic_load_explicit(&s->state, memory_order_acquire) == SLOT_ACTIVE &&
        unclaimed_left(s)) {
        int p = atomic_fetch_add(&s->joined, 1);
        if (p < s->max_participants) {
            if (nnf__fpenv_get() != s->fpenv)
                nnf__fpenv_set(s->fpenv);
            participate(s, p);
            served = 1;
        }
    }
    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_release);
    return served;
}

static void *worker_main(void *arg)
{
    int index = (int)(intptr_t)arg;
    in_job = 1;   /* nnf calls made by items run on this thread alone */
    for (;;) {
        unsigned seen = atomic_load(&pool.wake_seq);
        if (index >= atomic_load(&pool.stop_from))
            return NULL;
        int served = 0;
        for (int s = 0; s < NSLOTS; s++)
            served |= try_serve(&pool.slots[s]);
        if (!served)
            nnf__wait_change(&pool.wake_seq, seen, &pool.sleepers,
                             (uint64_t)atomic_load(&spin_idle_ns));
    }
}

static int injected_create_failure(void)
{
    long n = atomic_load(&fail_create_after);
    if (n <= 0)
        return 0;
    if (n == 1)
        return 1;   /* stays at 1: every later creation fails too */
    atomic_store(&fail_create_after, n - 1);
    return 0;
}

/* Starts worker number `index` with every signal blocked (a new thread inherits the
 * creating thread's mask, which is then restored). */
static int create_worker(int index)
{
    if (injected_create_failure())
        return 0;
    if (index >= pool.tids_cap) {
        int cap = pool.tids_cap ? 2 * pool.tids_cap : 8;
        pthread_t *t = realloc(pool.tids, (size_t)cap * sizeof *t);
        if (t == NULL)
            return 0;
        pool.tids = t;
        pool.tids_cap = cap;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&pool.tids[index], NULL, worker_main, (void *)(intptr_t)index);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return 0;
    pthread_setname_np(pool.tids[index], "nnf-worker");
    return 1;
}

static void before_fork(void)
{
    pthread_mutex_lock(&pool.lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&pool.lock);
}

/* The child has only the forking thread: no workers, no jobs in flight. */
static void after_fork_child(void)
{
    atomic_store(&pool.nworkers, 0);
    atomic_store(&pool.stop_from, INT_MAX);
    atomic_store(&pool.create_failed, 0);
    atomic_store(&pool.wake_seq, 0);
    atomic_store(&pool.sleepers, 0);
    for (int s = 0; s < NSLOTS; s++) {
        atomic_store(&pool.slots[s].refs, 0);
        atomic_store(&pool.slots[s].state, SLOT_FREE);
        atomic_store(&pool.slots[s].sleepers, 0);
    }
    pthread_mutex_unlock(&pool.lock);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Workers available for a job that wants `want`, starting missing ones. A failed
 * creation is not retried until the count is set again (or after a fork). */
static int ensure_workers(int want)
{
    int have = atomic_load(&pool.nworkers);
    if (have < want && !atomic_load(&pool.create_failed)) {
        pthread_once(&atfork_once, register_atfork);
        pthread_mutex_lock(&pool.lock);
        have = atomic_load(&pool.nworkers);
        while (have < want && !atomic_load(&pool.create_failed)) {
            if (!create_worker(have)) {
                atomic_store(&pool.create_failed, 1);
                break;
            }
            atomic_store(&pool.nworkers, ++have);
        }
        pthread_mutex_unlock(&pool.lock);
    }
    return have < want ? have : want;
}

static void stop_workers_from(int from)
{
    pthread_mutex_lock(&pool.lock);
    int n = atomic_load(&pool.nworkers);
    if (from < n) {
        atomic_store(&pool.stop_from, from);
        atomic_fetch_add(&pool.wake_seq, 1);
        nnf__futex_wake(&pool.wake_seq, INT_MAX);
        for (int w = from; w < n; w++)
            pthread_join(pool.tids[w], NULL);
        atomic_store(&pool.nworkers, from);
        atomic_store(&pool.stop_from, INT_MAX);
    }
    atomic_store(&pool.create_failed, 0);
    pthread_mutex_unlock(&pool.lock);
}

void nnf__pool_resize(int threads)
{
    stop_workers_from(threads > 1 ? threads - 1 : 0);
}

/* ---- the caller's side ---- */

static slot *acquire_slot(void)
{
    for (int i = 0; i < NSLOTS; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong_explicit(&pool.slots[i].refs, &zero, 1,
                                                    memory_order_acquire,
                                                    memory_order_relaxed))
            return &pool.slots[i];
    }
    return NULL;
}

/* Item states live as long as the slot (a late worker may scan them after the call
 * returned), so they come from the C heap, not from nnf__alloc's counted blocks. */
static int ensure_states(slot *s, int64_t items)
{
    if (items > s->states_cap) {
        nnf__item_state *st = malloc((size_t)items * sizeof *st);
        if (st == NULL)
            return 0;
        free(s->states);
        s->states = st;
        s->states_cap = items;
    }
    memset((void *)s->states, NNF__ITEM_FREE, (size_t)items * sizeof *s->states);
    return 1;
}

static void run_alone(const nnf__job *job)
{
    for (int64_t i = 0; i < job->items; i++)
        job->run(job->ctx, i, 0);
    last_participants = 1;
}

void nnf__run(const nnf__job *job, int threads)
{
    if (threads > job->items)
        threads = (int)job->items;
    int workers = threads > 1 ? ensure_workers(threads - 1) : 0;
    slot *s = workers > 0 ? acquire_slot() : NULL;
    if (s == NULL) {
        run_alone(job);
        return;
    }
    if (job->ready != NULL && !ensure_states(s, job->items)) {
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_release);
        run_alone(job);
        return;
    }
    s->items = job->items;
    s->max_participants = workers + 1;
    s->run = job->run;
    s->ctx = job->ctx;
    s->ready = job->ready;
    if (job->ready != NULL)
        memcpy(s->plan, job->plan, job->plan_size);
    s->fpenv = nnf__fpenv_get();
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    atomic_store_explicit(&s->joined, 1, memory_order_relaxed);
    atomic_store_explicit(&s->ran, 0, memory_order_relaxed);
    atomic_store_explicit(&s->state, SLOT_ACTIVE, memory_order_release);
    atomic_fetch_add(&pool.wake_seq, 1);
    nnf__wake_sleepers(&pool.wake_seq, &pool.sleepers, workers);

    int outer = in_job;
    in_job = 1;
    participate(s, 0);
    for (;;) {
        unsigned seen = atomic_load(&s->progress);
        if (atomic_load_explicit(&s->done, memory_order_acquire) >= s->items)
            break;
        wait_progress(s, seen);
    }
    in_job = outer;
    last_participants = atomic_load(&s->ran);
    int most = atomic_load(&max_participants_seen);
    while (most < last_participants &&
           !atomic_compare_exchange_weak(&max_participants_seen, &most, last_participants))
        ;
    atomic_store_explicit(&s->state, SLOT_FINISHED, memory_order_release);
    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_release);
}

void nnf__parallel_for(int threads, int64_t items, nnf__item_fn run, void *ctx)
{
    nnf__job job = {items, run, ctx, NULL, NULL, 0};
    nnf__run(&job, threads);
}

typedef struct {
    nnf__range_fn fn;
    void *ctx;
    int64_t n, grain;
} ranges;

static void run_range(void *ctx, int64_t item, int participant)
{
    const ranges *r = ctx;
    int64_t begin = item * r->grain;
    r->fn(r->ctx, begin, r->n - begin < r->grain ? r->n : begin + r->grain, participant);
}

void nnf__parallel_ranges(int threads, int64_t n, int64_t grain, nnf__range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    grain = grain < 1 ? 1 : grain;
    if (threads <= 1 || grain >= n) {
        fn(ctx, 0, n, 0);
        last_participants = 1;
        return;
    }
    ranges r = {fn, ctx, n, grain};
    nnf__parallel_for(threads, (n + grain - 1) / grain, run_range, &r);
}

/* ---- hooks ---- */

void nnf__runtime_stop(void)
{
    stop_workers_from(0);
}

int nnf__runtime_workers(void)
{
    return atomic_load(&pool.nworkers);
}

void nnf__runtime_fail_thread_create_after(long n)
{
    atomic_store(&fail_create_after, n > 0 ? n : 0);
    atomic_store(&pool.create_failed, 0);
}

void nnf__runtime_set_test_spread(int on)
{
    atomic_store(&test_spread, on != 0);
}

int nnf__runtime_test_spread(void)
{
    return atomic_load_explicit(&test_spread, memory_order_relaxed);
}

int nnf__runtime_last_participants(void)
{
    return last_participants;
}

int nnf__runtime_max_participants(int reset)
{
    if (reset)
        return atomic_exchange(&max_participants_seen, 1);
    return atomic_load(&max_participants_seen);
}

void nnf__runtime_set_spin(long wait_ns, long idle_ns)
{
    if (wait_ns >= 0)
        atomic_store(&spin_wait_ns, wait_ns);
    if (idle_ns >= 0)
        atomic_store(&spin_idle_ns, idle_ns);
}
