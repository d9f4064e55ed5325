/* Span kernels for reductions: the contract between src/ops/reduce*.c and kernels/<isa>/.
 *
 * THE CANONICAL ORDER (the same bits on every ISA and thread count)
 * A reduction of R values v[0..R) (one output's inputs, in row-major order of the
 * reduced dims) is defined as:
 *   1. Blocks: r = 0..R-1 is cut into blocks of NNF__RED_BLOCK = 4096 values.
 *   2. Lanes: inside a block, lane j = r mod NNF__RED_LANES (32) accumulates its values in
 *      increasing r, starting from +0.0f, with one float add per value (no FMA, never
 *      reassociated). Starting at +0.0 means a lane never holds -0.0, so a kernel may
 *      pad a tail with +0.0 without changing any bit.
 *   3. Lane tree (src/ops, ISA-free): the 32 lane sums are folded by halving,
 *      l[j] += l[j + h] for h = 16, 8, 4, 2, 1, in float.
 *   4. Block tree (src/ops): block results are combined in double by the bottom-up
 *      pairwise tree b[i] += b[i + w] for w = 1, 2, 4, ... (i a multiple of 2w), i.e.
 *      split at the largest power of two below the count.
 * Every kernel below implements step 2 with exactly these float adds: AVX-512 keeps the
 * 32 lanes in two zmm, AVX2 in four ymm, NEON in eight q registers, scalar in an array.
 * Threads take whole blocks and steps 3-4 run after them, so neither the vector width
 * nor the thread count can change a bit. 32 lanes rather than 16 give two independent
 * add chains per zmm pass (fadd latency 3-4 cycles on Zen 4), which the second,
 * in-cache pass of var/std needs to stay under the cost of reading memory.
 *
 * Max/min are order-independent by construction: they are taken in the total order of
 * the float keys below (-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN), so -0/+0 ties
 * and NaN payloads cannot depend on which element a vector lane met first.
 *
 * Kernels see contiguous spans only (stride 1): src/ops gathers strided data into a
 * block-sized buffer first. No kernel allocates or reads shapes.
 */
#ifndef NNF_KERNELS_REDUCE_H
#define NNF_KERNELS_REDUCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/canonical_nan.h"

#define NNF__RED_LANES 32
/* 4096 floats = 16 KiB: a block read from memory for var's first pass is still in the
 * 32 KiB L1 for its second pass. */
#define NNF__RED_BLOCK 4096

/* Total-order key of a float's bits: signed comparison of keys orders the floats as
 * described above. The map is its own inverse. */
static inline int32_t nnf__red_key(int32_t bits)
{
    return bits < 0 ? bits ^ INT32_MAX : bits;
}

/* A reduction's result under the NaN rule (kernels/eltwise.h): a NaN becomes the
 * canonical quiet NaN 0x7FC00000. src/ops folds lanes and blocks in C, where which NaN
 * an add propagates depends on the operand order the compiler picks, so the kernels'
 * accumulators keep whatever NaN they hold and only the final value is made canonical. */
static inline float nnf__red_result(float v) { return nnf__canonical_nan(v); }

/* The key of the float at x. */
static inline int32_t nnf__red_key_at(const float *x)
{
    int32_t bits;
    memcpy(&bits, x, sizeof bits);
    return nnf__red_key(bits);
}

/* One key at a time: the scalar kernels, and the vector kernels' tails. keys[0] and
 * keys[1] take the min and max key over x[0..n). */
static inline void nnf__red_extrema_steps(size_t n, const float *x, int32_t keys[2])
{
    int32_t lo = keys[0], hi = keys[1];
    for (size_t k = 0; k < n; k++) {
        int32_t key = nnf__red_key_at(x + k);
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
    }
    keys[0] = lo;
    keys[1] = hi;
}

/* kmin[c], kmax[c] take the min and max with the key of x[c], c < n. */
static inline void nnf__red_extrema_cols_steps(size_t n, const float *x, int32_t *kmin,
                                               int32_t *kmax)
{
    for (size_t c = 0; c < n; c++) {
        int32_t key = nnf__red_key_at(x + c);
        kmin[c] = key < kmin[c] ? key : kmin[c];
        kmax[c] = key > kmax[c] ? key : kmax[c];
    }
}

