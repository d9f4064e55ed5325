/* The one place nnf gets memory from. Everything in the library allocates through
 * nnf__alloc, so a test can make the Nth allocation fail and check that every error
 * path frees what it took (SQLite's malloc-failure testing).
 */
#ifndef NNF_CORE_ALLOC_H
#define NNF_CORE_ALLOC_H

#include <stddef.h>

#include "nnf/memory.h"

/* 64-byte aligned, uninitialised; NULL on failure (real or injected) or nbytes == 0
 * handled as a 1-byte request. Buffers of 2 MiB and more are backed by transparent
 * huge pages and recycled through a small cache, so a large fresh result does not pay
 * thousands of 4 KiB page faults. */
void *nnf__alloc(size_t nbytes);
/* Zero-filled nnf__alloc. */
void *nnf__calloc(size_t nbytes);
/* nbytes must be the size given to nnf__alloc. NULL is a no-op. */
void nnf__dealloc(void *p, size_t nbytes);
/* The same, past the cache: the bytes returned to the OS now (0 for a block malloc or
 * the application's allocator takes back). */
size_t nnf__dealloc_uncached(void *p, size_t nbytes);

/* ---- Test hooks ---- */
/* The nth allocation from now (n >= 1) and every later one fail; n = 0 disables. */
void nnf__alloc_fail_after(long n);
/* Number of nnf__alloc blocks handed out and not yet returned (cache excluded). */
long nnf__alloc_live(void);
/* Return cached huge buffers to the OS; the bytes returned. nnf_trim (nnf/memory.h). */
size_t nnf__alloc_trim(void);
/* The cache's byte limit: set it (evicting down to it at once), read it. */
void nnf__alloc_set_cache_limit(size_t nbytes);
size_t nnf__alloc_cache_limit(void);
/* Every later block from alloc_fn / free_fn (nnf_set_allocator), or from nnf's own
 * allocator again for NULL; only while no block is live. */
void nnf__alloc_set_allocator(nnf_alloc_fn alloc_fn, nnf_free_fn free_fn, void *user);
/* Reads NNF_CACHE_MAX again, as at the first use of the cache. */
void nnf__alloc_reread_env(void);
/* Requests of more than max_nbytes fail, as injected failures do, and are counted in
 * nnf__alloc_over_cap (reset here); 0 lifts the cap. The fuzz targets bound their memory
 * with it and check that a small input never asks for a huge block. */
void nnf__alloc_cap(size_t max_nbytes);
long nnf__alloc_over_cap(void);

#endif
