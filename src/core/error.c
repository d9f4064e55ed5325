/* Errors are values: the status code says what kind, this thread's message says which
 * sizes and dims. */
#include "src/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 512 bytes holds the longest message nnf writes (an 8-d shape printed twice is ~400). */
static _Thread_local char last_error[512];

/* The public function running on this thread (its outermost one), NULL outside nnf. */
static _Thread_local const char *public_fn;

nnf__public_scope nnf__public_enter(const char *fn)
{
    const char **slot = &public_fn;
    if (*slot != NULL)
        return (nnf__public_scope){NULL};
    *slot = fn;
    return (nnf__public_scope){slot};
}

/* Length of the "<public_fn>: " that msg starts with, 0 if it does not. */
static size_t public_prefix_len(const char *msg)
{
    if (public_fn == NULL)
        return 0;
    size_t n = strlen(public_fn);
    return strncmp(msg, public_fn, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? n + 2 : 0;
}

/* Appends s to last_error, which holds *len bytes, cutting it at the buffer's end. */
static void append(size_t *len, const char *s)
{
    size_t n = strlen(s), room = sizeof last_error - 1 - *len;
    n = n < room ? n : room;
    memcpy(last_error + *len, s, n);
    *len += n;
    last_error[*len] = '\0';
}

/* last_error = "<public_fn>: " context msg, without a second copy of the prefix if msg
 * already starts with it. msg may be last_error itself. */
static void record(const char *context, const char *msg)
{
    char inner[sizeof last_error];
    size_t skip = public_prefix_len(msg), len = 0;
    memcpy(inner, msg + skip, strlen(msg + skip) + 1);
    if (public_fn != NULL) {
        append(&len, public_fn);
        append(&len, ": ");
    }
    append(&len, context);
    append(&len, inner);
}

nnf_status nnf__fail(nnf_status code, const char *fmt, ...)
{
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    record("", msg);
    return code;
}

nnf_status nnf__fail_context(nnf_status code, const char *fmt, ...)
{
    char context[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    record(context, last_error);
    return code;
}

const char *nnf_last_error(void)
{
    return last_error;
}

void nnf_clear_error(void)
{
    last_error[0] = '\0';
}

const char *nnf_status_str(nnf_status status)
{
    switch (status) {
    case NNF_OK: return "NNF_OK";
    case NNF_ERR_NULL: return "NNF_ERR_NULL";
    case NNF_ERR_INVALID: return "NNF_ERR_INVALID";
    case NNF_ERR_SHAPE: return "NNF_ERR_SHAPE";
    case NNF_ERR_INDEX: return "NNF_ERR_INDEX";
    case NNF_ERR_STRIDE: return "NNF_ERR_STRIDE";
    case NNF_ERR_OVERFLOW: return "NNF_ERR_OVERFLOW";
    case NNF_ERR_NOMEM: return "NNF_ERR_NOMEM";
    case NNF_ERR_DTYPE: return "NNF_ERR_DTYPE";
    case NNF_ERR_UNSUPPORTED: return "NNF_ERR_UNSUPPORTED";
    case NNF_ERR_PARSE: return "NNF_ERR_PARSE";
    case NNF_ERR_IO: return "NNF_ERR_IO";
    case NNF_ERR_STATE: return "NNF_ERR_STATE";
    }
    return "NNF_ERR_UNKNOWN";
}
