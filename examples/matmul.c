/* The chapter's matmul progression, m1 (5 x 784) @ m2 (784 x 10): five MNIST images
 * through a linear layer with 10 outputs, each version removing a loop.
 *
 *   1. three loops, one element at a time      c[i,j] += a[i,k] * b[k,j]
 *   2. row times column                        c[i,j] = (a[i] * b[:,j]).sum()
 *   3. broadcasting                            c[i]   = (a[i].unsqueeze(-1) * b).sum(dim=0)
 *   4. Einstein summation                      c = einsum("ik,kj->ij", a, b)
 *   5. the library's matmul                    c = a @ b
 *
 * In Python each removed loop hands more work to PyTorch's C++; in C the loops are
 * already compiled, so version 1 is fast here, and versions 2 and 3 pay for creating a
 * tensor per step. What stays true is the last step: a blocked, vectorised matmul
 * beats any loop nest, which the second table shows at a size where that matters.
 */
#include <math.h>
#include <string.h>

#include "common.h"

typedef struct {
    const nnf_tensor *a, *b;
    nnf_tensor *c;
} product;

/* 1. c[i,j] += a[i,k] * b[k,j], element by element through the tensor API. */
static void matmul_elements(void *arg)
{
    product *p = arg;
    int64_t ar = nnf_tensor_size(p->a, 0), ac = nnf_tensor_size(p->a, 1);
    int64_t bc = nnf_tensor_size(p->b, 1);
    CHECK(nnf_fill(p->c, 0.0f));
    for (int64_t i = 0; i < ar; i++)
        for (int64_t j = 0; j < bc; j++)
            for (int64_t k = 0; k < ac; k++) {
                float aik, bkj, cij;
                CHECK(nnf_value_at(&aik, p->a, (const int64_t[]){i, k}));
                CHECK(nnf_value_at(&bkj, p->b, (const int64_t[]){k, j}));
                CHECK(nnf_value_at(&cij, p->c, (const int64_t[]){i, j}));
                CHECK(nnf_set(p->c, (const int64_t[]){i, j}, cij + aik * bkj));
            }
}

/* The same three loops on raw float pointers: what C gives without any tensor API. */
static void matmul_loops(void *arg)
{
    product *p = arg;
    int64_t ar = nnf_tensor_size(p->a, 0), ac = nnf_tensor_size(p->a, 1);
    int64_t bc = nnf_tensor_size(p->b, 1);
    const float *a = nnf_tensor_data(p->a), *b = nnf_tensor_data(p->b);
    float *c = nnf_tensor_data(p->c);
    for (int64_t i = 0; i < ar; i++)
        for (int64_t j = 0; j < bc; j++) {
            float s = 0;
            for (int64_t k = 0; k < ac; k++) s += a[i * ac + k] * b[k * bc + j];
            c[i * bc + j] = s;
        }
}

/* 2. c[i,j] = (a[i] * b[:,j]).sum(): the inner loop becomes one elementwise op. */
static void matmul_row_col(void *arg)
{
    product *p = arg;
    for (int64_t i = 0; i < nnf_tensor_size(p->a, 0); i++)
        for (int64_t j = 0; j < nnf_tensor_size(p->b, 1); j++) {
            nnf_tensor *ai = NULL, *bj = NULL, *prod = NULL, *s = NULL;
            CHECK(nnf_select(&ai, p->a, 0, i));
            CHECK(nnf_select(&bj, p->b, 1, j));
            CHECK(nnf_mul(&prod, ai, bj));
            CHECK(nnf_sum(&s, prod, NNF_ALL_DIMS, 0));
            CHECK(nnf_set(p->c, (const int64_t[]){i, j}, item(s)));
            nnf_tensor_free(ai);
            nnf_tensor_free(bj);
            nnf_tensor_free(prod);
            nnf_tensor_free(s);
        }
}

/* 3. c[i] = (a[i].unsqueeze(-1) * b).sum(dim=0): a column of a[i] broadcast against b. */
static void matmul_broadcast(void *arg)
{
    product *p = arg;
    for (int64_t i = 0; i < nnf_tensor_size(p->a, 0); i++) {
        nnf_tensor *ai = NULL, *col = NULL, *prod = NULL, *ci = NULL;
        CHECK(nnf_select(&ai, p->a, 0, i));
        CHECK(nnf_unsqueeze(&col, ai, -1));            /* (784) -> (784, 1) */
        CHECK(nnf_mul(&prod, col, p->b));              /* (784, 1) * (784, 10) -> (784, 10) */
        CHECK(nnf_select(&ci, p->c, 0, i));            /* row i of c, a view */
        CHECK(nnf_sum(&ci, prod, NNF_DIMS(0), 0));     /* summed straight into it */
        nnf_tensor_free(ai);
        nnf_tensor_free(col);
        nnf_tensor_free(prod);
        nnf_tensor_free(ci);
    }
}

