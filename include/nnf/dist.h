/* nnf/dist.h — data-parallel training over MPI (libnnf_dist, pkg-config nnf-dist).
 *
 * The same bits for any number of ranks. nnf's training steps follow one rule
 * everywhere (src/nn/nn_internal.h): every sum over the batch — the weight and bias
 * gradients, the loss — is taken per micro-batch of NNF_DIST_MICRO_BATCH rows from zero,
 * and the partials are folded one after the other in micro-batch order:
 *
 *     G = (((G0 + P0) + P1) + P2) + ...
 *
 * A global batch of B rows has ceil(B / 32) micro-batches; rank r of R gets a contiguous
 * block of them (8 over 3 ranks: 3, 3, 2) and computes only those: one forward and one
 * backward over its rows, then its micro-batches' gradients, each from zero, added in
 * the fixed order to the running sum as it passes along the rank chain by point-to-point
 * messages (rank r receives it from r - 1 in slices, computes its products straight into
 * each slice, in micro-batch order, and passes it on, so the ranks work at once), and
 * the final sum goes back to every rank along the same chain. Every rank then takes
 * the same SGD step: parameters stay identical, and equal to a single process training
 * on the whole batch (with or without this library), on any ISA and thread count.
 *
 *     MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);   // or let
 *     nnf_dist *d = NULL;                                           // nnf_dist_init
 *     CHECK(nnf_dist_init(&d, MPI_COMM_WORLD));
 *     ... build the same model and optimizer on every rank ...
 *     nnf_dist_trainer *t = NULL;
 *     CHECK(nnf_dist_trainer_new(&t, d, model, opt));   // rank 0's parameters to all
 *     for each batch i:
 *         nnf_tensor *xb, *yb;  int64_t rows;
 *         CHECK(nnf_dist_trainer_get_batch(t, &xb, &yb, &rows, loader, i));  // my rows
 *         CHECK(nnf_dist_trainer_step(t, &loss, xb, yb, rows));
 *
 * Failures: an error on any rank (bad input, out of memory) is returned by the step on
 * EVERY rank, with the same code and a message naming the rank ("nnf_dist_trainer_step:
 * rank 2: ..."); no rank is left waiting. Every wait has a timeout (nnf_dist_set_timeout,
 * 60 s by default): a rank that hears nothing from a peer in time returns NNF_ERR_IO,
 * and its nnf_dist is then unusable (messages may be in flight): call MPI_Abort.
 *
 * Threads: MPI calls are made only by the thread that calls nnf (MPI_THREAD_FUNNELED);
 * nnf's own pool threads never call MPI.
 */
#ifndef NNF_DIST_H
#define NNF_DIST_H

#include <mpi.h>

#include "nnf/nnf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The micro-batch of the reproducibility rule, in rows. */
#define NNF_DIST_MICRO_BATCH 32

typedef struct nnf_dist nnf_dist;

/* Starts MPI if it is not running (MPI_Init_thread asking for MPI_THREAD_FUNNELED; then
 * nnf_dist_free finalizes it) and makes a handle over a duplicate of comm. Unless
 * NNF_NUM_THREADS is set, sets nnf's thread count to the node's cores divided by the
 * ranks on the node (MPI_Comm_split_type SHARED), at least 1.
 * Errors: NNF_ERR_NULL, NNF_ERR_STATE (MPI already running below MPI_THREAD_FUNNELED, or
 * finalized), NNF_ERR_IO (an MPI call failed), NNF_ERR_NOMEM. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_init(nnf_dist **out /* OUT */, MPI_Comm comm);
/* NULL is a no-op. Finalizes MPI if nnf_dist_init started it. */
NNF_API void nnf_dist_free(nnf_dist *d /* IN/OUT */);

NNF_API int nnf_dist_rank(const nnf_dist *d);
NNF_API int nnf_dist_size(const nnf_dist *d);

/* How long any wait for a peer may last before NNF_ERR_IO, in seconds (> 0).
 * Errors: NNF_ERR_NULL, NNF_ERR_INVALID. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_set_timeout(nnf_dist *d /* IN/OUT */, double seconds);

/* The sharded loader's rule: this rank's rows of a global batch of batch_rows rows,
 * [*first_row, *first_row + *rows), whole micro-batches in a contiguous block.
 * Errors: NNF_ERR_NULL, NNF_ERR_INVALID (batch_rows < 1, or fewer micro-batches than
 * ranks: every rank must have one). */
