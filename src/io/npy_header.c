/* The .npy header (npy.h): parsing the dict literal numpy writes, and writing it.
 *
 * numpy reads the header with ast.literal_eval, so any Python literal would do; what
 * writers produce is the dict below, keys in any order. Accepted here: strings in single
 * or double quotes without escapes, True / False, tuples of decimal integers (one
 * element needs its trailing comma, as in Python), spaces, tabs and newlines between
 * tokens, and, in format 1.0 and 2.0 headers, the 'L' suffix Python 2 put on long
 * integers (numpy's own reader strips it for those versions). */
#include "src/io/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Shown of a header in an error message; numpy's headers are 118 bytes and longer only
 * for the padding. */
#define HEADER_SHOWN 100

typedef struct {
    const char *p, *end, *start;
    int allow_long;
    const nnf__io_ctx *ctx;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int next_is(cursor *c, char ch)
{
    skip_space(c);
    return c->p < c->end && *c->p == ch;
}

static int eat(cursor *c, char ch)
{
    if (!next_is(c, ch))
        return 0;
    c->p++;
    return 1;
}

/* "cannot parse its .npy header at byte 9 (expected ':'): {'descr' '<f4', ..." */
static nnf_status bad(const cursor *c, const char *what)
{
    char shown[HEADER_SHOWN + 4];
    size_t n = 0, len = (size_t)(c->end - c->start);
    for (; n < len && n < HEADER_SHOWN; n++) {
        unsigned char ch = (unsigned char)c->start[n];
        shown[n] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (len > HEADER_SHOWN) {
        memcpy(shown + n, "...", 3);
        n += 3;
    }
    shown[n] = '\0';
    return nnf__io_fail(c->ctx, NNF_ERR_PARSE,
                        "cannot parse its .npy header at byte %zu (%s): %s",
                        (size_t)(c->p - c->start), what, shown);
}

/* A quoted string: *s points at its first character, *len bytes long. */
static int parse_string(cursor *c, const char **s, size_t *len)
{
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char quote = *c->p;
    const char *q = c->p + 1;
    while (q < c->end && *q != quote && *q != '\\' && *q != '\n')
        q++;
    if (q == c->end || *q != quote)
        return 0;
    *s = c->p + 1;
    *len = (size_t)(q - *s);
    c->p = q + 1;
    return 1;
}

static int parse_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    skip_space(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    const char *after = c->p + n;
    if (after < c->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                           (*after >= '0' && *after <= '9') || *after == '_'))
        return 0;
    c->p = after;
    return 1;
}

static int same(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static nnf_status parse_descr(cursor *c, nnf__npy_header *h)
{
    if (next_is(c, '['))
        return nnf__io_fail(c->ctx, NNF_ERR_DTYPE,
                            "its dtype is a structured (record) dtype; nnf reads float32 "
                            "('<f4', '>f4') and float64 ('<f8', '>f8')");
    const char *s;
    size_t len;
    if (!parse_string(c, &s, &len))
        return bad(c, "expected the dtype as a string");
    int le4 = same(s, len, "<f4"), be4 = same(s, len, ">f4");
    int le8 = same(s, len, "<f8"), be8 = same(s, len, ">f8");
    if (!(le4 || be4 || le8 || be8)) {
        char shown[24];
        size_t n = 0;
        for (; n < len && n < 16; n++)
            shown[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
        shown[n] = '\0';
        return nnf__io_fail(c->ctx, NNF_ERR_DTYPE,
                            "its dtype '%s%s' is not supported; nnf reads float32 ('<f4', "
                            "'>f4') and float64 ('<f8', '>f8')", shown, len > 16 ? "..." : "");
    }
    h->itemsize = le4 || be4 ? 4 : 8;
    h->big_endian = be4 || be8;
    return NNF_OK;
}

static nnf_status parse_shape(cursor *c, nnf__npy_header *h)
{
    if (!eat(c, '('))
        return bad(c, "expected the shape as a tuple");
    int n = 0, trailing_comma = 0;
    while (!eat(c, ')')) {
        if (n > 0 && !trailing_comma)
            return bad(c, "expected ',' or ')' in the shape");
        skip_space(c);
        if (c->p == c->end || *c->p < '0' || *c->p > '9')
            return bad(c, "expected a non-negative integer in the shape");
        int64_t v = 0;
        for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
            int digit = *c->p - '0';
            if (v > (INT64_MAX - digit) / 10)
                return nnf__io_fail(c->ctx, NNF_ERR_OVERFLOW,
                                    "a size in its .npy header's shape does not fit in "
                                    "64 bits");
            v = v * 10 + digit;
        }
        if (c->allow_long && c->p < c->end && *c->p == 'L')
            c->p++;
        if (n == NNF_MAX_DIMS)
            return nnf__io_fail(c->ctx, NNF_ERR_UNSUPPORTED,
                                "its shape has more than %d dims, the most an nnf tensor has",
                                NNF_MAX_DIMS);
        h->shape[n++] = v;
        trailing_comma = eat(c, ',');
    }
    /* (3) is the integer 3 in Python, not a tuple */
    if (n == 1 && !trailing_comma)
        return bad(c, "a shape of one dim needs a trailing comma, as in (3,)");
    h->ndim = n;
    /* INT64_MAX / 8 also bounds the byte count of float64 data. */
    int64_t numel = 1;
    for (int d = 0; d < n; d++) {
        if (h->shape[d] != 0 && numel > INT64_MAX / 8 / h->shape[d]) {
            char s[200];
            nnf__format_shape(s, sizeof s, n, h->shape);
            return nnf__io_fail(c->ctx, NNF_ERR_OVERFLOW,
                                "its shape %s has more elements than a 64-bit byte count can "
                                "hold", s);
        }
        numel *= h->shape[d];
    }
    h->numel = numel;
    return NNF_OK;
}

nnf_status nnf__npy_parse_header(nnf__npy_header *h, const char *text, size_t len, int major,
                                 const nnf__io_ctx *ctx)
{
    cursor c = {text, text + len, text, major <= 2, ctx};
    nnf__npy_header r = {0};
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    if (!eat(&c, '{'))
        return bad(&c, "expected '{'");
    while (!eat(&c, '}')) {
        const char *key;
        size_t key_len;
        if (!parse_string(&c, &key, &key_len))
            return bad(&c, "expected a key in quotes or '}'");
        if (!eat(&c, ':'))
            return bad(&c, "expected ':'");
        int *seen = same(key, key_len, "descr") ? &seen_descr
                  : same(key, key_len, "fortran_order") ? &seen_order
                  : same(key, key_len, "shape") ? &seen_shape : NULL;
        if (seen == NULL)
            return bad(&c, "a key other than 'descr', 'fortran_order' and 'shape'");
        if (*seen)
            return bad(&c, "a key given twice");
        *seen = 1;
        nnf_status st = NNF_OK;
        if (seen == &seen_descr) {
            st = parse_descr(&c, &r);
        } else if (seen == &seen_shape) {
            st = parse_shape(&c, &r);
        } else if (parse_word(&c, "True")) {
            r.fortran_order = 1;
        } else if (!parse_word(&c, "False")) {
            return bad(&c, "fortran_order must be True or False");
        }
        if (st != NNF_OK)
            return st;
        if (!eat(&c, ',') && !next_is(&c, '}'))
            return bad(&c, "expected ',' or '}'");
    }
    skip_space(&c);
    if (c.p != c.end)
        return bad(&c, "bytes after the dict");
    if (!(seen_descr && seen_order && seen_shape))
        return bad(&c, "the dict must have 'descr', 'fortran_order' and 'shape'");
    *h = r;
    return NNF_OK;
}

void nnf__format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* numpy.lib.format: MAGIC_PREFIX, ARRAY_ALIGN 64 and GROWTH_AXIS_MAX_DIGITS 21 (spaces
 * after the dict so that the first dim can grow to 21 digits in place). */
#define ARRAY_ALIGN 64
#define GROWTH_AXIS_MAX_DIGITS 21
#define PREFIX_NBYTES 10

size_t nnf__npy_format_header(unsigned char *buf, int ndim, const int64_t *shape)
{
    char *text = (char *)buf + PREFIX_NBYTES;
    size_t cap = NNF__NPY_HEADER_MAX - PREFIX_NBYTES;
    size_t n = (size_t)snprintf(text, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d = 0; d < ndim; d++)
        n += (size_t)snprintf(text + n, cap - n, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    n += (size_t)snprintf(text + n, cap - n, ndim == 1 ? ",), }" : "), }");
    if (ndim > 0) {
        int digits = snprintf(NULL, 0, "%" PRId64, shape[0]);
        for (int i = digits; i < GROWTH_AXIS_MAX_DIGITS; i++)
            text[n++] = ' ';
    }
    /* numpy pads to the next multiple of 64, a whole 64 bytes if already aligned. */
    size_t pad = ARRAY_ALIGN - (PREFIX_NBYTES + n + 1) % ARRAY_ALIGN;
    memset(text + n, ' ', pad);
    n += pad;
    text[n++] = '\n';
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(n & 0xff);
    buf[9] = (unsigned char)(n >> 8);
    return PREFIX_NBYTES + n;
}
