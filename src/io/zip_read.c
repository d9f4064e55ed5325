/* Reading a zip archive held in memory (zip.h): the end records, the central directory,
 * each member's local header, and the members' bytes through zlib's raw inflate.
 *
 * Order of trust: the end-of-central-directory record is found by its signature AND a
 * comment length that reaches the end of the file exactly; every offset read from the
 * file is checked against the bytes that are there before it is followed; sizes are
 * unsigned 64-bit and every sum is checked before it is formed. Nothing is allocated
 * from a declared count before the count is bounded by the bytes that would hold it. */
#include "src/io/zip.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/plant.h"
#include "src/core/zlib_alloc.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

enum {
    LOCAL_NBYTES = 30,       /* fixed part of a local header */
    CENTRAL_NBYTES = 46,     /* fixed part of a central directory entry */
    END_NBYTES = 22,         /* end of central directory record, without its comment */
    LOCATOR64_NBYTES = 20,
    END64_NBYTES = 56,       /* zip64 end record, without extensible data */
    MAX_COMMENT = 0xffff,
    ZIP64_EXTRA_ID = 0x0001,
};

#define SAT16 0xffffu
#define SAT32 0xffffffffu

/* The densest deflate code is a 258-byte match written as a 1-bit length code and a 1-bit
 * distance code: no stream inflates to more than 258 * 8 / 2 = 1032 times its size, so a
 * member that claims more is lying about one of its sizes. */
#define DEFLATE_MAX_RATIO 1032u

/* Compressed bytes handed to zlib per call: avail_in is a 32-bit uInt. */
#define INFLATE_FEED ((uint64_t)1 << 20)

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- The end records ---- */

typedef struct {
    uint64_t count;          /* central directory entries */
    uint64_t cd_offset, cd_size;
    uint64_t cd_end;         /* where the next end record starts */
} directory;

/* The zip64 end record, found through the locator right before the plain end record at
 * `end`. Its values replace the plain record's, which must hold either the same value or
 * the "see zip64" mark (all ones) in each field. */
static nnf_status read_end64(const unsigned char *b, size_t end, const nnf__io_ctx *ctx,
                             directory *d)
{
    const unsigned char *loc = b + end - LOCATOR64_NBYTES;
    uint64_t locator = end - LOCATOR64_NBYTES;
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
        return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED,
                            "the archive spans several disks; nnf reads single-file archives");
    uint64_t at = le64(loc + 8);
    if (locator < END64_NBYTES || at > locator - END64_NBYTES)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its zip64 locator points to offset %" PRIu64 ", where no zip64 "
                            "end record fits before the locator at %" PRIu64, at, locator);
    const unsigned char *r = b + at;
    if (le32(r) != SIG_END64)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "no zip64 end record at offset %" PRIu64 " where its locator "
                            "points (signature 0x%08" PRIx32 ")", at, le32(r));
    uint64_t rec = le64(r + 4);
    if (rec != locator - at - 12)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its zip64 end record says it is %" PRIu64 " bytes long, but the "
                            "locator follows after %" PRIu64, rec, locator - at - 12);
    if (le32(r + 16) != 0 || le32(r + 20) != 0 || le64(r + 24) != le64(r + 32))
        return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED,
                            "the archive spans several disks; nnf reads single-file archives");
    const unsigned char *e = b + end;
    uint64_t count = le64(r + 32), cd_size = le64(r + 40), cd_offset = le64(r + 48);
    if ((le16(e + 10) != SAT16 && le16(e + 10) != count) ||
        (le32(e + 12) != SAT32 && le32(e + 12) != cd_size) ||
        (le32(e + 16) != SAT32 && le32(e + 16) != cd_offset))
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its end record (%u entries, %" PRIu32 " bytes at %" PRIu32 ") "
                            "contradicts its zip64 end record (%" PRIu64 " entries, %" PRIu64
                            " bytes at %" PRIu64 ")", le16(e + 10), le32(e + 12),
                            le32(e + 16), count, cd_size, cd_offset);
    d->count = count;
    d->cd_size = cd_size;
    d->cd_offset = cd_offset;
    d->cd_end = at;
    return NNF_OK;
}

