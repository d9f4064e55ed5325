/* IDX files, MNIST-format datasets and minibatch loaders.
 *
 * Every file is written by this test itself (plain, and gzip through zlib) from values
 * it keeps, so a read is checked against the values, not against another read. The
 * corrupt cases check the status AND the message: a user reading the error should
 * learn which file, what was expected and what was found. */
#include "nnf_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "src/core/alloc.h"
#include "test_tmpdir.h"

/* ---- Writing IDX files, independently of the reader ---- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (n == 0) return;   /* memcpy to a still-NULL buffer is undefined even for 0 bytes */
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_be(bytes *b, uint64_t v, int nbytes)
{
    unsigned char c[8];
    for (int i = 0; i < nbytes; i++) c[i] = (unsigned char)(v >> (8 * (nbytes - 1 - i)));
    put(b, c, (size_t)nbytes);
}

static void put_header(bytes *b, int type, int ndim, const uint32_t *dims)
{
    unsigned char magic[4] = {0, 0, (unsigned char)type, (unsigned char)ndim};
    put(b, magic, 4);
    for (int d = 0; d < ndim; d++) put_be(b, dims[d], 4);
}

/* An IDX file of `type` holding values[0..n) (doubles, exactly representable). */
static bytes idx_bytes(int type, int ndim, const uint32_t *dims, const double *values, size_t n)
{
    bytes b = {0};
    put_header(&b, type, ndim, dims);
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        switch (type) {
        case 0x08: case 0x09: put_be(&b, (uint64_t)(int64_t)v & 0xff, 1); break;
        case 0x0B: put_be(&b, (uint64_t)(int64_t)v & 0xffff, 2); break;
        case 0x0C: put_be(&b, (uint64_t)(int64_t)v & 0xffffffff, 4); break;
        case 0x0D: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); put_be(&b, u, 4); break; }
        default: { uint64_t u; memcpy(&u, &v, 8); put_be(&b, u, 8); break; }
        }
    }
    return b;
}

static void write_plain(const char *path, const bytes *b)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (b->n) assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const bytes *b)
{
    gzFile gz = gzopen(path, "wb9");
    assert_non_null(gz);
    if (b->n) assert_int_equal(gzwrite(gz, b->p, (unsigned)b->n), (int)b->n);
    assert_int_equal(gzclose(gz), Z_OK);
}

static bytes read_whole(const char *path)
{
    bytes b = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) put(&b, buf, got);
    fclose(f);
    return b;
}

/* The read must fail with `code` and a message containing each of the NULL-terminated
 * fragments, and leave *out untouched. */
static void expect_read_fails(const char *path, nnf_dtype dtype, nnf_status code, ...)
{
    nnf_tensor *sentinel = (nnf_tensor *)&sentinel, *t = sentinel;
    long live = nnf__alloc_live();
    NNF_ASSERT_FAILS(nnf_idx_read(&t, path, dtype), code);
    assert_ptr_equal(t, sentinel);
    assert_int_equal(nnf__alloc_live(), live);
    va_list ap;
    va_start(ap, code);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        if (!strstr(nnf_last_error(), frag))
            fail_msg("message \"%s\" lacks \"%s\"", nnf_last_error(), frag);
    va_end(ap);
}

/* ---- Reading every element type, plain and gzip ---- */

static void check_tensor_values(const nnf_tensor *t, nnf_dtype dtype, int ndim,
                                const uint32_t *dims, const double *values, size_t n)
{
    assert_int_equal(nnf_tensor_dtype(t), dtype);
    assert_int_equal(nnf_tensor_ndim(t), ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(nnf_tensor_size(t, d), dims[d]);
    assert_true(nnf_tensor_is_contiguous(t));
    for (size_t i = 0; i < n; i++) {
        double got = dtype == NNF_F32 ? (double)((const float *)nnf_tensor_raw(t))[i]
                                      : (double)((const int64_t *)nnf_tensor_raw(t))[i];
        if (got != (double)(float)values[i] && !(dtype == NNF_I64 && got == values[i]))
            fail_msg("element %zu: got %.17g, want %.17g", i, got, values[i]);
    }
}

static void test_idx_types(void **state)
{
    (void)state;
    /* Values at each type's extremes, so sign extension and byte order both show. */
    static const struct { int type; double v[6]; } cases[] = {
        {0x08, {0, 1, 127, 128, 200, 255}},
        {0x09, {-128, -1, 0, 1, 100, 127}},
        {0x0B, {-32768, -256, -1, 255, 258, 32767}},
        {0x0C, {-2147483648.0, -65536, -1, 16777216, 123456789, 2147483647.0}},
        {0x0D, {-1.5, 0.1f, 3.0e38f, -0.0, 1e-40f, 7}},
        {0x0E, {-1.5, 0.1, 1e-300, 2.5, 12345.678, -7}},
    };
    const uint32_t dims[3] = {1, 2, 3};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            bytes b = idx_bytes(cases[c].type, 3, dims, cases[c].v, 6);
            for (int gz = 0; gz < 2; gz++) {
                const char *path = tmp_path(gz ? "t.idx.gz" : "t.idx");
                (gz ? write_gz : write_plain)(path, &b);
                nnf_tensor *t = NULL;
                NNF_ASSERT_OK(nnf_idx_read(&t, path, NNF_F32));
                check_tensor_values(t, NNF_F32, 3, dims, cases[c].v, 6);
                nnf_tensor_free(t);
                if (cases[c].type >= 0x0D) {
                    expect_read_fails(path, NNF_I64, NNF_ERR_DTYPE, "cannot be read as NNF_I64",
                                      path, NULL);
                } else {
                    t = NULL;
                    NNF_ASSERT_OK(nnf_idx_read(&t, path, NNF_I64));
                    check_tensor_values(t, NNF_I64, 3, dims, cases[c].v, 6);
                    nnf_tensor_free(t);
                }
            }
            free(b.p);
        }
    }
}

