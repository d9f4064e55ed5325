/* nnf's thread pool: persistent workers, jobs of small items claimed as threads come free.
 *
 * Why not OpenMP. nnf used libgomp until issue 12; it collapsed whenever another
 * runnable thread shared the cores. Measured on this 2-vCPU VM (Zen 5), in ms:
 *
 * 512^3 sgemm with timers around the old packed loop's barriers (load average 10-13 from
 * other builds, plus a busy loop at normal priority):
 *                                 1 thread   2 threads   CPU at 2   in barriers (each)
 *   libgomp defaults               21.5-25.2    98-150      19-34        74-121
 *   OMP_WAIT_POLICY=passive        18-20         9-15       1.8-1.9       8-12
 * bench_pool (load average 15-18; medians, us): an empty 2-thread region started 200 us
 * after the last took 15400-30600 with libgomp's defaults (10 passive), a job of this
 * pool 16-31 (mostly the futex wake, itself 9-37 here); 200 items of ~7 us claimed from
 * an atomic counter in one region, no barrier but the region's end, 16500-32000 under
 * libgomp against 1400 on one thread and 830 on this pool.
 *
 * Two causes: (1) libgomp's waiters spin (GOMP_SPINCOUNT) and keep their core while the
 * thread they wait for is descheduled (CPU time per 512^3 call: 1.8 ms of work, 19-34 ms
 * used); (2) even passive, every barrier and the implicit join at a region's end wait
 * for every member of the team, including one the scheduler has not run yet (8-12 of
 * 9-15 ms above). The first is a process-wide setting a library must not change for its
 * caller; the second is OpenMP's fork-join model itself. So nnf has its own pool:
 *
 * - A job is a numbered set of items; threads claim them from an atomic counter (or,
 *   for sgemm's packed path, whichever ready item comes first, see sgemm_packed.c). The
 *   calling thread works too and, once nothing is left to claim, waits only for items
 *   that other threads are actually running. A worker that wakes late finds nothing
 *   left and goes back to sleep; no one waited for it.
 * - Waiting is a bounded spin (20 us by default) and then a futex sleep, so a waiter
 *   hands its core to whoever it waits for within microseconds, and an idle worker uses
 *   no CPU once its spin is over (50-500 us, sized from the gaps between its last jobs;
 *   test_threads checks getrusage after a call).
 * - Jobs live in a fixed array of slots that the pool owns. A worker that wakes after
 *   the job it was woken for has finished touches only the slot (reference counted, so
 *   it is not reused under it), never the finished call's stack.
 * - Workers keep off their caller's CPU and ask the scheduler for short slices (below).
 *
 * Waiting on a descheduled worker: an item a worker has started is waited for, and a
 * worker descheduled in the middle of one delays the end of the job by up to the
 * scheduler's slice of whatever runs in its place (0.1-3 ms here), while the waiting
 * caller's own CPU idles: the worker's mask keeps it off that CPU (below). So the caller,
 * after its spin and before it sleeps, moves that worker onto its own CPU (lend_cpu)
 * once the worker's CPU clock stops advancing (watch_running: while it runs, the caller
 * sleeps and looks again every 200 us).
 * A 16M-float sum (~1.4 ms, 512 items) with a normal-priority busy loop, 2 threads over
 * 1 in the same round, medians of 11 rounds in 4 ABBA runs of bench_contention (load
 * average 6-7 from other users): 0.90-1.07x before, 0.97-1.24x after.
 * Why not redo the item on the caller (its result is the same whoever computes it):
 * the descheduled worker, once it runs again, goes on reading the caller's input and
 * ctx, which may be freed or rewritten after the call returned; the caller would have
 * to wait for it anyway, or keep the input alive and race with its owner's next writes.
 * bench_threads: with its own normal-priority busy loop beside other users' work (load
 * average 5-8), the caller of the big MLP's weight-gradient product (2 jobs of 6 and 5
 * KC levels, every tile a chain of levels) waited 0-17 ms per ~60 ms call (medians over
 * 15 calls) for items a descheduled worker held, while 1024^3 (1 job) waited ~0
 * (measured before lend_cpu; its blocked waits, participants waiting for running items
 * that others' items depend on, do not lend).
 *
 * Workers are joinable: nnf__runtime_stop (and nnf_set_num_threads lowering the count)
 * stops and joins them, which is what an unload hook needs (issue 14). They block every
 * signal, so the application's handlers never run on them. nnf code that runs on them
 * may leave thread-exit state behind (sgemm's per-thread packing scratch, freed by its
 * pthread key destructor when the worker exits).
 */
