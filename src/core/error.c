/* Errors are values: the status code says what kind, this thread's message says which
 * sizes and dims. */
#include "src/core/error.h"

#include <stdarg.h>
#include <stdio.h>

/* 512 bytes holds the longest message nnf writes (an 8-d shape printed twice is ~400). */
static _Thread_local char last_error[512];

nnf_status nnf__fail(nnf_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

const char *nnf_last_error(void)
{
    return last_error;
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