typedef struct nnf__reduce_kernels {
    /* acc[k % 32] += x[k] for k = 0..n-1 in increasing k. The caller keeps acc between
     * calls: a span that starts at a multiple of 32 within its block continues it. */
    void (*sum_lanes)(size_t n, const float *x, float *acc);
    /* acc[k % 32] += (x[k] - mean) * (x[k] - mean), same lane rule. */
    void (*sqdev_lanes)(size_t n, const float *x, float mean, float *acc);
    /* Column form, for reductions whose innermost memory dim is kept: x is one row of
     * n outputs' values; acc[c] += x[c] (the caller picks the lane row acc points at). */
    void (*sum_cols)(size_t n, const float *x, float *acc);
    /* acc[c] += (x[c] - mean[c]) * (x[c] - mean[c]). */
    void (*sqdev_cols)(size_t n, const float *x, const float *mean, float *acc);
    /* keys[0] = min(keys[0], key(x[k])), keys[1] = max(keys[1], key(x[k])) over k < n. */
    void (*extrema)(size_t n, const float *x, int32_t keys[2]);
    /* Column form: kmin[c] = min(kmin[c], key(x[c])), kmax[c] = max(kmax[c], key(x[c])). */
    void (*extrema_cols)(size_t n, const float *x, int32_t *kmin, int32_t *kmax);
    /* First k with (x[k] == value) == equal, where "== NaN" means "is a NaN"; n if none.
     * (argmax: the first x == max; all: no x == 0; any: some x != 0, NaN counting as
     * nonzero as in C and PyTorch.) */
    size_t (*find_f32)(size_t n, const float *x, float value, int equal);
    /* First k with (x[k] == value) == equal; n if none. */
    size_t (*find_u8)(size_t n, const uint8_t *x, uint8_t value, int equal);
} nnf__reduce_kernels;

/* Each ISA defines nnf__<type>_r<op>[_form]__<isa> (XNNPACK's scheme: f32_rsum,
 * f32_rminmax, u8_rfind), each in kernels/generic/<type>_r<op>.c, declared by
 * NNF__RED_DECLARE(isa) in kernels/<isa>/kernels.h; dispatch/table_<isa>.c lists them. */
#define NNF__RED_DECLARE(isa)                                                             \
    void nnf__f32_rsum_lanes__##isa(size_t n, const float *x, float *acc);                 \
    void nnf__f32_rsum_sqdev_lanes__##isa(size_t n, const float *x, float mean,            \
                                          float *acc);                                    \
    void nnf__f32_rsum_cols__##isa(size_t n, const float *x, float *acc);                  \
    void nnf__f32_rsum_sqdev_cols__##isa(size_t n, const float *x, const float *mean,      \
                                         float *acc);                                     \
    void nnf__f32_rminmax__##isa(size_t n, const float *x, int32_t keys[2]);               \
    void nnf__f32_rminmax_cols__##isa(size_t n, const float *x, int32_t *kmin,             \
                                      int32_t *kmax);                                     \
    size_t nnf__f32_rfind__##isa(size_t n, const float *x, float value, int equal);        \
    size_t nnf__u8_rfind__##isa(size_t n, const uint8_t *x, uint8_t value, int equal);

/* The table entries of one ISA, for dispatch/table_<isa>.c. */
#define NNF__RED_TABLE(isa)                                  \
    {                                                        \
        .sum_lanes = nnf__f32_rsum_lanes__##isa,             \
        .sqdev_lanes = nnf__f32_rsum_sqdev_lanes__##isa,     \
        .sum_cols = nnf__f32_rsum_cols__##isa,               \
        .sqdev_cols = nnf__f32_rsum_sqdev_cols__##isa,       \
        .extrema = nnf__f32_rminmax__##isa,                  \
        .extrema_cols = nnf__f32_rminmax_cols__##isa,        \
        .find_f32 = nnf__f32_rfind__##isa,                   \
        .find_u8 = nnf__u8_rfind__##isa,                     \
    }

#endif