static nnf_status find_directory(const unsigned char *b, size_t n, const nnf__io_ctx *ctx,
                                 directory *d)
{
    if (n < END_NBYTES)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "not a zip archive: %zu bytes, fewer than its end record needs "
                            "(truncated?)", n);
    /* The record sits right before a comment of at most 64 KiB; the search goes backwards
     * so that the signature bytes inside a comment cannot be taken for it. */
    size_t lowest = n - END_NBYTES > MAX_COMMENT ? n - END_NBYTES - MAX_COMMENT : 0;
    size_t end = n - END_NBYTES;
    for (;;) {
        if (le32(b + end) == SIG_END && le16(b + end + 20) == n - end - END_NBYTES)
            break;
        if (end == lowest)
            return nnf__io_fail(ctx, NNF_ERR_PARSE,
                                "not a zip archive: no end-of-central-directory record in its "
                                "last %zu bytes (truncated?)", n - lowest);
        end--;
    }
    const unsigned char *e = b + end;
    if (end >= LOCATOR64_NBYTES && le32(b + end - LOCATOR64_NBYTES) == SIG_LOCATOR64) {
        nnf_status st = read_end64(b, end, ctx, d);
        if (st != NNF_OK)
            return st;
    } else {
        if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != le16(e + 10))
            return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED,
                                "the archive spans several disks; nnf reads single-file "
                                "archives");
        d->count = le16(e + 10);
        d->cd_size = le32(e + 12);
        d->cd_offset = le32(e + 16);
        d->cd_end = end;
    }
    /* numpy's archives start at offset 0; data glued in front (a self-extractor) would
     * shift every offset and is not accepted. */
    if (d->cd_offset > d->cd_end || d->cd_size != d->cd_end - d->cd_offset)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its central directory (%" PRIu64 " bytes at offset %" PRIu64 ") "
                            "does not end where its end record starts (offset %" PRIu64 ")",
                            d->cd_size, d->cd_offset, d->cd_end);
    if (d->count > d->cd_size / CENTRAL_NBYTES)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "it claims %" PRIu64 " members, but its central directory of %"
                            PRIu64 " bytes holds at most %" PRIu64, d->count, d->cd_size,
                            d->cd_size / CENTRAL_NBYTES);
    return NNF_OK;
}

/* ---- Central directory entries and local headers ---- */

/* The zip64 extra field of a central entry: the 8-byte values of exactly those fields
 * whose 32-bit slots hold the mark, in the order usize, csize, offset. */
static nnf_status read_zip64_extra(const unsigned char *x, size_t xlen, int need_u,
                                   int need_c, int need_o, const nnf__io_ctx *ctx,
                                   nnf__zip_member *m)
{
    size_t need = 8 * (size_t)(need_u + need_c + need_o);
    while (xlen >= 4) {
        size_t id = le16(x), len = le16(x + 2);
        if (len > xlen - 4)
            return nnf__io_fail(ctx, NNF_ERR_PARSE,
                                "an extra field of its central entry claims %zu bytes, "
                                "%zu are left", len, xlen - 4);
        if (id == ZIP64_EXTRA_ID) {
            if (len < need)
                return nnf__io_fail(ctx, NNF_ERR_PARSE,
                                    "its zip64 extra field holds %zu bytes; the sizes and "
                                    "offset it stands in for need %zu", len, need);
            const unsigned char *p = x + 4;
            if (need_u) { m->usize = le64(p); p += 8; }
            if (need_c) { m->csize = le64(p); p += 8; }
            if (need_o) m->header_offset = le64(p);
            return NNF_OK;
        }
        x += 4 + len;
        xlen -= 4 + len;
    }
    return nnf__io_fail(ctx, NNF_ERR_PARSE,
                        "its central entry marks a size or offset as zip64 (0xFFFFFFFF) but "
                        "has no zip64 extra field");
}

