/* rfind on floats, the first x[k] with (x[k] == value) == equal ("== NaN" meaning "is a
 * NaN"): argmax's second pass, all, any. One compare and one mask-to-bits per vector; a
 * tail is a zero-padded vector whose padding bits are dropped, so nothing past the span
 * is read. */
#include "kernels/reduce.h"
#include "span.h"

size_t NNF__KERNEL(f32_rfind)(size_t n, const float *x, float value, int equal)
{
    const nnf__vf v = nnf__v_splat(value);
    int nan = value != value;
    for (size_t k = 0; k < n; k += NNF__VL) {
        size_t m = n - k < NNF__VL ? n - k : NNF__VL;
        nnf__vf xv = nnf__ld(x + k, 1, m);
        uint64_t eq = nnf__v_mask_bits(nan ? nnf__v_unord(xv, xv) : nnf__v_eq(xv, v));
        uint64_t hit = (equal ? eq : ~eq) & nnf__low_bits(m);
        if (hit)
            return k + (size_t)__builtin_ctzll(hit);
    }
    return n;
}
