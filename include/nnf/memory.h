/* nnf/memory.h — the memory nnf keeps for reuse, and giving it back.
 *
 * What the cache is for: buffers of 2 MiB and more (every tensor of 512K floats or more,
 * and the temporaries of ops on them) are mapped from the operating system in 2 MiB
 * huge pages. A fresh mapping is paid for on first touch, page by page: a new 64 MiB
 * result costs about 16k page faults, and PyTorch's a + b on 16M floats takes 44 ms
 * into a new tensor against 7.7 ms into an existing one. So when such a buffer is
 * freed, nnf keeps it mapped, and the next buffer of a size that fits reuses it with
 * its pages already in place. The cache holds at most 8 buffers and at most the cache
 * limit in bytes (512 MiB unless changed), dropping the oldest first. Smaller buffers
 * come from malloc and go straight back to it.
 *
 * The price: after every tensor is freed, up to the limit stays resident (issue 14 saw
 * 147 MB after an MLP's training loop). A program that is done with nnf for a
 * while calls nnf_trim; one that must stay small sets a lower limit, or 0 to turn the
 * cache off, in code or with the environment variable
 *     NNF_CACHE_MAX=<bytes>[K|M|G]     e.g. NNF_CACHE_MAX=64M, NNF_CACHE_MAX=0
 * read the first time a large buffer is freed (K, M, G are powers of 1024; a value that
 * does not parse is ignored with a warning, see nnf/log.h).
 *
 * Each thread that runs a large product also keeps its packing buffer until it exits
 * (after a 10000 x 784 by 784 x 512 product with AVX-512: 4 MiB on one thread, 16 MiB
 * when two share it); nnf_trim frees the calling thread's. All of these may be called from any thread at any time.
 */
#ifndef NNF_MEMORY_H
#define NNF_MEMORY_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns every cached buffer, and the calling thread's packing buffer, to the
 * operating system; the bytes unmapped. Memory of live tensors is not touched. */
NNF_API size_t nnf_trim(void);

/* Sets the most bytes the cache may hold, for the whole process, overriding
 * NNF_CACHE_MAX; 0 turns the cache off. Buffers beyond the new limit are returned to
 * the operating system at once, oldest first. */
NNF_API void nnf_set_cache_limit(size_t nbytes);

/* The limit in force: the last nnf_set_cache_limit, else NNF_CACHE_MAX, else 512 MiB. */
NNF_API size_t nnf_get_cache_limit(void);

/* ---- Your own allocator ----
 * For applications that account for or place their memory themselves: every buffer nnf
 * allocates for tensors, their handles, layers, models and scratch then comes from
 * alloc_fn and goes back through free_fn, with no huge pages and no cache of nnf's.
 * alloc_fn returns `nbytes` bytes aligned to `alignment` (64; a block that is not is
 * handed back and the call fails with NNF_ERR_NOMEM) or NULL, which nnf reports as
 * NNF_ERR_NOMEM; free_fn gets the same nbytes back. Both are called from any thread
 * that calls nnf and from nnf's worker threads, so they must be thread-safe. nnf's small
 * bookkeeping (the thread pool's job slots, zlib's state while reading .npz files)
 * still uses malloc. */
typedef void *(*nnf_alloc_fn)(void *user, size_t nbytes, size_t alignment);
typedef void (*nnf_free_fn)(void *user, void *ptr, size_t nbytes);

/* Sets the allocator for the whole process; both NULL restores nnf's own. Call it
 * before nnf allocates anything, or once everything is freed, with no other thread
 * inside nnf: NNF_ERR_STATE, and no change, while buffers from the current allocator
 * are in use (tensors, layers, models, loaders, npz files, or another thread's packing
 * buffer: see nnf_trim). The cache is emptied first. NNF_ERR_NULL if only one of the
 * two functions is NULL. */
NNF_API NNF_NODISCARD nnf_status nnf_set_allocator(nnf_alloc_fn alloc_fn, nnf_free_fn free_fn,
                                                   void *user);

#ifdef __cplusplus
}
#endif
#endif