/* Checks the local header a central entry points to and finds the data after it. */
static nnf_status read_local(const unsigned char *b, const directory *d,
                             const nnf__io_ctx *ctx, nnf__zip_member *m)
{
    /* Members live in [0, cd_offset); the central directory comes after them all. */
    if (m->header_offset > d->cd_offset || d->cd_offset - m->header_offset < LOCAL_NBYTES)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its local header offset %" PRIu64 " is not inside the members' "
                            "area, which ends at the central directory (offset %" PRIu64 ")",
                            m->header_offset, d->cd_offset);
    const unsigned char *h = b + m->header_offset;
    if (le32(h) != SIG_LOCAL)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "no local header at offset %" PRIu64 " (signature 0x%08" PRIx32
                            ")", m->header_offset, le32(h));
    size_t nlen = le16(h + 26), xlen = le16(h + 28);
    uint64_t room = d->cd_offset - m->header_offset - LOCAL_NBYTES;
    if (nlen + xlen > room)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its local header's name and extra fields (%zu bytes) run into "
                            "the central directory", nlen + xlen);
    if (nlen != m->name_len || memcmp(h + LOCAL_NBYTES, m->name, nlen) != 0)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its local header at offset %" PRIu64 " names another member",
                            m->header_offset);
    if ((le16(h + 6) & 1) != 0)
        return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED, "it is encrypted");
    if (le16(h + 8) != m->method)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its local header says compression method %u, its central "
                            "entry %d", le16(h + 8), m->method);
    m->data_offset = m->header_offset + LOCAL_NBYTES + nlen + xlen;
    if (m->csize > room - nlen - xlen)
        return nnf__io_fail(ctx, NNF_ERR_PARSE,
                            "its %" PRIu64 " compressed bytes at offset %" PRIu64 " run past "
                            "the start of the central directory (offset %" PRIu64 ")",
                            m->csize, m->data_offset, d->cd_offset);
    return NNF_OK;
}

