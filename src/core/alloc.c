/* The one place nnf gets memory from.
 *
 * Small blocks come from aligned_alloc. Blocks of 2 MiB and more are mapped directly,
 * 2 MiB aligned, with MADV_HUGEPAGE: transparent huge pages are in "madvise" mode on
 * the machines we measure, and a fresh 64 MiB result faulted in 4 KiB pages costs ~16k
 * page faults (PyTorch's allocating a + b on 16M floats: 44 ms against 7.7 ms into an
 * existing tensor). Freed large blocks go to a small cache so that the next temporary of
 * a size that fits reuses memory that is already faulted in.
 */
#include "src/core/alloc.h"
#include "src/core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ALIGN 64
#define HUGE_PAGE ((size_t)2 << 20)
/* 8 blocks and 512 MiB hold the temporaries of an expression like (a + b) * c on
 * 16M-float tensors several times over, without keeping much memory from the OS.
 * NNF_CACHE_MAX and nnf_set_cache_limit change the byte limit (nnf/memory.h). */
#define CACHE_SLOTS 8
#define CACHE_MAX_BYTES ((size_t)512 << 20)

static atomic_long live_blocks;

/* The application's allocator (nnf_set_allocator), or NULL for nnf's own. It changes
 * only while no block is live, between two slots so that a reader never sees a pair
 * half written. */
typedef struct {
    nnf_alloc_fn alloc;
    nnf_free_fn free;
    void *user;
} app_allocator;
static app_allocator app_slots[2];
static _Atomic(const app_allocator *) app;
static atomic_long fail_countdown;   /* allocations left before failures start */
static atomic_int fail_armed;
static atomic_size_t cap_nbytes;     /* 0: no cap */
static atomic_long over_cap;

static struct {
    pthread_mutex_t lock;
    void *ptr[CACHE_SLOTS];
    size_t len[CACHE_SLOTS];   /* mapped bytes, a multiple of HUGE_PAGE */
    int count;                 /* slots 0..count-1 are used, oldest first */
    size_t bytes;
    size_t limit;              /* bytes the cache may hold, if limit_set */
    int limit_set;             /* by nnf_set_cache_limit; else env_limit holds */
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* NNF_CACHE_MAX's limit once env_read is 1: read outside the lock, since a bad value
 * is reported through the application's log callback. */
static atomic_size_t env_limit;
static atomic_int env_read;

static int injected_failure(void)
{
    if (!atomic_load_explicit(&fail_armed, memory_order_relaxed))
        return 0;
    return atomic_fetch_sub(&fail_countdown, 1) <= 1;
}

static int above_cap(size_t nbytes)
{
    size_t cap = atomic_load_explicit(&cap_nbytes, memory_order_relaxed);
    if (cap == 0 || nbytes <= cap)
        return 0;
    atomic_fetch_add(&over_cap, 1);
    return 1;
}

/* Removes slot i, keeping the others oldest first. Call with the lock held. */
static void cache_remove(int i)
{
    cache.bytes -= cache.len[i];
    cache.count--;
    memmove(&cache.ptr[i], &cache.ptr[i + 1], (size_t)(cache.count - i) * sizeof cache.ptr[0]);
    memmove(&cache.len[i], &cache.len[i + 1], (size_t)(cache.count - i) * sizeof cache.len[0]);
}

/* Takes the smallest cached block of at least len bytes and unmaps what it has beyond
 * len, so that the block's size is again round_up(nbytes) when it is freed. */
static void *cache_take(size_t len)
{
    void *p = NULL;
    size_t have = 0;
    pthread_mutex_lock(&cache.lock);
    int best = -1;
    for (int i = 0; i < cache.count; i++)
        if (cache.len[i] >= len && (best < 0 || cache.len[i] < cache.len[best]))
            best = i;
    if (best >= 0) {
        p = cache.ptr[best];
        have = cache.len[best];
        cache_remove(best);
    }
    pthread_mutex_unlock(&cache.lock);
    if (have > len)
        munmap((char *)p + len, have - len);
    return p;
}

/* NNF_CACHE_MAX: bytes, or with a suffix K, M or G (powers of 1024). 0 on success. */
static int parse_bytes(const char *s, size_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end != '\0' || errno == ERANGE || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)v << shift;
    return 0;
}

