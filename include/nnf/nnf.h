/* nnf — a neural net from the foundations, on hand-vectorised CPU kernels.
 *
 * Read the headers in this order; each builds on the ones before it:
 *   status.h   how every call reports errors (nnf_status, nnf_last_error)
 *   isa.h      which instruction set runs the kernels, and how to force one
 *   tensor.h   float32 tensors, storage, views, creation, printing, gradients
 *   ops.h      elementwise arithmetic with broadcasting, reductions
 *   linalg.h   sgemm, matmul, gemm, einsum
 *   nn.h       layers with forward and backward, models, init, SGD, gradcheck
 *   data.h     reading IDX datasets (MNIST, Fashion-MNIST), minibatches
 *   conv.h     2-D convolution as unfold + matmul (the chapter's further research)
 *   weights.h  a model's weights to and from numpy .npz files, with PyTorch's names
 *   threads.h  how many threads parallel calls use
 *   memory.h   the buffers nnf keeps for reuse (the huge-page cache), and trimming it
 *   log.h      where nnf's messages go (a callback or stderr) and NNF_VERBOSE's levels
 *   version.h  the headers' version, for checks at compile time
 *
 * One convention holds for every declaration in these headers:
 *
 *     NNF_API NNF_NODISCARD nnf_status nnf_thing(nnf_tensor **out, const nnf_tensor *x,
 *                                                float alpha);
 *
 * - NNF_API marks every public declaration (nnf/export.h). NNF_NODISCARD marks every
 *   function returning nnf_status: ignoring one is a warning, because a failed call leaves
 *   its output unset. Define NNF_NO_NODISCARD before including nnf to turn that off.
 * - Every non-const pointer parameter is marked OUT (written on success only; its old value
 *   is neither read nor freed) or IN/OUT (read and written: an output tensor that may
 *   already exist, an object the call changes, a generator it advances, a handle it frees).
 *   Const pointers are inputs and are not marked.
 * - Order: the object acted on (a model, layer, loss, optimiser, loader, dataset, or a
 *   tensor changed in place) first, then outputs, then inputs, then scalar options. A count
 *   and its array (ndim, shape) and a buffer and its size stay together. nnf_sgemm keeps
 *   BLAS's order.
 * - An IN/OUT tensor handle must hold NULL (a new tensor is made) or a live tensor (the
 *   result is written into it). Initialise every handle to NULL: `nnf_tensor *r;
 *   nnf_add(&r, a, b);` reads whatever r happens to hold as a tensor.
 * - Gradients have one name pattern, nnf_<layer>_backward, beside nnf_<layer>: it reads
 *   dloss/dy from the gradient (`.g`) of the forward's result y and ADDS to the gradients
 *   of the forward's tensors; its parameters are those tensors (x first), then y, then
 *   the forward's other inputs and scalars, then input_grad (0 skips x's gradient).
 *   Losses seed their own gradient (dloss/dloss = 1) and take no y.
 * - Every error message starts with the name of the public function called, then PyTorch's
 *   wording where PyTorch has one: "nnf_add: The size of tensor a (2) must match the size
 *   of tensor b (3) at non-singleton dimension 1".
 * - A function whose parameters change order gets a new name; the old name keeps its old
 *   order for one release, marked NNF_DEPRECATED with the name of its replacement.
 */
#ifndef NNF_NNF_H
#define NNF_NNF_H

#include "status.h"
#include "isa.h"
#include "tensor.h"
#include "ops.h"
#include "linalg.h"
#include "nn.h"
#include "data.h"
#include "conv.h"
#include "weights.h"
#include "threads.h"
#include "memory.h"
#include "log.h"
/* Generated, so it sits in the build tree until installed: found through the -I that
 * finds nnf/nnf.h, not beside this file. */
#include "nnf/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "0.1.0": the one linked or loaded, which NNF_VERSION_STRING
 * (the headers', nnf/version.h) should match. */
NNF_API const char *nnf_version(void);
/* Deprecated: nnf_get_num_threads() (nnf/threads.h), which it returns. */
NNF_API NNF_DEPRECATED("use nnf_get_num_threads") int nnf_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