/* Larger than the reader's 64 KiB chunk and not a multiple of it, in both forms. */
static void test_idx_many_chunks(void **state)
{
    (void)state;
    const uint32_t dims[2] = {1001, 300};
    size_t n = 1001 * 300;
    double *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = (double)((i * 2654435761u) >> 13 & 0xffff) - 32768;
    bytes b = idx_bytes(0x0B, 2, dims, v, n);
    NNF_FOR_EACH_ISA(isa) {
        for (int gz = 0; gz < 2; gz++) {
            const char *path = tmp_path(gz ? "big.gz" : "big");
            (gz ? write_gz : write_plain)(path, &b);
            nnf_tensor *t = NULL;
            NNF_ASSERT_OK(nnf_idx_read(&t, path, NNF_F32));
            check_tensor_values(t, NNF_F32, 2, dims, v, n);
            nnf_tensor_free(t);
        }
    }
    free(b.p);
    free(v);
}

/* ---- Files that are not what they claim ---- */

static void test_idx_missing_and_unreadable(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const char *missing = tmp_path("no-such-file.gz");
        expect_read_fails(missing, NNF_F32, NNF_ERR_IO, "cannot open", missing,
                          "No such file or directory", NULL);
        expect_read_fails(tmpdir, NNF_F32, NNF_ERR_IO, tmpdir, "Is a directory", NULL);
        nnf_tensor *t = NULL;
        NNF_ASSERT_FAILS(nnf_idx_read(NULL, missing, NNF_F32), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_idx_read(&t, NULL, NNF_F32), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_idx_read(&t, missing, NNF_BOOL), NNF_ERR_DTYPE);
        assert_null(t);
    }
}

static void test_idx_bad_headers(void **state)
{
    (void)state;
    const uint32_t dims[2] = {2, 3};
    const double v[6] = {1, 2, 3, 4, 5, 6};
    NNF_FOR_EACH_ISA(isa) {
        for (int gz = 0; gz < 2; gz++) {
            void (*write)(const char *, const bytes *) = gz ? write_gz : write_plain;
            const char *path = tmp_path("bad");
            bytes b = {0};
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, path, "is empty", NULL);

            put(&b, "\0\0", 2);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "truncated",
                              "after 2 of the 4 bytes of its magic number", NULL);
            free(b.p);

            /* What a PNG or a text file looks like to the reader. */
            b = (bytes){0};
            put(&b, "\x89PNG\r\n", 6);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "is not an IDX file",
                              "0x89504e47", NULL);
            free(b.p);

            b = (bytes){0};
            put_header(&b, 0x0A, 2, dims);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "unknown IDX type code 0x0a", NULL);
            free(b.p);

            b = (bytes){0};
            put_header(&b, 0x08, 0, dims);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "has 0 dims; nnf reads 1 to 8", NULL);
            free(b.p);

            b = (bytes){0};
            put(&b, "\0\0\x08\x09", 4);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "has 9 dims", NULL);
            free(b.p);

            /* Header promises 2 dims, file ends inside the second. */
            b = (bytes){0};
            put_header(&b, 0x08, 2, dims);
            b.n -= 2;
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE,
                              "truncated: its header ends after 10 of 12 bytes", NULL);
            free(b.p);

            /* Sizes whose product overflows int64. */
            const uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
            b = (bytes){0};
            put_header(&b, 0x08, 3, huge);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_OVERFLOW, "overflows", NULL);
            free(b.p);

            /* Data one element short, and one byte too long. */
            b = idx_bytes(0x0B, 2, dims, v, 6);
            b.n -= 2;
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, path,
                              "is truncated: shape [2, 3] of int16 needs 12 bytes of data, "
                              "the file has 10", NULL);
            put(&b, "\0\1\7", 3);
            write(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE,
                              "has bytes after the 12 bytes of data that shape [2, 3] of int16 "
                              "needs", NULL);
            free(b.p);
        }
    }
}

