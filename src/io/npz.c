/* numpy's .npz: a zip archive of .npy members (nnf/weights.h, npz.h).
 *
 * A file is read whole into memory before anything in it is believed: its real size is
 * then known, and every offset and size the zip reader meets is checked against it.
 * Writing goes to a temporary file beside the target, renamed over it at the end. */
#include "src/io/npz.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/io/npy.h"

/* read(2) moves at most about 2 GiB per call on Linux. */
#define READ_STEP ((size_t)1 << 30)

static nnf_status check_members(const nnf__npz_file *f, const nnf__io_ctx *outer)
{
    nnf__io_ctx ctx = *outer;
    if (f->zip.count > INT_MAX)
        return nnf__io_fail(&ctx, NNF_ERR_UNSUPPORTED, "it has %zu members, more than %d",
                            f->zip.count, INT_MAX);
    for (size_t i = 0; i < f->zip.count; i++) {
        const nnf__zip_member *m = &f->zip.members[i];
        if (m->name_len < 4 || memcmp(m->name + m->name_len - 4, ".npy", 4) != 0) {
            nnf__io_set_member(&ctx, m->name, m->name_len);
            return nnf__io_fail(&ctx, NNF_ERR_PARSE,
                                "not a .npy array: its name does not end in \".npy\"");
        }
    }
    return NNF_OK;
}

nnf_status nnf__npz_file_wrap(nnf__npz_file *f, const void *bytes, size_t nbytes,
                              const nnf__io_ctx *ctx)
{
    memset(f, 0, sizeof *f);
    f->bytes = bytes;
    f->nbytes = nbytes;
    NNF_FORWARD(nnf__zip_open(&f->zip, f->bytes, f->nbytes, ctx));
    nnf_status st = check_members(f, ctx);
    if (st != NNF_OK)
        nnf__zip_close(&f->zip);
    return st;
}

