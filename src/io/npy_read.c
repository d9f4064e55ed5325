/* One .npy member of an archive, read into a float32 tensor (npy.h).
 *
 * The member's bytes stream through a 16 KiB buffer and are converted straight into the
 * tensor, in the file's element order: the member is never held whole, inflated or not.
 * The tensor is allocated only after the header's shape has been checked against the
 * member's size, which the zip reader has checked against the archive's. */
#include "src/io/npy.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"

/* numpy's own limit (numpy.lib.format._MAX_HEADER_SIZE) for headers it reads without
 * allow_pickle: a longer one is not what numpy writes for a plain array. */
#define MAX_HEADER_NBYTES 10000

/* A multiple of both element sizes. */
#define CHUNK_NBYTES 16384

nnf_status nnf__npy_open(nnf__npy_reader *r, const nnf__zip *zip, size_t i,
                         const nnf__io_ctx *ctx)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    NNF_FORWARD(nnf__zip_reader_open(&r->zr, zip, i, ctx));
    uint64_t size = zip->members[i].usize;
    unsigned char prefix[12];
    if (size < 10)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "not a .npy array: %" PRIu64 " bytes, fewer than the .npy magic "
                            "and header length take", size);
    NNF_FORWARD(nnf__zip_read(&r->zr, prefix, 8));
    if (memcmp(prefix, "\x93NUMPY", 6) != 0)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "not a .npy array: it does not start with numpy's magic "
                            "\"\\x93NUMPY\"");
    int major = prefix[6], minor = prefix[7];
    if (major < 1 || major > 3 || minor != 0)
        return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED,
                            "its .npy format version is %d.%d; nnf reads 1.0, 2.0 and 3.0",
                            major, minor);
    size_t len_nbytes = major == 1 ? 2 : 4;
    if (size < 8 + len_nbytes)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its .npy header length is cut off after %" PRIu64 " bytes", size);
    NNF_FORWARD(nnf__zip_read(&r->zr, prefix + 8, len_nbytes));
    uint32_t header_len = (uint32_t)prefix[8] | (uint32_t)prefix[9] << 8;
    if (major > 1)
        header_len |= (uint32_t)prefix[10] << 16 | (uint32_t)prefix[11] << 24;
    uint64_t after_prefix = size - 8 - len_nbytes;
    if (header_len > after_prefix)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its .npy header claims %" PRIu32 " bytes, but only %" PRIu64
                            " follow (truncated?)", header_len, after_prefix);
    if (header_len > MAX_HEADER_NBYTES)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its .npy header is %" PRIu32 " bytes, more than the %d numpy "
                            "itself reads from a file it does not trust", header_len,
                            MAX_HEADER_NBYTES);
    char text[MAX_HEADER_NBYTES];
    NNF_FORWARD(nnf__zip_read(&r->zr, text, header_len));
    NNF_FORWARD(nnf__npy_parse_header(&r->h, text, header_len, major, ctx));
    uint64_t data = after_prefix - header_len;
    uint64_t need = (uint64_t)r->h.numel * (uint64_t)r->h.itemsize;
    if (need != data) {
        char s[200];
        nnf__format_shape(s, sizeof s, r->h.ndim, r->h.shape);
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its .npy header's shape %s of %s needs %" PRIu64 " bytes of "
                            "data, the member holds %" PRIu64, s,
                            r->h.itemsize == 4 ? "float32" : "float64", need, data);
    }
    return NNF_OK;
}

void nnf__npy_close(nnf__npy_reader *r)
{
    nnf__zip_reader_close(&r->zr);
}

