/* The sgemm driver's per-thread scratch for packed blocks (sgemm_scratch.c). */
#ifndef NNF_LINALG_SGEMM_SCRATCH_H
#define NNF_LINALG_SGEMM_SCRATCH_H

#include <stddef.h>

/* The calling thread's cached scratch of at least `floats` floats, NULL if it cannot
 * grow to that; valid until this thread's next call. Hand it back with
 * nnf__sgemm_scratch_done when the product is finished. */
float *nnf__sgemm_scratch(size_t floats);
void nnf__sgemm_scratch_done(float *scratch);

/* Frees the calling thread's cached scratch, past the huge-page cache (nnf_trim), and
 * returns the bytes given back to the OS; also lets tests that count live blocks
 * (nnf__alloc_live) or inject allocation failures start from nothing. */
size_t nnf__sgemm_scratch_release(void);

/* Frees every thread's scratch that no product is using and deletes the key whose
 * destructor frees it at thread exit (src/unload.c); later calls get NULL. */
void nnf__sgemm_scratch_unload(void);

#endif