static void test_idx_corrupt_gzip(void **state)
{
    (void)state;
    const uint32_t dims[1] = {5000};
    double *v = malloc(5000 * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < 5000; i++) v[i] = (i * 37) % 251;
    bytes b = idx_bytes(0x08, 1, dims, v, 5000);
    const char *path = tmp_path("c.gz");
    write_gz(path, &b);
    bytes gz = read_whole(path);
    NNF_FOR_EACH_ISA(isa) {
        /* The gzip trailer is CRC-32 then length; a flipped CRC bit must be noticed
         * even though every data byte decodes. */
        bytes bad = {0};
        put(&bad, gz.p, gz.n);
        bad.p[bad.n - 8] ^= 1;
        write_plain(path, &bad);
        expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "is corrupt", "incorrect data check",
                          NULL);

        /* Cut inside the deflate stream: the reader must not mistake it for the end. */
        bad.n = gz.n / 2;
        memcpy(bad.p, gz.p, bad.n);
        write_plain(path, &bad);
        expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "truncated: its gzip stream ends early",
                          NULL);

        /* Garbage where the compressed blocks are. */
        memcpy(bad.p, gz.p, gz.n);
        bad.n = gz.n;
        /* Byte 10, right after the 10-byte gzip header, starts the first deflate block:
         * 0xff declares block type 3, which deflate reserves. */
        for (size_t i = 10; i < 40; i++) bad.p[i] = 0xff;
        write_plain(path, &bad);
        expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "is corrupt", NULL);
        free(bad.p);
    }
    free(gz.p);
    free(b.p);
    free(v);
}

/* Every allocation the reader makes may fail; none may leak or change *out. */
static void test_idx_alloc_failures(void **state)
{
    (void)state;
    const uint32_t dims[2] = {3, 4};
    const double v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    bytes b = idx_bytes(0x08, 2, dims, v, 12);
    const char *path = tmp_path("a.gz");
    write_gz(path, &b);
    free(b.p);
    NNF_FOR_EACH_ISA(isa) {
        long live = nnf__alloc_live();
        nnf_status st = NNF_ERR_NOMEM;
        for (long k = 1; st == NNF_ERR_NOMEM; k++) {
            nnf_tensor *t = NULL;
            nnf__alloc_fail_after(k);
            st = nnf_idx_read(&t, path, NNF_F32);
            nnf__alloc_fail_after(0);
            if (st == NNF_ERR_NOMEM) {
                assert_null(t);
                assert_int_equal(nnf__alloc_live(), live);
                /* zlib's memory comes from nnf__alloc too; every message names the file */
                if (!strstr(nnf_last_error(), path))
                    fail_msg("allocation %ld: \"%s\" does not name the file", k,
                             nnf_last_error());
            } else {
                NNF_ASSERT_OK(st);
                check_tensor_values(t, NNF_F32, 2, dims, v, 12);
                nnf_tensor_free(t);
            }
        }
        assert_int_equal(nnf__alloc_live(), live);
    }
}

/* Issue 10 item 6: a gzip file's header is checked against what its size can inflate
 * to before the tensor is allocated, as a plain file's is against its size; a header
 * with a zero size is an empty dataset, whatever the other sizes multiply to. */
static void test_idx_sizes_before_allocating(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* 65536 x 262144 bytes: 16 GiB claimed by a file of a few dozen bytes. */
        const uint32_t huge[2] = {65536, 262144};
        bytes b = {0};
        put_header(&b, 0x08, 2, huge);
        put(&b, "\1\2\3", 3);
        const char *path = tmp_path("huge.gz");
        write_gz(path, &b);
        expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, path, "truncated",
                          "needs 17179869184 bytes of data", "bytes of gzip can inflate to", NULL);
        free(b.p);

        const uint32_t empty[3] = {4000000000u, 4000000000u, 0};
        for (int gz = 0; gz < 2; gz++) {
            b = (bytes){0};
            put_header(&b, 0x08, 3, empty);
            path = tmp_path(gz ? "empty.gz" : "empty");
            (gz ? write_gz : write_plain)(path, &b);
            nnf_tensor *t = NULL;
            NNF_ASSERT_OK(nnf_idx_read(&t, path, NNF_I64));
            assert_int_equal(nnf_tensor_ndim(t), 3);
            for (int d = 0; d < 3; d++)
                assert_int_equal(nnf_tensor_shape(t)[d], empty[d]);
            assert_int_equal(nnf_tensor_numel(t), 0);
            nnf_tensor_free(t);
            /* ... and data after it is still refused */
            put(&b, "\7", 1);
            (gz ? write_gz : write_plain)(path, &b);
            expect_read_fails(path, NNF_F32, NNF_ERR_PARSE, "has bytes after the 0 bytes", NULL);
            free(b.p);
        }
    }
}

