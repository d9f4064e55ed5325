/* MNIST-format datasets (MNIST, Fashion-MNIST): the pair of IDX files per split,
 * checked against each other, scaled, flattened, normalised. */
#include "nnf/data.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nnf/ops.h"
#include "src/core/error.h"

#define MNIST_CLASSES 10

/* <dir>/<split>-<kind>.gz if it exists, else <dir>/<split>-<kind> if that exists. */
static nnf_status find_file(char *path, size_t size, const char *dir, const char *split,
                            const char *kind)
{
    int len = snprintf(path, size, "%s/%s-%s.gz", dir, split, kind);
    NNF_RETURN_IF(len < 0 || (size_t)len >= size, NNF_ERR_INVALID,
                  "nnf_mnist_load: the path '%s/%s-%s.gz' is longer than %zu bytes", dir, split,
                  kind, size - 1);
    if (access(path, F_OK) == 0) return NNF_OK;
    path[len - 3] = '\0';
    if (access(path, F_OK) == 0) return NNF_OK;
    return nnf__fail(NNF_ERR_IO, "nnf_mnist_load: neither '%s.gz' nor '%s' exists (%s)", path,
                     path, strerror(errno));
}

static nnf_status check_loaded(const char *img_path, const nnf_tensor *img,
                               const char *lbl_path, const nnf_tensor *lbl)
{
    NNF_RETURN_IF(nnf_tensor_ndim(img) != 3, NNF_ERR_SHAPE,
                  "nnf_mnist_load: '%s' has %d dims; images need 3 (count, rows, cols)",
                  img_path, nnf_tensor_ndim(img));
    NNF_RETURN_IF(nnf_tensor_ndim(lbl) != 1, NNF_ERR_SHAPE,
                  "nnf_mnist_load: '%s' has %d dims; labels need 1 (count)", lbl_path,
                  nnf_tensor_ndim(lbl));
    int64_t n = nnf_tensor_size(img, 0);
    NNF_RETURN_IF(n != nnf_tensor_size(lbl, 0), NNF_ERR_SHAPE,
                  "nnf_mnist_load: '%s' has %" PRId64 " images but '%s' has %" PRId64 " labels",
                  img_path, n, lbl_path, nnf_tensor_size(lbl, 0));
    const int64_t *label = nnf_tensor_raw(lbl);
    for (int64_t i = 0; i < n; i++)
        NNF_RETURN_IF(label[i] < 0 || label[i] >= MNIST_CLASSES, NNF_ERR_PARSE,
                      "nnf_mnist_load: '%s': label %" PRId64 " at index %" PRId64
                      " is outside 0..%d", lbl_path, label[i], i, MNIST_CLASSES - 1);
    return NNF_OK;
}

nnf_status nnf_mnist_load(nnf_dataset *out, const char *dir, const char *split)
{
    NNF_PUBLIC("nnf_mnist_load");
    NNF_RETURN_IF(!out || !dir || !split, NNF_ERR_NULL, "nnf_mnist_load: argument %s is NULL",
                  !out ? "out" : !dir ? "dir" : "split");
    char img_path[PATH_MAX], lbl_path[PATH_MAX];
    NNF_FORWARD(find_file(img_path, sizeof img_path, dir, split, "images-idx3-ubyte"));
    NNF_FORWARD(find_file(lbl_path, sizeof lbl_path, dir, split, "labels-idx1-ubyte"));

    nnf_tensor *img = NULL, *lbl = NULL, *x = NULL;
    nnf_status st = nnf_idx_read(&img, img_path, NNF_F32);
    if (st == NNF_OK) st = nnf_idx_read(&lbl, lbl_path, NNF_I64);
    if (st == NNF_OK) st = check_loaded(img_path, img, lbl_path, lbl);
    /* Pixels / 255 as torchvision's ToTensor does, so the statistics match PyTorch's. */
    if (st == NNF_OK) st = nnf_div_scalar(&img, img, 255.0f);
    if (st == NNF_OK)
        st = nnf_view(&x, img, NNF_SHAPE(nnf_tensor_size(img, 0),
                                         nnf_tensor_size(img, 1) * nnf_tensor_size(img, 2)));
    nnf_tensor_free(img);
    if (st != NNF_OK) {
        nnf_tensor_free(lbl);
        return st;
    }
    out->x = x;
    out->y = lbl;
    return NNF_OK;
}

void nnf_dataset_free(nnf_dataset *d)
{
    if (!d) return;
    nnf_tensor_free(d->x);
    nnf_tensor_free(d->y);
    d->x = NULL;
    d->y = NULL;
}

nnf_status nnf_dataset_stats(const nnf_dataset *d, float *mean, float *std)
{
    NNF_PUBLIC("nnf_dataset_stats");
    NNF_RETURN_IF(!d || !d->x || !mean || !std, NNF_ERR_NULL,
                  "nnf_dataset_stats: argument %s is NULL",
                  !d ? "d" : !d->x ? "d->x" : !mean ? "mean" : "std");
    nnf_tensor *s = NULL, *m = NULL;
    nnf_status st = nnf_std_mean(&s, &m, d->x, NNF_ALL_DIMS, 0, 0);
    float sv = 0, mv = 0;
    if (st == NNF_OK) st = nnf_value(&sv, s);
    if (st == NNF_OK) st = nnf_value(&mv, m);
    nnf_tensor_free(s);
    nnf_tensor_free(m);
    if (st != NNF_OK) return st;
    *mean = mv;
    *std = sv;
    return NNF_OK;
}

nnf_status nnf_dataset_normalize(nnf_dataset *d, float mean, float std)
{
    NNF_PUBLIC("nnf_dataset_normalize");
    NNF_RETURN_IF(!d || !d->x, NNF_ERR_NULL, "nnf_dataset_normalize: argument %s is NULL",
                  !d ? "d" : "d->x");
    NNF_RETURN_IF(nnf_tensor_dtype(d->x) != NNF_F32, NNF_ERR_DTYPE,
                  "nnf_dataset_normalize: d->x must be float32");
    NNF_RETURN_IF(!(mean - mean == 0.0f) || !(std > 0.0f) || !(std - std == 0.0f),
                  NNF_ERR_INVALID,
                  "nnf_dataset_normalize: mean (%g) must be finite and std (%g) finite and > 0",
                  (double)mean, (double)std);
    /* Both ops are checked above to be unable to fail, so x is never left half done. */
    nnf_tensor *x = d->x;
    NNF_FORWARD(nnf_sub_scalar(&x, x, mean));
    return nnf_div_scalar(&x, x, std);
}
