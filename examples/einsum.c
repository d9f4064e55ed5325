/* Einstein summation, with the chapter's own x and y so the printed values match it.
 *
 * "ik,kj->ij": the left side names the dims of each operand, the right side the dims
 * of the result. An index repeated on the left and missing on the right is summed over
 * (k here); every other index stays. So matrix product, transpose, Gram matrix, trace
 * and outer product are all one line.
 */
#include "common.h"

/* Runs and prints torch.einsum(spec, <args>); b may be NULL. */
static nnf_tensor *einsum(const char *spec, const char *args, const nnf_tensor *a,
                          const nnf_tensor *b)
{
    nnf_tensor *out = NULL;
    const nnf_tensor *ops[2] = {a, b};
    CHECK(nnf_einsum(&out, spec, b ? 2 : 1, ops));
    printf("\n>>> torch.einsum(\"%s\", %s)\n", spec, args);
    CHECK(nnf_print(out));
    return out;
}

int main(void)
{
    /* x = torch.randn(2, 3); y = torch.randn(3, 2), as the chapter printed them */
    nnf_tensor *x = NULL, *y = NULL;
    CHECK(nnf_from_data(&x, (const float[]){-1.1307f, -0.2858f, -1.7678f,
                                            0.2907f, 0.4672f, -1.6520f}, NNF_SHAPE(2, 3)));
    CHECK(nnf_from_data(&y, (const float[]){0.9601f, 0.8377f, 0.8417f, -0.8874f,
                                            -0.3875f, -1.0783f}, NNF_SHAPE(3, 2)));
    printf("# x and y as the chapter printed them, to 4 decimals, so results can differ\n"
           "# from its output in the last digit\n>>> x, y\n");
    CHECK(nnf_print(x));
    CHECK(nnf_print(y));

    printf("\n## Transpose: every index kept, in another order");
    nnf_tensor *xt = einsum("ij->ji", "x", x, NULL);
    printf("\n## Matrix product: k is repeated and not in the output, so it is summed");
    nnf_tensor *xy = einsum("ik, kj -> ij", "x, y", x, y);
    printf("\n## Gram matrix: the dot product of every row of x with every other");
    nnf_tensor *gram = einsum("ij, kj -> ik", "x, x", x, x);
    printf("\n## Trace, diagonal, outer product, sum of everything");
    nnf_tensor *trace = einsum("ii->", "gram", gram, NULL);
    nnf_tensor *diag = einsum("ii->i", "gram", gram, NULL);
    nnf_tensor *row = NULL;
    CHECK(nnf_select(&row, x, 0, 0));
    nnf_tensor *outer = einsum("i,j->ij", "x[0], x[0]", row, row);
    nnf_tensor *total = einsum("ij->", "x", x, NULL);

    /* The chapter's matmul(c, m) on an expanded view: einsum reads the stride-0 dim
     * without copying it. c.unsqueeze(1).expand_as(m) has rows 10, 20, 30. */
    nnf_tensor *c = NULL, *c1 = NULL, *ce = NULL, *m = NULL;
    CHECK(nnf_from_data(&c, (const float[]){10, 20, 30}, NNF_SHAPE(3)));
    CHECK(nnf_from_data(&m, (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, NNF_SHAPE(3, 3)));
    CHECK(nnf_unsqueeze(&c1, c, 1));
    CHECK(nnf_expand_as(&ce, c1, m));
    printf("\n## matmul(c, m) with einsum, c = tensor([10., 20, 30]).unsqueeze(1).expand_as(m)");
    nnf_tensor *cm = einsum("ik,kj->ij", "c, m", ce, m);

    /* A spec that names an output index no operand has. */
    nnf_tensor *bad = NULL;
    const nnf_tensor *ops[2] = {x, y};
    nnf_status st = nnf_einsum(&bad, "ik,kj->iz", 2, ops);
    printf("\n>>> torch.einsum(\"ik,kj->iz\", x, y)\nRuntimeError: %s\n", nnf_last_error());

    nnf_tensor *all[] = {x, y, xt, xy, gram, trace, diag, row, outer, total, c, c1, ce, m, cm};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return st != NNF_OK ? 0 : 1;
}
