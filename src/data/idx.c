/* Reading IDX files, plain or gzip-compressed, into tensors.
 *
 * A file that starts with gzip's magic bytes goes through zlib's inflate, any other is
 * read as it is, so one code path serves both. inflate rather than gzread: its memory
 * comes from nnf__alloc (allocation-failure tests reach it), and the reader knows the
 * file's compressed size before it allocates the tensor. The data is read and converted
 * in 64 KiB chunks: the 47 MB of Fashion-MNIST's training pixels never exist twice in
 * memory, only as floats. Reading them took 0.76 s on the development machine, 0.52 s of
 * it zlib's inflate.
 */
#include "nnf/data.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "src/core/alloc.h"
#include "src/core/checked.h"
#include "src/core/error.h"
#include "src/core/plant.h"
#include "src/core/zlib_alloc.h"

enum { IDX_U8 = 0x08, IDX_I8 = 0x09, IDX_I16 = 0x0B, IDX_I32 = 0x0C, IDX_F32 = 0x0D,
       IDX_F64 = 0x0E };

/* 64 KiB: large enough that zlib's per-call overhead vanishes, small enough to stay
 * in L2 next to the destination stream. A multiple of every element size. */
#define CHUNK_NBYTES ((size_t)65536)

/* The densest deflate code is a 258-byte match in a 1-bit length code and a 1-bit
 * distance code: a gzip file never inflates to more than 1032 times its size, so a
 * header that claims more data than that cannot be telling the truth. */
#define DEFLATE_MAX_RATIO 1032

static size_t idx_elem_nbytes(int type)
{
    switch (type) {
    case IDX_U8: case IDX_I8: return 1;
    case IDX_I16: return 2;
    case IDX_I32: case IDX_F32: return 4;
    case IDX_F64: return 8;
    default: return 0;
    }
}