/* Random corruptions of valid files (a byte changed, the file cut short, bytes added):
 * every read must either succeed with the file's shape or fail with a parse, I/O or
 * size error, never crash, leak, or leave *out changed (ASan runs this too). */
static void test_idx_fuzz(void **state)
{
    (void)state;
    const uint32_t dims[3] = {3, 5, 7};
    double v[105];
    for (int i = 0; i < 105; i++) v[i] = (i * 13) % 256;
    bytes plain = idx_bytes(0x08, 3, dims, v, 105);
    const char *path = tmp_path("fuzz");
    write_gz(path, &plain);
    bytes gz = read_whole(path);
    NNF_FOR_EACH_ISA(isa) {
        uint64_t r = 0x9E3779B97F4A7C15ull + (uint64_t)isa;
        long live = nnf__alloc_live();
        int ok = 0, failed = 0;
        for (int iter = 0; iter < 300; iter++) {
            const bytes *src = iter % 2 ? &gz : &plain;
            bytes b = {0};
            put(&b, src->p, src->n);
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(r >> 33) % b.n;
            switch (iter / 2 % 3) {
            case 0: b.p[at] ^= (unsigned char)(1u << (r >> 29 & 7)); break;
            case 1: b.n = at; break;
            default: put(&b, &r, 1 + (r >> 40) % 7); break;
            }
            write_plain(path, &b);
            nnf_tensor *sentinel = (nnf_tensor *)&sentinel, *t = sentinel;
            nnf_status st = nnf_idx_read(&t, path, iter % 4 < 2 ? NNF_F32 : NNF_I64);
            if (st == NNF_OK) {
                ok++;
                assert_true(nnf_tensor_ndim(t) >= 1);
                nnf_tensor_free(t);
            } else {
                failed++;
                assert_ptr_equal(t, sentinel);
                assert_true(st == NNF_ERR_PARSE || st == NNF_ERR_IO || st == NNF_ERR_OVERFLOW ||
                            st == NNF_ERR_NOMEM || st == NNF_ERR_DTYPE);
                assert_true(strlen(nnf_last_error()) > 0);
            }
            assert_int_equal(nnf__alloc_live(), live);
            free(b.p);
        }
        /* Most corruptions must be caught; a flipped pixel byte is still a valid file. */
        assert_true(failed > ok);
    }
    free(plain.p);
    free(gz.p);
}

/* ---- MNIST-format datasets ---- */

enum { N_IMG = 7, ROWS = 4, COLS = 3 };

/* Writes <split>-images-idx3-ubyte(.gz) with n_img images and <split>-labels... with
 * n_lbl labels, pixel (i, r, c) = (i * 31 + r * 7 + c * 3) % 256, label i % 10. */
static void write_split(const char *split, int n_img, int n_lbl, int gz, int bad_label_at)
{
    char name[128];
    const uint32_t idims[3] = {(uint32_t)n_img, ROWS, COLS}, ldims[1] = {(uint32_t)n_lbl};
    double *px = malloc((size_t)n_img * ROWS * COLS * sizeof *px), lb[64];
    assert_non_null(px);
    for (int i = 0; i < n_img * ROWS * COLS; i++) {
        int img = i / (ROWS * COLS), r = i / COLS % ROWS, c = i % COLS;
        px[i] = (img * 31 + r * 7 + c * 3) % 256;
    }
    for (int i = 0; i < n_lbl; i++) lb[i] = i == bad_label_at ? 10 : i % 10;
    bytes bi = idx_bytes(0x08, 3, idims, px, (size_t)n_img * ROWS * COLS);
    bytes bl = idx_bytes(0x08, 1, ldims, lb, (size_t)n_lbl);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", split, gz ? ".gz" : "");
    (gz ? write_gz : write_plain)(tmp_path(name), &bi);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", split, gz ? ".gz" : "");
    (gz ? write_gz : write_plain)(tmp_path(name), &bl);
    free(bi.p);
    free(bl.p);
    free(px);
}

