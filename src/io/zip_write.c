/* Writing a zip archive of stored members (zip.h), the way numpy reads it back.
 *
 * Every member gets the same timestamp (1980-01-01 00:00, the first the format can
 * hold), so the same weights always make the same bytes. Sizes and offsets take the
 * zip64 form only from 4 GiB - 1 on (APPNOTE 4.5.3: the 32-bit field then holds
 * 0xFFFFFFFF and the value moves to the zip64 extra field), or everywhere when forced. */
#include "src/io/zip.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

#define SAT16 0xffffu
#define SAT32 0xffffffffu

enum {
    VERSION_PLAIN = 20,      /* 2.0: stored and deflated members */
    VERSION_ZIP64 = 45,      /* 4.5: zip64 extensions */
    MADE_BY_UNIX = 3 << 8,   /* so that unzip applies the external attributes below */
    DOS_DATE_1980 = 0x21,    /* 1980-01-01: year 0, month 1, day 1 */
    FLAG_UTF8 = 1 << 11,     /* the name is UTF-8 (bytes >= 0x80 are not CP437) */
};

/* -rw-r--r--, a regular file, in the high half as Unix zip tools store it. */
#define EXTERNAL_ATTR ((uint32_t)0100644 << 16)

static unsigned char *put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    return put16(put16(p, v & 0xffffu), v >> 16);
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
    return put32(put32(p, (uint32_t)v), (uint32_t)(v >> 32));
}

static uint32_t sat32(uint64_t v, int zip64)
{
    return zip64 || v >= SAT32 ? SAT32 : (uint32_t)v;
}

static nnf_status emit(nnf__zip_writer *w, const void *bytes, size_t n)
{
    if (n > 0 && fwrite(bytes, 1, n, w->f) != n)
        return nnf__io_fail(w->ctx, NNF_ERR_IO, "cannot write: %s", strerror(errno));
    w->offset += n;
    return NNF_OK;
}

static int name_is_utf8(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] >= 0x80)
            return 1;
    return 0;
}

nnf_status nnf__zip_writer_init(nnf__zip_writer *w, FILE *f, size_t max_members,
                                int force_zip64, const nnf__io_ctx *ctx)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->force_zip64 = force_zip64;
    w->ctx = ctx;
    if (max_members > 0) {
        if (max_members > SIZE_MAX / sizeof *w->entries)
            return nnf__io_fail(ctx, NNF_ERR_OVERFLOW, "%zu members are too many",
                                max_members);
        w->entries = nnf__alloc(max_members * sizeof *w->entries);
        if (w->entries == NULL)
            return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory for %zu members",
                                max_members);
    }
    w->cap = max_members;
    return NNF_OK;
}

void nnf__zip_writer_free(nnf__zip_writer *w)
{
    if (w->entries != NULL)
        nnf__dealloc(w->entries, w->cap * sizeof *w->entries);
    w->entries = NULL;
}

nnf_status nnf__zip_begin(nnf__zip_writer *w, const char *name, size_t name_len,
                          uint64_t size)
{
    if (w->count == w->cap || name_len == 0 || name_len > SAT16)
        return nnf__io_fail(w->ctx, NNF_ERR_INVALID,
                            "a member name must have 1 to 65535 bytes, got %zu", name_len);
    nnf__zip_entry *e = &w->entries[w->count++];
    *e = (nnf__zip_entry){name, name_len, (uint32_t)crc32(0L, Z_NULL, 0), size, w->offset};
    w->left = size;
    int zip64 = w->force_zip64 || size >= SAT32;
    /* The CRC stays 0 until nnf__zip_end knows it. */
    unsigned char h[30 + 20], *p = h;
    p = put32(p, SIG_LOCAL);
    p = put16(p, zip64 ? VERSION_ZIP64 : VERSION_PLAIN);
    p = put16(p, name_is_utf8(name, name_len) ? FLAG_UTF8 : 0);
    p = put16(p, NNF__ZIP_STORED);
    p = put16(p, 0);
    p = put16(p, DOS_DATE_1980);
    p = put32(p, 0);
    p = put32(p, sat32(size, zip64));
    p = put32(p, sat32(size, zip64));
    p = put16(p, (unsigned)name_len);
    p = put16(p, zip64 ? 20 : 0);
    size_t fixed = (size_t)(p - h);
    /* A local zip64 field holds both sizes, whichever needed it (APPNOTE 4.5.3). */
    if (zip64) {
        p = put16(put16(p, 1), 16);
        p = put64(put64(p, size), size);
    }
    nnf_status st = emit(w, h, fixed);
    if (st == NNF_OK)
        st = emit(w, name, name_len);
    if (st == NNF_OK)
        st = emit(w, h + fixed, (size_t)(p - h) - fixed);
    return st;
}

