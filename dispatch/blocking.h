/* The packed sgemm path's cache blocks from the caches of the CPU it runs on: a pure
 * function of the detected words (blocking_choose.c), applied once at dispatch. KC is
 * not chosen here: it is one constant for every CPU (kernels/sgemm_kernels.h), since it
 * decides the bits; the blocks only decide which loads hit which cache.
 */
#ifndef NNF_DISPATCH_BLOCKING_H
#define NNF_DISPATCH_BLOCKING_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/cpu_features.h"

/* The data caches one core sees, in bytes (0: unknown), and how many logical CPUs
 * share each (0: unknown). */
typedef struct nnf__caches {
    uint64_t l1d, l2, l3;
    uint32_t l2_sharing, l3_sharing;
    const char *source;   /* where the L2 and L3 came from, for nnf-info */
} nnf__caches;

/* x86's words (zero on aarch64): leaf 4, else 0x8000001D, else AMD's 0x80000005/6, each
 * level from the first that describes it; then the OS for what CPUID left out. */
nnf__caches nnf__caches_of(const nnf__cpu_features *f);

typedef struct nnf__blocking {
    int a_block_rows, b_block_cols;
} nnf__blocking;

/* The blocks for a micro-kernel of mr x nr on elements of elem_size bytes, k cut at kc;
 * `fallback` (the kernel table's constants) for a level whose size is unknown. See
 * blocking_choose.c for which block lives where. */
nnf__blocking nnf__blocking_choose(const nnf__caches *c, int mr, int nr, int kc,
                                   size_t elem_size, nnf__blocking fallback);

/* Bounds of the choice, whatever the caches claim. */
#define NNF__BLOCK_MIN 64
#define NNF__A_BLOCK_ROWS_MAX 4096
#define NNF__B_BLOCK_COLS_MAX 2048

#endif
