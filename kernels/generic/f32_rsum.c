/* Canonical-order sums (kernels/reduce.h): rsum adds x, rsum_sqdev adds (x - mean)^2
 * (a subtraction and a multiplication, never an FMA, so the squares round alike on every
 * ISA). The 32 lanes are NNF__RED_LANES / NNF__VL vectors (two zmm, four ymm, eight q
 * registers, 32 floats), so each vector add is exactly NNF__VL of the definition's float
 * adds. A tail is one more pass with zero-padded vectors whose padding terms are zeroed:
 * a lane never holds -0 (reduce.h), so adding +0 changes no bit. */
#include "kernels/reduce.h"
#include "span.h"

enum { NV = NNF__RED_LANES / NNF__VL };
/* Loops over the NV accumulators are unrolled before scalar replacement sees them, so
 * a[] lives in registers (otherwise gcc keeps it on the stack between the loops). */
#define EACH_VEC _Pragma("GCC unroll 32")

typedef nnf__vf (*term_fn)(nnf__vf x, nnf__vf mean);

static inline nnf__vf sum_term(nnf__vf x, nnf__vf mean)
{
    (void)mean;
    return x;
}

static inline nnf__vf sqdev_term(nnf__vf x, nnf__vf mean)
{
    nnf__vf d = nnf__v_sub(x, mean);
    return nnf__v_mul(d, d);
}

/* How many of the tail x[k..n) (n - k < 32) fall in lane vector i. */
static inline size_t tail_count(size_t n, size_t k, int i)
{
    size_t j = k + (size_t)i * NNF__VL;
    return j >= n ? 0 : n - j < NNF__VL ? n - j : NNF__VL;
}

/* The tail's term for lane vector i, zero past its count. */
static inline nnf__vf tail_term(size_t n, size_t k, int i, const float *x, nnf__vf mean,
                                term_fn term)
{
    size_t m = tail_count(n, k, i);
    if (m == NNF__VL)
        return term(nnf__v_load(x + k + (size_t)i * NNF__VL), mean);
    if (m == 0)
        return nnf__v_zero();
    nnf__vf t = term(nnf__v_load_part(x + k + (size_t)i * NNF__VL, m), mean);
    return nnf__v_select(nnf__v_first(m), t, nnf__v_zero());
}

NNF__SPAN_INLINE void lanes(size_t n, const float *x, float mean, float *acc, term_fn term)
{
    nnf__vf a[NV];
    const nnf__vf vmean = nnf__v_splat(mean);
    EACH_VEC
    for (int i = 0; i < NV; i++)
        a[i] = nnf__v_load(acc + i * NNF__VL);
    size_t k = 0;
    for (; k + NNF__RED_LANES <= n; k += NNF__RED_LANES) {
        EACH_VEC
        for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], term(nnf__v_load(x + k + i * NNF__VL), vmean));
    }
    if (k < n) {
        EACH_VEC
        for (int i = 0; i < NV; i++)
            a[i] = nnf__v_add(a[i], tail_term(n, k, i, x, vmean, term));
    }
    EACH_VEC
    for (int i = 0; i < NV; i++)
        nnf__v_store(acc + i * NNF__VL, a[i]);
}

void NNF__KERNEL(f32_rsum_lanes)(size_t n, const float *x, float *acc)
{
    lanes(n, x, 0.0f, acc, sum_term);
}

void NNF__KERNEL(f32_rsum_sqdev_lanes)(size_t n, const float *x, float mean, float *acc)
{
    lanes(n, x, mean, acc, sqdev_term);
}

static inline nnf__vf add_op(nnf__vf acc, nnf__vf x, nnf__vf unused)
{
    return nnf__v_add(acc, sum_term(x, unused));
}

static inline nnf__vf add_sqdev_op(nnf__vf acc, nnf__vf x, nnf__vf mean)
{
    return nnf__v_add(acc, sqdev_term(x, mean));
}

/* The column forms are elementwise ops in place on acc. Accumulators are not results:
 * src/ops makes the final value's NaN canonical (nnf__red_result). */
void NNF__KERNEL(f32_rsum_cols)(size_t n, const float *x, float *acc)
{
    nnf__span3_at(n, acc, 1, x, 1, x, 1, acc, 1, add_op, NNF__BITS);
}

void NNF__KERNEL(f32_rsum_sqdev_cols)(size_t n, const float *x, const float *mean, float *acc)
{
    nnf__span3_at(n, acc, 1, x, 1, mean, 1, acc, 1, add_sqdev_op, NNF__BITS);
}
