/* Error messages of the weights reader and writer. Every message names the public
 * function, the file and, while one is being handled, the archive member:
 *
 *     nnf_model_load_npz: w.npz: member '0.weight.npy': CRC-32 is 0x1c291ca3, the
 *     central directory says 0x8f3ed2a4 (the data is corrupt)
 *
 * Member names come from the file, so they are shown with anything unprintable replaced
 * by '?' and cut at 64 bytes: a hostile name cannot garble the message. */
#ifndef NNF_IO_ERROR_H
#define NNF_IO_ERROR_H

#include <stddef.h>

#include "nnf/status.h"

typedef struct {
    const char *fn;      /* the public function, e.g. "nnf_npz_load" */
    const char *file;    /* as the caller named it */
    char member[72];     /* "" outside a member; set with nnf__io_set_member */
} nnf__io_ctx;

void nnf__io_init(nnf__io_ctx *ctx, const char *fn, const char *file);
/* The member being read or written from now on (len bytes, not NUL-terminated); NULL: none. */
void nnf__io_set_member(nnf__io_ctx *ctx, const char *name, size_t len);

/* Records "<fn>: <file>: [member '<m>': ]<message>" and returns code. */
nnf_status nnf__io_fail(const nnf__io_ctx *ctx, nnf_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same prefix in front of the message of a failed nnf call (nnf_empty, ...). */
nnf_status nnf__io_wrap(const nnf__io_ctx *ctx, nnf_status code);

#endif