static uint32_t load32(const unsigned char *p, int big_endian)
{
    if (big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t load64(const unsigned char *p, int big_endian)
{
    uint64_t a = load32(p, big_endian), b = load32(p + 4, big_endian);
    return big_endian ? a << 32 | b : b << 32 | a;
}

/* float64 bits to float32; 0 if the value is finite but beyond float32's range. */
static int narrow(uint64_t bits, float *out)
{
    double d;
    memcpy(&d, &bits, 8);
    if (isnan(d)) {
        /* What x86's cvtsd2ss and AArch64's fcvt do, spelled out so that every machine
         * gives the same bits: the sign, the quiet bit, the top 22 payload bits. */
        uint32_t u = (uint32_t)(bits >> 32) & 0x80000000u;
        u |= 0x7fc00000u | ((uint32_t)(bits >> 29) & 0x003fffffu);
        memcpy(out, &u, 4);
        return 1;
    }
    /* FLT_MAX plus half its unit in the last place: from here on, round to nearest
     * gives infinity. Reported instead: a weight of inf is a broken model. */
    if (!isinf(d) && fabs(d) >= 0x1.ffffffp+127)
        return 0;
    *out = (float)d;
    return 1;
}

/* Where the file's elements go: in C order one after the other; in Fortran order the
 * first index runs fastest, so the row-major offset steps by the strides of a
 * multi-index that counts from the left. */
typedef struct {
    int ndim, fortran;
    int64_t shape[NNF_MAX_DIMS], stride[NNF_MAX_DIMS], index[NNF_MAX_DIMS];
    int64_t offset;
} walk;

static void walk_init(walk *w, const nnf__npy_header *h)
{
    memset(w, 0, sizeof *w);
    w->ndim = h->ndim;
    w->fortran = h->fortran_order && h->ndim > 1;
    int64_t s = 1;
    for (int d = h->ndim - 1; d >= 0; d--) {
        w->shape[d] = h->shape[d];
        w->stride[d] = s;
        s *= h->shape[d];
    }
}

static void walk_next(walk *w)
{
    if (!w->fortran) {
        w->offset++;
        return;
    }
    for (int d = 0; d < w->ndim; d++) {
        w->offset += w->stride[d];
        if (++w->index[d] < w->shape[d])
            return;
        w->offset -= w->shape[d] * w->stride[d];
        w->index[d] = 0;
    }
}

static nnf_status out_of_range(const nnf__npy_reader *r, int64_t offset, uint64_t bits)
{
    int64_t index[NNF_MAX_DIMS];
    for (int d = r->h.ndim - 1; d >= 0; d--) {
        index[d] = r->h.shape[d] > 0 ? offset % r->h.shape[d] : 0;
        offset = r->h.shape[d] > 0 ? offset / r->h.shape[d] : 0;
    }
    char s[200];
    nnf__format_shape(s, sizeof s, r->h.ndim, index);
    double d;
    memcpy(&d, &bits, 8);
    return nnf__io_fail(r->ctx, NNF_ERR_OVERFLOW,
                        "its float64 element %s = %.9g is beyond float32's range "
                        "(+-3.4028235e+38); nnf does not round it to infinity", s, d);
}

nnf_status nnf__npy_read_data(nnf__npy_reader *r, nnf_tensor **out)
{
    nnf_tensor *t = NULL;
    nnf_status made = nnf_empty(&t, r->h.ndim, r->h.shape);
    if (made != NNF_OK)
        return nnf__io_wrap(r->ctx, made);
    float *dst = nnf_tensor_data(t);
    walk w;
    walk_init(&w, &r->h);
    unsigned char buf[CHUNK_NBYTES];
    int64_t left = r->h.numel, per_chunk = CHUNK_NBYTES / r->h.itemsize;
    int be = r->h.big_endian;
    nnf_status st = NNF_OK;
    while (left > 0 && st == NNF_OK) {
        int64_t n = left < per_chunk ? left : per_chunk;
        st = nnf__zip_read(&r->zr, buf, (size_t)n * (size_t)r->h.itemsize);
        if (st != NNF_OK)
            break;
        if (r->h.itemsize == 4) {
            for (int64_t k = 0; k < n; k++, walk_next(&w)) {
                uint32_t u = load32(buf + 4 * k, be);
                memcpy(&dst[w.offset], &u, 4);
            }
        } else {
            for (int64_t k = 0; k < n && st == NNF_OK; k++, walk_next(&w)) {
                uint64_t u = load64(buf + 8 * k, be);
                if (!narrow(u, &dst[w.offset]))
                    st = out_of_range(r, w.offset, u);
            }
        }
        left -= n;
    }
    if (st == NNF_OK)
        st = nnf__zip_reader_finish(&r->zr);
    if (st != NNF_OK) {
        nnf_tensor_free(t);
        return st;
    }
    *out = t;
    return NNF_OK;
}
