/* Elementwise arithmetic and broadcasting, cell by cell as in the chapter: comparisons
 * and reductions, a scalar and a vector broadcast over a matrix, expand_as and the
 * storage behind it (3 floats for a 3 x 3 view: one stride is 0), unsqueeze, and the
 * shapes that do not broadcast, with the error PyTorch gives.
 *
 * Broadcasting rules: align the shapes at their last dim; two sizes are compatible when
 * they are equal or one of them is 1 (a missing leading dim counts as 1); a size-1 dim
 * is stretched to the other size without copying, by giving it stride 0.
 */
#include "common.h"

static nnf_tensor *tensor(const float *values, int ndim, const int64_t *shape)
{
    nnf_tensor *t = NULL;
    CHECK(nnf_from_data(&t, values, ndim, shape));
    return t;
}

/* Frees a result so the next cell can compute into a fresh one. */
static void drop(nnf_tensor **t)
{
    nnf_tensor_free(*t);
    *t = NULL;
}

/* Prints ">>> <code>" then the result, like a notebook cell. */
static void cell(const char *code, const nnf_tensor *t)
{
    printf("\n>>> %s\n", code);
    CHECK(nnf_print(t));
}

/* t.storage(): the floats the tensor's storage actually holds, in PyTorch's format. */
static void print_storage(const nnf_tensor *t)
{
    const float *s = nnf_tensor_data(t) - nnf_tensor_offset(t);
    for (int64_t i = 0; i < nnf_tensor_storage_numel(t); i++) printf(" %.1f\n", (double)s[i]);
    printf("[torch.FloatStorage of size %lld]\n", (long long)nnf_tensor_storage_numel(t));
}

/* An operation that must fail: prints PyTorch's "RuntimeError: ..." line. */
static void expect_error(const char *code, nnf_status st)
{
    printf("\n>>> %s\n", code);
    if (st == NNF_OK) {
        fprintf(stderr, "%s succeeded but must not\n", code);
        exit(1);
    }
    printf("RuntimeError: %s\n", nnf_last_error());
}

int main(void)
{
    const float m_values[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    nnf_tensor *a = tensor((const float[]){10, 6, -4}, NNF_SHAPE(3));
    nnf_tensor *b = tensor((const float[]){2, 8, 7}, NNF_SHAPE(3));
    nnf_tensor *m = tensor(m_values, NNF_SHAPE(3, 3));
    nnf_tensor *r = NULL, *r2 = NULL, *zero = NULL;

    printf("## Elementwise arithmetic\n");
    CHECK(nnf_add(&r, a, b));
    cell("a + b", r);
    drop(&r);
    CHECK(nnf_lt(&r, a, b));
    cell("a < b", r);
    CHECK(nnf_all(&r2, r, NNF_ALL_DIMS, 0));
    cell("(a < b).all()", r2);
    drop(&r);
    drop(&r2);
    CHECK(nnf_eq(&r, a, b));
    CHECK(nnf_all(&r2, r, NNF_ALL_DIMS, 0));
    cell("(a == b).all()", r2);
    drop(&r);
    drop(&r2);
    CHECK(nnf_eq(&r, a, a));
    CHECK(nnf_all(&r2, r, NNF_ALL_DIMS, 0));
    cell("(a == a).all()", r2);
    drop(&r);
    drop(&r2);
    CHECK(nnf_add(&r, a, b));
    CHECK(nnf_mean(&r2, r, NNF_ALL_DIMS, 0));
    cell("(a + b).mean()", r2);
    printf("\n>>> (a + b).mean().item()\n%.16g\n", (double)item(r2));
    drop(&r);
    drop(&r2);
    CHECK(nnf_mul(&r, m, m));
    cell("m * m", r);
    drop(&r);
    nnf_tensor *n = tensor(m_values, NNF_SHAPE(2, 3));
    expect_error("m * n   # m is 3x3, n is 2x3", nnf_mul(&r, m, n));

    printf("\n## Broadcasting with a scalar\n");
    CHECK(nnf_zeros(&zero, 0, NULL));
    CHECK(nnf_gt(&r, a, zero));
    cell("a > 0", r);
    drop(&r);
    CHECK(nnf_sub_scalar(&r, m, 5));
    CHECK(nnf_div_scalar(&r, r, 2.73f));
    cell("(m - 5) / 2.73", r);
    drop(&r);

    printf("\n## Broadcasting a vector to a matrix\n");
    nnf_tensor *c = tensor((const float[]){10, 20, 30}, NNF_SHAPE(3));
    CHECK(nnf_add(&r, m, c));
    cell("m + c   # c is added to every row", r);
    drop(&r);
    nnf_tensor *t = NULL;
    CHECK(nnf_expand_as(&t, c, m));
    cell("t = c.expand_as(m)", t);
    printf("\n>>> t.storage()\n");
    print_storage(t);
    printf("\n>>> t.stride(), t.shape\n(");
    print_strides(t);
    printf(", ");
    print_size(t);
    printf(")\n");
    CHECK(nnf_add(&r, c, m));
    cell("c + m", r);
    drop(&r);
    CHECK(nnf_add(&r, c, n));
    cell("c + n   # c (3) with n (2x3)", r);
    drop(&r);
    nnf_tensor *c2 = tensor((const float[]){10, 20}, NNF_SHAPE(2));
    expect_error("tensor([10., 20]) + n   # (2) against (2x3): 2 != 3 in the last dim",
                 nnf_add(&r, c2, n));

    printf("\n## unsqueeze: broadcasting along the other dim\n");
    nnf_tensor *c0 = NULL, *c1 = NULL;
    CHECK(nnf_unsqueeze(&c0, c, 0));
    CHECK(nnf_unsqueeze(&c1, c, 1));
    printf("\n>>> c.shape, c.unsqueeze(0).shape, c.unsqueeze(1).shape"
           "   # or c[None, :], c[:, None]\n(");
    print_size(c);
    printf(", ");
    print_size(c0);
    printf(", ");
    print_size(c1);
    printf(")\n");
    CHECK(nnf_add(&r, c1, m));
    cell("c.unsqueeze(1) + m   # c is added to every column", r);
    drop(&r);
    nnf_tensor *t1 = NULL;
    CHECK(nnf_expand_as(&t1, c1, m));
    printf("\n>>> t = c.unsqueeze(1).expand_as(m); t.storage(), t.stride()\n");
    print_storage(t1);
    print_strides(t1);
    printf("\n");

    printf("\n## From the questionnaire\n");
    nnf_tensor *v12 = tensor((const float[]){1, 2}, NNF_SHAPE(2));
    nnf_tensor *v1 = tensor((const float[]){1}, NNF_SHAPE(1));
    nnf_tensor *v123 = tensor((const float[]){1, 2, 3}, NNF_SHAPE(3));
    CHECK(nnf_add(&r, v12, v1));
    cell("tensor([1., 2]) + tensor([1.])   # a size-1 dim broadcasts", r);
    drop(&r);
    expect_error("tensor([1., 2]) + tensor([1., 2, 3])", nnf_add(&r, v12, v123));

    nnf_tensor *all[] = {a, b, m, n, zero, c, t, c2, c0, c1, t1, v12, v1, v123};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return 0;
}
