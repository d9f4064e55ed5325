/* Softmax cross-entropy, forward beside backward (F.cross_entropy with class labels).
 *
 *     forward:   loss     = mean_i (logsumexp(x_i) - x_i[t_i])
 *                logsumexp(x_i) = m_i + log(sum_j exp(x_ij - m_i)),  m_i = max_j x_ij
 *     backward:  x.g      = (softmax(x) - onehot(t)) / N    (N: the batch's rows)
 *
 * Subtracting the row maximum keeps exp from overflowing (logits of 100 would give
 * exp(100) = inf in float32); every exp is then <= 1 and the sum >= 1. The forward keeps
 * exp(x - m) and its row sums, from which the backward's softmax is one division. */
#include "src/nn/nn_internal.h"

#include "src/core/error.h"

enum { ROW_MAX, SHIFTED, EXPS, ROW_SUM, LOG_SUM };

static nnf_status check(const nnf_tensor *logits, const nnf_tensor *targ)
{
    NNF_RETURN_IF(logits == NULL || targ == NULL, NNF_ERR_NULL,
                  "logits and targ must not be NULL");
    NNF_RETURN_IF(nnf_tensor_dtype(logits) != NNF_F32, NNF_ERR_DTYPE,
                  "logits must be a float32 tensor");
    NNF_RETURN_IF(nnf_tensor_dtype(targ) != NNF_I64, NNF_ERR_DTYPE,
                  "targ must be an int64 tensor of class indices");
    NNF_RETURN_IF(nnf_tensor_ndim(logits) != 2, NNF_ERR_SHAPE,
                  "logits must be 2-D (batch x classes), got a %d-D tensor",
                  nnf_tensor_ndim(logits));
    const int64_t n = nnf_tensor_shape(logits)[0], c = nnf_tensor_shape(logits)[1];
    NNF_RETURN_IF(nnf_tensor_ndim(targ) != 1 || nnf_tensor_shape(targ)[0] != n, NNF_ERR_SHAPE,
                  "targ must be 1-D with one label per row of logits (%lld), "
                  "got a %d-D tensor with %lld elements", (long long)n, nnf_tensor_ndim(targ),
                  (long long)nnf_tensor_numel(targ));
    NNF_RETURN_IF(c < 1, NNF_ERR_SHAPE, "logits have no classes");
    const int64_t *t = nnf_tensor_raw(targ), ts = nnf_tensor_strides(targ)[0];
    for (int64_t i = 0; i < n; i++)
        NNF_RETURN_IF(t[i * ts] < 0 || t[i * ts] >= c, NNF_ERR_INDEX,
                      "target %lld of row %lld is out of bounds for %lld "
                      "classes", (long long)t[i * ts], (long long)i, (long long)c);
    return NNF_OK;
}

static nnf_status ce_forward(nnf_tensor **s, const nnf_tensor *logits, const nnf_tensor *targ,
                             double *sum, int64_t *count, double *parts)
{
    NNF_FORWARD(check(logits, targ));
    const int64_t n = nnf_tensor_shape(logits)[0], c = nnf_tensor_shape(logits)[1];
    NNF_FORWARD(nnf__reuse(&s[ROW_MAX], NNF_F32, NNF_SHAPE(n, 1)));
    NNF_FORWARD(nnf__reuse(&s[SHIFTED], NNF_F32, NNF_SHAPE(n, c)));
    NNF_FORWARD(nnf__reuse(&s[EXPS], NNF_F32, NNF_SHAPE(n, c)));
    NNF_FORWARD(nnf__reuse(&s[ROW_SUM], NNF_F32, NNF_SHAPE(n, 1)));
    NNF_FORWARD(nnf__reuse(&s[LOG_SUM], NNF_F32, NNF_SHAPE(n, 1)));
    NNF_FORWARD(nnf_max(&s[ROW_MAX], logits, NNF_DIMS(1), 1));
    NNF_FORWARD(nnf_sub(&s[SHIFTED], logits, s[ROW_MAX]));
    NNF_FORWARD(nnf_exp(&s[EXPS], s[SHIFTED]));
    NNF_FORWARD(nnf_sum(&s[ROW_SUM], s[EXPS], NNF_DIMS(1), 1));
    NNF_FORWARD(nnf_log(&s[LOG_SUM], s[ROW_SUM]));
    /* N terms, one per row, in double by the micro-batch rule: the same bits everywhere
     * and for any split of the batch, and no rounding worth a second thought before the
     * final cast. */
    const float *shifted = nnf_tensor_data(s[SHIFTED]), *lse = nnf_tensor_data(s[LOG_SUM]);
    const int64_t *t = nnf_tensor_raw(targ), ts = nnf_tensor_strides(targ)[0];
    double total = 0.0;
    for (int64_t r0 = 0; r0 < n; r0 += NNF__MICRO_BATCH) {
        int64_t r1 = n - r0 < NNF__MICRO_BATCH ? n : r0 + NNF__MICRO_BATCH;
        double part = 0.0;
        for (int64_t i = r0; i < r1; i++)
            part += (double)lse[i] - (double)shifted[i * c + t[i * ts]];
        if (parts != NULL)
            parts[r0 / NNF__MICRO_BATCH] = part;
        total += part;
    }
    *sum = total;
    *count = n;
    return NNF_OK;
}

static nnf_status ce_backward(nnf_tensor **s, const nnf_tensor *logits, const nnf_tensor *targ,
                              int64_t count, nnf_tensor *grad)
{
    const int64_t n = nnf_tensor_shape(logits)[0];
    NNF_FORWARD(nnf_div(&grad, s[EXPS], s[ROW_SUM]));
    float *g = nnf_tensor_data(grad);
    const int64_t *gs = nnf_tensor_strides(grad);
    const int64_t *t = nnf_tensor_raw(targ), ts = nnf_tensor_strides(targ)[0];
    for (int64_t i = 0; i < n; i++)
        g[i * gs[0] + t[i * ts] * gs[1]] -= 1.0f;
    return nnf_div_scalar(&grad, grad, (float)count);
}

const nnf__loss_fn nnf__cross_entropy_fn = {"CrossEntropy", ce_forward, ce_backward};

nnf_status nnf_cross_entropy(float *loss, const nnf_tensor *logits, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_cross_entropy");
    return nnf__loss_value(&nnf__cross_entropy_fn, logits, targ, loss);
}

nnf_status nnf_cross_entropy_backward(nnf_tensor *logits, const nnf_tensor *targ)
{
    NNF_PUBLIC("nnf_cross_entropy_backward");
    return nnf__loss_grad(&nnf__cross_entropy_fn, logits, targ);
}
