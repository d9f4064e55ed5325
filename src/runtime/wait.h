/* Waiting without holding a core: a bounded spin, then a futex sleep (Linux).
 *
 * Every synchronisation in the runtime goes through C11 atomics; the futex only puts a
 * thread to sleep until a 32-bit word changes and wakes it again, so ThreadSanitizer
 * sees every happens-before edge it needs.
 */
#ifndef NNF_RUNTIME_WAIT_H
#define NNF_RUNTIME_WAIT_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void nnf__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline uint64_t nnf__now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Sleeps while *word == seen (returns at once if it differs; may return spuriously). */
static inline void nnf__futex_wait(atomic_uint *word, unsigned seen)
{
    syscall(SYS_futex, (void *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

/* nnf__futex_wait for at most ns. */
static inline void nnf__futex_wait_ns(atomic_uint *word, unsigned seen, uint64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    syscall(SYS_futex, (void *)word, FUTEX_WAIT_PRIVATE, seen, &t, NULL, 0);
}

static inline void nnf__futex_wake(atomic_uint *word, int count)
{
    syscall(SYS_futex, (void *)word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

/* Spins up to spin_ns for *word to differ from seen; 1 if it did. The clock is read
 * once per 16 pauses: a pause is 40-140 cycles depending on the core, a vDSO clock read
 * ~20 ns, so the bound holds to ~1 us without the reads dominating. */
static inline int nnf__spin_while_equal(atomic_uint *word, unsigned seen, uint64_t spin_ns)
{
    if (spin_ns == 0)
        return atomic_load(word) != seen;
    uint64_t end = nnf__now_ns() + spin_ns;
    for (;;) {
        for (int i = 0; i < 16; i++) {
            if (atomic_load_explicit(word, memory_order_relaxed) != seen)
                return atomic_load(word) != seen;
            nnf__cpu_relax();
        }
        if (nnf__now_ns() >= end)
            return 0;
    }
}

/* Waits until *word differs from seen: spins up to spin_ns, then sleeps on the futex,
 * announcing itself in *sleepers so that a waker can skip the system call when no one
 * sleeps. A waker changes *word first, then reads *sleepers (both sequentially
 * consistent): either it sees this sleeper, or the futex sees the new value. */
static inline void nnf__wait_change(atomic_uint *word, unsigned seen, atomic_int *sleepers,
                                    uint64_t spin_ns)
{
    if (nnf__spin_while_equal(word, seen, spin_ns))
        return;
    atomic_fetch_add(sleepers, 1);
    while (atomic_load(word) == seen)
        nnf__futex_wait(word, seen);
    atomic_fetch_sub(sleepers, 1);
}

/* nnf__wait_change without the spin, for at most ns: 1 if *word changed. */
static inline int nnf__wait_change_for(atomic_uint *word, unsigned seen, atomic_int *sleepers,
                                       uint64_t ns)
{
    const uint64_t end = nnf__now_ns() + ns;
    atomic_fetch_add(sleepers, 1);
    for (uint64_t t = nnf__now_ns(); atomic_load(word) == seen && t < end; t = nnf__now_ns())
        nnf__futex_wait_ns(word, seen, end - t);
    atomic_fetch_sub(sleepers, 1);
    return atomic_load(word) != seen;
}

/* The waker's side of nnf__wait_change: *word has already been changed. */
static inline void nnf__wake_sleepers(atomic_uint *word, atomic_int *sleepers, int count)
{
    if (atomic_load(sleepers) > 0)
        nnf__futex_wake(word, count);
}

#endif