static void test_mnist_load(void **state)
{
    (void)state;
    write_split("gzsplit", N_IMG, N_IMG, 1, -1);
    write_split("plainsplit", N_IMG, N_IMG, 0, -1);
    NNF_FOR_EACH_ISA(isa) {
        for (int gz = 0; gz < 2; gz++) {
            nnf_dataset d = {0};
            NNF_ASSERT_OK(nnf_mnist_load(&d, tmpdir, gz ? "gzsplit" : "plainsplit"));
            assert_int_equal(nnf_tensor_ndim(d.x), 2);
            assert_int_equal(nnf_tensor_size(d.x, 0), N_IMG);
            assert_int_equal(nnf_tensor_size(d.x, 1), ROWS * COLS);
            assert_int_equal(nnf_tensor_dtype(d.y), NNF_I64);
            assert_int_equal(nnf_tensor_size(d.y, 0), N_IMG);
            const float *x = nnf_tensor_data(d.x);
            const int64_t *y = nnf_tensor_raw(d.y);
            for (int i = 0; i < N_IMG; i++) {
                assert_int_equal(y[i], i % 10);
                for (int r = 0; r < ROWS; r++)
                    for (int c = 0; c < COLS; c++) {
                        /* pixel / 255 rounded once, as PyTorch's ToTensor computes it */
                        float want = (float)((i * 31 + r * 7 + c * 3) % 256) / 255.0f;
                        assert_true(x[i * ROWS * COLS + r * COLS + c] == want);
                    }
            }

            /* Normalising with the set's own statistics gives mean 0, std 1. */
            float mean, std;
            NNF_ASSERT_OK(nnf_dataset_stats(&d, &mean, &std));
            double m = 0, s = 0, n = N_IMG * ROWS * COLS;
            for (int i = 0; i < n; i++) m += x[i];
            m /= n;
            for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
            s = sqrt(s / n);
            assert_float_equal(mean, m, 1e-6);
            assert_float_equal(std, s, 1e-6);
            NNF_ASSERT_OK(nnf_dataset_normalize(&d, mean, std));
            NNF_ASSERT_OK(nnf_dataset_stats(&d, &mean, &std));
            assert_float_equal(mean, 0.0, 1e-6);
            assert_float_equal(std, 1.0, 1e-6);
            NNF_ASSERT_FAILS(nnf_dataset_normalize(&d, 0.5f, 0.0f), NNF_ERR_INVALID);
            NNF_ASSERT_FAILS(nnf_dataset_normalize(&d, NAN, 1.0f), NNF_ERR_INVALID);
            NNF_ASSERT_FAILS(nnf_dataset_normalize(&d, 0.0f, INFINITY), NNF_ERR_INVALID);
            nnf_dataset_free(&d);
            assert_null(d.x);
            nnf_dataset_free(&d);
            nnf_dataset_free(NULL);
        }
    }
}

static void expect_load_fails(const char *split, nnf_status code, const char *frag1,
                              const char *frag2)
{
    nnf_dataset d = {0};
    long live = nnf__alloc_live();
    NNF_ASSERT_FAILS(nnf_mnist_load(&d, tmpdir, split), code);
    assert_null(d.x);
    assert_null(d.y);
    assert_int_equal(nnf__alloc_live(), live);
    if (!strstr(nnf_last_error(), frag1) || (frag2 && !strstr(nnf_last_error(), frag2)))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", nnf_last_error(), frag1,
                 frag2 ? frag2 : "");
}

static void test_mnist_errors(void **state)
{
    (void)state;
    write_split("fewer", N_IMG, N_IMG - 1, 1, -1);
    write_split("badlabel", N_IMG, N_IMG, 1, 5);
    write_split("onlyimages", N_IMG, N_IMG, 1, -1);
    unlink(tmp_path("onlyimages-labels-idx1-ubyte.gz"));
    NNF_FOR_EACH_ISA(isa) {
        expect_load_fails("fewer", NNF_ERR_SHAPE, "has 7 images but", "has 6 labels");
        expect_load_fails("badlabel", NNF_ERR_PARSE, "label 10 at index 5 is outside 0..9",
                          "badlabel-labels-idx1-ubyte.gz");
        expect_load_fails("nosuchsplit", NNF_ERR_IO, "nosuchsplit-images-idx3-ubyte.gz' nor",
                          "No such file or directory");
        expect_load_fails("onlyimages", NNF_ERR_IO, "onlyimages-labels-idx1-ubyte.gz' nor",
                          NULL);
        nnf_dataset d = {0};
        NNF_ASSERT_FAILS(nnf_mnist_load(NULL, tmpdir, "x"), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_mnist_load(&d, NULL, "x"), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_dataset_stats(&d, NULL, NULL), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_dataset_normalize(&d, 0, 1), NNF_ERR_NULL);
    }
}