/* Parses the central entry at b[pos], advancing pos past it. */
static nnf_status read_central(const unsigned char *b, const directory *d, uint64_t *pos,
                               uint64_t index, const nnf__io_ctx *outer, nnf__zip_member *m)
{
    if (d->cd_end - *pos < CENTRAL_NBYTES)
        return nnf__io_fail(outer, NNF_ERR_PARSE,
                            "central directory entry %" PRIu64 " runs past the end of the "
                            "central directory", index);
    const unsigned char *c = b + *pos;
    if (le32(c) != SIG_CENTRAL)
        return nnf__io_fail(outer, NNF_ERR_PARSE,
                            "central directory entry %" PRIu64 " at offset %" PRIu64 " has "
                            "no entry signature (0x%08" PRIx32 ")", index, *pos, le32(c));
    size_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
    /* fuzz_npz's planted bug (src/core/plant.h): without the comment's length, the next
     * entry may be read from beyond the archive. */
    if (nlen + xlen + (NNF_PLANTED("npz") ? 0 : clen) > d->cd_end - *pos - CENTRAL_NBYTES)
        return nnf__io_fail(outer, NNF_ERR_PARSE,
                            "central directory entry %" PRIu64 " runs past the end of the "
                            "central directory", index);
    memset(m, 0, sizeof *m);
    m->name = (const char *)c + CENTRAL_NBYTES;
    m->name_len = nlen;
    nnf__io_ctx ctx = *outer;
    nnf__io_set_member(&ctx, m->name, nlen);
    if (nlen == 0)
        return nnf__io_fail(&ctx, NNF_ERR_PARSE,
                            "central directory entry %" PRIu64 " has an empty name", index);
    if (memchr(m->name, '\0', nlen) != NULL)
        return nnf__io_fail(&ctx, NNF_ERR_PARSE, "its name contains a NUL byte");
    unsigned flags = le16(c + 8);
    /* bit 0: encrypted; bit 6: strong encryption; bit 13: encrypted central directory */
    if ((flags & (1u | 1u << 6 | 1u << 13)) != 0)
        return nnf__io_fail(&ctx, NNF_ERR_UNSUPPORTED, "it is encrypted");
    m->method = le16(c + 10);
    if (m->method != NNF__ZIP_STORED && m->method != NNF__ZIP_DEFLATED)
        return nnf__io_fail(&ctx, NNF_ERR_UNSUPPORTED,
                            "it is compressed with method %d; nnf reads stored (0) and "
                            "deflated (8) members, which is what numpy writes", m->method);
    m->crc32 = le32(c + 16);
    m->csize = le32(c + 20);
    m->usize = le32(c + 24);
    m->header_offset = le32(c + 42);
    int need_u = m->usize == SAT32, need_c = m->csize == SAT32;
    int need_o = m->header_offset == SAT32;
    if (need_u || need_c || need_o) {
        nnf_status st = read_zip64_extra(c + CENTRAL_NBYTES + nlen, xlen, need_u, need_c,
                                         need_o, &ctx, m);
        if (st != NNF_OK)
            return st;
    }
    /* A disk number of 0xFFFF would also live in the zip64 field; for a single-disk
     * archive it is 0. */
    if (le16(c + 34) != 0)
        return nnf__io_fail(&ctx, NNF_ERR_UNSUPPORTED,
                            "it is on disk %u of a multi-disk archive", le16(c + 34));
    if (m->method == NNF__ZIP_STORED && m->csize != m->usize)
        return nnf__io_fail(&ctx, NNF_ERR_PARSE,
                            "it is stored, but its compressed size (%" PRIu64 ") differs from "
                            "its size (%" PRIu64 ")", m->csize, m->usize);
    if (m->method == NNF__ZIP_DEFLATED && m->usize / DEFLATE_MAX_RATIO > m->csize)
        return nnf__io_fail(&ctx, NNF_ERR_PARSE,
                            "it claims to inflate %" PRIu64 " bytes to %" PRIu64 ", more than "
                            "deflate's 1032:1 allows", m->csize, m->usize);
    nnf_status st = read_local(b, d, &ctx, m);
    if (st != NNF_OK)
        return st;
    *pos += CENTRAL_NBYTES + nlen + xlen + clen;
    return NNF_OK;
}

static int by_offset(const void *a, const void *b)
{
    const nnf__zip_member *x = *(const nnf__zip_member *const *)a;
    const nnf__zip_member *y = *(const nnf__zip_member *const *)b;
    return x->header_offset < y->header_offset ? -1 : x->header_offset > y->header_offset;
}