static nnf_status read_all(int fd, unsigned char *buf, size_t size, const nnf__io_ctx *ctx)
{
    size_t got = 0;
    while (got < size) {
        size_t want = size - got < READ_STEP ? size - got : READ_STEP;
        ssize_t r = read(fd, buf + got, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return nnf__io_fail(ctx, NNF_ERR_IO, "cannot read: %s", strerror(errno));
        if (r == 0)
            return nnf__io_fail(ctx, NNF_ERR_IO,
                                "it ended after %zu of its %zu bytes (changed while being "
                                "read?)", got, size);
        got += (size_t)r;
    }
    return NNF_OK;
}

nnf_status nnf__npz_file_read(nnf__npz_file *f, const char *path, const nnf__io_ctx *ctx)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nnf__io_fail(ctx, NNF_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    nnf_status s = NNF_OK;
    if (fstat(fd, &st) != 0)
        s = nnf__io_fail(ctx, NNF_ERR_IO, "cannot read: %s", strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = nnf__io_fail(ctx, NNF_ERR_IO, "cannot read: %s",
                         S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
    else if ((uintmax_t)st.st_size > SIZE_MAX)
        s = nnf__io_fail(ctx, NNF_ERR_OVERFLOW, "its %jd bytes do not fit in memory",
                         (intmax_t)st.st_size);
    size_t size = s == NNF_OK ? (size_t)st.st_size : 0;
    unsigned char *buf = NULL;
    if (s == NNF_OK && (buf = nnf__alloc(size)) == NULL)
        s = nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory for its %zu bytes", size);
    if (s == NNF_OK)
        s = read_all(fd, buf, size, ctx);
    close(fd);
    if (s == NNF_OK)
        s = nnf__npz_file_wrap(f, buf, size, ctx);
    if (s != NNF_OK) {
        nnf__dealloc(buf, size);
        return s;
    }
    f->owned = buf;
    return NNF_OK;
}

void nnf__npz_file_close(nnf__npz_file *f)
{
    nnf__zip_close(&f->zip);
    nnf__dealloc(f->owned, f->nbytes);
    memset(f, 0, sizeof *f);
}

/* ---- nnf_npz: the arrays of one file ---- */

/* One block: n tensor pointers, n key pointers, then the keys' bytes. */
struct nnf_npz {
    int n;
    nnf_tensor **tensors;
    char **keys;
    size_t nbytes;
};

void nnf_npz_free(nnf_npz *npz)
{
    if (npz == NULL)
        return;
    for (int i = 0; i < npz->n; i++)
        nnf_tensor_free(npz->tensors[i]);
    nnf__dealloc(npz, npz->nbytes);
}

nnf_status nnf__npz_load_file(nnf_npz **out, const nnf__npz_file *f, const nnf__io_ctx *outer)
{
    size_t n = f->zip.count, chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += nnf__npz_key_len(&f->zip.members[i]) + 1;   /* bounded by the file size */
    size_t nbytes = sizeof(nnf_npz) + n * (sizeof(nnf_tensor *) + sizeof(char *)) + chars;
    nnf_npz *npz = nnf__calloc(nbytes);
    if (npz == NULL)
        return nnf__io_fail(outer, NNF_ERR_NOMEM, "out of memory for %zu arrays", n);
    npz->nbytes = nbytes;
    npz->tensors = (nnf_tensor **)(npz + 1);
    npz->keys = (char **)(npz->tensors + n);
    char *key = (char *)(npz->keys + n);
    nnf__io_ctx ctx = *outer;
    nnf_status st = NNF_OK;
    for (size_t i = 0; i < n && st == NNF_OK; i++) {
        const nnf__zip_member *m = &f->zip.members[i];
        nnf__io_set_member(&ctx, m->name, m->name_len);
        size_t len = nnf__npz_key_len(m);
        memcpy(key, m->name, len);
        key[len] = '\0';
        npz->keys[i] = key;
        key += len + 1;
        nnf__npy_reader r;
        st = nnf__npy_open(&r, &f->zip, i, &ctx);
        if (st == NNF_OK)
            st = nnf__npy_read_data(&r, &npz->tensors[i]);
        nnf__npy_close(&r);
        npz->n = (int)i + (st == NNF_OK);
    }
    if (st != NNF_OK) {
        nnf_npz_free(npz);
        return st;
    }
    *out = npz;
    return NNF_OK;
}

nnf_status nnf_npz_load(nnf_npz **out, const char *path)
{
    NNF_RETURN_IF(out == NULL || path == NULL, NNF_ERR_NULL,
                  "nnf_npz_load: out and path must not be NULL");
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_npz_load", path);
    nnf__npz_file f;
    NNF_FORWARD(nnf__npz_file_read(&f, path, &ctx));
    nnf_status st = nnf__npz_load_file(out, &f, &ctx);
    nnf__npz_file_close(&f);
    return st;
}

int nnf_npz_len(const nnf_npz *npz)
{
    return npz != NULL ? npz->n : 0;
}

const char *nnf_npz_key(const nnf_npz *npz, int i)
{
    return npz != NULL && i >= 0 && i < npz->n ? npz->keys[i] : NULL;
}

nnf_tensor *nnf_npz_tensor(const nnf_npz *npz, int i)
{
    return npz != NULL && i >= 0 && i < npz->n ? npz->tensors[i] : NULL;
}

nnf_tensor *nnf_npz_get(const nnf_npz *npz, const char *key)
{
    for (int i = 0; key != NULL && i < nnf_npz_len(npz); i++)
        if (strcmp(npz->keys[i], key) == 0)
            return npz->tensors[i];
    return NULL;
}

/* ---- Writing ---- */

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys are names of zip members once ".npy" is added: at most 65535 bytes. */
#define MAX_KEY_LEN (0xffff - 4)

static nnf_status check_arrays(int n, const char *const *keys, const nnf_tensor *const *tensors,
                               const nnf__io_ctx *ctx)
{
    if (n < 0)
        return nnf__io_fail(ctx, NNF_ERR_INVALID, "n must be >= 0, got %d", n);
    if (n > 0 && (keys == NULL || tensors == NULL))
        return nnf__io_fail(ctx, NNF_ERR_NULL, "keys and tensors must not be NULL");
    for (int i = 0; i < n; i++) {
        if (keys[i] == NULL || tensors[i] == NULL)
            return nnf__io_fail(ctx, NNF_ERR_NULL, "keys[%d] and tensors[%d] must not be NULL",
                                i, i);
        if (strlen(keys[i]) > MAX_KEY_LEN)
            return nnf__io_fail(ctx, NNF_ERR_INVALID,
                                "keys[%d] has %zu bytes; a key has at most %d", i,
                                strlen(keys[i]), MAX_KEY_LEN);
        if (nnf_tensor_dtype(tensors[i]) != NNF_F32)
            return nnf__io_fail(ctx, NNF_ERR_DTYPE,
                                "tensors[%d] ('%.64s') is not float32; nnf writes float32 "
                                "arrays", i, keys[i]);
    }
    if (n < 2)
        return NNF_OK;
    size_t nbytes = (size_t)n * sizeof(const char *);
    const char **sorted = nnf__alloc(nbytes);
    if (sorted == NULL)
        return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory checking %d keys", n);
    memcpy(sorted, keys, nbytes);
    qsort(sorted, (size_t)n, sizeof *sorted, by_string);
    nnf_status st = NNF_OK;
    for (int i = 0; i + 1 < n && st == NNF_OK; i++)
        if (strcmp(sorted[i], sorted[i + 1]) == 0)
            st = nnf__io_fail(ctx, NNF_ERR_INVALID, "the key '%.64s' is given twice",
                              sorted[i]);
    nnf__dealloc(sorted, nbytes);
    return st;
}

/* Creates "<path>.tmp-<pid>-<k>", a name no other writer uses: O_EXCL fails if it
 * exists. Mode 0666 before the umask, as fopen would create `path` itself. */
static nnf_status open_temp(const char *path, char *tmp, size_t tmp_size, FILE **f,
                            const nnf__io_ctx *ctx)
{
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, tmp_size, "%s.tmp-%ld-%u", path, (long)getpid(),
                 atomic_fetch_add(&counter, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return nnf__io_fail(ctx, NNF_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        *f = fdopen(fd, "wb");
        if (*f != NULL)
            return NNF_OK;
        nnf_status st = nnf__io_fail(ctx, NNF_ERR_NOMEM, "cannot open %s: %s", tmp,
                                     strerror(errno));
        close(fd);
        unlink(tmp);
        return st;
    }
    return nnf__io_fail(ctx, NNF_ERR_IO, "cannot create a temporary file beside it");
}

static nnf_status write_members(FILE *f, int n, const char *const *keys,
                                const nnf_tensor *const *tensors, int force_zip64,
                                const nnf__io_ctx *outer)
{
    nnf__io_ctx ctx = *outer;
    /* Every member's name lives until the central directory is written. */
    size_t names_nbytes = 0;
    for (int i = 0; i < n; i++)
        names_nbytes += strlen(keys[i]) + 4;
    char *names = nnf__alloc(names_nbytes);
    if (names == NULL)
        return nnf__io_fail(&ctx, NNF_ERR_NOMEM, "out of memory for %d member names", n);
    nnf__zip_writer w;
    nnf_status st = nnf__zip_writer_init(&w, f, (size_t)n, force_zip64, &ctx);
    char *name = names;
    for (int i = 0; i < n && st == NNF_OK; i++) {
        size_t len = strlen(keys[i]);
        memcpy(name, keys[i], len);
        memcpy(name + len, ".npy", 4);
        nnf__io_set_member(&ctx, name, len + 4);
        st = nnf__npy_write(&w, name, len + 4, tensors[i]);
        name += len + 4;
    }
    ctx.member[0] = '\0';
    if (st == NNF_OK)
        st = nnf__zip_writer_finish(&w);
    nnf__zip_writer_free(&w);
    nnf__dealloc(names, names_nbytes);
    return st;
}

nnf_status nnf__npz_save(const char *path, int n, const char *const *keys,
                         const nnf_tensor *const *tensors, int force_zip64,
                         const nnf__io_ctx *ctx)
{
    NNF_FORWARD(check_arrays(n, keys, tensors, ctx));
    size_t tmp_size = strlen(path) + 48;
    char *tmp = nnf__alloc(tmp_size);
    if (tmp == NULL)
        return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory");
    FILE *f = NULL;
    nnf_status st = open_temp(path, tmp, tmp_size, &f, ctx);
    if (st == NNF_OK) {
        st = write_members(f, n, keys, tensors, force_zip64, ctx);
        if (fclose(f) != 0 && st == NNF_OK)
            st = nnf__io_fail(ctx, NNF_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        if (st == NNF_OK && rename(tmp, path) != 0)
            st = nnf__io_fail(ctx, NNF_ERR_IO, "cannot rename %s to it: %s", tmp,
                              strerror(errno));
        if (st != NNF_OK)
            unlink(tmp);
    }
    nnf__dealloc(tmp, tmp_size);
    return st;
}

nnf_status nnf_npz_save(const char *path, int n, const char *const *keys,
                        const nnf_tensor *const *tensors)
{
    NNF_RETURN_IF(path == NULL, NNF_ERR_NULL, "nnf_npz_save: path is NULL");
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_npz_save", path);
    return nnf__npz_save(path, n, keys, tensors, 0, &ctx);
}