#include "src/runtime/pool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnf/threads.h"
#include "src/core/log.h"
#include "src/core/plant.h"
#include "src/runtime/fpenv.h"
#include "src/runtime/wait.h"

/* Concurrent parallel calls beyond this many run on their caller alone. */
enum { NSLOTS = 32 };
enum { SLOT_FREE, SLOT_ACTIVE, SLOT_FINISHED };
/* Participants a caller lends its CPU to: beyond this many, the rest keep their own. */
enum { LEND_MAX = 64 };

/* A job's place in the trace (nnf__runtime_trace); to is NULL unless it is traced. */
typedef struct traced {
    nnf__trace *to;
    int job;
    uint64_t start;
} traced;

typedef struct slot {
    /* The owner (the calling thread) holds one reference from start to finish, each
     * worker one while it looks at or works on the job; the slot is free at 0. */
    _Alignas(64) atomic_int refs;
    atomic_int state;
    atomic_int joined;     /* participants so far, the caller included */
    atomic_int ran;        /* participants that ran at least one item */
#ifdef NNF_FUZZ_PLANT
    int planted_ran;   /* scripts/tsan.sh's planted race, below */
#endif
    /* Written by the owner while no worker can read them (state not ACTIVE). */
    int64_t items;
    int max_participants;
    nnf__item_fn run;
    void *ctx;
    nnf__ready_fn ready;
    nnf__prefer_fn prefer;
    nnf__fpenv fpenv;
    nnf__item_state *states;
    int64_t states_cap;
    _Alignas(16) unsigned char plan[NNF__JOB_PLAN_MAX];
    traced trace;
    /* Independent items: the next to claim. With dependencies: every item below it
     * has been claimed. */
    _Alignas(64) atomic_llong next;
    _Alignas(64) atomic_llong done;
    atomic_uint progress;  /* futex word: bumped when an item finishes */
    atomic_int sleepers;
    /* CPUs (numbers mod 64) that participants run on, for spread_out(). */
    _Alignas(64) atomic_ullong cpus;
    /* Worker index + 1 of participant p (1 <= p < LEND_MAX) while it is inside the job,
     * else 0: whom a waiting caller lends its CPU to (lend_cpu). */
    atomic_int worker_of[LEND_MAX];
} slot;

enum { MAX_WORKERS = 1024 };

static struct {
    pthread_mutex_t lock;   /* creating, stopping and joining workers */
    struct {
        pthread_t thread;
        atomic_int tid;     /* the kernel's thread id once it runs, for its affinity */
        atomic_uint lent;   /* bumped after a caller moved it onto its own CPU */
    } workers[MAX_WORKERS];
    atomic_int off_cpu;     /* the CPU workers keep off (the last caller's), or -1 */
    atomic_int nworkers;
    atomic_int stop_from;   /* workers with an index at or above it exit */
    atomic_int create_failed;
    atomic_uint wake_seq;   /* futex word of idle workers: bumped when a job starts */
    atomic_int sleepers;
    slot slots[NSLOTS];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .off_cpu = -1, .stop_from = INT_MAX};

/* 20 us: the mean wait for an item in progress is half an item (2.5-10 us for nnf's
 * 1-4 MFLOP items), while a futex sleep and wake-up costs ~10-30 us here; past that the
 * awaited thread is likely descheduled and the core is better given away. Idle workers
 * spin after real work so that back-to-back calls (a training step's dozens of ops) find
 * them awake: a batch-256 784-512-10 step took 7.4 ms (median of 40) with a 50 us spin,
 * 9.0 without and 6.1 with 200 us; the batch-4096 step ~115 ms all three (2 threads,
 * load average 10-12). How long to spin is sized from the gaps between the worker's last
 * jobs (worker_spin below), at least spin_idle_ns and at most spin_idle_max_ns. */
