/* nnf — a neural net from the foundations, on hand-vectorised CPU kernels.
 *
 * Read the headers in this order; each builds on the ones before it:
 *   status.h   how every call reports errors (nnf_status, nnf_last_error)
 *   isa.h      which instruction set runs the kernels, and how to force one
 *   tensor.h   float32 tensors, storage, views, creation, printing, gradients
 *   ops.h      elementwise arithmetic with broadcasting, reductions
 *   linalg.h   sgemm, matmul, addmm, einsum
 *   nn.h       layers with forward and backward, models, init, SGD, gradcheck
 *   data.h     reading IDX datasets (MNIST, Fashion-MNIST), minibatches
 *   conv.h     2-D convolution as unfold + matmul (the chapter's further research)
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

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0" */
const char *nnf_version(void);
/* The number of threads parallel kernels use (OpenMP's, honouring OMP_NUM_THREADS). */
int nnf_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