/* 4. Einstein summation: k is repeated and absent from the output, so it is summed. */
static void matmul_einsum(void *arg)
{
    product *p = arg;
    const nnf_tensor *ops[2] = {p->a, p->b};
    CHECK(nnf_einsum(&p->c, "ik,kj->ij", 2, ops));
}

/* 5. a @ b */
static void matmul_library(void *arg)
{
    product *p = arg;
    CHECK(nnf_matmul(&p->c, p->a, p->b));
}

/* Largest |c - a @ b| against the product computed in double. */
static double max_error(const product *p)
{
    int64_t ar = nnf_tensor_size(p->a, 0), ac = nnf_tensor_size(p->a, 1);
    int64_t bc = nnf_tensor_size(p->b, 1);
    const float *a = nnf_tensor_data(p->a), *b = nnf_tensor_data(p->b);
    const float *c = nnf_tensor_data(p->c);
    double worst = 0;
    for (int64_t i = 0; i < ar; i++)
        for (int64_t j = 0; j < bc; j++) {
            double s = 0;
            for (int64_t k = 0; k < ac; k++) s += (double)a[i * ac + k] * b[k * bc + j];
            worst = fmax(worst, fabs(s - c[i * bc + j]));
        }
    return worst;
}

typedef struct {
    const char *name;
    void (*fn)(void *);
    const char *chapter;   /* what the chapter's notebooks measured, PyTorch on Colab */
} version;

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 0);
    product p = {0};
    nnf_tensor *m1 = NULL, *m2 = NULL;
    CHECK(nnf_randn(&m1, &rng, NNF_SHAPE(5, 784)));
    CHECK(nnf_randn(&m2, &rng, NNF_SHAPE(784, 10)));
    CHECK(nnf_zeros(&p.c, NNF_SHAPE(5, 10)));
    p.a = m1;
    p.b = m2;

    const version versions[] = {
        {"1. three loops, tensor element access", matmul_elements, "619 ms - 1.44 s"},
        {"   three loops, raw C pointers", matmul_loops, "-"},
        {"2. row x column, elementwise * and sum", matmul_row_col, "829 us - 1.85 ms"},
        {"3. broadcasting, unsqueeze(-1) * b", matmul_broadcast, "167 us - 496 us"},
        {"4. einsum(\"ik,kj->ij\")", matmul_einsum, "180 us"},
        {"5. nnf_matmul (a @ b)", matmul_library, "194 us"},
    };
    printf("m1 @ m2 with m1 5 x 784 and m2 784 x 10 (%s kernels, %d threads)\n\n",
           nnf_isa_name(nnf_isa_active()), nnf_get_num_threads());
    printf("  %-40s %10s %12s   %s\n", "version", "time", "max |error|", "the chapter (Python)");
    char buf[32];
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        double t = time_median(versions[v].fn, &p);
        printf("  %-40s %10s %12.2g   %s\n", versions[v].name, format_time(buf, sizeof buf, t),
               max_error(&p), versions[v].chapter);
    }

    /* 256^3: big enough for blocking and vectors to matter, small enough to run fast. */
    enum { N = 256 };
    product big = {0};
    nnf_tensor *a = NULL, *b = NULL;
    CHECK(nnf_randn(&a, &rng, NNF_SHAPE(N, N)));
    CHECK(nnf_randn(&b, &rng, NNF_SHAPE(N, N)));
    CHECK(nnf_zeros(&big.c, NNF_SHAPE(N, N)));
    big.a = a;
    big.b = b;
    double flop = 2.0 * N * N * N;
    printf("\nAt %d x %d @ %d x %d (%.0f MFLOP):\n", N, N, N, N, flop / 1e6);
    double tl = time_median(matmul_loops, &big);
    double tm = time_median(matmul_library, &big);
    printf("  %-40s %10s %8.1f GFLOP/s\n", "three loops, raw C pointers",
           format_time(buf, sizeof buf, tl), flop / tl / 1e9);
    printf("  %-40s %10s %8.1f GFLOP/s  (%.0fx)\n", "nnf_matmul", format_time(buf, sizeof buf, tm),
           flop / tm / 1e9, tl / tm);

    nnf_tensor_free(m1);
    nnf_tensor_free(m2);
    nnf_tensor_free(p.c);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(big.c);
    return 0;
}
