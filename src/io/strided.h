/* Stepping through a strided tensor in C order (last index fastest), without the ops
 * engine: the weights code moves bits and must not fail or allocate half-way. */
#ifndef NNF_IO_STRIDED_H
#define NNF_IO_STRIDED_H

#include <stdint.h>

/* Advances the multi-index `index` (ndim entries, starting at zeros) by one element and
 * *offset (in elements) with it. Stepping back over a dim goes by (shape - 1) * stride,
 * the extent the view already spans, so no product can overflow. */
static inline void nnf__strided_next(int ndim, const int64_t *shape, const int64_t *stride,
                                     int64_t *index, int64_t *offset)
{
    for (int d = ndim - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) {
            *offset += stride[d];
            return;
        }
        *offset -= (shape[d] - 1) * stride[d];
        index[d] = 0;
    }
}

#endif
