/* Min and max keys (kernels/reduce.h): integer comparisons of total-order keys, so the
 * result cannot depend on the order the elements are visited in. */
#include <string.h>

#include "kernels/reduce.h"

static inline int32_t key_at(const float *x)
{
    int32_t bits;
    memcpy(&bits, x, sizeof bits);
    return nnf__red_key(bits);
}

void nnf__red_extrema__scalar(size_t n, const float *x, int32_t keys[2])
{
    int32_t lo = keys[0], hi = keys[1];
    for (size_t k = 0; k < n; k++) {
        int32_t key = key_at(x + k);
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
    }
    keys[0] = lo;
    keys[1] = hi;
}

void nnf__red_extrema_cols__scalar(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    for (size_t c = 0; c < n; c++) {
        int32_t key = key_at(x + c);
        kmin[c] = key < kmin[c] ? key : kmin[c];
        kmax[c] = key > kmax[c] ? key : kmax[c];
    }
}
