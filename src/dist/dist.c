/* libnnf_dist: data-parallel training over MPI with the same bits for any rank count
 * (nnf/dist.h has the rule and the protocol's outline).
 *
 * A step has two phases:
 *   1. local: one forward and one backward over the rank's rows, which compute the
 *      activations' gradients and each micro-batch's loss sum, but leave the parameters'
 *      gradients to phase 2 (nnf__deferred_grads: the layers only note what their
 *      products will read);
 *   2. the fold: the running sum of all parameters' gradients, one flat buffer (so the
 *      messages are few and large), travels the chain 0 -> 1 -> ... -> R-1 in slices:
 *      rank 0 starts each slice from zero, and every rank computes its micro-batches'
 *      products for that slice straight into it, in micro-batch order, and forwards it,
 *      so the ranks work at once, one slice apart. Then the result travels R-1 -> 0 ->
 *      1 -> ... -> R-2 the same way. A header follows the slices and carries the
 *      agreement: the first failing rank with its code and message, the range of the
 *      batch's row count as the ranks saw it, and the running loss. It follows rather
 *      than leads because the products can fail too (sgemm's scratch, the first time):
 *      a rank that failed adds nothing more and passes the slices on, and every rank
 *      learns of any failure with the result, before any parameter changes. The
 *      agreement rides the fold rather than going before it: on a loaded machine every
 *      hand-off waits for the peer to be scheduled, and a separate exchange was one
 *      more (README).
 * Every wait polls with a deadline (wait_for), so a dead or stuck peer costs a timeout,
 * not a hang. The trainer's set-up agrees by a small all-reduce of exact integers
 * (agree): MPI may bracket a reduction as it likes, harmless for a minimum of integers.
 */
#include "nnf/dist.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/nn/nn_internal.h"

_Static_assert(NNF_DIST_MICRO_BATCH == NNF__MICRO_BATCH,
               "nnf/dist.h states the library's micro-batch");

enum { TAG_REDUCE = 1, TAG_RESULT = 3 };   /* each + 1: the header that follows */

/* At most 16 Ki floats (64 KiB) per message. Along the chain each slice is a job that
 * every rank works on in turn (products, then the transfer), and such a pipeline of
 * equal stages finishes after the sum of the jobs plus (ranks - 1) times the largest:
 * bench_dist's 0.8 MB gradient in 13 slices rather than 4 of 256 KiB cuts that term
 * from a third of one rank's products to a thirteenth, while a slice's products (a
 * 256 x 64 block of its first weight) still run as fast as wider ones and a message
 * costs a few us. */
enum { SLICE = 16 * 1024 };

/* A block of one parameter's gradient (seen as nnf__deferred_grad does: size(0) rows)
 * in the flat buffer: its elements row-major and contiguous from `at`. A parameter too
 * large for one slice is cut into blocks of whole columns when it is wider than tall,
 * else of whole rows: each block's product streams the operand on the other side once
 * per block, and for a Lin weight (n_out x n_in) that is y.g for column blocks and x for
 * row blocks. For bench_dist's 256 x 784 weight at 1024 rows, 4 row blocks took 4.7 ms
 * (median, thread CPU time, loaded machine) against 3.0 ms for 4 column blocks and
 * 2.6-2.8 ms for the whole product at once. */
typedef struct {
    int param;
    size_t at;
    size_t ld;              /* the parameter's columns */
    nnf__block blk;
} piece;

/* The failing rank's code and message. */
typedef struct {
    int code;
    char message[500];
} failure;

/* What goes ahead of a step's gradient along the chain (see the top). */
typedef struct {
    int64_t bad_rank;       /* the first failing rank; the rank count: none */
    int64_t lo, hi;         /* batch_rows as the ranks passed saw it */
    double loss;            /* the running loss sum, micro-batch by micro-batch */
    failure f;              /* bad_rank's */
} header;

struct nnf_dist {
    MPI_Comm comm;
    int rank, size;
    int finalize;           /* nnf_dist_init started MPI */
    int broken;             /* a wait timed out: messages may still be in flight */
    double timeout;
};

struct nnf_dist_trainer {
    nnf_dist *d;
    nnf_model *model;       /* borrowed */
    nnf_sgd *opt;           /* borrowed */
    nnf_loss *loss;         /* the model's */
    size_t nflat;           /* floats of all parameters together */
    piece *pieces;          /* the flat buffer's blocks, in order */
    int *slice_first;       /* slice s is pieces [slice_first[s], slice_first[s + 1]) */
    int npieces, nslices;
    MPI_Request *reqs;      /* a pass's receives and sends: slices + 1 each */
    nnf__deferred_grad *later;  /* each parameter's gradient, for the fold to compute */
    double *loss_parts;     /* own micro-batches' loss sums */
    int64_t cap;            /* micro-batches loss_parts has room for */
    float *sum;             /* nflat: the running, then the final sum */
    int64_t mb_first, mb_count;
    nnf_tensor *xs, *ys;    /* get_batch's views */
};

