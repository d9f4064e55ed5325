/* nnf/status.h — how every nnf call reports success or failure.
 *
 * Every public function that can fail returns an nnf_status. NNF_OK is 0, so
 *
 *     if (nnf_add(&c, a, b) != NNF_OK) fprintf(stderr, "%s\n", nnf_last_error());
 *
 * is the whole error-handling idiom (and ignoring a returned status is a compiler warning:
 * NNF_NODISCARD in nnf/export.h). On failure nothing the caller owns has been
 * changed and nothing has leaked; nnf never aborts or exits the process.
 */
#ifndef NNF_STATUS_H
#define NNF_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NNF_OK = 0,
    NNF_ERR_NULL,          /* a required pointer argument was NULL */
    NNF_ERR_INVALID,       /* an argument's value is not allowed (bad flag, step 0, ...) */
    NNF_ERR_SHAPE,         /* shapes do not match or cannot be broadcast */
    NNF_ERR_INDEX,         /* a dim or an index is out of range */
    NNF_ERR_STRIDE,        /* strides or a leading dimension do not fit the shape */
    NNF_ERR_OVERFLOW,      /* a size computation would overflow */
    NNF_ERR_NOMEM,         /* memory allocation failed */
    NNF_ERR_DTYPE,         /* the tensor's element type is not the one the op needs */
    NNF_ERR_UNSUPPORTED,   /* e.g. forcing an ISA this CPU or OS cannot run */
    NNF_ERR_PARSE,         /* a malformed einsum spec or file */
    NNF_ERR_IO,            /* a file could not be opened or read */
    NNF_ERR_STATE          /* a call out of order, e.g. backward before forward */
} nnf_status;

/* A short constant name for a status code ("NNF_ERR_SHAPE"); never NULL. */
NNF_API const char *nnf_status_str(nnf_status status);

/* The detailed message of the last failing nnf call on this thread, starting with the
 * name of the function called: "nnf_add: The size of tensor a (2) must match the size of
 * tensor b (3) at non-singleton dimension 1". Valid until the next failing call or
 * nnf_clear_error on the same thread; successful calls leave it alone. "" before any
 * failure. Never NULL; do not free. */
NNF_API const char *nnf_last_error(void);

/* Empties this thread's message (nnf_last_error() returns "" until the next failure), so
 * that a later check of the message cannot see a failure that was already handled. */
NNF_API void nnf_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