/* Call without the lock; the first caller to store the value is the one that warns. */
static void read_env_limit(void)
{
    if (atomic_load(&env_read))
        return;
    const char *env = getenv("NNF_CACHE_MAX");
    size_t limit = CACHE_MAX_BYTES;
    int bad = env != NULL && parse_bytes(env, &limit) != 0;
    if (bad)
        limit = CACHE_MAX_BYTES;
    atomic_store(&env_limit, limit);
    int expected = 0;
    if (atomic_compare_exchange_strong(&env_read, &expected, 1)) {
        if (bad)
            nnf__log(NNF_LOG_WARNING, "NNF_CACHE_MAX=%s is not a size in bytes (e.g. 0, "
                     "64M, 1G); using %zu MiB", env, (size_t)CACHE_MAX_BYTES >> 20);
        nnf__log(NNF_LOG_DEBUG, "huge-page cache limit: %zu bytes%s", limit,
                 env != NULL && !bad ? " (NNF_CACHE_MAX)" : "");
    }
}

/* Call with the lock held, after read_env_limit. */
static size_t cache_limit(void)
{
    return cache.limit_set ? cache.limit : atomic_load(&env_limit);
}

/* Takes the oldest blocks out until `len` more bytes and a block fit. Call with the lock
 * held; the caller unmaps what lands in evict (room for every slot). */
static int cache_evict_for(size_t len, void **evict, size_t *evict_len)
{
    int n = 0;
    while (cache.count > 0 &&
           (cache.count + (len > 0) > CACHE_SLOTS || cache.bytes + len > cache_limit())) {
        evict[n] = cache.ptr[0];
        evict_len[n++] = cache.len[0];
        cache_remove(0);
    }
    return n;
}

static void cache_put(void *p, size_t len)
{
    void *evict[CACHE_SLOTS + 1];
    size_t evict_len[CACHE_SLOTS + 1];
    int n_evict = 0;
    read_env_limit();
    pthread_mutex_lock(&cache.lock);
    if (len > cache_limit()) {
        evict[n_evict] = p;
        evict_len[n_evict++] = len;
    } else {
        n_evict = cache_evict_for(len, evict, evict_len);
        cache.ptr[cache.count] = p;
        cache.len[cache.count++] = len;
        cache.bytes += len;
    }
    pthread_mutex_unlock(&cache.lock);
    for (int i = 0; i < n_evict; i++)
        munmap(evict[i], evict_len[i]);
}

/* Maps len bytes (a multiple of HUGE_PAGE) at a 2 MiB boundary, so that every 2 MiB of
 * the block can be one huge page: over-map by one huge page and unmap the ends. */
static void *map_huge(size_t len)
{
    size_t span = len + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    char *p = (char *)start;
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + span > p + len)
        munmap(p + len, (size_t)(raw + span - (p + len)));
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