/* ---- MPI calls and waits ---- */

static nnf_status mpi_check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return NNF_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return nnf__fail(NNF_ERR_IO, "%s failed: %.*s", what, len, text);
}

/* Waits for req until the deadline, polling (MPI progresses inside MPI_Test): for the
 * first SPIN seconds without a break, then with 20 us naps, which leave the core to
 * other ranks when oversubscribed. Measured here: a poll takes 0.02-0.03 us, and a
 * "20 us" nap 115-150 us (timer slack, wake-up), so the 1000 polls that came before the
 * naps lasted ~25 us and a rank waiting for the next slice of the pipeline (0.05-0.15 ms
 * of products at batch 512-1024) paid a nap's latency at nearly every hand-off: 2 ranks
 * at batch 1024 took 3.45-3.48 ms/step with the spin against 3.92 without (one process
 * 5.6-6.0). Under load the spin costs a little (a rank's wait is then long, and it
 * spins 0.3 ms of it); sched_yield instead of the pure spin was no better either way. */
#define SPIN 300e-6

static nnf_status wait_for(nnf_dist *d, MPI_Request *req, const char *what, int peer)
{
    const double start = MPI_Wtime(), deadline = start + d->timeout;
    for (;;) {
        int done = 0;
        NNF_FORWARD(mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), "MPI_Test"));
        if (done)
            return NNF_OK;
        const double now = MPI_Wtime();
        if (now > deadline) {
            d->broken = 1;
            if (peer >= 0)
                return nnf__fail(NNF_ERR_IO, "rank %d: no %s from rank %d within %g s "
                                 "(the nnf_dist is unusable now: call MPI_Abort)",
                                 d->rank, what, peer, d->timeout);
            return nnf__fail(NNF_ERR_IO, "rank %d: %s not completed by every rank within "
                             "%g s (the nnf_dist is unusable now: call MPI_Abort)",
                             d->rank, what, d->timeout);
        }
        if (now - start > SPIN) {
            struct timespec nap = {0, 20000};
            nanosleep(&nap, NULL);
        }
    }
}

/* ---- Every rank learns whether every rank succeeded ---- */

/* This rank's failure `st` for the others; its message loses the "fn: " in front, which
 * every rank puts back. */
static void describe(failure *f, nnf_status st, const char *fn)
{
    const char *m = nnf_last_error();
    size_t len = strlen(fn);
    if (strncmp(m, fn, len) == 0 && strncmp(m + len, ": ", 2) == 0)
        m += len + 2;
    f->code = (int)st;
    snprintf(f->message, sizeof f->message, "%s", m);
}

/* Collective. `st` is this rank's status (its message on this thread), `value` a number
 * every rank must agree on (named `what` in the message). Returns NNF_OK on every rank,
 * or the first failing rank's code on every rank with its message, "<fn>: rank r: ...",
 * fn being the public function every rank is in. */
static nnf_status agree(nnf_dist *d, nnf_status st, int64_t value, const char *what,
                        const char *fn)
{
    /* min over ranks of: first failing rank, value, -value */
    int64_t mine[3] = {st != NNF_OK ? d->rank : d->size, value, -value}, all[3];
    MPI_Request req;
    NNF_FORWARD(mpi_check(MPI_Iallreduce(mine, all, 3, MPI_INT64_T, MPI_MIN, d->comm, &req),
                          "MPI_Iallreduce"));
    NNF_FORWARD(wait_for(d, &req, "the status exchange", -1));
    if (all[0] < d->size) {
        int root = (int)all[0];
        failure f = {0};
        if (root == d->rank)
            describe(&f, st, fn);
        NNF_FORWARD(mpi_check(MPI_Ibcast(&f, (int)sizeof f, MPI_BYTE, root, d->comm, &req),
                              "MPI_Ibcast"));
        NNF_FORWARD(wait_for(d, &req, "the failing rank's message", root));
        f.message[sizeof f.message - 1] = '\0';
        return nnf__fail((nnf_status)f.code, "rank %d: %s", root, f.message);
    }
    NNF_RETURN_IF(all[1] != -all[2], NNF_ERR_INVALID,
                  "the ranks disagree on %s: from %lld to %lld", what, (long long)all[1],
                  (long long)-all[2]);
    return NNF_OK;
}

/* ---- The handle ---- */

/* Cores on the node over ranks on the node, at least 1. */
static int threads_per_rank(MPI_Comm comm)
{
    MPI_Comm node;
    int local = 1;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cores / (local > 0 ? local : 1);
    return n < 1 ? 1 : (int)n;
}

