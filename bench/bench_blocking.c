/* The packed sgemm path's cache blocks chosen for this CPU (dispatch/blocking_choose.c)
 * against other blocks, by default the kernel table's constants that they replaced, on
 * bench/big_products.h's products: rounds interleave the blockings (the order
 * alternating), one thread, and each blocking's time is the process's CPU time, so that
 * the other programs on a shared machine cost a blocking only what they do to its
 * caches, not the time they keep it off the core.
 *
 *     build/native/bench/bench_blocking [rounds [rows cols]...]
 *     NNF_ISA=avx2 build/native/bench/bench_blocking 31 2048 256
 *
 * A pair "rows cols" forces those blocks (nnf__blocking_force: columns rounded down to
 * whole NR panels); with none, the old constants of the active ISA's table. Prints, per product
 * and blocking, the GFLOPS of the median round and the median [10th-90th percentile]
 * over rounds of (its time / the chosen blocking's time in the same round). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/big_products.h"
#include "dispatch/dispatch.h"
#include "nnf/nnf.h"

enum { MAX_ROUNDS = 101, MAX_BLOCKINGS = 8 };

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double percentile(double *v, int n, int pct)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[(n - 1) * pct / 100];
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    int nb = 1 + (argc > 2 ? (argc - 2) / 2 : 1);
    if (rounds < 1 || rounds > MAX_ROUNDS || nb > MAX_BLOCKINGS || (argc > 2 && argc % 2)) {
        fprintf(stderr, "usage: bench_blocking [rounds (1-%d) [rows cols]...]\n", MAX_ROUNDS);
        return 2;
    }
    /* Blocking 0 is the chosen one; then the pairs given, or the constants of
     * dispatch/table_<isa>.c (the scalar ones for the ISAs not listed). */
    static const struct {
        nnf_isa isa;
        int rows, cols;
    } old[] = {{NNF_ISA_AVX512, 2048, 384}, {NNF_ISA_AVX2, 2048, 256}, {NNF_ISA_NEON, 960, 240}};
    int blocks[MAX_BLOCKINGS][2] = {{0, 0}, {256, 256}};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
        if (old[i].isa == nnf_isa_active()) {
            blocks[1][0] = old[i].rows;
            blocks[1][1] = old[i].cols;
        }
    for (int v = 1; v < nb && argc > 2; v++) {
        blocks[v][0] = atoi(argv[2 * v]);
        blocks[v][1] = atoi(argv[2 * v + 1]);
    }
    const nnf__sgemm_kernels *g;
    if (nnf_set_num_threads(1) != NNF_OK)
        return 1;
    printf("ISA %s, %d rounds; time ratio to the chosen blocks: median [p10-p90]\n",
           nnf_isa_name(nnf_isa_active()), rounds);
    static double t[MAX_BLOCKINGS][MAX_ROUNDS], ratio[MAX_ROUNDS];
    for (size_t s = 0; s < NPRODUCTS; s++) {
        const product *p = &products[s];
        size_t lda = p->ta == NNF_NO_TRANS ? p->k : p->m;
        size_t ldb = p->tb == NNF_NO_TRANS ? p->n : p->k;
        float *a = malloc(p->m * p->k * sizeof *a), *b = malloc(p->k * p->n * sizeof *b);
        float *c = malloc(p->m * p->n * sizeof *c);
        if (a == NULL || b == NULL || c == NULL)
            return 1;
        for (size_t i = 0; i < p->m * p->k; i++)
            a[i] = (float)(i * 7919 % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < p->k * p->n; i++)
            b[i] = (float)(i * 104729 % 1000) / 1000.0f - 0.5f;
        double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
        int reps = flops > 1e10 ? 1 : (int)(1e10 / flops);   /* ~50 ms a round */
        for (int r = -1; r < rounds; r++)   /* round -1 warms up */
            for (int i = 0; i < nb; i++) {
                int v = r % 2 ? nb - 1 - i : i;
                nnf__blocking_force(blocks[v][0], blocks[v][1]);
                double t0 = cpu_seconds();
                for (int q = 0; q < reps; q++)
                    if (nnf_sgemm(p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, lda, b, ldb, 0.0f,
                                  c, p->n) != NNF_OK)
                        return 1;
                if (r >= 0)
                    t[v][r] = (cpu_seconds() - t0) / reps;
            }
        printf("%-28s", p->name);
        for (int v = 0; v < nb; v++) {
            for (int r = 0; r < rounds; r++)
                ratio[r] = t[v][r] / t[0][r];
            double mid = percentile(ratio, rounds, 50), lo = percentile(ratio, rounds, 10);
            double hi = percentile(ratio, rounds, 90);
            nnf__blocking_force(blocks[v][0], blocks[v][1]);
            g = &nnf__kernels_active()->gemm;
            printf(" | %dx%d %.1f GFLOPS %.3f [%.3f-%.3f]", g->a_block_rows, g->b_block_cols,
                   flops / percentile(t[v], rounds, 50) * 1e-9, mid, lo, hi);
        }
        printf("\n");
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    nnf__blocking_force(0, 0);
    return 0;
}
