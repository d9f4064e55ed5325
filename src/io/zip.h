/* The part of the zip format (PKWARE's APPNOTE 6.3) that numpy's savez and
 * savez_compressed write: members stored or deflated, zip64 extensions, data
 * descriptors. No encryption, no multi-disk archives, no other compression methods.
 *
 * The reader works on the whole archive in memory and trusts nothing in it: every
 * offset and size is checked against the bytes that are really there before it is
 * used, members may not overlap or repeat a name, and a member's bytes are only handed
 * out through nnf__zip_read, which checks the deflate stream, the sizes and the CRC-32.
 * The writer writes stored members and a central directory, zip64 only where a size or
 * an offset needs it (or everywhere, for tests). */
#ifndef NNF_IO_ZIP_H
#define NNF_IO_ZIP_H

#include <stdint.h>
#include <stdio.h>
/* next_in is const: the reader never writes to the archive's bytes. */
#define ZLIB_CONST
#include <zlib.h>

#include "src/io/io_error.h"

enum { NNF__ZIP_STORED = 0, NNF__ZIP_DEFLATED = 8 };

/* ---- Reading ---- */

typedef struct {
    const char *name;          /* into the archive's bytes: name_len bytes, no NUL */
    size_t name_len;
    int method;                /* NNF__ZIP_STORED or NNF__ZIP_DEFLATED */
    uint32_t crc32;            /* of the uncompressed bytes */
    uint64_t csize, usize;     /* compressed and uncompressed sizes, in bytes */
    uint64_t header_offset;    /* the member's local header */
    uint64_t data_offset;      /* its compressed bytes, csize of them, all in the archive */
} nnf__zip_member;

typedef struct {
    const unsigned char *bytes;
    size_t nbytes;
    nnf__zip_member *members;  /* in central-directory order (numpy's .files order) */
    size_t count;
} nnf__zip;

/* Parses and validates the archive's structure (not the members' data). `bytes` must
 * outlive the zip. Errors: NNF_ERR_PARSE (not a zip, truncated, inconsistent),
 * NNF_ERR_UNSUPPORTED (encryption, multi-disk, a method other than stored or
 * deflate), NNF_ERR_NOMEM. */
nnf_status nnf__zip_open(nnf__zip *zip, const unsigned char *bytes, size_t nbytes,
                         const nnf__io_ctx *ctx);
void nnf__zip_close(nnf__zip *zip);

/* One member's uncompressed bytes, read front to back. */
typedef struct {
    const nnf__zip_member *m;
    const unsigned char *in;   /* compressed bytes not yet handed to zlib (or copied) */
    uint64_t in_left;
    uint64_t out_left;         /* uncompressed bytes still to come */
    uint32_t crc;
    z_stream z;
    int inflating;             /* z is initialised */
    const nnf__io_ctx *ctx;
} nnf__zip_reader;

nnf_status nnf__zip_reader_open(nnf__zip_reader *r, const nnf__zip *zip, size_t i,
                                const nnf__io_ctx *ctx);
/* Exactly n more bytes; NNF_ERR_PARSE if the member has fewer or its data is corrupt. */
nnf_status nnf__zip_read(nnf__zip_reader *r, void *dst, size_t n);
/* After the last byte: checks that the deflate stream ends there, that no compressed
 * bytes are left over, and the CRC-32. */
nnf_status nnf__zip_reader_finish(nnf__zip_reader *r);
void nnf__zip_reader_close(nnf__zip_reader *r);

/* ---- Writing ---- */

typedef struct {
    const char *name;          /* borrowed from the caller of nnf__zip_begin */
    size_t name_len;
    uint32_t crc32;
    uint64_t size;
    uint64_t header_offset;
} nnf__zip_entry;

typedef struct {
    FILE *f;                   /* seekable: each member's CRC is patched in afterwards */
    uint64_t offset;           /* bytes written so far */
    nnf__zip_entry *entries;
    size_t count, cap;
    int force_zip64;
    uint64_t left;             /* bytes of the current member still to be written */
    const nnf__io_ctx *ctx;
} nnf__zip_writer;

/* Room for up to max_members members. force_zip64 writes every size, offset and count
 * in zip64 form, as a file too large for the plain form would have them. */
nnf_status nnf__zip_writer_init(nnf__zip_writer *w, FILE *f, size_t max_members,
                                int force_zip64, const nnf__io_ctx *ctx);
/* Starts a stored member of exactly `size` bytes; `name` must live until
 * nnf__zip_writer_finish. */
nnf_status nnf__zip_begin(nnf__zip_writer *w, const char *name, size_t name_len,
                          uint64_t size);
nnf_status nnf__zip_write(nnf__zip_writer *w, const void *bytes, size_t n);
/* Ends the member once all its bytes are written. */
nnf_status nnf__zip_end(nnf__zip_writer *w);
/* Writes the central directory and the end records. */
nnf_status nnf__zip_writer_finish(nnf__zip_writer *w);
void nnf__zip_writer_free(nnf__zip_writer *w);

#endif