nnf_status nnf_dist_init(nnf_dist **out, MPI_Comm comm)
{
    NNF_PUBLIC("nnf_dist_init");
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "nnf_dist_init: out is NULL");
    int running = 0, finalized = 0, started = 0;
    MPI_Finalized(&finalized);
    NNF_RETURN_IF(finalized, NNF_ERR_STATE, "nnf_dist_init: MPI was already finalized");
    MPI_Initialized(&running);
    if (!running) {
        int provided = 0;
        NNF_FORWARD(mpi_check(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided),
                              "MPI_Init_thread"));
        started = 1;
    }
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    nnf_status st = NNF_OK;
    if (level < MPI_THREAD_FUNNELED)
        st = nnf__fail(NNF_ERR_STATE, "nnf_dist_init: MPI runs at thread level %d, below "
                       "MPI_THREAD_FUNNELED (%d), which nnf's threads need: start it with "
                       "MPI_Init_thread, or let nnf_dist_init start it", level,
                       MPI_THREAD_FUNNELED);
    nnf_dist *d = st == NNF_OK ? nnf__calloc(sizeof *d) : NULL;
    if (st == NNF_OK && d == NULL)
        st = nnf__fail(NNF_ERR_NOMEM, "nnf_dist_init: out of memory");
    if (st == NNF_OK)
        st = mpi_check(MPI_Comm_dup(comm, &d->comm), "MPI_Comm_dup");
    if (st != NNF_OK) {
        nnf__dealloc(d, sizeof *d);
        if (started)
            MPI_Finalize();
        return st;
    }
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    d->finalize = started;
    d->timeout = 60.0;
    if (getenv("NNF_NUM_THREADS") == NULL)
        NNF_FORWARD(nnf_set_num_threads(threads_per_rank(d->comm)));
    *out = d;
    return NNF_OK;
}

void nnf_dist_free(nnf_dist *d)
{
    if (d == NULL)
        return;
    if (!d->broken)
        MPI_Comm_free(&d->comm);
    int finalize = d->finalize;
    nnf__dealloc(d, sizeof *d);
    if (finalize)
        MPI_Finalize();
}

int nnf_dist_rank(const nnf_dist *d)
{
    return d != NULL ? d->rank : 0;
}

int nnf_dist_size(const nnf_dist *d)
{
    return d != NULL ? d->size : 1;
}

nnf_status nnf_dist_set_timeout(nnf_dist *d, double seconds)
{
    NNF_PUBLIC("nnf_dist_set_timeout");
    NNF_RETURN_IF(d == NULL, NNF_ERR_NULL, "nnf_dist_set_timeout: d is NULL");
    NNF_RETURN_IF(!(seconds > 0), NNF_ERR_INVALID,
                  "nnf_dist_set_timeout: seconds must be > 0, got %g", seconds);
    d->timeout = seconds;
    return NNF_OK;
}

/* Rank `rank`'s block of `mbs` micro-batches: the first mbs % size ranks get one more. */
static void block_of(int rank, int size, int64_t mbs, int64_t *first, int64_t *count)
{
    int64_t base = mbs / size, extra = mbs % size;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra);
}

static nnf_status shard(const nnf_dist *d, int64_t batch_rows, int64_t *mb_first,
                        int64_t *mb_count, int64_t *first_row, int64_t *rows)
{
    NNF_RETURN_IF(batch_rows < 1, NNF_ERR_INVALID, "batch_rows must be >= 1, got %lld",
                  (long long)batch_rows);
    const int64_t M = NNF__MICRO_BATCH, mbs = batch_rows / M + (batch_rows % M != 0);
    NNF_RETURN_IF(mbs < d->size, NNF_ERR_INVALID,
                  "a batch of %lld rows has %lld micro-batches of %d rows, fewer than the "
                  "%d ranks: every rank needs one (use fewer ranks or larger batches)",
                  (long long)batch_rows, (long long)mbs, NNF__MICRO_BATCH, d->size);
    block_of(d->rank, d->size, mbs, mb_first, mb_count);
    int64_t end = (*mb_first + *mb_count) * M;
    *first_row = *mb_first * M;
    *rows = (end < batch_rows ? end : batch_rows) - *first_row;
    return NNF_OK;
}

nnf_status nnf_dist_shard(const nnf_dist *d, int64_t *first_row, int64_t *rows,
                          int64_t batch_rows)
{
    NNF_PUBLIC("nnf_dist_shard");
    NNF_RETURN_IF(d == NULL || first_row == NULL || rows == NULL, NNF_ERR_NULL,
                  "nnf_dist_shard: d, first_row and rows must not be NULL");
    int64_t mb_first = 0, mb_count = 0, f = 0, r = 0;
    NNF_FORWARD(shard(d, batch_rows, &mb_first, &mb_count, &f, &r));
    *first_row = f;
    *rows = r;
    return NNF_OK;
}

