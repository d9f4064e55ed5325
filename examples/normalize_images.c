/* The chapter's exercise: normalise a batch of RGB images with one mean and one std per
 * channel, by reducing over every dim but the channel one and broadcasting back.
 *
 *     mean = torch.mean(image_batch, dim=(0, 2, 3))           # (3)
 *     broadcasted_mean = mean.unsqueeze(0).unsqueeze(2).unsqueeze(3)   # (1, 3, 1, 1)
 *     normalized = (image_batch - broadcasted_mean) / broadcasted_std
 */
#include <math.h>

#include "common.h"

static void show(const char *code, const nnf_tensor *t)
{
    printf("\n>>> %s\n", code);
    CHECK(nnf_print(t));
    print_size(t);
    printf("\n");
}

int main(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 0);
    nnf_tensor *batch = NULL;
    CHECK(nnf_rand(&batch, &rng, NNF_SHAPE(64, 3, 256, 256)));
    printf(">>> image_batch = torch.rand(64, 3, 256, 256); image_batch.shape\n");
    print_size(batch);
    printf("\n");

    nnf_tensor *mean = NULL, *std = NULL;
    CHECK(nnf_mean(&mean, batch, NNF_DIMS(0, 2, 3), 0));
    show("mean = torch.mean(image_batch, dim=(0, 2, 3)); mean, mean.shape", mean);
    CHECK(nnf_std(&std, batch, NNF_DIMS(0, 2, 3), 1, 0));
    show("std = torch.std(image_batch, dim=(0, 2, 3)); std, std.shape", std);
    printf("(uniform on [0, 1): mean 1/2, std sqrt(1/12) = %.4f)\n", sqrt(1.0 / 12));

    /* (3) -> (1, 3) -> (1, 3, 1) -> (1, 3, 1, 1): views, no copies */
    nnf_tensor *m0 = NULL, *m02 = NULL, *bmean = NULL;
    CHECK(nnf_unsqueeze(&m0, mean, 0));
    CHECK(nnf_unsqueeze(&m02, m0, 2));
    CHECK(nnf_unsqueeze(&bmean, m02, 3));
    show("broadcasted_mean = mean.unsqueeze(0).unsqueeze(2).unsqueeze(3)", bmean);
    printf("storage: %lld floats, shared with mean: %s\n",
           (long long)nnf_tensor_storage_numel(bmean),
           nnf_tensor_shares_storage(bmean, mean) ? "yes" : "no");

    /* (3) -> (3, 1) -> (3, 1, 1): aligned at the last dim, (3, 1, 1) meets (64, 3, 256, 256)
     * just as (1, 3, 1, 1) does. */
    nnf_tensor *s1 = NULL, *bstd = NULL;
    CHECK(nnf_unsqueeze(&s1, std, 1));
    CHECK(nnf_unsqueeze(&bstd, s1, 1));
    show("broadcasted_std = std.unsqueeze(1).unsqueeze(1)", bstd);

    nnf_tensor *expanded = NULL;
    CHECK(nnf_expand_as(&expanded, bmean, batch));
    printf("\nbroadcasted_mean.expand_as(image_batch).stride() = ");
    print_strides(expanded);
    printf("   # 12.6M elements read from 3 floats\n");

    nnf_tensor *normalized = NULL;
    CHECK(nnf_sub(&normalized, batch, bmean));
    CHECK(nnf_div(&normalized, normalized, bstd));   /* in place: no second 50 MB tensor */
    printf("\n>>> normalized_images = (image_batch - broadcasted_mean) / broadcasted_std\n");
    print_size(normalized);
    printf("\n");

    nnf_tensor *nmean = NULL, *nstd = NULL;
    CHECK(nnf_mean(&nmean, normalized, NNF_DIMS(0, 2, 3), 0));
    CHECK(nnf_std(&nstd, normalized, NNF_DIMS(0, 2, 3), 1, 0));
    printf("\nper channel after normalising: mean ");
    CHECK(nnf_print(nmean));
    printf("                               std  ");
    CHECK(nnf_print(nstd));

    int ok = 1;
    for (int c = 0; c < 3; c++) {
        float mv, sv;
        CHECK(nnf_value_at(&mv, nmean, (const int64_t[]){c}));
        CHECK(nnf_value_at(&sv, nstd, (const int64_t[]){c}));
        ok &= fabsf(mv) < 1e-4f && fabsf(sv - 1.0f) < 1e-4f;
    }

    nnf_tensor *all[] = {batch, mean, std, m0, m02, bmean, s1, bstd, expanded, normalized,
                         nmean, nstd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nnf_tensor_free(all[i]);
    return ok ? 0 : 1;
}