/* Images whose counts agree but whose files are the wrong kind (labels as images). */
static void test_mnist_wrong_dims(void **state)
{
    (void)state;
    write_split("swapped", N_IMG, N_IMG, 1, -1);
    const char *img = tmp_path("swapped-images-idx3-ubyte.gz");
    const char *lbl = tmp_path("swapped-labels-idx1-ubyte.gz");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", img);
    assert_int_equal(rename(img, tmp), 0);
    assert_int_equal(rename(lbl, img), 0);
    assert_int_equal(rename(tmp, lbl), 0);
    NNF_FOR_EACH_ISA(isa) {
        expect_load_fails("swapped", NNF_ERR_SHAPE, "has 1 dims; images need 3", NULL);
    }
}

/* The real Fashion-MNIST, when Debian's dataset-fashion-mnist is installed. */
static void test_fashion_mnist(void **state)
{
    (void)state;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (access("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", R_OK) != 0)
        skip();
    nnf_dataset d = {0};
    NNF_ASSERT_OK(nnf_mnist_load(&d, dir, "t10k"));
    assert_int_equal(nnf_tensor_size(d.x, 0), 10000);
    assert_int_equal(nnf_tensor_size(d.x, 1), 784);
    /* The test split is balanced: 1000 images per class. */
    int64_t count[10] = {0};
    const int64_t *y = nnf_tensor_raw(d.y);
    for (int i = 0; i < 10000; i++) count[y[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(count[c], 1000);
    /* Published first test label: 9 (ankle boot). */
    assert_int_equal(y[0], 9);
    float mean, std;
    NNF_ASSERT_OK(nnf_dataset_stats(&d, &mean, &std));
    /* numpy in double over the same floats: mean 0.2868493, std 0.3524442 (biased). */
    assert_float_equal(mean, 0.2868493, 2e-6);
    assert_float_equal(std, 0.3524442, 2e-6);
    nnf_dataset_free(&d);
}

/* ---- Minibatch loaders ---- */

static void test_loader_batches(void **state)
{
    (void)state;
    enum { N = 23, F = 5 };
    float xv[N * F];
    int64_t yv[N];
    for (int i = 0; i < N * F; i++) xv[i] = (float)i;
    for (int i = 0; i < N; i++) yv[i] = 100 + i;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *y = NULL;
        NNF_ASSERT_OK(nnf_from_data(&x, xv, NNF_SHAPE(N, F)));
        NNF_ASSERT_OK(nnf_empty_typed(&y, NNF_SHAPE(N), NNF_I64));
        memcpy(nnf_tensor_raw(y), yv, sizeof yv);
        for (int64_t bs = 1; bs <= N + 2; bs += 3) {
            nnf_loader *l = NULL;
            NNF_ASSERT_OK(nnf_loader_new(&l, x, y, bs, 7));
            assert_int_equal(nnf_loader_len(l), (N + bs - 1) / bs);
            assert_int_equal(nnf_loader_size(l), N);
            for (int epoch = 0; epoch < 3; epoch++) {
                int seen[N] = {0};
                int in_order = 1;
                for (int64_t i = 0; i < nnf_loader_len(l); i++) {
                    nnf_tensor *xb, *yb;
                    NNF_ASSERT_OK(nnf_loader_get_batch(l, &xb, &yb, i));
                    int64_t rows = nnf_tensor_size(xb, 0);
                    assert_int_equal(rows, i < nnf_loader_len(l) - 1 || N % bs == 0
                                               ? (bs < N ? bs : N) : N % bs);
                    assert_int_equal(nnf_tensor_size(xb, 1), F);
                    assert_int_equal(nnf_tensor_size(yb, 0), rows);
                    assert_true(nnf_tensor_is_contiguous(xb));
                    const float *xd = nnf_tensor_data(xb);
                    const int64_t *yd = nnf_tensor_raw(yb);
                    for (int64_t r = 0; r < rows; r++) {
                        int64_t row = yd[r] - 100;   /* the label says which row this is */
                        assert_true(row >= 0 && row < N);
                        seen[row]++;
                        in_order &= row == i * bs + r;
                        for (int f = 0; f < F; f++) assert_true(xd[r * F + f] == xv[row * F + f]);
                    }
                }
                for (int r = 0; r < N; r++) assert_int_equal(seen[r], 1);
                /* Epoch 0 is in order; shuffled epochs are not (23! orders, p ~ 4e-23). */
                assert_int_equal(in_order, epoch == 0);
                NNF_ASSERT_OK(nnf_loader_shuffle(l));
            }
            nnf_loader_free(l);
        }
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }
}

/* The order is a function of the seed alone; each epoch draws a new one. */
static void test_loader_shuffle_seeded(void **state)
{
    (void)state;
    enum { N = 50 };
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL;
        NNF_ASSERT_OK(nnf_arange(&x, 0, N, 1));
        nnf_loader *a = NULL, *b = NULL, *c = NULL;
        NNF_ASSERT_OK(nnf_loader_new(&a, x, NULL, N, 123));
        NNF_ASSERT_OK(nnf_loader_new(&b, x, NULL, N, 123));
        NNF_ASSERT_OK(nnf_loader_new(&c, x, NULL, N, 124));
        float prev[N];
        for (int epoch = 0; epoch < 4; epoch++) {
            NNF_ASSERT_OK(nnf_loader_shuffle(a));
            NNF_ASSERT_OK(nnf_loader_shuffle(b));
            NNF_ASSERT_OK(nnf_loader_shuffle(c));
            nnf_tensor *xa, *xb, *xc, *ya = (nnf_tensor *)&ya;
            NNF_ASSERT_OK(nnf_loader_get_batch(a, &xa, &ya, 0));
            assert_null(ya);
            NNF_ASSERT_OK(nnf_loader_get_batch(b, &xb, NULL, 0));
            NNF_ASSERT_OK(nnf_loader_get_batch(c, &xc, NULL, 0));
            const float *pa = nnf_tensor_data(xa), *pb = nnf_tensor_data(xb),
                        *pc = nnf_tensor_data(xc);
            assert_memory_equal(pa, pb, N * sizeof(float));
            assert_memory_not_equal(pa, pc, N * sizeof(float));
            if (epoch) assert_memory_not_equal(pa, prev, N * sizeof(float));
            memcpy(prev, pa, sizeof prev);
        }
        nnf_loader_free(a);
        nnf_loader_free(b);
        nnf_loader_free(c);
        nnf_tensor_free(x);
    }
}

