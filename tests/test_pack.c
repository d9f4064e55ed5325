/* The sgemm packers of every ISA against the scalar ones (kernels/scalar/sgemm_pack__scalar.c):
 * the same floats at the same places, and the panel padding past w left as it was, on
 * awkward blocks: every width 1..50 (several panels, narrow edges, the 16x16 and 8x8
 * transposes' remainders), depths around the transposes' and KC's multiples, and row
 * strides longer than a row by odd amounts. Packing is a copy, so any difference is a bug. */
#include "nnf_test.h"

#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"
#include "dispatch/kernel_table.h"

static void check_pack(nnf__sgemm_pack_fn got_fn, nnf__sgemm_pack_fn want_fn, int transpose)
{
    static const size_t kcs[] = {1,  2,  3,  4,  5,  7,   8,   9,   15,  16,  17,  31,  32,
                                 33, 47, 48, 49, 63, 64,  65,  100, 127, 128, 129, 255, 256,
                                 257, 383, 384, 385, 400};
    static const size_t pads[] = {0, 1, 3, 17};
    enum { MAX_W = 50, MAX_KC = 400, MAX_PAD = 17 };
    /* The panel widths: the kernels' MR (an A panel) and NR (a B panel), and 16. */
    const nnf__sgemm_kernels *kr = &nnf__kernels_active()->gemm;
    const size_t Ws[3] = {(size_t)kr->mr, (size_t)kr->nr, 16};
    size_t max_out = 0;
    for (size_t wi = 0; wi < 3; wi++) {
        size_t n = (MAX_W + Ws[wi] - 1) / Ws[wi] * Ws[wi] * MAX_KC;
        max_out = n > max_out ? n : max_out;
    }
    /* Each block sits at the end of its buffer, so a read or write past it leaves the
     * allocation (which the sanitizer builds catch). */
    const size_t max_src = (size_t)MAX_KC * (MAX_W + MAX_PAD);
    float *sbuf = malloc(max_src * sizeof *sbuf);
    float *gbuf = malloc(max_out * sizeof *gbuf), *wbuf = malloc(max_out * sizeof *wbuf);
    assert_non_null(sbuf);
    assert_non_null(gbuf);
    assert_non_null(wbuf);
    for (size_t i = 0; i < max_src; i++)
        sbuf[i] = (float)i + 0.25f;
    for (size_t wi = 0; wi < 3; wi++) {
        const size_t W = Ws[wi];
        for (size_t w = 1; w <= MAX_W; w++)
            for (size_t ki = 0; ki < sizeof kcs / sizeof kcs[0]; ki++)
                for (size_t pi = 0; pi < sizeof pads / sizeof pads[0]; pi++) {
                    const size_t kc = kcs[ki];
                    /* Transposed, the w panel columns are source rows of kc floats;
                     * copied, the kc steps are source rows of w floats. */
                    const size_t rows = transpose ? w : kc, cols = transpose ? kc : w;
                    const size_t ld = cols + pads[pi];
                    const size_t nsrc = (rows - 1) * ld + cols;
                    const size_t nout = (w + W - 1) / W * W * kc;
                    const float *src = sbuf + max_src - nsrc;
                    float *got = gbuf + max_out - nout, *want = wbuf + max_out - nout;
                    for (size_t i = 0; i < nout; i++)
                        got[i] = want[i] = -1.0f - (float)i;
                    got_fn(kc, w, W, src, ld, got);
                    want_fn(kc, w, W, src, ld, want);
                    if (memcmp(got, want, nout * sizeof *got) != 0) {
                        print_error("%s W=%zu w=%zu kc=%zu ld=%zu differs\n",
                                    transpose ? "transpose" : "copy", W, w, kc, ld);
                        fail();
                    }
                }
    }
    free(sbuf);
    free(gbuf);
    free(wbuf);
}

static void test_pack_transpose(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa)
        check_pack(nnf__kernels_active()->gemm.pack_transpose,
                   nnf__kernels_scalar.gemm.pack_transpose, 1);
    nnf_test_restore_isa();
}

static void test_pack_copy(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa)
        check_pack(nnf__kernels_active()->gemm.pack_copy, nnf__kernels_scalar.gemm.pack_copy,
                   0);
    nnf_test_restore_isa();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_transpose),
        cmocka_unit_test(test_pack_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
