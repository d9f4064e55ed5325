/* rfind on bytes, the first x[k] with (x[k] == value) == equal: NNF__VL_U8 bytes per
 * compare, a scalar tail. */
#include "kernels/reduce.h"
#include "span.h"

size_t NNF__KERNEL(u8_rfind)(size_t n, const uint8_t *x, uint8_t value, int equal)
{
    size_t k = 0;
    for (; k + NNF__VL_U8 <= n; k += NNF__VL_U8) {
        uint64_t eq = nnf__v_eq_u8_bits(x + k, value);
        uint64_t hit = (equal ? eq : ~eq) & nnf__low_bits(NNF__VL_U8);
        if (hit)
            return k + (size_t)__builtin_ctzll(hit);
    }
    int want = equal != 0;
    for (; k < n; k++)
        if ((x[k] == value) == want)
            return k;
    return n;
}
