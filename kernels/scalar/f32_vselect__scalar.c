/* where(c, a, b) on float spans: an exact select by a 0/1 byte. */
#include "kernels/eltwise.h"

void nnf__f32_vselect__scalar(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                              ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                              ptrdiff_t incy)
{
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t k = (ptrdiff_t)i;
        y[k * incy] = c[k * incc] ? a[k * inca] : b[k * incb];
    }
}
