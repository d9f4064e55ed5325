/* The C side of tests/npz_interop.py: nnf's .npz reading and writing, driven from
 * Python so that numpy and PyTorch can check what nnf reads and writes.
 *
 *     npz_tool copy IN OUT               nnf_npz_load IN, nnf_npz_save OUT
 *     npz_tool copy64 IN OUT             the same, every zip field in its zip64 form
 *     npz_tool save ARCH SEED OUT        a model of ARCH with weights from SEED, saved;
 *                                        prints "name bits bits ..." per parameter
 *     npz_tool predict ARCH WEIGHTS X OUT  loads WEIGHTS into ARCH, writes {"y": model(x)}
 *
 * ARCH lists the layers: "lin:8:16,relu,lin:16:4" or "conv:1:4:3:1:1,relu,flatten,lin:256:3"
 * (conv:c_in:c_out:kernel:stride:padding). Exit status 1 with nnf's message on error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf/nnf.h"
#include "src/io/npz.h"

static int failed(const char *what)
{
    fprintf(stderr, "%s failed: %s\n", what, nnf_last_error());
    return 1;
}

#define TRY(call) do { if ((call) != NNF_OK) return failed(#call); } while (0)

static nnf_model *build(const char *arch, uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_model *m = NULL;
    if (nnf_model_new(&m, NULL) != NNF_OK)
        return NULL;
    char spec[512];
    snprintf(spec, sizeof spec, "%s", arch);
    for (char *save = NULL, *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        nnf_layer *l = NULL;
        long a[5] = {0};
        nnf_status st = NNF_ERR_INVALID;
        if (sscanf(tok, "lin:%ld:%ld", &a[0], &a[1]) == 2)
            st = nnf_layer_linear(&l, &rng, a[0], a[1], NNF_INIT_KAIMING);
        else if (sscanf(tok, "conv:%ld:%ld:%ld:%ld:%ld", &a[0], &a[1], &a[2], &a[3], &a[4]) == 5)
            st = nnf_layer_conv2d_nchw(&l, &rng, a[0], a[1], (int)a[2], (int)a[3], (int)a[4],
                                       NNF_INIT_KAIMING);
        else if (strcmp(tok, "relu") == 0)
            st = nnf_layer_relu(&l);
        else if (strcmp(tok, "flatten") == 0)
            st = nnf_layer_flatten(&l);
        if (st != NNF_OK || nnf_model_add(m, l) != NNF_OK) {
            fprintf(stderr, "bad layer '%s': %s\n", tok, nnf_last_error());
            nnf_layer_free(l);
            nnf_model_free(m);
            return NULL;
        }
    }
    /* biases drawn too, so that a mix-up of parameters cannot hide behind zeros */
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        nnf_tensor *p = nnf_model_parameters(m)[i];
        if (nnf_tensor_ndim(p) == 1) {
            nnf_tensor *r = NULL;
            if (nnf_randn(&r, &rng, 1, nnf_tensor_shape(p)) != NNF_OK || nnf_copy(p, r) != NNF_OK) {
                nnf_model_free(m);
                return NULL;
            }
            nnf_tensor_free(r);
        }
    }
    return m;
}

static int copy(const char *in, const char *out, int zip64)
{
    nnf_npz *z = NULL;
    TRY(nnf_npz_load(&z, in));
    int n = nnf_npz_len(z);
    const char **keys = calloc((size_t)n + 1, sizeof *keys);
    const nnf_tensor **ts = calloc((size_t)n + 1, sizeof *ts);
    for (int i = 0; i < n; i++) {
        keys[i] = nnf_npz_key(z, i);
        ts[i] = nnf_npz_tensor(z, i);
    }
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "npz_tool", out);
    TRY(nnf__npz_save(out, n, keys, ts, zip64, &ctx));
    free(keys);
    free(ts);
    nnf_npz_free(z);
    return 0;
}

static int save(const char *arch, const char *seed, const char *out)
{
    nnf_model *m = build(arch, strtoull(seed, NULL, 10));
    if (m == NULL)
        return 1;
    TRY(nnf_model_save_npz(m, out));
    /* the bits nnf holds, independently of the file */
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        const nnf_tensor *p = nnf_model_parameters(m)[i];
        printf("%d", i);
        for (int64_t j = 0; j < nnf_tensor_numel(p); j++) {
            uint32_t u;
            memcpy(&u, &nnf_tensor_data(p)[j], 4);
            printf(" %08" PRIx32, u);
        }
        printf("\n");
    }
    nnf_model_free(m);
    return 0;
}

static int predict(const char *arch, const char *weights, const char *xfile, const char *out)
{
    nnf_model *m = build(arch, 0);
    if (m == NULL)
        return 1;
    TRY(nnf_model_load_npz(m, weights));
    nnf_npz *z = NULL;
    TRY(nnf_npz_load(&z, xfile));
    nnf_tensor *y = NULL;
    TRY(nnf_model_infer(m, &y, nnf_npz_get(z, "x")));
    const char *key = "y";
    const nnf_tensor *ys[] = {y};
    TRY(nnf_npz_save(out, 1, &key, ys));
    nnf_npz_free(z);
    nnf_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "copy") == 0)
        return copy(argv[2], argv[3], 0);
    if (argc == 4 && strcmp(argv[1], "copy64") == 0)
        return copy(argv[2], argv[3], 1);
    if (argc == 5 && strcmp(argv[1], "save") == 0)
        return save(argv[2], argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "predict") == 0)
        return predict(argv[2], argv[3], argv[4], argv[5]);
    fprintf(stderr, "usage: npz_tool copy|copy64 IN OUT | save ARCH SEED OUT | "
                    "predict ARCH WEIGHTS X OUT\n");
    return 2;
}
