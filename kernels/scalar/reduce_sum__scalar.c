/* Sums and squared deviations in the canonical lane order (kernels/reduce.h), written
 * as plain C: this file *is* the definition the vector kernels must match bit for bit. */
#include <string.h>

#include "kernels/reduce.h"

void nnf__red_sum_lanes__scalar(size_t n, const float *x, float *acc)
{
    float a[NNF__RED_LANES];
    memcpy(a, acc, sizeof a);
    size_t k = 0;
    for (; k + NNF__RED_LANES <= n; k += NNF__RED_LANES)
        for (size_t j = 0; j < NNF__RED_LANES; j++)
            a[j] += x[k + j];
    for (size_t j = 0; k + j < n; j++)
        a[j] += x[k + j];
    memcpy(acc, a, sizeof a);
}

void nnf__red_sqdev_lanes__scalar(size_t n, const float *x, float mean, float *acc)
{
    float a[NNF__RED_LANES];
    memcpy(a, acc, sizeof a);
    size_t k = 0;
    for (; k + NNF__RED_LANES <= n; k += NNF__RED_LANES)
        for (size_t j = 0; j < NNF__RED_LANES; j++) {
            float d = x[k + j] - mean;
            a[j] += d * d;
        }
    for (size_t j = 0; k + j < n; j++) {
        float d = x[k + j] - mean;
        a[j] += d * d;
    }
    memcpy(acc, a, sizeof a);
}

void nnf__red_sum_cols__scalar(size_t n, const float *x, float *acc)
{
    for (size_t c = 0; c < n; c++)
        acc[c] += x[c];
}

void nnf__red_sqdev_cols__scalar(size_t n, const float *x, const float *mean, float *acc)
{
    for (size_t c = 0; c < n; c++) {
        float d = x[c] - mean[c];
        acc[c] += d * d;
    }
}
