/* nnf/data.h — datasets: IDX files (MNIST, Fashion-MNIST), normalisation, minibatches.
 *
 * The usual path from files on disk to a training loop:
 *
 * (CHECK stands for your error handling: every call returns an nnf_status.)
 *
 *     nnf_dataset train = {0}, test = {0};
 *     CHECK(nnf_mnist_load(&train, "/usr/share/datasets/fashion-mnist", "train"));
 *     CHECK(nnf_mnist_load(&test,  "/usr/share/datasets/fashion-mnist", "t10k"));
 *     float mean, std;
 *     CHECK(nnf_dataset_stats(&train, &mean, &std));     // the TRAINING set's statistics
 *     CHECK(nnf_dataset_normalize(&train, mean, std));   // ... applied to both sets
 *     CHECK(nnf_dataset_normalize(&test, mean, std));
 *
 *     nnf_loader *loader = NULL;
 *     CHECK(nnf_loader_new(&loader, train.x, train.y, 128, 42));
 *     for (int epoch = 0; epoch < 5; epoch++) {
 *         CHECK(nnf_loader_shuffle(loader));             // a new order every epoch
 *         for (int64_t i = 0; i < nnf_loader_len(loader); i++) {
 *             nnf_tensor *xb = NULL, *yb = NULL;
 *             CHECK(nnf_loader_get_batch(loader, &xb, &yb, i));   // 128 x 784, 128 labels
 *             ...
 *         }
 *     }
 *     nnf_loader_free(loader);
 *     nnf_dataset_free(&train);
 *     nnf_dataset_free(&test);
 */
#ifndef NNF_DATA_H
#define NNF_DATA_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files (the format of MNIST and Fashion-MNIST) ----
 * An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
 * dims), one big-endian uint32 size per dim, then the elements, big-endian, row-major.
 * Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. */

/* Reads the IDX file at `path` into a new contiguous tensor of the file's shape.
 * The file may be gzip-compressed or plain; this is detected from its first bytes,
 * not from its name. `dtype` is the tensor's type:
 *   NNF_F32  every element converted to float (uint8 pixels become 0.0 ... 255.0);
 *   NNF_I64  integer files only (class labels).
 * Errors, each naming the file:
 *   NNF_ERR_IO      the file cannot be opened or read ("No such file or directory");
 *   NNF_ERR_PARSE   a bad magic number or type code, zero or too many dims, a file that
 *                   ends before its data does (truncated), bytes after the data, or a
 *                   corrupt gzip stream (bad data or a CRC-32 that does not match);
 *   NNF_ERR_DTYPE   NNF_I64 asked of a floating-point file, or an unsupported dtype;
 *   NNF_ERR_OVERFLOW / NNF_ERR_NOMEM  sizes too large / allocation failed. */
NNF_API NNF_NODISCARD nnf_status nnf_idx_read(nnf_tensor **out /* OUT */, const char *path,
                                              nnf_dtype dtype);

/* ---- Labelled datasets in memory ---- */
typedef struct {
    nnf_tensor *x;   /* n x features, float32 (images flattened row by row) */
    nnf_tensor *y;   /* n class labels, NNF_I64 */
} nnf_dataset;

/* Loads an MNIST-format split: <dir>/<split>-images-idx3-ubyte and
 * <dir>/<split>-labels-idx1-ubyte, each tried first with ".gz" and then without
 * (split is "train" or "t10k" for MNIST and Fashion-MNIST). Pixels are scaled to
 * [0, 1] and each 28 x 28 image becomes one row of 784 floats: x is n x 784.
 * `out` must be zero-initialised or freed; on failure it is left untouched.
 * Errors: those of nnf_idx_read, plus NNF_ERR_SHAPE if the image and label counts
 * differ or the files are not 3-d images and 1-d labels, and NNF_ERR_PARSE if a label
 * is outside 0..9 (both messages name the files and the counts or the index). */
NNF_API NNF_NODISCARD nnf_status nnf_mnist_load(nnf_dataset *out /* OUT */, const char *dir,
                                                const char *split);