nnf_status nnf__zip_write(nnf__zip_writer *w, const void *bytes, size_t n)
{
    nnf__zip_entry *e = &w->entries[w->count - 1];
    if (n > w->left)
        return nnf__io_fail(w->ctx, NNF_ERR_INVALID,
                            "member data of %zu bytes exceeds its declared %" PRIu64, n,
                            w->left);
    const unsigned char *p = bytes;
    for (size_t done = 0; done < n;) {
        /* crc32 takes a 32-bit length */
        size_t step = n - done < ((size_t)1 << 30) ? n - done : (size_t)1 << 30;
        e->crc32 = (uint32_t)crc32(e->crc32, p + done, (uInt)step);
        done += step;
    }
    w->left -= n;
    return emit(w, bytes, n);
}

nnf_status nnf__zip_end(nnf__zip_writer *w)
{
    const nnf__zip_entry *e = &w->entries[w->count - 1];
    if (w->left != 0)
        return nnf__io_fail(w->ctx, NNF_ERR_INVALID,
                            "member data ends %" PRIu64 " bytes short of its declared %" PRIu64,
                            w->left, e->size);
    unsigned char crc[4];
    put32(crc, e->crc32);
    /* the CRC field is 14 bytes into the local header */
    if (fseeko(w->f, (off_t)(e->header_offset + 14), SEEK_SET) != 0 ||
        fwrite(crc, 1, 4, w->f) != 4 || fseeko(w->f, 0, SEEK_END) != 0)
        return nnf__io_fail(w->ctx, NNF_ERR_IO, "cannot write: %s", strerror(errno));
    return NNF_OK;
}

static nnf_status write_central(nnf__zip_writer *w, const nnf__zip_entry *e)
{
    int big_size = w->force_zip64 || e->size >= SAT32;
    int big_offset = w->force_zip64 || e->header_offset >= SAT32;
    unsigned version = big_size || big_offset ? VERSION_ZIP64 : VERSION_PLAIN;
    unsigned extra = (big_size ? 16u : 0u) + (big_offset ? 8u : 0u);
    unsigned char h[46 + 4 + 24], *p = h;
    p = put32(p, SIG_CENTRAL);
    p = put16(p, MADE_BY_UNIX | version);
    p = put16(p, version);
    p = put16(p, name_is_utf8(e->name, e->name_len) ? FLAG_UTF8 : 0);
    p = put16(p, NNF__ZIP_STORED);
    p = put16(p, 0);
    p = put16(p, DOS_DATE_1980);
    p = put32(p, e->crc32);
    p = put32(p, big_size ? SAT32 : (uint32_t)e->size);
    p = put32(p, big_size ? SAT32 : (uint32_t)e->size);
    p = put16(p, (unsigned)e->name_len);
    p = put16(p, extra > 0 ? 4 + extra : 0);
    p = put16(p, 0);            /* comment */
    p = put16(p, 0);            /* disk */
    p = put16(p, 0);            /* internal attributes */
    p = put32(p, EXTERNAL_ATTR);
    p = put32(p, big_offset ? SAT32 : (uint32_t)e->header_offset);
    size_t fixed = (size_t)(p - h);
    if (extra > 0) {
        p = put16(put16(p, 1), extra);
        if (big_size)
            p = put64(put64(p, e->size), e->size);
        if (big_offset)
            p = put64(p, e->header_offset);
    }
    nnf_status st = emit(w, h, fixed);
    if (st == NNF_OK)
        st = emit(w, e->name, e->name_len);
    if (st == NNF_OK)
        st = emit(w, h + fixed, (size_t)(p - h) - fixed);
    return st;
}

nnf_status nnf__zip_writer_finish(nnf__zip_writer *w)
{
    uint64_t cd_offset = w->offset;
    for (size_t i = 0; i < w->count; i++)
        NNF_FORWARD(write_central(w, &w->entries[i]));
    uint64_t cd_size = w->offset - cd_offset, count = w->count;
    int zip64 = w->force_zip64 || count >= SAT16 || cd_size >= SAT32 || cd_offset >= SAT32;
    unsigned char h[56 + 20 + 22], *p = h;
    if (zip64) {
        uint64_t end64 = w->offset;
        p = put32(p, SIG_END64);
        p = put64(p, 44);       /* the record's size after this field */
        p = put16(p, MADE_BY_UNIX | VERSION_ZIP64);
        p = put16(p, VERSION_ZIP64);
        p = put32(p, 0);        /* this disk */
        p = put32(p, 0);        /* the central directory's disk */
        p = put64(p, count);
        p = put64(p, count);
        p = put64(p, cd_size);
        p = put64(p, cd_offset);
        p = put32(p, SIG_LOCATOR64);
        p = put32(p, 0);
        p = put64(p, end64);
        p = put32(p, 1);        /* disks in all */
    }
    unsigned entries = zip64 && (w->force_zip64 || count >= SAT16) ? SAT16 : (unsigned)count;
    p = put32(p, SIG_END);
    p = put16(p, 0);
    p = put16(p, 0);
    p = put16(p, entries);
    p = put16(p, entries);
    p = put32(p, sat32(cd_size, w->force_zip64));
    p = put32(p, sat32(cd_offset, w->force_zip64));
    p = put16(p, 0);            /* comment */
    return emit(w, h, (size_t)(p - h));
}
