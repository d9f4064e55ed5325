/* First element that equals (or differs from) a value: argmax's second pass, all, any. */
#include "kernels/reduce.h"

size_t nnf__red_find_f32__scalar(size_t n, const float *x, float value, int equal)
{
    int want = equal != 0;
    if (value != value) {
        for (size_t k = 0; k < n; k++)
            if ((x[k] != x[k]) == want)
                return k;
    } else {
        for (size_t k = 0; k < n; k++)
            if ((x[k] == value) == want)
                return k;
    }
    return n;
}

size_t nnf__red_find_u8__scalar(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    int want = equal != 0;
    for (size_t k = 0; k < n; k++)
        if ((x[k] == value) == want)
            return k;
    return n;
}