static int by_name(const void *a, const void *b)
{
    const nnf__zip_member *x = *(const nnf__zip_member *const *)a;
    const nnf__zip_member *y = *(const nnf__zip_member *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c != 0 ? c : x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Members may neither overlap (one local header's bytes read as another's data, the
 * trick of "zip bombs" that reuse one compressed stream) nor share a name (which one
 * would numpy return?). */
static nnf_status check_disjoint(const nnf__zip *zip, const nnf__io_ctx *outer)
{
    if (zip->count < 2)
        return NNF_OK;
    size_t nbytes = zip->count * sizeof(nnf__zip_member *);
    const nnf__zip_member **order = nnf__alloc(nbytes);
    if (order == NULL)
        return nnf__io_fail(outer, NNF_ERR_NOMEM, "out of memory checking %zu members",
                            zip->count);
    for (size_t i = 0; i < zip->count; i++)
        order[i] = &zip->members[i];
    nnf__io_ctx ctx = *outer;
    nnf_status st = NNF_OK;
    qsort(order, zip->count, sizeof *order, by_offset);
    for (size_t i = 0; i + 1 < zip->count && st == NNF_OK; i++)
        if (order[i]->data_offset + order[i]->csize > order[i + 1]->header_offset) {
            nnf__io_set_member(&ctx, order[i]->name, order[i]->name_len);
            st = nnf__io_fail(&ctx, NNF_ERR_PARSE,
                              "its data (offset %" PRIu64 ", %" PRIu64 " bytes) overlaps the "
                              "member whose local header is at offset %" PRIu64,
                              order[i]->data_offset, order[i]->csize,
                              order[i + 1]->header_offset);
        }
    if (st == NNF_OK) {
        qsort(order, zip->count, sizeof *order, by_name);
        for (size_t i = 0; i + 1 < zip->count && st == NNF_OK; i++)
            if (by_name(&order[i], &order[i + 1]) == 0) {
                nnf__io_set_member(&ctx, order[i]->name, order[i]->name_len);
                st = nnf__io_fail(&ctx, NNF_ERR_PARSE, "the archive holds two members of "
                                  "this name");
            }
    }
    nnf__dealloc(order, nbytes);
    return st;
}

nnf_status nnf__zip_open(nnf__zip *zip, const unsigned char *bytes, size_t nbytes,
                         const nnf__io_ctx *ctx)
{
    memset(zip, 0, sizeof *zip);
    directory d = {0};
    nnf_status st = find_directory(bytes, nbytes, ctx, &d);
    if (st != NNF_OK)
        return st;
    nnf__zip z = {bytes, nbytes, NULL, (size_t)d.count};
    if (d.count > 0) {
        z.members = nnf__alloc((size_t)d.count * sizeof *z.members);
        if (z.members == NULL)
            return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory for %" PRIu64 " members",
                                d.count);
    }
    uint64_t pos = d.cd_offset;
    for (uint64_t i = 0; i < d.count && st == NNF_OK; i++)
        st = read_central(bytes, &d, &pos, i, ctx, &z.members[i]);
    if (st == NNF_OK && pos != d.cd_end)
        st = nnf__io_fail(ctx, NNF_ERR_PARSE,
                          "its central directory has %" PRIu64 " bytes after its %" PRIu64
                          " entries", d.cd_end - pos, d.count);
    if (st == NNF_OK)
        st = check_disjoint(&z, ctx);
    if (st != NNF_OK) {
        nnf__zip_close(&z);
        return st;
    }
    *zip = z;
    return NNF_OK;
}

void nnf__zip_close(nnf__zip *zip)
{
    if (zip->members != NULL)
        nnf__dealloc(zip->members, zip->count * sizeof *zip->members);
    memset(zip, 0, sizeof *zip);
}

/* ---- Member data ---- */

nnf_status nnf__zip_reader_open(nnf__zip_reader *r, const nnf__zip *zip, size_t i,
                                const nnf__io_ctx *ctx)
{
    memset(r, 0, sizeof *r);
    r->m = &zip->members[i];
    r->in = zip->bytes + r->m->data_offset;
    r->in_left = r->m->csize;
    r->out_left = r->m->usize;
    r->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    r->ctx = ctx;
    if (r->m->method == NNF__ZIP_DEFLATED) {
        r->z.zalloc = nnf__zlib_alloc;
        r->z.zfree = nnf__zlib_free;
        /* -15: a raw deflate stream (no zlib header), with the 32 KiB window zip uses. */
        int ret = inflateInit2(&r->z, -15);
        if (ret == Z_MEM_ERROR)
            return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory starting zlib's inflate");
        if (ret != Z_OK)
            return nnf__io_fail(ctx, NNF_ERR_UNSUPPORTED, "zlib's inflate does not start: %s",
                                r->z.msg != NULL ? r->z.msg : zError(ret));
        r->inflating = 1;
    }
    return NNF_OK;
}

/* One call of inflate, fed first if it has no input. */
static nnf_status inflate_step(nnf__zip_reader *r, int *ended)
{
    if (r->z.avail_in == 0 && r->in_left > 0) {
        uint64_t feed = r->in_left < INFLATE_FEED ? r->in_left : INFLATE_FEED;
        r->z.next_in = r->in;
        r->z.avail_in = (uInt)feed;
        r->in += feed;
        r->in_left -= feed;
    }
    int ret = inflate(&r->z, Z_NO_FLUSH);
    *ended = ret == Z_STREAM_END;
    if (ret == Z_OK || ret == Z_STREAM_END)
        return NNF_OK;
    if (ret == Z_MEM_ERROR)
        return nnf__io_fail(r->ctx, NNF_ERR_NOMEM, "out of memory in zlib's inflate");
    if (ret == Z_BUF_ERROR && r->z.avail_in == 0 && r->in_left == 0)
        return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                            "its deflate stream is cut off: all %" PRIu64 " compressed bytes "
                            "are used up before the stream ends", r->m->csize);
    return nnf__io_fail(r->ctx, NNF_ERR_PARSE, "its deflate stream is corrupt (zlib: %s)",
                        r->z.msg != NULL ? r->z.msg : zError(ret));
}