static atomic_long spin_wait_ns = 20000;
static atomic_long spin_idle_ns = 50000;
static atomic_long spin_idle_max_ns = 500000;

static atomic_long fail_create_after;
static atomic_long lends;
static atomic_int stall_participant = -1;
static atomic_long stall_ns;
static _Atomic(nnf__trace *) trace_to;
static atomic_int test_spread;
static atomic_int max_participants_seen = 1;
static _Thread_local int in_job;
static _Thread_local int last_participants = 1;

int nnf__pool_in_job(void)
{
    return in_job;
}

/* ---- claiming and running items ---- */

static int64_t claim_next(slot *s)
{
    int64_t i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
    return i < s->items ? i : NNF__CLAIM_NONE;
}

enum { HINT_STEP = 64 };

/* The first unclaimed item in [from, items) that ready() accepts and, given `who`, that
 * it prefers: CAS-claimed, or CLAIM_BLOCKED. */
static int64_t claim_from(nnf__item_state *states, int64_t items, int64_t from,
                          nnf__ready_fn ready, const void *plan, const nnf__claimer *who)
{
    for (int64_t i = from; i < items;) {
        if (atomic_load_explicit(&states[i], memory_order_relaxed) != NNF__ITEM_FREE) {
            i++;
            continue;
        }
        int64_t skip = who != NULL ? who->prefer(plan, from, i, who->participant,
                                                 who->participants)
                                   : 0;
        if (skip == 0)
            skip = ready(plan, states, i);
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
    return NNF__CLAIM_BLOCKED;
}

int64_t nnf__claim_ready(nnf__item_state *states, int64_t items, atomic_llong *lo_hint,
                         nnf__ready_fn ready, const void *plan, const nnf__claimer *who)
{
    int64_t lo = atomic_load_explicit(lo_hint, memory_order_relaxed);
    while (lo < items && atomic_load_explicit(&states[lo], memory_order_relaxed) != 0)
        lo++;
    if (lo >= items)
        return NNF__CLAIM_NONE;
    /* The hint moves a cache line of states at a time: every participant reads it at
     * each claim, and on cores that share no L3 each write of it costs the others a
     * line transfer (~200 ns here) at their next claim. */
    long long seen = atomic_load_explicit(lo_hint, memory_order_relaxed);
    while (seen <= lo - HINT_STEP &&
           !atomic_compare_exchange_weak_explicit(lo_hint, &seen, lo, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    if (who != NULL && who->prefer != NULL && who->participants > 1) {
        int64_t i = claim_from(states, items, lo, ready, plan, who);
        if (i != NNF__CLAIM_BLOCKED)
            return i;
    }
    /* lo was unclaimed, so something is left: blocked if nothing is ready */
    return claim_from(states, items, lo, ready, plan, NULL);
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

/* Records an event of a traced job that began at t0 and ends now. */
static void trace_event(const traced *t, nnf__trace_what what, int participant, int64_t item,
                        uint64_t t0)
{
    int64_t e = atomic_fetch_add_explicit(&t->to->n, 1, memory_order_relaxed);
    if (e < t->to->cap)
        t->to->events[e] = (nnf__trace_event){t0, nnf__now_ns(), item, t->job, participant,
                                              what};
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Test hook: the armed participant sleeps once, inside its next item, for up to the
 * armed time or until a caller lends it a CPU, whichever comes first: a test can then
 * tell "the caller lent" from "the caller never waited" under any load (a fixed sleep
 * could end before a descheduled caller even ran out of items). */
static void stall_here(void)
{
    long ns = atomic_exchange(&stall_ns, 0);
    long lent_before = atomic_load(&lends);
    uint64_t end = nnf__now_ns() + (uint64_t)(ns > 0 ? ns : 0);
    while (ns > 0 && atomic_load(&lends) == lent_before && nnf__now_ns() < end)
        nanosleep(&(struct timespec){0, 200000}, NULL);
}

static void participate(slot *s, int participant)
{
    const nnf__claimer who = {s->prefer, participant, s->max_participants};
    int ran = 0;
    uint64_t joined = 0, cpu = 0;
    if (s->trace.to != NULL) {
        trace_event(&s->trace, NNF__TRACE_JOINED, participant, -1, s->trace.start);
        joined = nnf__now_ns();
        cpu = thread_cpu_ns();
    }
    for (;;) {
        unsigned seen = atomic_load(&s->progress);
        int64_t i = s->ready != NULL ? nnf__claim_ready(s->states, s->items, &s->next, s->ready,
                                                        s->plan, &who)
                                     : claim_next(s);
        if (i == NNF__CLAIM_NONE) {
            if (s->trace.to != NULL)
                trace_event(&s->trace, NNF__TRACE_TOOK_PART, participant,
                            (int64_t)(thread_cpu_ns() - cpu), joined);
            return;
        }
        if (i == NNF__CLAIM_BLOCKED) {
            /* Every unclaimed item waits for one that is running. */
            uint64_t t0 = s->trace.to != NULL ? nnf__now_ns() : 0;
            wait_progress(s, seen);
            if (s->trace.to != NULL)
                trace_event(&s->trace, NNF__TRACE_BLOCKED, participant, -1, t0);
            continue;
        }
        if (participant == atomic_load_explicit(&stall_participant, memory_order_relaxed))
            stall_here();
        uint64_t t0 = s->trace.to != NULL ? nnf__now_ns() : 0;
        s->run(s->ctx, i, participant);
        if (s->trace.to != NULL)
            trace_event(&s->trace, NNF__TRACE_ITEM, participant, i, t0);
#ifdef NNF_FUZZ_PLANT
        /* A race for scripts/tsan.sh to prove that ThreadSanitizer sees this code
         * (src/core/plant.h; on with NNF_FUZZ_PLANT=race): the count of participants
         * kept in a plain int, written by every one of them. */
        if (!ran && NNF_PLANTED("race"))
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

/* Where workers run. On a loaded machine no CPU is idle, and Linux then wakes a thread
 * beside its waker: the worker lands on its caller's CPU and the two share one core while
 * the other cores run someone else's work. 200 items of ~7 us took 1.4 ms on the caller
 * alone and 1.5-14 ms with a worker woken beside it (each item's thread and times
 * traced, load average 14; 0.77 ms under SCHED_FIFO, where the threads stayed apart).
 * So workers keep off the CPU of the last thread that started a job: their mask is the
 * pool's (the creating thread's, which they inherit) without it, set by that caller when
 * its CPU changes (syscalls only then), so the kernel wakes them elsewhere. Within a
 * job, a worker that finds another participant on its CPU moves, for that job, to
 * allowed CPUs no participant uses, if any (with more threads than CPUs some must
 * share). */
static cpu_set_t pool_mask;
static int pool_mask_ok;

static uint64_t cpu_bit(int cpu)
{
    return (uint64_t)1 << (cpu & 63);
}

/* The pool's mask without `cpu` (or all of it when that would leave nothing). */
static cpu_set_t mask_without(int cpu)
{
    cpu_set_t m = pool_mask;
    if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &m) && CPU_COUNT(&m) > 1)
        CPU_CLR(cpu, &m);
    return m;
}

static void keep_workers_off(int cpu, int nworkers)
{
    int old = atomic_load_explicit(&pool.off_cpu, memory_order_relaxed);
    if (!pool_mask_ok || cpu < 0 || cpu == old ||
        !atomic_compare_exchange_strong(&pool.off_cpu, &old, cpu))
        return;
    cpu_set_t m = mask_without(cpu);
    for (int w = 0; w < nworkers; w++) {
        int tid = atomic_load(&pool.workers[w].tid);
        if (tid > 0)
            sched_setaffinity(tid, sizeof m, &m);
    }
}

/* 1 if the worker moved (its mask must then be restored). */
static int spread_out(slot *s)
{
    int cpu = sched_getcpu();
    if (cpu < 0 || !pool_mask_ok)
        return 0;
    uint64_t taken = atomic_fetch_or(&s->cpus, cpu_bit(cpu));
    if (!(taken & cpu_bit(cpu)))
        return 0;
    cpu_set_t free_cpus = pool_mask;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &free_cpus) && (taken & cpu_bit(c)))
            CPU_CLR(c, &free_cpus);
    if (CPU_COUNT(&free_cpus) == 0 || sched_setaffinity(0, sizeof free_cpus, &free_cpus) != 0)
        return 0;
    cpu = sched_getcpu();
    if (cpu >= 0)
        atomic_fetch_or(&s->cpus, cpu_bit(cpu));
    return 1;
}

/* Linux's EEVDF scheduler (6.6 and later; this VM runs 6.18) lets a running task finish
 * its slice (0.75-3 ms) before a woken one of equal weight runs on the same CPU, unless
 * the woken one asks for a shorter slice (6.12 and later). Workers ask for 0.1 ms: on a
 * busy core a woken worker then starts within ~0.1 ms instead of after the running task's
 * slice, which for a 1-10 ms product is most of it. The share of CPU time each thread
 * gets does not change. Older kernels ignore the field for normal threads. */
struct nnf__sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static void ask_short_slice(void)
{
    struct nnf__sched_attr a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) != 0 || a.policy != SCHED_OTHER)
        return;
    a.size = sizeof a;
    a.runtime = 100000;
    syscall(SYS_sched_setattr, 0, &a, 0);
}

static void go_home(void)
{
    cpu_set_t m = mask_without(atomic_load(&pool.off_cpu));
    sched_setaffinity(0, sizeof m, &m);
}

/* A worker that a caller moved onto its CPU (lend_cpu) goes back to the pool's mask: 1
 * if it did. Checked after each job and at each wake-up, because the caller's move may
 * land after the worker left the job. */
static int went_home_if_lent(int index, unsigned *lent_seen)
{
    unsigned now = atomic_load_explicit(&pool.workers[index].lent, memory_order_relaxed);
    if (now == *lent_seen)
        return 0;
    *lent_seen = now;
    go_home();
    return 1;
}

/* A worker joins the job in slot s if it is running and has items left. */
static int try_serve(slot *s, int index, unsigned *lent_seen)
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
            int moved = spread_out(s);
            if (p < LEND_MAX)
                atomic_store(&s->worker_of[p], index + 1);
            participate(s, p);
            if (p < LEND_MAX)
                atomic_store(&s->worker_of[p], 0);
            if (!went_home_if_lent(index, lent_seen) && moved)
                go_home();
            served = 1;
        }
    }
    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_release);
    return served;
}

