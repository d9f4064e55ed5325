/* Canonical-order sums (kernels/reduce.h) over the vector layer: the 32 lanes are
 * NNF__RED_LANES / NNF__VL vectors (two zmm, four ymm, eight q registers, 32 floats),
 * so each vector add is exactly NNF__VL of the definition's float adds. A tail is added
 * as zero-padded vectors: a lane never holds -0 (reduce.h), so adding +0 changes no bit;
 * squares of the padding are zeroed first. */
#include "kernels/reduce.h"
#include "span.h"

enum { NV = NNF__RED_LANES / NNF__VL };
/* Loops over the NV accumulators are unrolled before scalar replacement sees them, so
 * a[] lives in registers (otherwise gcc keeps it on the stack between the loops). */
#define NNF__EACH_VEC _Pragma("GCC unroll 32")

/* Lanes past m of v become +0. */
static inline nnf__vf keep_first(nnf__vf v, size_t m)
{
    return nnf__v_select(nnf__v_first(m), v, nnf__v_zero());
}

/* How many of the tail x[k..n) (n - k < 32) fall in lane vector i, and those values
 * zero-padded. Every vector takes part, so a[] stays in registers. */
static inline size_t tail_count(size_t n, size_t k, int i)
{
    size_t j = k + (size_t)i * NNF__VL;
    return j >= n ? 0 : n - j < NNF__VL ? n - j : NNF__VL;
}

static inline nnf__vf tail_load(size_t n, size_t k, int i, const float *x)
{
    size_t m = tail_count(n, k, i);
    if (m == NNF__VL)
        return nnf__v_load(x + k + (size_t)i * NNF__VL);
    return m ? nnf__v_load_part(x + k + (size_t)i * NNF__VL, m) : nnf__v_zero();
}

static inline nnf__vf sqdev(nnf__vf x, nnf__vf mean)
{
    nnf__vf d = nnf__v_sub(x, mean);
    return nnf__v_mul(d, d);
}

void NNF__KERNEL(red_sum_lanes)(size_t n, const float *x, float *acc)
{
    nnf__vf a[NV];
    NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
        a[i] = nnf__v_load(acc + i * NNF__VL);
    size_t k = 0;
    for (; k + NNF__RED_LANES <= n; k += NNF__RED_LANES)
        NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], nnf__v_load(x + k + i * NNF__VL));
    if (k < n)
        NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], tail_load(n, k, i, x));
    NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
        nnf__v_store(acc + i * NNF__VL, a[i]);
}

void NNF__KERNEL(red_sqdev_lanes)(size_t n, const float *x, float mean, float *acc)
{
    nnf__vf a[NV];
    const nnf__vf vmean = nnf__v_splat(mean);
    NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
        a[i] = nnf__v_load(acc + i * NNF__VL);
    size_t k = 0;
    for (; k + NNF__RED_LANES <= n; k += NNF__RED_LANES)
        NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], sqdev(nnf__v_load(x + k + i * NNF__VL), vmean));
    if (k < n)
        NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], keep_first(sqdev(tail_load(n, k, i, x), vmean),
                                               tail_count(n, k, i)));
    NNF__EACH_VEC
    for (int i = 0; i < NV; i++)
        nnf__v_store(acc + i * NNF__VL, a[i]);
}

static inline nnf__vf add_op(nnf__vf acc, nnf__vf x, nnf__vf unused)
{
    (void)unused;
    return nnf__v_add(acc, x);
}

static inline nnf__vf add_sqdev_op(nnf__vf acc, nnf__vf x, nnf__vf mean)
{
    return nnf__v_add(acc, sqdev(x, mean));
}

/* The column forms are elementwise ops in place on acc. */
void NNF__KERNEL(red_sum_cols)(size_t n, const float *x, float *acc)
{
    nnf__span3_at(n, acc, 1, x, 1, x, 1, acc, 1, add_op);
}

void NNF__KERNEL(red_sqdev_cols)(size_t n, const float *x, const float *mean, float *acc)
{
    nnf__span3_at(n, acc, 1, x, 1, mean, 1, acc, 1, add_sqdev_op);
}