NNF_API NNF_NODISCARD nnf_status nnf_dist_shard(const nnf_dist *d, int64_t *first_row /* OUT */,
                                                int64_t *rows /* OUT */, int64_t batch_rows);

typedef struct nnf_dist_trainer nnf_dist_trainer;

/* A data-parallel trainer of `model` (with its loss) and `opt` (built over the model's
 * parameters), both borrowed and both alive until nnf_dist_trainer_free. Collective:
 * every rank calls it with the same architecture; rank 0's parameters are copied to every
 * rank. The parameters must live in Lin and Conv2d layers, whose gradients follow the
 * micro-batch rule (a layer of your own may sum over the batch in any order).
 * Errors (on every rank if on any): NNF_ERR_NULL, NNF_ERR_STATE (no loss), NNF_ERR_INVALID
 * (a layer with parameters other than Lin or Conv2d; ranks with different parameter counts),
 * NNF_ERR_STRIDE (a parameter that is not contiguous), NNF_ERR_NOMEM, NNF_ERR_IO. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_trainer_new(nnf_dist_trainer **out /* OUT */,
                                                      nnf_dist *d, nnf_model *model,
                                                      nnf_sgd *opt);
/* NULL is a no-op. Not collective. */
NNF_API void nnf_dist_trainer_free(nnf_dist_trainer *t /* IN/OUT */);

/* The sharded loader: batch i of `loader` (every rank's loader built and shuffled alike),
 * cut to this rank's rows (nnf_dist_shard). *xb and *yb are BORROWED views, valid until
 * the next call; *batch_rows is the global batch's row count, for the step.
 * Errors: those of nnf_loader_get_batch and nnf_dist_shard. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_trainer_get_batch(nnf_dist_trainer *t /* IN/OUT */,
                                                            nnf_tensor **xb /* OUT, borrowed */,
                                                            nnf_tensor **yb /* OUT, borrowed */,
                                                            int64_t *batch_rows /* OUT */,
                                                            nnf_loader *loader /* IN/OUT */,
                                                            int64_t i);

/* One training step, collective: x and targ hold this rank's rows of a global batch of
 * batch_rows rows (nnf_dist_shard); forward and backward run on this rank's micro-batches
 * only, the gradients are combined by the rule above, and the optimizer steps. *loss is
 * the whole batch's loss, the same bits on every rank and as a single process's
 * nnf_model_call on the whole batch. On error, on any rank, no parameter has changed
 * on any rank. Errors: the failing rank's code on every rank (NNF_ERR_NULL, NNF_ERR_SHAPE
 * for a shard of the wrong size, NNF_ERR_INVALID for fewer micro-batches than ranks or
 * ranks that disagree on batch_rows, NNF_ERR_NOMEM, a layer's own errors), NNF_ERR_IO for
 * a timeout or MPI failure, NNF_ERR_STATE after one. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_trainer_step(nnf_dist_trainer *t /* IN/OUT */,
                                                       float *loss /* OUT */, nnf_tensor *x,
                                                       const nnf_tensor *targ,
                                                       int64_t batch_rows);

/* The model's outputs (its last layer's) for this rank's rows in the last successful
 * step, before the update: rows x the output's shape, BORROWED from the model until its
 * next forward. For a running training accuracy, counted per rank and summed with
 * nnf_dist_sum. */
NNF_API const nnf_tensor *nnf_dist_trainer_output(const nnf_dist_trainer *t);

/* Collective: values[i] becomes the sum over ranks of values[i], the same on every rank
 * (integers add exactly in any order). Errors: NNF_ERR_NULL, NNF_ERR_INVALID (n < 0),
 * NNF_ERR_IO (a timeout or an MPI failure), NNF_ERR_STATE after a timeout. */
NNF_API NNF_NODISCARD nnf_status nnf_dist_sum(nnf_dist *d, int64_t *values /* IN/OUT */, int n);

/* The micro-batches the last successful step computed on this rank: [*first, *first +
 * *count) of the global batch's. For tests and logs. */
NNF_API void nnf_dist_trainer_micro_batches(const nnf_dist_trainer *t, int64_t *first /* OUT */,
                                            int64_t *count /* OUT */);

#ifdef __cplusplus
}
#endif

#endif
