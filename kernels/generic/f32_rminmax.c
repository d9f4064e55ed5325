/* rminmax: the min and max total-order keys (kernels/reduce.h) of a span, integer
 * min/max so the result cannot depend on the order the elements are visited in. A
 * tail's padding lanes keep the running value. */
#include "kernels/reduce.h"
#include "span.h"

void NNF__KERNEL(f32_rminmax)(size_t n, const float *x, int32_t keys[2])
{
    nnf__vi lo = nnf__v_splat_i32(keys[0]), hi = nnf__v_splat_i32(keys[1]);
    size_t k = 0;
    for (; k + NNF__VL <= n; k += NNF__VL) {
        nnf__vi key = nnf__v_keys(nnf__v_load(x + k));
        lo = nnf__v_min_i32(lo, key);
        hi = nnf__v_max_i32(hi, key);
    }
    if (k < n) {
        nnf__vm valid = nnf__v_first(n - k);
        nnf__vi key = nnf__v_keys(nnf__v_load_part(x + k, n - k));
        lo = nnf__v_select_i32(valid, nnf__v_min_i32(lo, key), lo);
        hi = nnf__v_select_i32(valid, nnf__v_max_i32(hi, key), hi);
    }
    keys[0] = nnf__v_hmin_i32(lo);
    keys[1] = nnf__v_hmax_i32(hi);
}

void NNF__KERNEL(f32_rminmax_cols)(size_t n, const float *x, int32_t *kmin, int32_t *kmax)
{
    size_t c = 0;
    for (; c + NNF__VL <= n; c += NNF__VL) {
        nnf__vi key = nnf__v_keys(nnf__v_load(x + c));
        nnf__v_store_i32(kmin + c, nnf__v_min_i32(nnf__v_load_i32(kmin + c), key));
        nnf__v_store_i32(kmax + c, nnf__v_max_i32(nnf__v_load_i32(kmax + c), key));
    }
    nnf__red_extrema_cols_steps(n - c, x + c, kmin + c, kmax + c);
}
