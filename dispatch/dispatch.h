/* The one door from ISA-free code to the kernels: the active ISA's table. */
#ifndef NNF_DISPATCH_H
#define NNF_DISPATCH_H

#include "dispatch/blocking.h"
#include "kernel_table.h"

/* The table of the active ISA. The first call detects the CPU and OS (once, thread-safe). */
const nnf__kernels *nnf__kernels_active(void);

/* What detection found, for nnf-info (the library's np.show_runtime()). */
typedef struct nnf__dispatch_info {
    nnf_isa best;             /* highest ISA the CPU and OS support */
    nnf_isa chosen_at_start;  /* best, capped by NNF_ISA */
    const char *why;          /* a sentence saying what decided chosen_at_start */
    const char *env_cap;      /* NNF_ISA's value if it was used, else NULL */
    unsigned long long xcr0;  /* x86 only */
    char features[512];       /* space-separated feature names */
    nnf__caches caches;       /* what the sgemm blocks were chosen from */
} nnf__dispatch_info;
void nnf__dispatch_facts(nnf__dispatch_info *info);

/* Test and benchmark hook: every ISA's sgemm blocks become these, the B block rounded
 * down to whole NR panels (a value <= 0 keeps the choice for this CPU; (0, 0) restores
 * it). The bits do not depend on them (KC
 * does not move). Not meant to race with running products. */
void nnf__blocking_force(int a_block_rows, int b_block_cols);

#endif
