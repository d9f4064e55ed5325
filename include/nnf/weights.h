/* nnf/weights.h — a model's weights in and out, as numpy .npz files with PyTorch's
 * state_dict names, so that weights move between nnf and PyTorch:
 *
 *     nnf_model_save_npz(model, "mlp.npz");
 *
 *     # Python: the same architecture as an nn.Sequential
 *     sd = {k: torch.from_numpy(v) for k, v in numpy.load("mlp.npz").items()}
 *     net.load_state_dict(sd, strict=True)
 *
 *     # ... and back: numpy.savez("mlp.npz", **{k: v.numpy() for k, v in net.state_dict().items()})
 *     nnf_model_load_npz(model, "mlp.npz");
 *
 * Names. Parameters are named as nn.Sequential names them, by the layer's index among ALL
 * the model's layers, parameterless ones included:
 *     Lin, Relu, Lin                 -> "0.weight" "0.bias" "2.weight" "2.bias"
 *     Conv2d, Relu, Flatten, Lin     -> "0.weight" (c_out, c_in, k, k) "0.bias" (c_out)
 *                                       "3.weight" (n_out, n_in) "3.bias" (n_out)
 * Lin and Conv2d parameters are "weight" and "bias" with nn.Linear's and nn.Conv2d's
 * shapes. A layer of your own (nnf_layer_new) has its j-th parameter named "<i>.<j>",
 * which is what PyTorch calls the parameters of an nn.ParameterList at index i.
 *
 * The file format is numpy's:
 * - nnf writes an uncompressed zip archive (numpy.savez's layout) with one member
 *   "<name>.npy" per parameter, in model order: each a .npy of format 1.0 holding a
 *   little-endian C-order float32 array ('<f4'), byte for byte what numpy.save writes,
 *   with a correct CRC-32. Every member carries the same date (1980-01-01), so the same
 *   weights always give the same file. Zip64 fields are used only when a member or the
 *   archive passes 4 GiB.
 * - nnf reads what numpy.savez and numpy.savez_compressed write: members stored or
 *   deflated, zip64 fields, data descriptors, .npy formats 1.0, 2.0 and 3.0, C or Fortran
 *   element order (Fortran order is rearranged into row-major), and the dtypes '<f4',
 *   '>f4', '<f8', '>f8'. float32 keeps its bits. float64 is rounded to the nearest
 *   float32, ties to even (the same result as numpy's astype(float32) and torch's copy_):
 *   subnormal and tiny values round to float32 subnormals or zero, +-inf stay infinite,
 *   a NaN stays a NaN with its sign and the top of its payload; but a finite value that
 *   would round to infinity (|x| >= 3.40282357e+38, FLT_MAX plus half an ulp) is an
 *   error, NNF_ERR_OVERFLOW naming the element, where numpy and torch silently give inf.
 *   Anything else (other dtypes, encryption, other compression methods, multi-disk
 *   archives, a .npy header over numpy's own 10000-byte limit) is refused with an error
 *   saying what was found.
 *
 * Errors. Every message starts with the function's name and the path, and names the
 * archive member when one is at fault:
 *   "nnf_model_load_npz: mlp.npz: member '2.bias.npy': the CRC-32 of its data is ..."
 *   NNF_ERR_IO        the file cannot be opened, read, written or renamed (with the
 *                     system's reason)
 *   NNF_ERR_PARSE     not a zip archive or not .npy members, truncated, corrupt (a bad
 *                     CRC-32 or deflate stream, sizes or offsets that do not add up,
 *                     overlapping members, two members of one name, a malformed header)
 *   NNF_ERR_DTYPE     a dtype other than float32 or float64
 *   NNF_ERR_UNSUPPORTED  a zip or .npy feature numpy does not write (see above), or
 *                     more than NNF_MAX_DIMS dims
 *   NNF_ERR_OVERFLOW  a shape whose byte count overflows, a float64 beyond float32
 *   NNF_ERR_NOMEM, NNF_ERR_NULL, and for the model functions NNF_ERR_INVALID (missing or
 *   unexpected names) and NNF_ERR_SHAPE (a parameter of another shape).
 * Reading trusts nothing in the file: every size and offset is checked against the
 * file's real size before it is used, so a damaged or hostile file gives an error, never
 * a crash or an allocation larger than its data can fill.
 */
#ifndef NNF_WEIGHTS_H
#define NNF_WEIGHTS_H

#include "nn.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- A model's parameters ---- */

/* Writes every parameter of `model` to `path` (PyTorch's state_dict names, above). The
 * file is written beside `path` under a temporary name and renamed over `path` at the
 * end, so a failed save leaves whatever was at `path` as it was. */
NNF_API NNF_NODISCARD nnf_status nnf_model_save_npz(const nnf_model *model, const char *path);

/* Overwrites every parameter of `model` with the array of the same name in `path`, as
 * load_state_dict(strict=True) does: the file must hold exactly the model's names, with
 * the same shapes. A missing or an unexpected name is NNF_ERR_INVALID, listing them in
 * PyTorch's words ("Missing key(s) in state_dict: "2.bias"."); a shape that differs is
 * NNF_ERR_SHAPE ("size mismatch for 0.weight: copying a param with shape [3, 4] from
 * checkpoint, the shape in current model is [4, 4]").
 * Every array is checked and converted before the first parameter is written: on any
 * error the model is exactly as it was. On success every parameter has its new values,
 * gradients are left as they were, and a backward pending from the last forward is
 * refused (NNF_ERR_STATE) until the next forward, as PyTorch refuses a backward through
 * weights changed in place. */
NNF_API NNF_NODISCARD nnf_status nnf_model_load_npz(nnf_model *model /* IN/OUT */,
                                                    const char *path);

/* ---- Any .npz file of float arrays (numpy.load / numpy.savez) ---- */

typedef struct nnf_npz nnf_npz;

/* Reads every array of the .npz at `path` into new contiguous float32 tensors (the
 * conversions above); the keys are the member names without ".npy", in the archive's
 * order (numpy's NpzFile.files). A member that is not a .npy array is an error. */
NNF_API NNF_NODISCARD nnf_status nnf_npz_load(nnf_npz **out /* OUT */, const char *path);
/* The number of arrays. */
NNF_API int nnf_npz_len(const nnf_npz *npz);
/* The i-th key and array (0 <= i < nnf_npz_len), NULL out of range. Both are borrowed
 * and live until nnf_npz_free; to keep an array longer, take a handle of your own with
 * nnf_contiguous (no copy: it shares the storage) or a copy with nnf_clone. */
NNF_API const char *nnf_npz_key(const nnf_npz *npz, int i);
NNF_API nnf_tensor *nnf_npz_tensor(const nnf_npz *npz, int i);
/* The array of this key (borrowed, as above), or NULL if there is none. */
NNF_API nnf_tensor *nnf_npz_get(const nnf_npz *npz, const char *key);
/* Frees the arrays and keys. NULL is a no-op. */
NNF_API void nnf_npz_free(nnf_npz *npz);

/* Writes `n` float32 tensors (any strides; each stored C-order) as numpy.savez(path,
 * **{keys[i]: tensors[i]}) would, in this order, with the same file format and the same
 * temporary-file-and-rename as nnf_model_save_npz. Keys must be distinct, non-empty and
 * at most 65531 bytes. NNF_ERR_INVALID for a bad key, NNF_ERR_DTYPE for a tensor that is
 * not float32. */
NNF_API NNF_NODISCARD nnf_status nnf_npz_save(const char *path, int n, const char *const *keys,
                                              const nnf_tensor *const *tensors);

#ifdef __cplusplus
}
#endif
#endif