/* Fisher-Yates must give every element every position equally often: 3 elements over
 * 6000 shuffles, each of the 9 (element, position) cells expects 2000 (sd ~37). */
static void test_loader_shuffle_uniform(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL;
        NNF_ASSERT_OK(nnf_arange(&x, 0, 3, 1));
        nnf_loader *l = NULL;
        NNF_ASSERT_OK(nnf_loader_new(&l, x, NULL, 3, 99));
        int count[3][3] = {{0}};
        for (int s = 0; s < 6000; s++) {
            NNF_ASSERT_OK(nnf_loader_shuffle(l));
            nnf_tensor *xb;
            NNF_ASSERT_OK(nnf_loader_get_batch(l, &xb, NULL, 0));
            const float *p = nnf_tensor_data(xb);
            for (int pos = 0; pos < 3; pos++) count[(int)p[pos]][pos]++;
        }
        for (int e = 0; e < 3; e++)
            for (int pos = 0; pos < 3; pos++)
                if (count[e][pos] < 1800 || count[e][pos] > 2200)
                    fail_msg("element %d at position %d %d times of 6000", e, pos,
                             count[e][pos]);
        nnf_loader_free(l);
        nnf_tensor_free(x);
        break;   /* the RNG runs no kernels: one ISA proves it */
    }
}

/* Non-contiguous x (a transposed view) and 4-d images keep their trailing shape. */
static void test_loader_views_and_shapes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *base = NULL, *xt = NULL, *img = NULL;
        NNF_ASSERT_OK(nnf_arange(&base, 0, 12, 1));
        nnf_tensor *m = NULL;
        NNF_ASSERT_OK(nnf_view(&m, base, NNF_SHAPE(3, 4)));
        NNF_ASSERT_OK(nnf_t(&xt, m));   /* 4 rows of 3: row r is r, r+4, r+8 */
        nnf_loader *l = NULL;
        NNF_ASSERT_OK(nnf_loader_new(&l, xt, NULL, 3, 1));
        nnf_tensor *xb;
        NNF_ASSERT_OK(nnf_loader_get_batch(l, &xb, NULL, 1));
        assert_int_equal(nnf_tensor_size(xb, 0), 1);
        const float *p = nnf_tensor_data(xb);
        assert_true(p[0] == 3 && p[1] == 7 && p[2] == 11);
        nnf_loader_free(l);

        NNF_ASSERT_OK(nnf_zeros(&img, NNF_SHAPE(10, 1, 28, 28)));
        NNF_ASSERT_OK(nnf_loader_new(&l, img, NULL, 4, 1));
        NNF_ASSERT_OK(nnf_loader_get_batch(l, &xb, NULL, 0));
        assert_int_equal(nnf_tensor_ndim(xb), 4);
        assert_int_equal(nnf_tensor_size(xb, 0), 4);
        assert_int_equal(nnf_tensor_size(xb, 3), 28);
        nnf_loader_free(l);
        nnf_tensor_free(img);
        nnf_tensor_free(m);
        nnf_tensor_free(xt);
        nnf_tensor_free(base);
    }
}

