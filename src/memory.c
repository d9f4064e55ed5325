/* nnf/memory.h: the huge-page cache (src/core/alloc.c) and the calling thread's sgemm
 * scratch (src/linalg/sgemm_scratch.c), from above both layers. */
#include "nnf/memory.h"

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/linalg/sgemm_scratch.h"

size_t nnf_trim(void)
{
    return nnf__sgemm_scratch_release() + nnf__alloc_trim();
}

void nnf_set_cache_limit(size_t nbytes)
{
    nnf__alloc_set_cache_limit(nbytes);
}

size_t nnf_get_cache_limit(void)
{
    return nnf__alloc_cache_limit();
}

nnf_status nnf_set_allocator(nnf_alloc_fn alloc_fn, nnf_free_fn free_fn, void *user)
{
    NNF_PUBLIC("nnf_set_allocator");
    NNF_RETURN_IF((alloc_fn == NULL) != (free_fn == NULL), NNF_ERR_NULL,
                  "%s is NULL but %s is not: set both, or both NULL for nnf's own allocator",
                  alloc_fn == NULL ? "alloc_fn" : "free_fn",
                  alloc_fn == NULL ? "free_fn" : "alloc_fn");
    (void)nnf__sgemm_scratch_release();
    long live = nnf__alloc_live();
    NNF_RETURN_IF(live != 0, NNF_ERR_STATE,
                  "%ld buffers from the current allocator are still in use (tensors, layers, "
                  "models, loaders, npz files, or another thread's packing buffer); free "
                  "them first", live);
    nnf__alloc_trim();
    nnf__alloc_set_allocator(alloc_fn, free_fn, user);
    return NNF_OK;
}