/* ---- The trainer ---- */

static size_t param_floats(const nnf_model *model)
{
    size_t n = 0;
    for (int p = 0; p < nnf_model_num_parameters(model); p++)
        n += (size_t)nnf_tensor_numel(nnf_model_parameters(model)[p]);
    return n;
}

/* Every layer with parameters is a Lin or a Conv2d: their gradients follow the rule. */
static nnf_status check_layers(nnf_model *model)
{
    for (int i = 0; i < nnf_model_num_layers(model); i++) {
        const nnf_layer *l = nnf_model_layer(model, i);
        int has_params = l->fn->parameter != NULL &&
                         l->fn->parameter((nnf_layer *)l, 0) != NULL;
        NNF_RETURN_IF(has_params && l->fn != &nnf__lin_fn && l->fn != &nnf__conv2d_fn,
                      NNF_ERR_INVALID,
                      "layer %d (%s) has parameters, and only Lin's and Conv2d's gradients "
                      "follow the micro-batch rule (a layer of your own sums over the batch "
                      "in its own order)", i, l->fn->name);
    }
    return NNF_OK;
}

/* Parameters to or from one flat buffer, in model order. */
static void flatten(const nnf_model *model, float *flat, int out)
{
    for (int p = 0; p < nnf_model_num_parameters(model); p++) {
        nnf_tensor *t = nnf_model_parameters(model)[p];
        size_t n = (size_t)nnf_tensor_numel(t);
        if (out)
            memcpy(flat, nnf_tensor_const_data(t), n * sizeof *flat);
        else
            memcpy(nnf_tensor_data(t), flat, n * sizeof *flat);
        flat += n;
    }
}

static size_t request_count(const nnf_dist_trainer *t)
{
    return 2 * ((size_t)t->nslices + 1);
}

/* The parameter as a matrix of `rows` x `cols` (nnf__deferred_grad's view). */
static void matrix_of(const nnf_tensor *p, size_t *rows, size_t *cols)
{
    size_t n = (size_t)nnf_tensor_numel(p);
    *rows = nnf_tensor_ndim(p) >= 2 && n > 0 ? (size_t)nnf_tensor_size(p, 0) : 1;
    *cols = n / *rows;
}

/* Cuts the flat buffer into pieces and slices of about equal size, at most SLICE floats
 * unless one row or group of columns is larger: fills t->pieces and t->slice_first when
 * they are not NULL, and counts them (run once to count, once to fill). Returns the
 * largest slice's floats. Column blocks are whole groups of COLUMNS columns (but the
 * last): Lin's products on a block run as tiles of 64 columns on AVX-512, and
 * 199-column blocks took 6-8% longer than 64, 192 or 256 (1.69 against 1.56-1.59 ms,
 * bench_dist's weight at 512 rows, thread CPU time). */
enum { COLUMNS = 64 };

static size_t cut_slices(nnf_dist_trainer *t)
{
    size_t size = 0, at = 0, largest = 0, target = 0;
    int np = 0, ns = 0;
    for (int p = 0; p < nnf_model_num_parameters(t->model); p++) {
        size_t rows, cols, n = (size_t)nnf_tensor_numel(nnf_model_parameters(t->model)[p]);
        matrix_of(nnf_model_parameters(t->model)[p], &rows, &cols);
        const int whole = n <= SLICE - size, by_cols = !whole && cols > rows;
        const size_t unit = whole ? n : by_cols ? rows : cols;      /* floats */
        const size_t units = whole ? (n > 0) : by_cols ? cols : rows;
        const size_t group = by_cols ? COLUMNS : 1;                 /* units */
        for (size_t done = 0; done < units;) {
            size_t least = (units - done < group ? units - done : group) * unit;
            if (size > 0 && size + least > SLICE)
                size = 0;
            if (size == 0) {
                size_t rest = t->nflat - at, k = (rest + SLICE - 1) / SLICE;
                target = (rest + k - 1) / k;
                if (t->slice_first != NULL)
                    t->slice_first[ns] = np;
                ns++;
            }
            size_t take = (target - size + unit - 1) / unit;        /* size < target */
            take = (take + group - 1) / group * group;
            size_t room = (SLICE - size) / unit / group * group;
            take = take < room ? take : room > 0 ? room : group;
            take = take < units - done ? take : units - done;
            if (t->pieces != NULL)
                t->pieces[np] = (piece){p, at, cols,
                                        whole     ? (nnf__block){0, rows, 0, cols}
                                        : by_cols ? (nnf__block){0, rows, done, take}
                                                  : (nnf__block){done, take, 0, cols}};
            np++;
            at += take * unit;
            size += take * unit;
            done += take;
            largest = size > largest ? size : largest;
            if (size >= target)
                size = 0;
        }
    }
    if (t->slice_first != NULL)
        t->slice_first[ns] = np;
    t->npieces = np;
    t->nslices = ns;
    return largest;
}