static void test_loader_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *y = NULL, *s = NULL, *empty = NULL;
        NNF_ASSERT_OK(nnf_zeros(&x, NNF_SHAPE(10, 2)));
        NNF_ASSERT_OK(nnf_zeros(&y, NNF_SHAPE(9)));
        NNF_ASSERT_OK(nnf_zeros(&s, 0, NULL));
        NNF_ASSERT_OK(nnf_zeros(&empty, NNF_SHAPE(0, 3)));
        nnf_loader *l = NULL;
        NNF_ASSERT_FAILS(nnf_loader_new(&l, x, y, 4, 0), NNF_ERR_SHAPE);
        assert_non_null(strstr(nnf_last_error(), "x has 10 rows but y has 9"));
        NNF_ASSERT_FAILS(nnf_loader_new(&l, x, NULL, 0, 0), NNF_ERR_INVALID);
        assert_non_null(strstr(nnf_last_error(), "batch_size must be >= 1, got 0"));
        NNF_ASSERT_FAILS(nnf_loader_new(&l, s, NULL, 4, 0), NNF_ERR_SHAPE);
        NNF_ASSERT_FAILS(nnf_loader_new(&l, empty, NULL, 4, 0), NNF_ERR_INVALID);
        NNF_ASSERT_FAILS(nnf_loader_new(&l, NULL, NULL, 4, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_loader_new(NULL, x, NULL, 4, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_loader_new(&l, x, s, 4, 0), NNF_ERR_SHAPE);
        assert_null(l);

        NNF_ASSERT_OK(nnf_loader_new(&l, x, NULL, 4, 0));
        nnf_tensor *xb = NULL;
        NNF_ASSERT_FAILS(nnf_loader_get_batch(l, &xb, NULL, 3), NNF_ERR_INDEX);
        assert_non_null(strstr(nnf_last_error(), "batch 3 is out of range for 3 batches"));
        NNF_ASSERT_FAILS(nnf_loader_get_batch(l, &xb, NULL, -1), NNF_ERR_INDEX);
        NNF_ASSERT_FAILS(nnf_loader_get_batch(l, NULL, NULL, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_loader_get_batch(NULL, &xb, NULL, 0), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_loader_shuffle(NULL), NNF_ERR_NULL);
        assert_null(xb);
        assert_int_equal(nnf_loader_len(NULL), 0);
        nnf_loader_free(l);
        nnf_loader_free(NULL);

        /* Allocation failures at every point of creation and shuffling leak nothing. */
        long live = nnf__alloc_live();
        nnf_status st = NNF_ERR_NOMEM;
        for (long k = 1; st == NNF_ERR_NOMEM; k++) {
            l = NULL;
            nnf__alloc_fail_after(k);
            st = nnf_loader_new(&l, x, x, 3, 0);
            if (st == NNF_OK) st = nnf_loader_shuffle(l);
            nnf__alloc_fail_after(0);
            nnf_loader_free(l);
            assert_int_equal(nnf__alloc_live(), live);
        }
        NNF_ASSERT_OK(st);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
        nnf_tensor_free(s);
        nnf_tensor_free(empty);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_types),
        cmocka_unit_test(test_idx_many_chunks),
        cmocka_unit_test(test_idx_missing_and_unreadable),
        cmocka_unit_test(test_idx_bad_headers),
        cmocka_unit_test(test_idx_corrupt_gzip),
        cmocka_unit_test(test_idx_alloc_failures),
        cmocka_unit_test(test_idx_sizes_before_allocating),
        cmocka_unit_test(test_idx_fuzz),
        cmocka_unit_test(test_mnist_load),
        cmocka_unit_test(test_mnist_errors),
        cmocka_unit_test(test_mnist_wrong_dims),
        cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_loader_batches),
        cmocka_unit_test(test_loader_shuffle_seeded),
        cmocka_unit_test(test_loader_shuffle_uniform),
        cmocka_unit_test(test_loader_views_and_shapes),
        cmocka_unit_test(test_loader_errors),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
