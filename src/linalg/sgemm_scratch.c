/* The packed sgemm path's scratch, kept per calling thread between calls.
 *
 * A packed product needs (MC + NC) x KC floats, shared by its team of threads
 * (AVX-512: (2048 + 384) x 384 x 4 B = 3.6 MiB, AVX2 3.4 MiB, NEON 1.8 MiB, scalar
 * 0.8 MiB). Allocating that per call costs a malloc/free pair and, for a fresh block
 * from the OS, ~900 first-touch page faults of 4 KiB. So each thread that calls
 * nnf_sgemm keeps its largest buffer so far: it only grows (by the bound above it
 * stays under 4 MiB per calling thread), and
 * is freed at thread exit by a pthread key destructor (a process's main thread keeps
 * it until exit, still reachable through the key). The buffer comes from nnf__alloc,
 * so injected allocation failures reach the packed path too; nnf__sgemm_scratch_release
 * lets tests that count live blocks return it.
 *
 * The buffer is a 64-byte header holding its size, then the floats: the key's value
 * is then the whole state, and a destructor needs nothing else (thread-local variables
 * may already be gone when key destructors run). */
#include <pthread.h>

#include "src/core/alloc.h"
#include "src/linalg/sgemm_internal.h"

enum { HEADER = 64 };   /* keeps the floats on nnf__alloc's 64-byte alignment */

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void release(void *block)
{
    if (block != NULL)
        nnf__dealloc(block, *(size_t *)block);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&key, release) == 0;
}

float *nnf__sgemm_scratch(size_t floats)
{
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return NULL;
    char *block = pthread_getspecific(key);
    if (block != NULL && *(size_t *)block >= HEADER + floats * sizeof(float))
        return (float *)(block + HEADER);
    size_t bytes = HEADER + floats * sizeof(float);
    char *fresh = nnf__alloc(bytes);
    if (fresh == NULL || pthread_setspecific(key, fresh) != 0) {
        nnf__dealloc(fresh, bytes);
        return NULL;   /* the old block stays cached */
    }
    *(size_t *)fresh = bytes;
    release(block);
    return (float *)(fresh + HEADER);
}

void nnf__sgemm_scratch_release(void)
{
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return;
    release(pthread_getspecific(key));
    pthread_setspecific(key, NULL);
}
