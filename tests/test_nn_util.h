/* Helpers shared by the nn tests: tensors filled from the test generator, double
 * references, gradients as plain arrays. */
#ifndef NNF_TEST_NN_UTIL_H
#define NNF_TEST_NN_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"

/* A contiguous float tensor of `shape` with uniform values in [lo, hi) from `seed`. */
static inline nnf_tensor *nn_uniform(int ndim, const int64_t *shape, uint64_t seed, float lo,
                                     float hi)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, lo, hi);
    return t;
}

/* An int64 tensor (n) of labels in [0, classes). */
static inline nnf_tensor *nn_labels(int64_t n, int64_t classes, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&t, NNF_SHAPE(n), NNF_I64));
    int64_t *p = nnf_tensor_raw(t);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (int64_t)((s >> 33) % (uint64_t)classes);
    }
    return t;
}

/* t's gradient (which must exist), as a contiguous float array owned by the tensor. */
static inline const float *nn_grad(const nnf_tensor *t)
{
    const nnf_tensor *g = nnf_tensor_grad(t);
    assert_non_null(g);
    assert_true(nnf_tensor_is_contiguous(g));
    return nnf_tensor_data(g);
}

/* Sets t's gradient to a copy of src. */
static inline void nn_set_grad(nnf_tensor *t, const nnf_tensor *src)
{
    nnf_tensor *g = NULL;
    NNF_ASSERT_OK(nnf_tensor_grad_get(t, &g));
    NNF_ASSERT_OK(nnf_copy(g, src));
}

static inline double *nn_doubles(size_t n)
{
    double *d = calloc(n, sizeof *d);
    assert_non_null(d);
    return d;
}

/* A copy of a contiguous float tensor's elements. */
static inline float *nn_copy_floats(const nnf_tensor *t)
{
    size_t n = (size_t)nnf_tensor_numel(t);
    float *f = malloc((n ? n : 1) * sizeof *f);
    assert_non_null(f);
    assert_true(nnf_tensor_is_contiguous(t));
    memcpy(f, nnf_tensor_data(t), n * sizeof *f);
    return f;
}

/* Asserts that nnf_last_error() contains `part`. */
#define NN_ASSERT_MESSAGE(part)                                                          \
    do {                                                                                 \
        if (strstr(nnf_last_error(), (part)) == NULL)                                    \
            fail_msg("message \"%s\" does not contain \"%s\"", nnf_last_error(), (part)); \
    } while (0)

#endif