/* Frees both tensors and zeroes the struct. NULL and a zeroed struct are no-ops. */
NNF_API void nnf_dataset_free(nnf_dataset *d /* IN/OUT */);

/* Mean and (biased) standard deviation of every element of d->x, for normalisation.
 * Fashion-MNIST's training set gives 0.2860 and 0.3530. */
NNF_API NNF_NODISCARD nnf_status nnf_dataset_stats(const nnf_dataset *d, float *mean /* OUT */,
                                                   float *std /* OUT */);

/* d->x = (d->x - mean) / std, in place. Normalise a test set with the TRAINING set's
 * statistics, so that both see the same transformation. NNF_ERR_INVALID if std <= 0
 * or either value is not finite. */
NNF_API NNF_NODISCARD nnf_status nnf_dataset_normalize(nnf_dataset *d /* IN/OUT */, float mean,
                                                       float std);

/* ---- Minibatches ----
 * A loader cuts (x, y) into batches of `batch_size` rows along dim 0, in order or in a
 * random order drawn from its own generator. It allocates its batch buffers once, when
 * created: taking a batch copies rows into them and never allocates, so a training
 * loop stays allocation-free. */
typedef struct nnf_loader nnf_loader;

/* x has n >= 1 rows along dim 0 (any trailing shape, e.g. n x 784 or n x 1 x 28 x 28);
 * y (may be NULL) has the same n along dim 0 and any dtype. The loader keeps its own
 * handles onto x and y: the caller may free its handles, but must not write to their
 * storage while the loader is alive. The last batch is smaller when batch_size does not
 * divide n. The order starts as 0, 1, ..., n-1; `seed` seeds the shuffling generator.
 * Errors: NNF_ERR_NULL, NNF_ERR_INVALID (batch_size < 1, n == 0), NNF_ERR_SHAPE (row
 * counts differ), NNF_ERR_NOMEM. */
NNF_API NNF_NODISCARD nnf_status nnf_loader_new(nnf_loader **out /* OUT */, const nnf_tensor *x,
                                                const nnf_tensor *y, int64_t batch_size,
                                                uint64_t seed);
/* NULL is a no-op. */
NNF_API void nnf_loader_free(nnf_loader *loader /* IN/OUT */);

/* Number of batches per epoch: ceil(n / batch_size). */
NNF_API int64_t nnf_loader_len(const nnf_loader *loader);
/* Number of rows n. */
NNF_API int64_t nnf_loader_size(const nnf_loader *loader);

/* Draws a new uniformly random order of the n rows (Fisher-Yates with nnf's xoshiro
 * generator): the same seed gives the same sequence of orders on every platform. */
NNF_API NNF_NODISCARD nnf_status nnf_loader_shuffle(nnf_loader *loader /* IN/OUT */);

/* Batch i (0 <= i < nnf_loader_len) in the current order. *xb and *yb (yb may be NULL;
 * *yb is NULL when the loader has no y) are BORROWED: contiguous tensors owned by the
 * loader, overwritten by the next call and freed with the loader. Do not free them.
 * Errors: NNF_ERR_NULL, NNF_ERR_INDEX for i out of range. */
NNF_API NNF_NODISCARD nnf_status nnf_loader_get_batch(nnf_loader *loader /* IN/OUT */,
                                                      nnf_tensor **xb /* OUT, borrowed */,
                                                      nnf_tensor **yb /* OUT, borrowed */,
                                                      int64_t i);

/* ---- Deprecated: the old names in their old parameter order, for one release. ---- */
NNF_API NNF_DEPRECATED("use nnf_loader_get_batch(loader, xb, yb, i)") NNF_NODISCARD
nnf_status nnf_loader_batch(nnf_loader *loader /* IN/OUT */, int64_t i,
                            nnf_tensor **xb /* OUT, borrowed */,
                            nnf_tensor **yb /* OUT, borrowed */);

#ifdef __cplusplus
}
#endif
#endif