static size_t huge_len(size_t nbytes)
{
    return (nbytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* *fresh tells whether the block comes straight from mmap, whose pages the kernel
 * zero-fills: nnf__calloc then skips a redundant pass over memory (3 ms for 64 MiB). */
static void *alloc_block(size_t nbytes, int *fresh)
{
    *fresh = 0;
    if (nbytes == 0)
        nbytes = 1;
    if (nbytes > SIZE_MAX / 2 || above_cap(nbytes) || injected_failure())
        return NULL;
    void *p;
    const app_allocator *a = atomic_load_explicit(&app, memory_order_acquire);
    if (a != NULL) {
        p = a->alloc(a->user, nbytes, ALIGN);
        if (p != NULL && (uintptr_t)p % ALIGN != 0) {
            a->free(a->user, p, nbytes);
            nnf__log(NNF_LOG_WARNING, "the allocator set with nnf_set_allocator returned "
                     "%p, not %d-byte aligned; taken as out of memory", p, ALIGN);
            p = NULL;
        }
    } else if (nbytes >= HUGE_PAGE) {
        size_t len = huge_len(nbytes);
        p = cache_take(len);
        if (p == NULL) {
            p = map_huge(len);
            *fresh = 1;
        }
    } else {
        p = aligned_alloc(ALIGN, (nbytes + ALIGN - 1) & ~(size_t)(ALIGN - 1));
    }
    if (p != NULL)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *nnf__alloc(size_t nbytes)
{
    int fresh;
    return alloc_block(nbytes, &fresh);
}

void *nnf__calloc(size_t nbytes)
{
    int fresh;
    void *p = alloc_block(nbytes, &fresh);
    if (p != NULL && !fresh)
        memset(p, 0, nbytes);
    return p;
}

/* Returns the bytes given back to the OS now: a large block's mapping when it bypasses
 * the cache. */
static size_t dealloc(void *p, size_t nbytes, int cache)
{
    if (p == NULL)
        return 0;
    atomic_fetch_sub(&live_blocks, 1);
    const app_allocator *a = atomic_load_explicit(&app, memory_order_acquire);
    if (a != NULL) {
        a->free(a->user, p, nbytes == 0 ? 1 : nbytes);
    } else if (nbytes >= HUGE_PAGE && cache) {
        cache_put(p, huge_len(nbytes));
    } else if (nbytes >= HUGE_PAGE) {
        munmap(p, huge_len(nbytes));
        return huge_len(nbytes);
    } else {
        free(p);
    }
    return 0;
}

void nnf__dealloc(void *p, size_t nbytes)
{
    dealloc(p, nbytes, 1);
}

size_t nnf__dealloc_uncached(void *p, size_t nbytes)
{
    return dealloc(p, nbytes, 0);
}

void nnf__alloc_set_allocator(nnf_alloc_fn alloc_fn, nnf_free_fn free_fn, void *user)
{
    const app_allocator *old = atomic_load(&app);
    app_allocator *slot = &app_slots[old == &app_slots[0]];
    *slot = (app_allocator){alloc_fn, free_fn, user};
    atomic_store_explicit(&app, alloc_fn != NULL ? slot : NULL, memory_order_release);
}

void nnf__alloc_fail_after(long n)
{
    atomic_store(&fail_armed, 0);
    atomic_store(&fail_countdown, n);
    atomic_store(&fail_armed, n > 0);
}

void nnf__alloc_cap(size_t max_nbytes)
{
    atomic_store(&over_cap, 0);
    atomic_store(&cap_nbytes, max_nbytes);
}

long nnf__alloc_over_cap(void)
{
    return atomic_load(&over_cap);
}

long nnf__alloc_live(void)
{
    return atomic_load(&live_blocks);
}

size_t nnf__alloc_trim(void)
{
    pthread_mutex_lock(&cache.lock);
    int count = cache.count;
    size_t bytes = cache.bytes;
    void *ptr[CACHE_SLOTS];
    size_t len[CACHE_SLOTS];
    memcpy(ptr, cache.ptr, sizeof ptr);
    memcpy(len, cache.len, sizeof len);
    cache.count = 0;
    cache.bytes = 0;
    pthread_mutex_unlock(&cache.lock);
    for (int i = 0; i < count; i++)
        munmap(ptr[i], len[i]);
    return bytes;
}

/* set 1: the limit is nbytes; set 0: NNF_CACHE_MAX's again. Evicts down to it at once. */
static void set_limit(int set, size_t nbytes)
{
    void *evict[CACHE_SLOTS];
    size_t evict_len[CACHE_SLOTS];
    read_env_limit();
    pthread_mutex_lock(&cache.lock);
    cache.limit = nbytes;
    cache.limit_set = set;
    int n_evict = cache_evict_for(0, evict, evict_len);
    pthread_mutex_unlock(&cache.lock);
    for (int i = 0; i < n_evict; i++)
        munmap(evict[i], evict_len[i]);
}

void nnf__alloc_set_cache_limit(size_t nbytes)
{
    set_limit(1, nbytes);
}

size_t nnf__alloc_cache_limit(void)
{
    read_env_limit();
    pthread_mutex_lock(&cache.lock);
    size_t limit = cache_limit();
    pthread_mutex_unlock(&cache.lock);
    return limit;
}

void nnf__alloc_reread_env(void)
{
    atomic_store(&env_read, 0);
    set_limit(0, 0);
}
