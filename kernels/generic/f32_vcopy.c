/* copy on float spans (incx 0 is fill): bits moved unchanged, NaN payloads included. */
#include "kernels/eltwise.h"
#include "span.h"

static inline nnf__vf copy_op(nnf__vf x) { return x; }

NNF__DEFINE_UNARY(copy, copy_op, NNF__BITS)

/* Every row of the rows x cols block c (rows ldc floats apart) becomes x (cols floats,
 * incx apart): the sgemm driver's bias post-op on a tile of C before its first KC block
 * (src/linalg/matmul.h), one call per tile rather than a memcpy call per row. */
void NNF__KERNEL(f32_vcopy_rows)(size_t rows, size_t cols, const float *x, ptrdiff_t incx,
                                 float *c, size_t ldc)
{
    for (size_t i = 0; i < rows; i++)
        nnf__span1(cols, x, incx, c + i * ldc, 1, copy_op, NNF__BITS);
}
