/* Selects on float spans: where(c, a, b) and ReLU's gradient.
 * where(c, a, b): an exact select by a 0/1 byte. */
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

/* ReLU's gradient, a select on the input's sign: x <= 0 ? +0 : g. Written as the
 * negated test so that a NaN x passes g through, as torch's threshold_backward. */
void nnf__f32_vrelu_backward__scalar(size_t n, const float *x, ptrdiff_t incx, const float *g,
                                     ptrdiff_t incg, float *y, ptrdiff_t incy)
{
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t k = (ptrdiff_t)i;
        float gk = g[k * incg];   /* loaded unconditionally: a branch-free select */
        y[k * incy] = x[k * incx] <= 0.0f ? 0.0f : gk;
    }
}