/* The gaps (ns) between a worker's last jobs: from leaving one to seeing the next start.
 *
 * The big MLP step (bench_threads step) has two gaps of 0.07-0.13 and 0.27-0.35 ms, where
 * the caller runs ops too small for threads (cross-entropy's row ops, zero_grad); with a
 * fixed 50 us spin the worker slept through both, and the next job paid for it: the
 * caller's futex wake took 36-44 us (a wake-up IPI to a halted vCPU) and the worker
 * claimed its first item 65-75 us late (medians of 15, loaded). So a worker spins for
 * 1.5x the longest of its last GAPS gaps that were at most spin_idle_max_ns: a program
 * that calls in quick succession finds it awake, one that calls now and then (every gap
 * longer) gets the base spin again after GAPS calls, and no worker spins longer than
 * spin_idle_max_ns after any call (test_threads checks the CPU time after a call). */
enum { GAPS = 16, WAKES_UNSERVED = 4 };
typedef struct {
    uint64_t gap[GAPS];
    int next;
} gaps;

static uint64_t worker_spin(const gaps *g)
{
    uint64_t base = (uint64_t)atomic_load(&spin_idle_ns);
    uint64_t cap = (uint64_t)atomic_load(&spin_idle_max_ns), most = 0;
    for (int i = 0; i < GAPS; i++)
        if (g->gap[i] <= cap && g->gap[i] > most)
            most = g->gap[i];
    uint64_t spin = most + most / 2 < cap ? most + most / 2 : cap;
    return spin > base ? spin : base;
}

