/* nnf/memory.h: the huge-page cache (src/core/alloc.c) and the calling thread's sgemm
 * scratch (src/linalg/sgemm_scratch.c), from above both layers. */
#include "nnf/memory.h"

#include "src/core/alloc.h"
#include "src/linalg/sgemm_internal.h"

size_t nnf_trim(void)
{
    /* First, so that a scratch block of 2 MiB or more passes through the cache and
     * is counted with it. */
    nnf__sgemm_scratch_release();
    return nnf__alloc_trim();
}

void nnf_set_cache_limit(size_t nbytes)
{
    nnf__alloc_set_cache_limit(nbytes);
}

size_t nnf_get_cache_limit(void)
{
    return nnf__alloc_cache_limit();
}
