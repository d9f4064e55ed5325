/* Fuzz target: nnf_idx_read (src/data/idx.c), plain and gzip-compressed files, through
 * an in-memory file (a memfd, opened by its /proc/self/fd path).
 *
 * Input: a mode byte and a dtype byte, then the file's bytes: written as they are (raw:
 * plain IDX or a gzip stream the fuzzer made), or gzip-compressed here first (so that
 * mutations of the IDX inside reach the gzip path), or compressed and then cut short.
 *
 * Properties:
 * - the file is parsed here independently (the IDX layout of nnf/data.h, a gzip stream
 *   inflated with zlib, concatenated members included): a valid file loads, with the
 *   header's shape and every element converted as a C cast would; an invalid one fails
 *   (a cut gzip stream always fails); a raw gzip stream this parse cannot settle only
 *   has to keep the other properties;
 * - no single allocation is larger than the largest tensor a file of this size can
 *   hold: 8 bytes (int64) per element, at most 1032 elements per byte of deflate (its
 *   densest code), plus 64 KiB;
 * - on failure *out is untouched and the message starts "nnf_idx_read: ";
 * - nothing leaks.
 */
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz/fuzz.h"

#define MAX_PLAIN (1u << 20)   /* inflated bytes the reference follows */

/* Inflates every gzip member of src; 0 if the stream is not one this can settle
 * (corrupt, cut, trailing bytes, too large). */
static int gunzip(const uint8_t *src, size_t n, uint8_t *dst, size_t *got)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return 0;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = MAX_PLAIN;
    int ok = 0;
    for (;;) {
        int r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            if (z.avail_in == 0) {
                ok = 1;
                break;
            }
            if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b ||
                inflateReset(&z) != Z_OK)
                break;   /* trailing bytes: zlib's gzread rules are not modelled here */
            continue;
        }
        if (r != Z_OK)
            break;
    }
    *got = MAX_PLAIN - z.avail_out;
    inflateEnd(&z);
    return ok;
}

static size_t gzip(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
          "deflateInit2");
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static size_t elem_nbytes(int type)
{
    switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Element i of the data as the value nnf must hold (double holds every one exactly). */
static double elem(int type, const uint8_t *p)
{
    uint64_t u = be(p, elem_nbytes(type));
    switch (type) {
    case 0x08: return (double)u;
    case 0x09: return (int8_t)u;
    case 0x0B: return (int16_t)u;
    case 0x0C: return (int32_t)u;
    case 0x0D: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); return f; }
    default: { double d; memcpy(&d, &u, 8); return d; }
    }
}

/* Whether the plain bytes are a valid IDX file for dtype; its header on success. */
static int parse(const uint8_t *b, size_t n, nnf_dtype dtype, int *type, int *ndim,
                 int64_t *shape, uint64_t *numel)
{
    if (n < 4 || b[0] != 0 || b[1] != 0 || elem_nbytes(b[2]) == 0 || b[3] == 0 ||
        b[3] > NNF_MAX_DIMS || n < 4 + 4 * (size_t)b[3])
        return 0;
    *type = b[2];
    *ndim = b[3];
    unsigned __int128 count = 1;
    for (int d = 0; d < *ndim; d++) {
        shape[d] = (int64_t)be(b + 4 + 4 * d, 4);
        count *= (uint64_t)shape[d];
        if (count > ((unsigned __int128)1 << 64))
            count = (unsigned __int128)1 << 64;   /* saturated: only compared below */
    }
    if (dtype == NNF_I64 && (*type == 0x0D || *type == 0x0E))
        return 0;
    *numel = (uint64_t)count;
    return count * elem_nbytes(*type) == n - 4 - 4 * (size_t)*ndim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] % 3;   /* 0 raw, 1 gzip here, 2 gzip here and cut */
    nnf_dtype dtype = data[1] & 1 ? NNF_I64 : NNF_F32;
    int level = data[1] >> 1 & 7;
    const uint8_t *body = data + 2;
    size_t nbody = size - 2;

    static uint8_t file[MAX_PLAIN + 1024], plain[MAX_PLAIN];
    size_t nfile = nbody, nplain = nbody;
    const uint8_t *pl = body;
    int known = 1, must_fail = 0;
    if (mode == 0) {
        memcpy(file, body, nbody);
        if (nbody >= 2 && body[0] == 0x1f && body[1] == 0x8b) {
            known = gunzip(body, nbody, plain, &nplain);
            pl = plain;
        }
    } else {
        if (nbody > MAX_PLAIN / 2)
            return 0;
        nfile = gzip(body, nbody, file, sizeof file, level);
        if (mode == 2) {
            nfile -= 1 + (nbody ? body[0] : 0) % nfile;
            must_fail = 1;
        }
    }

    int fd = memfd_create("fuzz_idx", 0);
    CHECK(fd >= 0 && write(fd, file, nfile) == (ssize_t)nfile, "memfd");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    int type = 0, ndim = 0;
    int64_t shape[NNF_MAX_DIMS];
    uint64_t numel = 0;
    int valid = known && !must_fail && parse(pl, nplain, dtype, &type, &ndim, shape, &numel);

    LEAK_CHECK_BEGIN;
    nnf__alloc_cap(8 * 1032 * nfile + 65536);
    nnf_tensor *sentinel = (nnf_tensor *)&fd, *t = sentinel;
    nnf_status st = nnf_idx_read(&t, path, dtype);
    long over = nnf__alloc_over_cap();
    nnf__alloc_cap(0);
    close(fd);
    CHECK(over == 0, "a file of %zu bytes asked for more than %zu bytes at once", nfile,
          8 * 1032 * nfile + 65536);
    if (known)
        CHECK((st == NNF_OK) == valid, "%s (mode %d): %s, the reference says %s", path, mode,
              nnf_status_str(st), valid ? "valid" : "invalid");
    if (st != NNF_OK) {
        CHECK(t == sentinel, "a failed read set *out");
        CHECK(strncmp(nnf_last_error(), "nnf_idx_read: ", 14) == 0,
              "the message does not name nnf_idx_read");
    } else {
        CHECK(nnf_tensor_dtype(t) == dtype && nnf_tensor_is_contiguous(t), "dtype or layout");
        if (valid) {
            CHECK(nnf_tensor_ndim(t) == ndim &&
                  memcmp(nnf_tensor_shape(t), shape, (size_t)ndim * 8) == 0, "shape");
            const uint8_t *d = pl + 4 + 4 * ndim;
            size_t es = elem_nbytes(type);
            for (uint64_t i = 0; i < numel; i++) {
                double v = elem(type, d + i * es);
                if (dtype == NNF_F32)
                    CHECK(nnf_tensor_data(t)[i] == (float)v || (v != v && nnf_tensor_data(t)[i] != nnf_tensor_data(t)[i]),
                          "element %llu: %g, the file holds %g", (unsigned long long)i,
                          (double)nnf_tensor_data(t)[i], v);
                else
                    CHECK(((int64_t *)nnf_tensor_raw(t))[i] == (int64_t)v,
                          "element %llu: %lld, the file holds %g", (unsigned long long)i,
                          (long long)((int64_t *)nnf_tensor_raw(t))[i], v);
            }
        }
        nnf_tensor_free(t);
    }
    LEAK_CHECK_END;
    return 0;
}
