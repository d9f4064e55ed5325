/* Min and max keys (kernels/reduce.h): integer comparisons of total-order keys, so the
 * result cannot depend on the order the elements are visited in. */
#include "kernels/reduce.h"

void nnf__red_extrema__scalar(size_t n, const float *x, int32_t keys[2])
{
    nnf__red_extrema_steps(n, x, keys);
}

void nnf__red_extrema_cols__scalar(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    nnf__red_extrema_cols_steps(n, x, kmin, kmax);
}