nnf_status nnf__zip_read(nnf__zip_reader *r, void *dst, size_t n)
{
    if (n > r->out_left)
        return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                            "its data ends %zu bytes too early (%" PRIu64 " bytes in all)",
                            n - (size_t)r->out_left, r->m->usize);
    unsigned char *out = dst;
    size_t left = n;
    while (left > 0) {
        /* avail_out and crc32's length are 32-bit. */
        size_t step = left < INFLATE_FEED ? left : (size_t)INFLATE_FEED;
        if (r->inflating) {
            r->z.next_out = out;
            r->z.avail_out = (uInt)step;
            while (r->z.avail_out > 0) {
                int ended;
                nnf_status st = inflate_step(r, &ended);
                if (st != NNF_OK)
                    return st;
                if (ended && r->z.avail_out > 0) {
                    uint64_t done = r->m->usize - r->out_left + (n - left) + step -
                                    r->z.avail_out;
                    return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                                        "its deflate stream ends after %" PRIu64 " bytes; "
                                        "the central directory says %" PRIu64, done,
                                        r->m->usize);
                }
            }
        } else {
            memcpy(out, r->in, step);
            r->in += step;
            r->in_left -= step;
        }
        r->crc = (uint32_t)crc32(r->crc, out, (uInt)step);
        out += step;
        left -= step;
    }
    r->out_left -= n;
    return NNF_OK;
}

nnf_status nnf__zip_reader_finish(nnf__zip_reader *r)
{
    if (r->out_left != 0)
        return nnf__io_fail(r->ctx, NNF_ERR_PARSE, "%" PRIu64 " bytes of its data are unused",
                            r->out_left);
    if (r->inflating) {
        /* All the declared bytes are out; the stream must end right here. */
        unsigned char spare;
        int ended = 0;
        while (!ended) {
            r->z.next_out = &spare;
            r->z.avail_out = 1;
            nnf_status st = inflate_step(r, &ended);
            if (st != NNF_OK)
                return st;
            if (r->z.avail_out == 0)
                return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                                    "it inflates to more than the %" PRIu64 " bytes its "
                                    "central directory entry says", r->m->usize);
        }
        uint64_t after = r->z.avail_in + r->in_left;
        if (after != 0)
            return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                                "%" PRIu64 " compressed bytes follow the end of its deflate "
                                "stream", after);
    }
    if (r->crc != r->m->crc32)
        return nnf__io_fail(r->ctx, NNF_ERR_PARSE,
                            "the CRC-32 of its data is 0x%08" PRIx32 ", the archive says 0x%08"
                            PRIx32 " (the data is corrupt)", r->crc, r->m->crc32);
    return NNF_OK;
}

void nnf__zip_reader_close(nnf__zip_reader *r)
{
    if (r->inflating)
        inflateEnd(&r->z);
    r->inflating = 0;
}