/* Floats [lo, lo + n) of slice s in the flat buffer. */
static void slice_range(const nnf_dist_trainer *t, int s, size_t *lo, size_t *n)
{
    *lo = t->pieces[t->slice_first[s]].at;
    *n = (s + 1 < t->nslices ? t->pieces[t->slice_first[s + 1]].at : t->nflat) - *lo;
}

void nnf_dist_trainer_free(nnf_dist_trainer *t)
{
    if (t == NULL)
        return;
    const size_t np = (size_t)(nnf_model_num_parameters(t->model) > 0
                                   ? nnf_model_num_parameters(t->model) : 1);
    nnf__dealloc(t->loss_parts, (size_t)t->cap * sizeof(double));
    nnf__dealloc(t->sum, t->nflat * sizeof(float));
    nnf__dealloc(t->later, np * sizeof(nnf__deferred_grad));
    nnf__dealloc(t->pieces, ((size_t)t->npieces + 1) * sizeof(piece));
    nnf__dealloc(t->slice_first, ((size_t)t->nslices + 1) * sizeof(int));
    if (t->reqs != NULL)
        nnf__dealloc(t->reqs, request_count(t) * sizeof(MPI_Request));
    nnf_tensor_free(t->xs);
    nnf_tensor_free(t->ys);
    nnf__dealloc(t, sizeof *t);
}

static nnf_status trainer_make(nnf_dist_trainer **out, nnf_dist *d, nnf_model *model,
                               nnf_sgd *opt)
{
    NNF_RETURN_IF(nnf__model_loss(model) == NULL, NNF_ERR_STATE,
                  "the model has no loss to train with");
    NNF_FORWARD(check_layers(model));
    for (int p = 0; p < nnf_model_num_parameters(model); p++)
        NNF_RETURN_IF(!nnf_tensor_is_contiguous(nnf_model_parameters(model)[p]),
                      NNF_ERR_STRIDE, "parameter %d is not contiguous", p);
    nnf_dist_trainer *t = nnf__calloc(sizeof *t);
    NNF_RETURN_IF(t == NULL, NNF_ERR_NOMEM, "out of memory");
    t->d = d;
    t->model = model;
    t->opt = opt;
    t->loss = nnf__model_loss(model);
    const int np = nnf_model_num_parameters(model);
    t->nflat = param_floats(model);
    const size_t largest = cut_slices(t);
    t->sum = nnf__alloc((t->nflat > 0 ? t->nflat : 1) * sizeof(float));
    t->later = nnf__alloc((size_t)(np > 0 ? np : 1) * sizeof(nnf__deferred_grad));
    t->pieces = nnf__alloc(((size_t)t->npieces + 1) * sizeof(piece));
    t->slice_first = nnf__alloc(((size_t)t->nslices + 1) * sizeof(int));
    t->reqs = nnf__alloc(request_count(t) * sizeof(MPI_Request));
    if (t->sum == NULL || t->later == NULL || t->pieces == NULL || t->slice_first == NULL ||
        t->reqs == NULL) {
        nnf_dist_trainer_free(t);
        return nnf__fail(NNF_ERR_NOMEM, "out of memory for %zu parameters", t->nflat);
    }
    cut_slices(t);
    if (largest > INT_MAX) {
        nnf_dist_trainer_free(t);
        return nnf__fail(NNF_ERR_OVERFLOW, "a parameter's column or row of %zu floats is too "
                         "large for one message", largest);
    }
    *out = t;
    return NNF_OK;
}

