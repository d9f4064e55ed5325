/* What every loop of the sgemm driver shares: a matrix view, packing a block of one,
 * one kernel call with a restart period, and the post-ops of a sub-product. */
#ifndef NNF_LINALG_SGEMM_VIEW_H
#define NNF_LINALG_SGEMM_VIEW_H

#include <stddef.h>

#include "kernels/sgemm_kernels.h"
#include "src/linalg/matmul.h"

/* A matrix view: element (i, j) is p[i*rs + j*cs]. One of rs, cs is 1. */
typedef struct nnf__sgemm_view {
    const float *p;
    ptrdiff_t rs, cs;
} nnf__sgemm_view;

static inline const float *nnf__sgemm_at(nnf__sgemm_view v, size_t i, size_t j)
{
    return v.p + (ptrdiff_t)i * v.rs + (ptrdiff_t)j * v.cs;
}

/* Packs the w x kc block whose element (j, p) is src[j*s_w + p*s_k] into panels of W. */
static inline void nnf__sgemm_pack(const nnf__sgemm_kernels *kr, size_t kc, size_t w, size_t W,
                                   const float *src, ptrdiff_t s_w, ptrdiff_t s_k, float *out)
{
    if (s_w == 1)
        kr->pack_copy(kc, w, W, src, (size_t)s_k, out);
    else
        kr->pack_transpose(kc, w, W, src, (size_t)s_w, out);
}

/* One kernel call over k steps from a restart point, the sums restarting every `period`
 * steps (nnf__sgemm_restart): through the kernel's `every` entry where it has one, else
 * the kernel sees sub-chunks of at most `period` steps, each from offsets into the same
 * operands (packed panels too: a step is cs_a floats of A and rs_b of B), beta for the
 * first and 1 after, so the kernels' KC contract covers it. period == KC hands the
 * whole k to the kernel, which cuts it itself. */
static inline void nnf__sgemm_ukernel_every(nnf__sgemm_ukernel_fn ukernel,
                                            nnf__sgemm_ukernel_every_fn every, size_t period,
                                            size_t k, const float *a, ptrdiff_t rs_a,
                                            ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                                            float *c, size_t ldc, size_t mr, size_t nr,
                                            float alpha, float beta)
{
    if (period == NNF__SGEMM_KC || k <= period) {
        ukernel(k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
        return;
    }
    if (every != NULL) {
        every(period, k, a, rs_a, cs_a, b, rs_b, c, ldc, mr, nr, alpha, beta);
        return;
    }
    for (size_t p0 = 0; p0 < k; p0 += period)
        ukernel(k - p0 < period ? k - p0 : period, a + (ptrdiff_t)p0 * cs_a, rs_a, cs_a,
                b + (ptrdiff_t)p0 * rs_b, rs_b, c, ldc, mr, nr, alpha, p0 == 0 ? beta : 1.0f);
}

/* The post-ops of the sub-product whose column 0 is column j0 of post's, in *shifted
 * (NULL when post is NULL). */
static inline const nnf__sgemm_post *nnf__sgemm_post_at(const nnf__sgemm_post *post,
                                                        size_t j0, nnf__sgemm_post *shifted)
{
    if (post == NULL)
        return NULL;
    *shifted = *post;
    if (shifted->bias != NULL)
        shifted->bias += (ptrdiff_t)j0 * post->bias_inc;
    return shifted;
}

#endif
