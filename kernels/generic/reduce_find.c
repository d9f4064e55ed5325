/* First match (argmax's second pass, all, any) over the vector layer: one compare and
 * one mask-to-bits per vector; a tail is a zero-padded vector whose padding bits are
 * dropped, so nothing past the span is read. */
#include "kernels/reduce.h"
#include "span.h"

/* Bits 0..m-1 (m <= 64). */
static inline uint64_t low_bits(size_t m)
{
    return m >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << m) - 1;
}

size_t NNF__KERNEL(red_find_f32)(size_t n, const float *x, float value, int equal)
{
    const nnf__vf v = nnf__v_splat(value);
    int nan = value != value;
    for (size_t k = 0; k < n; k += NNF__VL) {
        size_t m = n - k < NNF__VL ? n - k : NNF__VL;
        nnf__vf xv = nnf__ld(x + k, 1, m);
        uint64_t eq = nnf__v_mask_bits(nan ? nnf__v_unord(xv, xv) : nnf__v_eq(xv, v));
        uint64_t hit = (equal ? eq : ~eq) & low_bits(m);
        if (hit)
            return k + (size_t)__builtin_ctzll(hit);
    }
    return n;
}

size_t NNF__KERNEL(red_find_u8)(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    size_t k = 0;
    for (; k + NNF__VL_U8 <= n; k += NNF__VL_U8) {
        uint64_t eq = nnf__v_eq_u8_bits(x + k, value);
        uint64_t hit = (equal ? eq : ~eq) & low_bits(NNF__VL_U8);
        if (hit)
            return k + (size_t)__builtin_ctzll(hit);
    }
    int want = equal != 0;
    for (; k < n; k++)
        if ((x[k] == value) == want)
            return k;
    return n;
}