nnf_status nnf_dist_trainer_new(nnf_dist_trainer **out, nnf_dist *d, nnf_model *model,
                                nnf_sgd *opt)
{
    NNF_PUBLIC("nnf_dist_trainer_new");
    NNF_RETURN_IF(out == NULL || d == NULL || model == NULL || opt == NULL, NNF_ERR_NULL,
                  "nnf_dist_trainer_new: out, d, model and opt must not be NULL");
    NNF_RETURN_IF(d->broken, NNF_ERR_STATE,
                  "nnf_dist_trainer_new: an earlier timeout left this nnf_dist unusable");
    nnf_dist_trainer *t = NULL;
    nnf_status st = trainer_make(&t, d, model, opt);
    st = agree(d, st, st == NNF_OK ? (int64_t)t->nflat : -1, "the parameter count",
               "nnf_dist_trainer_new");
    if (st == NNF_OK && t->nflat > 0) {
        /* rank 0's parameters to every rank, in slices small enough for an int count */
        if (d->rank == 0)
            flatten(model, t->sum, 1);
        for (size_t s = 0; st == NNF_OK && s < t->nflat; s += SLICE) {
            int n = (int)(t->nflat - s < SLICE ? t->nflat - s : SLICE);
            MPI_Request req;
            st = mpi_check(MPI_Ibcast(t->sum + s, n, MPI_FLOAT, 0, d->comm, &req),
                           "MPI_Ibcast");
            if (st == NNF_OK)
                st = wait_for(d, &req, "rank 0's parameters", 0);
        }
        if (st == NNF_OK)
            flatten(model, t->sum, 0);
    }
    if (st != NNF_OK) {
        nnf_dist_trainer_free(t);
        return st;
    }
    *out = t;
    return NNF_OK;
}

nnf_status nnf_dist_trainer_get_batch(nnf_dist_trainer *t, nnf_tensor **xb, nnf_tensor **yb,
                                      int64_t *batch_rows, nnf_loader *loader, int64_t i)
{
    NNF_PUBLIC("nnf_dist_trainer_get_batch");
    NNF_RETURN_IF(t == NULL || xb == NULL || yb == NULL || batch_rows == NULL ||
                  loader == NULL, NNF_ERR_NULL,
                  "nnf_dist_trainer_get_batch: t, xb, yb, batch_rows and loader must not be "
                  "NULL");
    nnf_tensor *gx = NULL, *gy = NULL, *xs = NULL, *ys = NULL;
    NNF_FORWARD(nnf_loader_get_batch(loader, &gx, &gy, i));
    NNF_RETURN_IF(gy == NULL, NNF_ERR_STATE,
                  "nnf_dist_trainer_get_batch: the loader has no targets");
    int64_t rows = nnf_tensor_size(gx, 0), mb_first = 0, mb_count = 0, first = 0, mine = 0;
    NNF_FORWARD(shard(t->d, rows, &mb_first, &mb_count, &first, &mine));
    nnf_status st = nnf_narrow(&xs, gx, 0, first, mine);
    if (st == NNF_OK)
        st = nnf_narrow(&ys, gy, 0, first, mine);
    if (st != NNF_OK) {
        nnf_tensor_free(xs);
        return st;
    }
    nnf_tensor_free(t->xs);
    nnf_tensor_free(t->ys);
    t->xs = *xb = xs;
    t->ys = *yb = ys;
    *batch_rows = rows;
    return NNF_OK;
}

/* Room for `mbs` micro-batches' loss sums. */
static nnf_status reserve(nnf_dist_trainer *t, int64_t mbs)
{
    if (mbs <= t->cap)
        return NNF_OK;
    double *l = nnf__alloc((size_t)mbs * sizeof *l);
    NNF_RETURN_IF(l == NULL, NNF_ERR_NOMEM, "out of memory for %lld micro-batches' loss sums",
                  (long long)mbs);
    nnf__dealloc(t->loss_parts, (size_t)t->cap * sizeof(double));
    t->loss_parts = l;
    t->cap = mbs;
    return NNF_OK;
}

static nnf_status local_phase(nnf_dist_trainer *t, int64_t *terms_per_row, nnf_tensor *x,
                              const nnf_tensor *targ, int64_t batch_rows)
{
    NNF_RETURN_IF(x == NULL || targ == NULL, NNF_ERR_NULL, "x and targ must not be NULL");
    int64_t mb_first = 0, mb_count = 0, first = 0, rows = 0;
    NNF_FORWARD(shard(t->d, batch_rows, &mb_first, &mb_count, &first, &rows));
    NNF_RETURN_IF(nnf_tensor_ndim(x) < 1 || nnf_tensor_size(x, 0) != rows ||
                  nnf_tensor_ndim(targ) < 1 || nnf_tensor_size(targ, 0) != rows,
                  NNF_ERR_SHAPE, "x and targ must hold this rank's %lld rows (rows %lld.. of "
                  "a batch of %lld), got %lld and %lld", (long long)rows, (long long)first,
                  (long long)batch_rows,
                  (long long)(nnf_tensor_ndim(x) < 1 ? 0 : nnf_tensor_size(x, 0)),
                  (long long)(nnf_tensor_ndim(targ) < 1 ? 0 : nnf_tensor_size(targ, 0)));
    NNF_FORWARD(reserve(t, mb_count));
    /* One forward and one backward over the shard; the loss leaves each micro-batch's
     * sum apart, the layers their parameters' gradients for the fold. */
    const int np = nnf_model_num_parameters(t->model);
    for (int p = 0; p < np; p++)
        t->later[p] = (nnf__deferred_grad){0};
    const nnf__deferred_grads later = {np, nnf_model_parameters(t->model), t->later};
    float value;
    t->loss->mean_rows = batch_rows;
    t->loss->parts = t->loss_parts;
    nnf_status st = nnf_model_call(t->model, &value, x, targ);
    if (st == NNF_OK) {
        nnf__deferred_grads_set(&later);
        st = nnf_model_backward(t->model);
        nnf__deferred_grads_set(NULL);
    }
    t->loss->mean_rows = 0;
    t->loss->parts = NULL;
    *terms_per_row = t->loss->count / rows;
    t->mb_first = mb_first;
    t->mb_count = mb_count;
    /* check_layers let only Lin and Conv2d in, whose backward defers every gradient */
    for (int p = 0; st == NNF_OK && p < np; p++)
        assert(t->later[p].add != NULL);
    return st;
}

