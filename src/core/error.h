/* Internal error helpers: keep every error path one line long (zstd's RETURN_ERROR_IF).
 *
 *     NNF_RETURN_IF(a == NULL, NNF_ERR_NULL, "nnf_add: argument a is NULL");
 *     NNF_FORWARD(nnf_empty(&t, ndim, shape));
 *
 * Every message starts with the name of the public function called ("nnf_add: ..."):
 * NNF_PUBLIC below puts it there.
 */
#ifndef NNF_CORE_ERROR_H
#define NNF_CORE_ERROR_H

#include <stddef.h>

#include "nnf/status.h"

/* Records a printf-style message as this thread's nnf_last_error() and returns code. */
nnf_status nnf__fail(nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first statement of every public function that returns an nnf_status:
 *
 *     NNF_PUBLIC("nnf_view");
 *
 * Until that function returns, every message recorded on this thread starts with
 * "nnf_view: " (unless it already does). A public function called inside another keeps the
 * outer name, so the message names the function the caller called: "nnf_full: nnf_fill:
 * 1.5 is not an int64 value". Errors are recorded on the calling thread only. */
typedef struct { const char **slot; } nnf__public_scope;   /* NULL: not the outermost call */
nnf__public_scope nnf__public_enter(const char *fn);
/* Inline, and through the slot enter found: one thread-local lookup per public call. */
static inline void nnf__public_leave(const nnf__public_scope *scope)
{
    if (scope->slot != NULL)
        *scope->slot = NULL;
}
#define NNF_PUBLIC(fn)                                   \
    __attribute__((cleanup(nnf__public_leave), unused)) \
    const nnf__public_scope nnf_public_ = nnf__public_enter(fn)

/* Re-records this thread's message as "<fn>: <context><message>", where <fn> is the public
 * function called, e.g. "nnf_model_call: layer 2: " before a layer's own message. */
nnf_status nnf__fail_context(nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define NNF_RETURN_IF(cond, code, ...) \
    do { if (cond) return nnf__fail((code), __VA_ARGS__); } while (0)

#define NNF_FORWARD(expr) \
    do { nnf_status nnf_s_ = (expr); if (nnf_s_ != NNF_OK) return nnf_s_; } while (0)

#endif