static const char *idx_type_name(int type)
{
    switch (type) {
    case IDX_U8: return "uint8";
    case IDX_I8: return "int8";
    case IDX_I16: return "int16";
    case IDX_I32: return "int32";
    case IDX_F32: return "float32";
    default: return "float64";
    }
}

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t load_be64(const unsigned char *p)
{
    return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

/* One IDX element (big-endian in the file) as a double: exact for every integer type
 * and for float32, and float64 -> float below rounds once, as a cast would. */
static double load_elem(int type, const unsigned char *p)
{
    switch (type) {
    case IDX_U8: return p[0];
    case IDX_I8: return (int8_t)p[0];
    case IDX_I16: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case IDX_I32: return (int32_t)load_be32(p);
    case IDX_F32: { uint32_t u = load_be32(p); float f; memcpy(&f, &u, 4); return f; }
    default: { uint64_t u = load_be64(p); double d; memcpy(&d, &u, 8); return d; }
    }
}

/* The switch sits outside the loops so that each loop is a plain, vectorisable
 * conversion: uint8 pixels, almost all of what nnf reads, convert at memory speed. */
static void convert(int type, const unsigned char *src, size_t count, nnf_dtype dtype, void *dst)
{
    float *f = dst;
    int64_t *d = dst;
    size_t es = idx_elem_nbytes(type);
    if (type == IDX_U8 && dtype == NNF_F32) {
        for (size_t i = 0; i < count; i++) f[i] = (float)src[i];
    } else if (type == IDX_U8) {
        for (size_t i = 0; i < count; i++) d[i] = src[i];
    } else if (dtype == NNF_F32) {
        for (size_t i = 0; i < count; i++) f[i] = (float)load_elem(type, src + i * es);
    } else {
        for (size_t i = 0; i < count; i++) d[i] = (int64_t)load_elem(type, src + i * es);
    }
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* The file as a stream of bytes: read() for a plain file, inflate for a gzip one. */
typedef struct {
    const char *path;
    int fd;
    int gzip;
    int z_live;             /* inflateInit2 succeeded: inflateEnd owed */
    int eof;                /* read() returned 0 */
    int ended;              /* gzip: the last member and its trailer are done */
    z_stream z;
    unsigned char *in;      /* CHUNK_NBYTES: file bytes not yet consumed */
    size_t in_pos, in_len;  /* plain files: the part of `in` not yet handed out */
} source;

/* Reads more of the file into `in` (when it is used up). */
static nnf_status refill(source *src)
{
    ssize_t r;
    do {
        r = read(src->fd, src->in, CHUNK_NBYTES);
    } while (r < 0 && errno == EINTR);
    NNF_RETURN_IF(r < 0, NNF_ERR_IO, "nnf_idx_read: cannot read '%s': %s", src->path,
                  strerror(errno));
    src->eof = r == 0;
    src->in_pos = 0;
    src->in_len = (size_t)r;
    src->z.next_in = src->in;
    src->z.avail_in = (uInt)r;
    return NNF_OK;
}

static nnf_status read_plain(source *src, unsigned char *buf, size_t n, size_t *got)
{
    while (*got < n) {
        if (src->in_pos == src->in_len) {
            if (src->eof)
                break;
            NNF_FORWARD(refill(src));
            continue;
        }
        size_t take = src->in_len - src->in_pos < n - *got ? src->in_len - src->in_pos : n - *got;
        memcpy(buf + *got, src->in + src->in_pos, take);
        src->in_pos += take;
        *got += take;
    }
    return NNF_OK;
}

/* After a member's trailer: another member follows if gzip's magic does (gzip files
 * may be concatenated); anything else after the stream is ignored, as gzread does. */
static nnf_status next_member(source *src)
{
    if (src->z.avail_in == 0 && !src->eof)
        NNF_FORWARD(refill(src));
    if (src->z.avail_in == 0 || src->z.next_in[0] != 0x1f) {
        src->ended = 1;
        return NNF_OK;
    }
    inflateReset(&src->z);
    return NNF_OK;
}

static nnf_status read_gzip(source *src, unsigned char *buf, size_t n, size_t *got)
{
    src->z.next_out = buf;
    src->z.avail_out = (uInt)n;   /* n <= CHUNK_NBYTES */
    while (src->z.avail_out > 0 && !src->ended) {
        if (src->z.avail_in == 0 && !src->eof)
            NNF_FORWARD(refill(src));
        int ret = inflate(&src->z, Z_NO_FLUSH);
        if (ret == Z_STREAM_END) {
            NNF_FORWARD(next_member(src));
            continue;
        }
        NNF_RETURN_IF(ret == Z_MEM_ERROR, NNF_ERR_NOMEM,
                      "nnf_idx_read: out of memory in zlib's inflate reading '%s'", src->path);
        NNF_RETURN_IF(ret == Z_DATA_ERROR || ret == Z_NEED_DICT, NNF_ERR_PARSE,
                      "nnf_idx_read: '%s' is corrupt: bad gzip data (zlib: %s)", src->path,
                      src->z.msg != NULL ? src->z.msg : zError(ret));
        /* No progress possible: the input is used up before the stream's end. */
        NNF_RETURN_IF(ret == Z_BUF_ERROR && src->z.avail_in == 0 && src->eof, NNF_ERR_PARSE,
                      "nnf_idx_read: '%s' is truncated: its gzip stream ends early", src->path);
        NNF_RETURN_IF(ret != Z_OK && ret != Z_BUF_ERROR, NNF_ERR_IO,
                      "nnf_idx_read: cannot read '%s': zlib: %s", src->path, zError(ret));
    }
    *got = n - src->z.avail_out;
    return NNF_OK;
}

/* Reads up to n bytes (n <= CHUNK_NBYTES); *got is how many arrived. A short read is
 * the end of the data; a corrupt or cut-off gzip stream or a failed read is an error. */
static nnf_status read_some(source *src, void *buf, size_t n, size_t *got)
{
    *got = 0;
    return src->gzip ? read_gzip(src, buf, n, got) : read_plain(src, buf, n, got);
}

static void source_close(source *src)
{
    if (src->z_live)
        inflateEnd(&src->z);
    nnf__dealloc(src->in, CHUNK_NBYTES);
    close(src->fd);
}

static nnf_status source_open(source *src, const char *path, int64_t *file_nbytes)
{
    memset(src, 0, sizeof *src);
    src->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    NNF_RETURN_IF(fd < 0, NNF_ERR_IO, "nnf_idx_read: cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    int e = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        close(fd);
        return nnf__fail(NNF_ERR_IO, "nnf_idx_read: cannot read '%s': %s", path, strerror(e));
    }
    *file_nbytes = (int64_t)st.st_size;
    src->fd = fd;
    src->in = nnf__alloc(CHUNK_NBYTES);
    nnf_status status = src->in != NULL ? refill(src)
                                        : nnf__fail(NNF_ERR_NOMEM,
                                                    "nnf_idx_read: out of memory opening '%s'",
                                                    path);
    /* An IDX file starts with two zero bytes, gzip with 0x1f 0x8b. */
    src->gzip = status == NNF_OK && src->in_len >= 2 && src->in[0] == 0x1f && src->in[1] == 0x8b;
    if (status == NNF_OK && src->gzip) {
        src->z.zalloc = nnf__zlib_alloc;
        src->z.zfree = nnf__zlib_free;
        src->z.next_in = src->in;
        src->z.avail_in = (uInt)src->in_len;
        /* 16 + 15: a gzip wrapper with the 32 KiB window. */
        int ret = inflateInit2(&src->z, 16 + MAX_WBITS);
        src->z_live = ret == Z_OK;
        if (ret == Z_MEM_ERROR)
            status = nnf__fail(NNF_ERR_NOMEM, "nnf_idx_read: out of memory opening '%s'", path);
        else if (ret != Z_OK)
            status = nnf__fail(NNF_ERR_UNSUPPORTED,
                               "nnf_idx_read: zlib's inflate does not start for '%s': %s", path,
                               zError(ret));
    }
    if (status != NNF_OK)
        source_close(src);
    return status;
}

/* Header: magic, dims. On success *type, *ndim, shape[] and *numel are set. */
static nnf_status read_header(source *src, const char *path, int *type, int *ndim,
                              int64_t *shape, int64_t *numel)
{
    unsigned char magic[4];
    size_t got;
    NNF_FORWARD(read_some(src, magic, 4, &got));
    NNF_RETURN_IF(got == 0, NNF_ERR_PARSE, "nnf_idx_read: '%s' is empty", path);
    NNF_RETURN_IF(got < 4, NNF_ERR_PARSE,
                  "nnf_idx_read: '%s' is truncated: it ends after %zu of the 4 bytes of its "
                  "magic number", path, got);
    NNF_RETURN_IF(magic[0] != 0 || magic[1] != 0, NNF_ERR_PARSE,
                  "nnf_idx_read: '%s' is not an IDX file: its magic number 0x%08" PRIx32
                  " does not start with two zero bytes", path, load_be32(magic));
    NNF_RETURN_IF(idx_elem_nbytes(magic[2]) == 0, NNF_ERR_PARSE,
                  "nnf_idx_read: '%s' has unknown IDX type code 0x%02x (expected 0x08, 0x09, "
                  "0x0B, 0x0C, 0x0D or 0x0E)", path, magic[2]);
    /* fuzz_idx's planted bug (src/core/plant.h): one dim more than dims[] below holds. */
    NNF_RETURN_IF(magic[3] == 0 || magic[3] > NNF_MAX_DIMS + NNF_PLANTED("idx"), NNF_ERR_PARSE,
                  "nnf_idx_read: '%s' has %d dims; nnf reads 1 to %d", path, magic[3],
                  NNF_MAX_DIMS);
    *type = magic[2];
    *ndim = magic[3];

    unsigned char dims[4 * NNF_MAX_DIMS];
    size_t dims_nbytes = 4 * (size_t)*ndim;
    NNF_FORWARD(read_some(src, dims, dims_nbytes, &got));
    NNF_RETURN_IF(got < dims_nbytes, NNF_ERR_PARSE,
                  "nnf_idx_read: '%s' is truncated: its header ends after %zu of %zu bytes",
                  path, 4 + got, 4 + dims_nbytes);
    int64_t n;
    for (int d = 0; d < *ndim; d++)
        shape[d] = load_be32(dims + 4 * d);
    /* A zero size makes an empty dataset, whatever the other sizes multiply to; the
     * byte count of the widest type must fit int64 as well. */
    NNF_RETURN_IF(nnf__prod_ovf(*ndim, shape, &n) || n > INT64_MAX / 8, NNF_ERR_OVERFLOW,
                  "nnf_idx_read: '%s': the number of elements overflows", path);
    *numel = n;
    return NNF_OK;
}

static nnf_status truncated(const char *path, int type, int ndim, const int64_t *shape,
                            size_t need, size_t have)
{
    char sh[160];
    format_shape(sh, sizeof sh, ndim, shape);
    return nnf__fail(NNF_ERR_PARSE,
                     "nnf_idx_read: '%s' is truncated: shape %s of %s needs %zu bytes of data, "
                     "the file has %zu", path, sh, idx_type_name(type), need, have);
}

static nnf_status read_data(source *src, const char *path, int type, int ndim,
                            const int64_t *shape, int64_t numel, nnf_tensor *t)
{
    size_t es = idx_elem_nbytes(type);
    size_t total = (size_t)numel * es;
    unsigned char *chunk = nnf__alloc(CHUNK_NBYTES);
    NNF_RETURN_IF(!chunk, NNF_ERR_NOMEM, "nnf_idx_read: out of memory reading '%s'", path);
    nnf_dtype dtype = nnf_tensor_dtype(t);
    char *dst = nnf_tensor_raw(t);
    size_t dst_es = dtype == NNF_F32 ? sizeof(float) : sizeof(int64_t);
    nnf_status st = NNF_OK;
    size_t done = 0;
    while (done < total) {
        size_t want = total - done < CHUNK_NBYTES ? total - done : CHUNK_NBYTES;
        size_t got;
        st = read_some(src, chunk, want, &got);
        if (st != NNF_OK) break;
        if (got < want) {
            st = truncated(path, type, ndim, shape, total, done + got);
            break;
        }
        convert(type, chunk, want / es, dtype, dst + done / es * dst_es);
        done += want;
    }
    /* One more byte must not exist; reading for it also makes zlib check the gzip
     * trailer's CRC-32 and length. */
    if (st == NNF_OK) {
        size_t extra;
        st = read_some(src, chunk, 1, &extra);
        if (st == NNF_OK && extra) {
            char sh[160];
            format_shape(sh, sizeof sh, ndim, shape);
            st = nnf__fail(NNF_ERR_PARSE,
                           "nnf_idx_read: '%s' has bytes after the %zu bytes of data that shape "
                           "%s of %s needs", path, total, sh, idx_type_name(type));
        }
    }
    nnf__dealloc(chunk, CHUNK_NBYTES);
    return st;
}

nnf_status nnf_idx_read(nnf_tensor **out, const char *path, nnf_dtype dtype)
{
    NNF_PUBLIC("nnf_idx_read");
    NNF_RETURN_IF(!out, NNF_ERR_NULL, "nnf_idx_read: argument out is NULL");
    NNF_RETURN_IF(!path, NNF_ERR_NULL, "nnf_idx_read: argument path is NULL");
    NNF_RETURN_IF(dtype != NNF_F32 && dtype != NNF_I64, NNF_ERR_DTYPE,
                  "nnf_idx_read: dtype must be NNF_F32 or NNF_I64");

    source src;
    int64_t file_nbytes = 0;
    NNF_FORWARD(source_open(&src, path, &file_nbytes));
    int type = 0, ndim = 0;
    int64_t shape[NNF_MAX_DIMS], numel = 0;
    nnf_tensor *t = NULL;
    nnf_status st = read_header(&src, path, &type, &ndim, shape, &numel);
    /* The file's size says whether the data can be there before any memory is
     * committed: a corrupt size field must not cost a 100 GB allocation first. A plain
     * file holds the data as it is, a gzip one inflates to at most DEFLATE_MAX_RATIO
     * times its size. */
    int64_t need = numel * (int64_t)idx_elem_nbytes(type), header = 4 + 4 * (int64_t)ndim;
    int64_t most;
    if (src.gzip && nnf__mul_ovf(file_nbytes, DEFLATE_MAX_RATIO, &most))
        most = INT64_MAX;
    else if (!src.gzip)
        most = file_nbytes - header;
    if (st == NNF_OK && need > most) {
        char sh[160];
        format_shape(sh, sizeof sh, ndim, shape);
        st = src.gzip ? nnf__fail(NNF_ERR_PARSE,
                                  "nnf_idx_read: '%s' is truncated: shape %s of %s needs %" PRId64
                                  " bytes of data, more than its %" PRId64 " bytes of gzip can "
                                  "inflate to", path, sh, idx_type_name(type), need, file_nbytes)
                      : truncated(path, type, ndim, shape, (size_t)need, (size_t)most);
    }
    if (st == NNF_OK && dtype == NNF_I64 && (type == IDX_F32 || type == IDX_F64))
        st = nnf__fail(NNF_ERR_DTYPE,
                       "nnf_idx_read: '%s' holds %s values, which cannot be read as NNF_I64",
                       path, idx_type_name(type));
    if (st == NNF_OK) {
        st = nnf_empty_typed(&t, ndim, shape, dtype);
        if (st == NNF_ERR_NOMEM) {
            char sh[160];
            format_shape(sh, sizeof sh, ndim, shape);
            st = nnf__fail(NNF_ERR_NOMEM,
                           "nnf_idx_read: out of memory for the %s tensor of shape %s that "
                           "'%s' holds", dtype == NNF_F32 ? "float32" : "int64", sh, path);
        }
    }
    if (st == NNF_OK) st = read_data(&src, path, type, ndim, shape, numel, t);
    source_close(&src);
    if (st != NNF_OK) {
        nnf_tensor_free(t);
        return st;
    }
    *out = t;
    return NNF_OK;
}
