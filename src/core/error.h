/* Internal error helpers: keep every error path one line long (zstd's RETURN_ERROR_IF).
 *
 *     NNF_RETURN_IF(a == NULL, NNF_ERR_NULL, "nnf_add: argument a is NULL");
 *     NNF_FORWARD(nnf_empty(&t, ndim, shape));
 */
#ifndef NNF_CORE_ERROR_H
#define NNF_CORE_ERROR_H

#include "nnf/status.h"

/* Records a printf-style message as this thread's nnf_last_error() and returns code. */
nnf_status nnf__fail(nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define NNF_RETURN_IF(cond, code, ...) \
    do { if (cond) return nnf__fail((code), __VA_ARGS__); } while (0)

#define NNF_FORWARD(expr) \
    do { nnf_status nnf_s_ = (expr); if (nnf_s_ != NNF_OK) return nnf_s_; } while (0)

#endif
