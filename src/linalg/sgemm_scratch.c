/* The packed sgemm path's scratch, kept per calling thread between calls.
 *
 * A packed product's job needs its packed A and B for the levels it covers, shared by
 * its team of threads: at most 4 MiB alone, 16 MiB for a team (sgemm_packed.c cuts
 * larger products into jobs). Allocating that per call costs a malloc/free pair and,
 * for a fresh block from the OS, ~900 first-touch page faults of 4 KiB per 4 MiB. So
 * each thread that calls nnf_sgemm keeps its largest buffer so far: it only grows (to
 * the bound above), and
 * is freed at thread exit by a pthread key destructor (a process's main thread keeps
 * it until exit, still reachable through the key). The buffer comes from nnf__alloc,
 * so injected allocation failures reach the packed path too; nnf__sgemm_scratch_release
 * lets tests that count live blocks return it.
 *
 * The buffer is a 64-byte header holding its size, then the floats: the key's value
 * is then the whole state, and a destructor needs nothing else (thread-local variables
 * may already be gone when key destructors run).
 *
 * Every live buffer is also on one list, so that unloading the shared library can free
 * the buffers of threads that outlive it and delete the key: a key destructor left
 * behind would point into unmapped code when such a thread exits. The same unload runs
 * at process exit, where another thread may be in the middle of a product: a buffer
 * between nnf__sgemm_scratch and nnf__sgemm_scratch_done is busy and is left alone
 * (the process is ending), and after the unload every thread gets NULL (out of memory)
 * instead of a buffer. */
#include <pthread.h>
#include <stdatomic.h>

#include "src/core/alloc.h"
#include "src/linalg/sgemm_scratch.h"

typedef struct block {
    size_t bytes;
    struct block *prev, *next;
    int busy;   /* under list_lock */
} block;

enum { HEADER = 64 };   /* keeps the floats on nnf__alloc's 64-byte alignment */
_Static_assert(sizeof(block) <= HEADER, "the list links fit in the header");

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static block *live;
static atomic_int unloaded;   /* set under list_lock; the list is abandoned then */

static float *payload(block *b)
{
    return (float *)((char *)b + HEADER);
}

static void unlink_block(block *b)
{
    pthread_mutex_lock(&list_lock);
    if (!atomic_load_explicit(&unloaded, memory_order_relaxed)) {
        if (b->prev != NULL)
            b->prev->next = b->next;
        else
            live = b->next;
        if (b->next != NULL)
            b->next->prev = b->prev;
    }
    pthread_mutex_unlock(&list_lock);
}

static void release(void *p)
{
    block *b = p;
    if (b == NULL)
        return;
    unlink_block(b);
    nnf__dealloc(b, b->bytes);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&key, release) == 0;
}

/* Marks b busy, so that an unload leaves it to this thread; 0 once the library goes. */
static int claim(block *b)
{
    pthread_mutex_lock(&list_lock);
    int ok = !atomic_load_explicit(&unloaded, memory_order_relaxed);
    if (ok)
        b->busy = 1;
    pthread_mutex_unlock(&list_lock);
    return ok;
}

/* Puts b on the list, busy; 0 once the library goes. */
static int link_busy(block *b)
{
    pthread_mutex_lock(&list_lock);
    int ok = !atomic_load_explicit(&unloaded, memory_order_relaxed);
    if (ok) {
        b->busy = 1;
        b->prev = NULL;
        b->next = live;
        if (live != NULL)
            live->prev = b;
        live = b;
    }
    pthread_mutex_unlock(&list_lock);
    return ok;
}

float *nnf__sgemm_scratch(size_t floats)
{
    pthread_once(&key_once, make_key);
    if (!key_ok || atomic_load(&unloaded))
        return NULL;
    size_t bytes = HEADER + floats * sizeof(float);
    block *old = pthread_getspecific(key);
    if (old != NULL && !claim(old))
        return NULL;
    if (old != NULL && old->bytes >= bytes)
        return payload(old);
    block *fresh = nnf__alloc(bytes);
    if (fresh != NULL) {
        fresh->bytes = bytes;
        if (!link_busy(fresh)) {
            nnf__dealloc(fresh, bytes);
            fresh = NULL;
        } else if (pthread_setspecific(key, fresh) != 0) {
            release(fresh);
            fresh = NULL;
        }
    }
    if (fresh == NULL) {
        if (old != NULL)
            nnf__sgemm_scratch_done(payload(old));   /* the old block stays cached */
        return NULL;
    }
    release(old);
    return payload(fresh);
}

void nnf__sgemm_scratch_done(float *scratch)
{
    block *b = (block *)((char *)scratch - HEADER);
    pthread_mutex_lock(&list_lock);
    b->busy = 0;
    pthread_mutex_unlock(&list_lock);
}

size_t nnf__sgemm_scratch_release(void)
{
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return 0;
    block *b = pthread_getspecific(key);
    if (b == NULL)
        return 0;
    pthread_setspecific(key, NULL);
    unlink_block(b);
    return nnf__dealloc_uncached(b, b->bytes);
}

void nnf__sgemm_scratch_unload(void)
{
    if (!key_ok)
        return;
    block *idle = NULL;
    pthread_mutex_lock(&list_lock);
    atomic_store(&unloaded, 1);
    for (block *b = live, *next; b != NULL; b = next) {
        next = b->next;
        if (!b->busy) {
            b->next = idle;
            idle = b;
        }
    }
    live = NULL;
    pthread_mutex_unlock(&list_lock);
    pthread_key_delete(key);
    for (block *b = idle, *next; b != NULL; b = next) {
        next = b->next;
        nnf__dealloc(b, b->bytes);
    }
}
