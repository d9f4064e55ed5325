/* The sgemm driver's internals, shared by sgemm.c (the public entry: checks,
 * degenerate cases, threads) and sgemm_paths.c (the loops around the kernels). */
#ifndef NNF_LINALG_SGEMM_INTERNAL_H
#define NNF_LINALG_SGEMM_INTERNAL_H

#include <stddef.h>

#include "kernels/sgemm.h"

/* A matrix view: element (i, j) is p[i*rs + j*cs]. One of rs, cs is 1. */
typedef struct nnf__sgemm_view {
    const float *p;
    ptrdiff_t rs, cs;
} nnf__sgemm_view;

/* How a (sub-)problem is computed. All paths give bit-identical results. */
typedef enum {
    NNF__SGEMM_PATH_AUTO,    /* chosen by shape (nnf__sgemm_choose_path) */
    NNF__SGEMM_PATH_DIRECT,  /* kernels read A (and B when its rows are contiguous) in place */
    NNF__SGEMM_PATH_PACKED,  /* BLIS blocking: KC x NC blocks of B and MC x KC of A packed */
} nnf__sgemm_path;

/* Test and benchmark hook: forces a path for later calls (AUTO restores the choice by
 * shape). GEMV-shaped problems (n == 1, or m == 1 with a transposed B) always take the
 * GEMV kernel. Not meant to race with running products. */
void nnf__sgemm_force_path(nnf__sgemm_path path);

/* Test hook: problems of at least this many flops use all OpenMP threads (0: every
 * problem; a negative value restores the default). */
void nnf__sgemm_set_parallel_min_flops(double flops);

/* The path for an m x n x k problem on these kernels (or the forced one). */
nnf__sgemm_path nnf__sgemm_choose_path(const nnf__sgemm_kernels *kr, size_t m, size_t n,
                                       size_t k);

/* The calling thread's cached scratch of at least `floats` floats (sgemm_scratch.c),
 * NULL if it cannot grow to that; valid until this thread's next call. */
float *nnf__sgemm_scratch(size_t floats);

/* Test hook: frees the calling thread's cached scratch, so tests that count live
 * blocks (nnf__alloc_live) or inject allocation failures start from nothing. */
void nnf__sgemm_scratch_release(void);

/* Floats of scratch an m x n x k problem needs on `path` (0 unless it packs; a team
 * of threads shares one). */
size_t nnf__sgemm_scratch_floats(const nnf__sgemm_kernels *kr, nnf__sgemm_path path,
                                 size_t m, size_t n, size_t k, nnf__sgemm_view a,
                                 nnf__sgemm_view b);

/* 1 if the problem takes the packed path (the one a team of threads can share). */
int nnf__sgemm_packs(nnf__sgemm_path path, size_t m, size_t n, nnf__sgemm_view a,
                     nnf__sgemm_view b);

/* C (m x n, row stride ldc) = alpha * A B + beta * C, with `scratch` of
 * nnf__sgemm_scratch_floats() floats (only the packed path needs any). m, n, k >= 1,
 * alpha != 0. On one thread, team = 1 and t = 0; on the packed path, every member t of
 * an OpenMP team of `team` threads calls it with the same arguments and they share the
 * work and the scratch. */
void nnf__sgemm_run(const nnf__sgemm_kernels *kr, nnf__sgemm_path path, size_t m,
                    size_t n, size_t k, float alpha, nnf__sgemm_view a, nnf__sgemm_view b,
                    float beta, float *c, size_t ldc, float *scratch, int t, int team);

#endif