/* Adds this rank's micro-batches' gradients to slice s of the running sum. */
static nnf_status add_slice(nnf_dist_trainer *t, int s)
{
    for (int i = t->slice_first[s]; i < t->slice_first[s + 1]; i++) {
        const piece *q = &t->pieces[i];
        const nnf__deferred_grad *g = &t->later[q->param];
        NNF_FORWARD(g->add(g->ctx, t->sum + q->at, q->blk));
    }
    return NNF_OK;
}

/* One pass along the chain: the slices of t->sum and then the header come from rank
 * `from` with tag `in` (-1: this rank starts, with *h as it is, and with `own` from a
 * zero sum), and go on to rank `to` with tag `out` (-1: this rank ends). With `own` (the reduce pass) this rank, if it
 * has not failed, adds its products to each slice, then joins its status to the header
 * and adds its loss while no rank has failed. Every receive is posted first and every
 * send stays in flight until the end, so a rank that gets the CPU once takes in and
 * passes on the whole gradient: on a loaded machine each hand-off waits for the peer to
 * be scheduled. */
static nnf_status pass(nnf_dist_trainer *t, int from, int in, int to, int out,
                       const header *own, header *h, const char *what)
{
    nnf_dist *d = t->d;
    const int slices = t->nslices;
    MPI_Request *rr = t->reqs, *sr = t->reqs + slices + 1;
    int ns = 0;
    nnf_status st = NNF_OK;
    if (from >= 0) {
        st = mpi_check(MPI_Irecv(h, (int)sizeof *h, MPI_BYTE, from, in + 1, d->comm,
                                 &rr[slices]), "MPI_Irecv");
        for (int s = 0; s < slices && st == NNF_OK; s++) {
            size_t lo, n;
            slice_range(t, s, &lo, &n);
            st = mpi_check(MPI_Irecv(t->sum + lo, (int)n, MPI_FLOAT, from, in, d->comm,
                                     &rr[s]), "MPI_Irecv");
        }
    }
    header mine = own != NULL ? *own : (header){.bad_rank = d->size};
    for (int s = 0; s < slices && st == NNF_OK; s++) {
        size_t lo, n;
        slice_range(t, s, &lo, &n);
        if (from >= 0)
            st = wait_for(d, &rr[s], what, from);
        else if (own != NULL)
            memset(t->sum + lo, 0, n * sizeof *t->sum);
        if (st == NNF_OK && own != NULL && mine.bad_rank == d->size) {
            nnf_status fs = add_slice(t, s);
            if (fs != NNF_OK) {
                mine.bad_rank = d->rank;
                describe(&mine.f, fs, "nnf_dist_trainer_step");
            }
        }
        if (st == NNF_OK && to >= 0)
            st = mpi_check(MPI_Isend(t->sum + lo, (int)n, MPI_FLOAT, to, out, d->comm,
                                     &sr[ns++]), "MPI_Isend");
    }
    if (st == NNF_OK && from >= 0)
        st = wait_for(d, &rr[slices], what, from);
    if (own != NULL) {
        if (h->bad_rank == d->size && mine.bad_rank < d->size) {
            h->bad_rank = mine.bad_rank;
            h->f = mine.f;
        }
        h->lo = own->lo < h->lo ? own->lo : h->lo;
        h->hi = own->hi > h->hi ? own->hi : h->hi;
        for (int64_t i = 0; h->bad_rank == d->size && i < t->mb_count; i++)
            h->loss += t->loss_parts[i];
    }
    if (st == NNF_OK && to >= 0)
        st = mpi_check(MPI_Isend(h, (int)sizeof *h, MPI_BYTE, to, out + 1, d->comm,
                                 &sr[ns++]), "MPI_Isend");
    for (int i = 0; st == NNF_OK && i < ns; i++)
        st = wait_for(d, &sr[i], what, to);
    return st;
}