static void *worker_main(void *arg)
{
    int index = (int)(intptr_t)arg;
    in_job = 1;   /* nnf calls made by items run on this thread alone */
    atomic_store(&pool.workers[index].tid, (int)gettid());
    ask_short_slice();
    if (atomic_load(&pool.off_cpu) >= 0)
        go_home();
    unsigned lent_seen = atomic_load(&pool.workers[index].lent);
    gaps g = {{0}, 0};
    int spin = 0;     /* spin before sleeping (see below) */
    int wakes = 0;    /* job starts it saw awake since it last worked */
    for (;;) {
        unsigned seen = atomic_load(&pool.wake_seq);
        if (index >= atomic_load(&pool.stop_from))
            return NULL;
        went_home_if_lent(index, &lent_seen);
        int served = 0;
        for (int s = 0; s < NSLOTS; s++)
            served |= try_serve(&pool.slots[s], index, &lent_seen);
        if (served) {
            spin = 1;
            wakes = 0;
            continue;
        }
        uint64_t t0 = nnf__now_ns();
        int awake = spin && nnf__spin_while_equal(&pool.wake_seq, seen, worker_spin(&g));
        if (!awake)
            nnf__wait_change(&pool.wake_seq, seen, &pool.sleepers, 0);
        if (spin) {
            g.gap[g.next] = nnf__now_ns() - t0;
            g.next = (g.next + 1) % GAPS;
        }
        /* A worker woken from its sleep spins next time only if it then gets work: one
         * that woke too late to help sleeps at once (it may share a core with the caller
         * it came for). One that was awake keeps spinning through a few jobs that the
         * caller finished alone before it could claim an item (the MLP step's 15 us
         * softmax exp: with it, the next job's worker joined 60-65 us late again). */
        spin = awake && ++wakes < WAKES_UNSERVED;
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
    if (index >= MAX_WORKERS)
        return 0;
    atomic_store(&pool.workers[index].tid, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&pool.workers[index].thread, NULL, worker_main,
                            (void *)(intptr_t)index);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return 0;
    pthread_setname_np(pool.workers[index].thread, "nnf-worker");
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
    atomic_store(&pool.off_cpu, -1);
    atomic_store(&pool.stop_from, INT_MAX);
    atomic_store(&pool.create_failed, 0);
    atomic_store(&pool.wake_seq, 0);
    atomic_store(&pool.sleepers, 0);
    for (int s = 0; s < NSLOTS; s++) {
        atomic_store(&pool.slots[s].refs, 0);
        atomic_store(&pool.slots[s].state, SLOT_FREE);
        atomic_store(&pool.slots[s].sleepers, 0);
        for (int p = 0; p < LEND_MAX; p++)   /* the parent's workers are not ours */
            atomic_store(&pool.slots[s].worker_of[p], 0);
    }
    pthread_mutex_unlock(&pool.lock);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void pool_init(void)
{
    pool_mask_ok = sched_getaffinity(0, sizeof pool_mask, &pool_mask) == 0;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Workers available for a job that wants `want`, starting missing ones. A failed
 * creation is not retried until the count is set again (or after a fork). */
static int ensure_workers(int want)
{
    int have = atomic_load(&pool.nworkers);
    if (have < want && !atomic_load(&pool.create_failed)) {
        pthread_once(&init_once, pool_init);
        pthread_mutex_lock(&pool.lock);
        int had = have = atomic_load(&pool.nworkers), failed = 0;
        while (have < want && !atomic_load(&pool.create_failed)) {
            if (!create_worker(have)) {
                atomic_store(&pool.create_failed, 1);
                failed = 1;
                break;
            }
            atomic_store(&pool.nworkers, ++have);
        }
        pthread_mutex_unlock(&pool.lock);
        if (have > had)
            nnf__log(NNF_LOG_DEBUG, "worker threads %d to %d started", had, have - 1);
        if (failed)
            nnf__log(NNF_LOG_WARNING, "could not start worker thread %d; parallel calls "
                     "run on %d threads until the thread count is set again", have,
                     have + 1);
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
            pthread_join(pool.workers[w].thread, NULL);
        atomic_store(&pool.nworkers, from);
        atomic_store(&pool.stop_from, INT_MAX);
    }
    atomic_store(&pool.create_failed, 0);
    pthread_mutex_unlock(&pool.lock);
    if (from < n)
        nnf__log(NNF_LOG_DEBUG, "worker threads %d to %d stopped", from, n - 1);
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

/* The job's place in the trace if one is on and has room. */
static traced trace_begin(const nnf__job *job)
{
    traced t = {atomic_load_explicit(&trace_to, memory_order_acquire), 0, 0};
    if (t.to == NULL)
        return t;
    t.job = atomic_fetch_add(&t.to->jobs, 1);
    if (t.job >= NNF__TRACE_JOBS) {
        t.to = NULL;
        return t;
    }
    t.to->items[t.job] = job->items;
    t.to->has_plan[t.job] = job->ready != NULL;
    if (job->ready != NULL)
        memcpy(t.to->plans[t.job], job->plan, job->plan_size);
    t.start = nnf__now_ns();
    return t;
}

static void run_alone(const nnf__job *job)
{
    traced t = trace_begin(job);
    uint64_t cpu = t.to != NULL ? thread_cpu_ns() : 0;
    for (int64_t i = 0; i < job->items; i++) {
        uint64_t t0 = t.to != NULL ? nnf__now_ns() : 0;
        job->run(job->ctx, i, 0);
        if (t.to != NULL)
            trace_event(&t, NNF__TRACE_ITEM, 0, i, t0);
    }
    if (t.to != NULL)
        trace_event(&t, NNF__TRACE_TOOK_PART, 0, (int64_t)(thread_cpu_ns() - cpu), t.start);
    last_participants = 1;
}

/* Worker w's CPU time (ns), 0 if it cannot be read. The caller holds the pool's lock, so
 * that no worker is joined meanwhile. */
static uint64_t worker_clock_ns(int w)
{
    clockid_t clock;
    struct timespec t;
    if (pthread_getcpuclockid(pool.workers[w].thread, &clock) != 0 ||
        clock_gettime(clock, &t) != 0)
        return 0;
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* worker_clock_ns without waiting for the lock (another caller creating workers holds
 * it): 0 then. */
static uint64_t worker_cpu_ns(int w)
{
    if (pthread_mutex_trylock(&pool.lock) != 0)
        return 0;
    uint64_t ns = worker_clock_ns(w);
    pthread_mutex_unlock(&pool.lock);
    return ns;
}

/* The first worker still inside the job from participant *p on: its index (*p its
 * participant number), or -1. */
static int worker_inside(slot *s, int *p)
{
    int n = atomic_load(&s->joined);
    n = n < s->max_participants ? n : s->max_participants;
    n = n < LEND_MAX ? n : LEND_MAX;
    for (; *p < n; (*p)++) {
        int w = atomic_load(&s->worker_of[*p]) - 1;
        if (w >= 0 && atomic_load(&pool.workers[w].tid) > 0)
            return w;
    }
    return -1;
}

/* The caller, about to sleep until running items finish, moves worker w (participant
 * p, still inside the job) onto its own CPU; returns where the next lend starts. Why: a
 * worker descheduled in the middle of an item (its CPU taken by another runnable
 * thread) otherwise holds the caller up for the rest of that thread's slice, up to a
 * few ms, while the caller's CPU idles; moved, it runs there at once. One worker per
 * sleep: the caller frees one CPU. The worker goes back to its mask when it is done
 * (went_home_if_lent). A worker that left the job just before the move keeps the
 * caller's CPU until its next wake-up, which is harmless. Only a worker that stopped
 * running is moved (watch_running): one that runs loses its caches with the move, and
 * the caller then waits for its own CPU to be handed back (a 64-row product whose
 * worker ran its last 110 us of items after such a move ended 250 us after them). */
static int lend_cpu(int w, int p)
{
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || !pool_mask_ok || !CPU_ISSET(cpu, &pool_mask))
        return p;
    cpu_set_t m;
    CPU_ZERO(&m);
    CPU_SET(cpu, &m);
    if (sched_setaffinity(atomic_load(&pool.workers[w].tid), sizeof m, &m) == 0) {
        atomic_fetch_add(&pool.workers[w].lent, 1);
        atomic_fetch_add_explicit(&lends, 1, memory_order_relaxed);
    }
    return p + 1;
}

/* A worker's CPU clock and the wall clock when it was read. */
typedef struct {
    uint64_t cpu, at;
} watch;

/* How long the waiting caller sleeps between two looks at a running worker's clock. */
enum { WATCH_NS = 200000 };

/* While worker w (participant p) stays in the job and runs (its CPU clock advanced by at
 * least half the wall time since *last), the caller sleeps WATCH_NS at a time: 1 when an
 * item ends or the worker leaves, 0 when it stopped running (the caller lends it its
 * CPU) or its clock cannot be read. */
static int watch_running(slot *s, unsigned seen, int w, int p, watch *last)
{
    for (;;) {
        watch now = {worker_cpu_ns(w), nnf__now_ns()};
        if (last->cpu == 0 || now.cpu == 0 || 2 * (now.cpu - last->cpu) < now.at - last->at)
            return 0;
        *last = now;
        if (nnf__wait_change_for(&s->progress, seen, &s->sleepers, WATCH_NS) ||
            atomic_load(&s->worker_of[p]) != w + 1)
            return 1;
    }
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
    s->prefer = job->prefer;
    if (job->ready != NULL)
        memcpy(s->plan, job->plan, job->plan_size);
    s->trace = trace_begin(job);
    s->fpenv = nnf__fpenv_get();
    int cpu = sched_getcpu();
    keep_workers_off(cpu, atomic_load(&pool.nworkers));
    atomic_store_explicit(&s->cpus, cpu >= 0 ? cpu_bit(cpu) : 0, memory_order_relaxed);
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
    uint64_t t0 = s->trace.to != NULL ? nnf__now_ns() : 0;
    for (int lend_from = 1;;) {
        unsigned seen = atomic_load(&s->progress);
        if (atomic_load_explicit(&s->done, memory_order_acquire) >= s->items)
            break;
        int p = lend_from, w = worker_inside(s, &p);
        watch seen_w = {w >= 0 ? worker_cpu_ns(w) : 0, nnf__now_ns()};
        if (nnf__spin_while_equal(&s->progress, seen, (uint64_t)atomic_load(&spin_wait_ns)))
            continue;
        if (w >= 0 && watch_running(s, seen, w, p, &seen_w))
            continue;
        /* Lending nobody leaves lend_from as it was: a worker that has joined but not
         * yet published itself in worker_of (descheduled right there, the very case
         * lending is for) is found at the next sleep. */
        if (w >= 0)
            lend_from = lend_cpu(w, p);
        nnf__wait_change(&s->progress, seen, &s->sleepers, 0);
    }
    if (s->trace.to != NULL)
        trace_event(&s->trace, NNF__TRACE_END, 0, -1, t0);
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
    nnf__job job = {items, run, ctx, NULL, NULL, 0, NULL};
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
    /* With no worker left to scan them, the item states of slots no call holds can go
     * (an unloaded libnnf.so would otherwise leak them); a slot is held while freeing,
     * so a call starting meanwhile takes another or runs alone. */
    for (int i = 0; i < NSLOTS; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&pool.slots[i].refs, &zero, 1)) {
            free(pool.slots[i].states);
            pool.slots[i].states = NULL;
            pool.slots[i].states_cap = 0;
            atomic_store_explicit(&pool.slots[i].refs, 0, memory_order_release);
        }
    }
}

int nnf__runtime_workers(void)
{
    return atomic_load(&pool.nworkers);
}

double nnf__runtime_workers_cpu_seconds(void)
{
    pthread_mutex_lock(&pool.lock);   /* no worker is joined meanwhile */
    double sum = 0;
    int nworkers = atomic_load(&pool.nworkers);
    for (int w = 0; w < nworkers; w++)
        sum += 1e-9 * (double)worker_clock_ns(w);
    pthread_mutex_unlock(&pool.lock);
    return sum;
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

void nnf__runtime_trace(nnf__trace *t)
{
    if (t != NULL) {
        atomic_store(&t->n, 0);
        atomic_store(&t->jobs, 0);
    }
    atomic_store_explicit(&trace_to, t, memory_order_release);
}

void nnf__runtime_set_test_stall(int participant, long ns)
{
    atomic_store(&stall_ns, ns > 0 ? ns : 0);
    atomic_store(&stall_participant, ns > 0 ? participant : -1);
}

long nnf__runtime_lends(void)
{
    return atomic_load(&lends);
}

void nnf__runtime_set_spin(long wait_ns, long idle_ns, long idle_max_ns)
{
    if (wait_ns >= 0)
        atomic_store(&spin_wait_ns, wait_ns);
    if (idle_ns >= 0)
        atomic_store(&spin_idle_ns, idle_ns);
    if (idle_max_ns >= 0)
        atomic_store(&spin_idle_max_ns, idle_max_ns);
}
