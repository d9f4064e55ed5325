/* An outside program, built against an installed nnf as an embedding user would:
 * with pkg-config (nnf or nnf-static) or with CMake (CMakeLists.txt), see
 * scripts/embed.sh. It computes relu(x @ w.t() + b) and its sum with nnf and with plain
 * double loops, and fails unless they agree and the library is the headers' version. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <nnf/nnf.h>

#if NNF_VERSION < NNF_MAKE_VERSION(0, 1, 0)
#error "this program needs nnf 0.1 or later"
#endif

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) != NNF_OK) {                                                  \
            fprintf(stderr, "%s failed: %s\n", #call, nnf_last_error());        \
            return 1;                                                            \
        }                                                                        \
    } while (0)

enum { N = 5, IN = 7, OUT = 3 };

int main(void)
{
    if (strcmp(nnf_version(), NNF_VERSION_STRING) != 0) {
        fprintf(stderr, "headers of nnf %s, library %s\n", NNF_VERSION_STRING, nnf_version());
        return 1;
    }
    float x[N * IN], w[OUT * IN], b[OUT];
    for (int i = 0; i < N * IN; i++) x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < OUT * IN; i++) w[i] = (float)((i * 5) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < OUT; i++) b[i] = 0.1f * (float)i - 0.1f;

    nnf_tensor *tx = NULL, *tw = NULL, *tb = NULL, *wt = NULL, *y = NULL, *s = NULL;
    CHECK(nnf_from_data(&tx, x, NNF_SHAPE(N, IN)));
    CHECK(nnf_from_data(&tw, w, NNF_SHAPE(OUT, IN)));
    CHECK(nnf_from_data(&tb, b, NNF_SHAPE(OUT)));
    CHECK(nnf_t(&wt, tw));
    CHECK(nnf_matmul(&y, tx, wt));
    CHECK(nnf_add(&y, y, tb));
    CHECK(nnf_relu(&y, y));
    CHECK(nnf_sum(&s, y, NNF_ALL_DIMS, 0));
    float got;
    CHECK(nnf_value(&got, s));

    double want = 0.0;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double acc = b[o];
            for (int k = 0; k < IN; k++) acc += (double)x[i * IN + k] * w[o * IN + k];
            want += acc > 0.0 ? acc : 0.0;
        }
    printf("nnf %s on %s: sum(relu(x @ w.t() + b)) = %.6f (double reference %.6f)\n",
           nnf_version(), nnf_isa_name(nnf_isa_active()), got, want);
    nnf_tensor *all[] = {tx, tw, tb, wt, y, s};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return fabs(got - want) <= 1e-5 * (1.0 + fabs(want)) ? 0 : 1;
}
