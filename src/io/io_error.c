/* Error messages that say which function, file and member failed (io_error.h). */
#include "src/io/io_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "src/core/error.h"

/* Longer names are cut: 64 bytes show any state_dict key of a sensible model whole, and
 * keep room in nnf_last_error's 512 bytes for the path and the message. */
#define MEMBER_SHOWN 64

void nnf__io_init(nnf__io_ctx *ctx, const char *fn, const char *file)
{
    ctx->fn = fn;
    ctx->file = file;
    ctx->member[0] = '\0';
}

void nnf__io_set_member(nnf__io_ctx *ctx, const char *name, size_t len)
{
    size_t n = 0;
    for (; name != NULL && n < len && n < MEMBER_SHOWN; n++) {
        unsigned char c = (unsigned char)name[n];
        ctx->member[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (name != NULL && len > MEMBER_SHOWN) {
        memcpy(ctx->member + n, "...", 3);
        n += 3;
    }
    ctx->member[n] = '\0';
}

static nnf_status fail_with(const nnf__io_ctx *ctx, nnf_status code, const char *message)
{
    if (ctx->member[0] != '\0')
        return nnf__fail(code, "%s: %s: member '%s': %s", ctx->fn, ctx->file, ctx->member,
                         message);
    return nnf__fail(code, "%s: %s: %s", ctx->fn, ctx->file, message);
}

nnf_status nnf__io_fail(const nnf__io_ctx *ctx, nnf_status code, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return fail_with(ctx, code, message);
}

nnf_status nnf__io_wrap(const nnf__io_ctx *ctx, nnf_status code)
{
    /* nnf_last_error() is the buffer nnf__fail writes: copy it out first. */
    char inner[400];
    snprintf(inner, sizeof inner, "%s", nnf_last_error());
    return fail_with(ctx, code, inner);
}
