/* The fused normalisation (x - a) / b on float spans: two IEEE operations per element,
 * the subtraction rounded before the division, so it gives the bits of sub then div
 * (kernels/eltwise.h) while reading x and writing y once instead of twice. */
#include "kernels/eltwise.h"

void nnf__f32_vsub_div__scalar(size_t n, const float *x, ptrdiff_t incx, const float *a,
                               ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                               ptrdiff_t incy)
{
    if (incx == 1 && inca == 0 && incb == 0 && incy == 1) {
        float mean = *a, std = *b;
        for (size_t i = 0; i < n; i++)
            y[i] = (x[i] - mean) / std;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t k = (ptrdiff_t)i;
        y[k * incy] = (x[k * incx] - a[k * inca]) / b[k * incb];
    }
}