/* The fold along the chain 0 -> 1 -> ... -> last, then the result back along
 * last -> 0 -> 1 -> ... -> last - 1; *h ends as the last rank made it, on every rank.
 * The last rank sends each slice back as soon as it has added to it, so its transfer
 * overlaps the next slice's products. */
static nnf_status fold(nnf_dist_trainer *t, const header *own, header *h)
{
    nnf_dist *d = t->d;
    const int r = d->rank, last = d->size - 1;
    *h = (header){.bad_rank = d->size, .lo = own->lo, .hi = own->hi, .loss = 0.0};
    if (r == last)
        return pass(t, r > 0 ? r - 1 : -1, TAG_REDUCE, r > 0 ? 0 : -1, TAG_RESULT, own, h,
                    "running gradient sum");
    NNF_FORWARD(pass(t, r > 0 ? r - 1 : -1, TAG_REDUCE, r + 1, TAG_REDUCE, own, h,
                     "running gradient sum"));
    return pass(t, r == 0 ? last : r - 1, TAG_RESULT, r == last - 1 ? -1 : r + 1, TAG_RESULT,
                NULL, h, "gradient");
}

nnf_status nnf_dist_trainer_step(nnf_dist_trainer *t, float *loss, nnf_tensor *x,
                                 const nnf_tensor *targ, int64_t batch_rows)
{
    NNF_PUBLIC("nnf_dist_trainer_step");
    NNF_RETURN_IF(t == NULL || loss == NULL, NNF_ERR_NULL,
                  "nnf_dist_trainer_step: t and loss must not be NULL");
    NNF_RETURN_IF(t->d->broken, NNF_ERR_STATE,
                  "nnf_dist_trainer_step: an earlier timeout left this nnf_dist unusable");
    int64_t per_row = 0;
    nnf_status st = local_phase(t, &per_row, x, targ, batch_rows);
    header own = {.bad_rank = st == NNF_OK ? t->d->size : t->d->rank, .lo = batch_rows,
                  .hi = batch_rows}, h;
    if (st != NNF_OK)
        describe(&own.f, st, "nnf_dist_trainer_step");
    NNF_FORWARD(fold(t, &own, &h));
    NNF_RETURN_IF(h.bad_rank < t->d->size, (nnf_status)h.f.code, "rank %d: %.*s",
                  (int)h.bad_rank, (int)sizeof h.f.message, h.f.message);
    NNF_RETURN_IF(h.lo != h.hi, NNF_ERR_INVALID,
                  "the ranks disagree on batch_rows: from %lld to %lld", (long long)h.lo,
                  (long long)h.hi);
    const double lsum = h.loss;
    for (int i = 0; i < t->npieces; i++) {
        const piece *q = &t->pieces[i];
        nnf_tensor *g = NULL;
        NNF_FORWARD(nnf_tensor_grad_get(nnf_model_parameters(t->model)[q->param], &g));
        float *to = (float *)nnf_tensor_data(g) + q->blk.row * q->ld + q->blk.col;
        for (size_t r = 0; r < q->blk.rows; r++)
            memcpy(to + r * q->ld, t->sum + q->at + r * q->blk.cols,
                   q->blk.cols * sizeof *t->sum);
    }
    NNF_FORWARD(nnf_sgd_step(t->opt));
    *loss = nnf__loss_mean(lsum, per_row * batch_rows);
    return NNF_OK;
}

const nnf_tensor *nnf_dist_trainer_output(const nnf_dist_trainer *t)
{
    if (t == NULL || nnf_model_num_layers(t->model) == 0)
        return NULL;
    return nnf_layer_output(nnf_model_layer(t->model, nnf_model_num_layers(t->model) - 1));
}

nnf_status nnf_dist_sum(nnf_dist *d, int64_t *values, int n)
{
    NNF_PUBLIC("nnf_dist_sum");
    NNF_RETURN_IF(d == NULL || (values == NULL && n > 0), NNF_ERR_NULL,
                  "nnf_dist_sum: d and values must not be NULL");
    NNF_RETURN_IF(n < 0, NNF_ERR_INVALID, "nnf_dist_sum: n must be >= 0, got %d", n);
    NNF_RETURN_IF(d->broken, NNF_ERR_STATE,
                  "nnf_dist_sum: an earlier timeout left this nnf_dist unusable");
    MPI_Request req;
    NNF_FORWARD(mpi_check(MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_SUM,
                                         d->comm, &req), "MPI_Iallreduce"));
    return wait_for(d, &req, "the sum", -1);
}

void nnf_dist_trainer_micro_batches(const nnf_dist_trainer *t, int64_t *first, int64_t *count)
{
    *first = t != NULL ? t->mb_first : 0;
    *count = t != NULL ? t->mb_count : 0;
}
