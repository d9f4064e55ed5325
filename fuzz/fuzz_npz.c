/* Fuzz target: nnf's .npz reader (src/io: the zip layer, .npy headers, conversion) and
 * nnf_model_load_npz on top of it.
 *
 * Input: the bytes of a file, as they are; the seed corpus (fuzz/corpus/npz/, made by
 * scripts/npz_fixtures.py --fuzz-corpus) holds what numpy writes in each of its forms.
 *
 * Properties:
 * - reading never fails other than with a status: no crash, no read outside the input
 *   (libFuzzer hands over a buffer of exactly its size, so ASan sees the first byte
 *   beyond it), nothing leaked (nnf__alloc_live); a failure's message starts with the
 *   function and the file's name, and the output handle stays NULL;
 * - what loads survives a round trip: written back by nnf's writer and read again, the
 *   same keys, shapes and bits;
 * - the model path agrees with the plain one: loading into a fixed model (Lin(2, 3),
 *   ReLU, Lin(3, 1)) succeeds exactly when the archive loads and holds that model's
 *   names and shapes and nothing else, and then every parameter holds the loaded array's
 *   bits; after a failure every parameter holds the bits it had;
 * - no single allocation is larger than 1032 times the input (deflate's densest code
 *   inflates no more than that) plus 64 KiB: a small archive that claims a huge member
 *   must be caught before its memory is asked for.
 *
 * With NNF_FUZZ_PLANT=npz, fuzz_npz_planted's library leaves a central entry's comment
 * length unchecked (src/io/zip_read.c) and this target finds the read beyond the archive
 * (scripts/fuzz.sh planted proves it).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "src/io/npy.h"
#include "src/io/npz.h"

#define NAME "fuzz.npz"
/* Archives of more arrays skip the round trip (a 4096-byte input holds at most ~45). */
#define MAX_ARRAYS 64

static int same_tensor(const nnf_tensor *a, const nnf_tensor *b)
{
    int64_t n = nnf_tensor_numel(a);
    return nnf_tensor_ndim(a) == nnf_tensor_ndim(b) &&
           memcmp(nnf_tensor_shape(a), nnf_tensor_shape(b),
                  (size_t)nnf_tensor_ndim(a) * sizeof(int64_t)) == 0 &&
           (n == 0 || memcmp(nnf_tensor_data(a), nnf_tensor_data(b), (size_t)n * 4) == 0);
}

/* Reads `bytes` with nnf_npz_load's code; on failure checks the message and NULL. */
static nnf_npz *load(const void *bytes, size_t n)
{
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_npz_load", NAME);
    nnf__npz_file f;
    nnf_npz *z = NULL;
    nnf_status st = nnf__npz_file_wrap(&f, bytes, n, &ctx);
    if (st == NNF_OK) {
        st = nnf__npz_load_file(&z, &f, &ctx);
        nnf__npz_file_close(&f);
    }
    if (st != NNF_OK) {
        CHECK(z == NULL, "nnf_npz_load failed (%s) but set its output", nnf_status_str(st));
        CHECK(strncmp(nnf_last_error(), "nnf_npz_load: " NAME ": ", 24) == 0,
              "the message does not name the function and file");
    }
    return z;
}

/* nnf's writer, into a file in memory (memfd: seekable, as the writer needs): the
 * archive nnf_npz_save would write, read back whole. */
static unsigned char *write_back(const nnf_npz *z, size_t *n)
{
    int fd = memfd_create("fuzz_npz", 0);
    CHECK(fd >= 0, "memfd_create");
    FILE *f = fdopen(fd, "w+b");
    CHECK(f != NULL, "fdopen");
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "fuzz", "memory");
    nnf__zip_writer w;
    CHECK(nnf__zip_writer_init(&w, f, (size_t)nnf_npz_len(z), 0, &ctx) == NNF_OK, "writer");
    char member[MAX_ARRAYS][16];
    for (int i = 0; i < nnf_npz_len(z); i++) {
        /* keys from the file can be long: the round trip uses short names of its own */
        snprintf(member[i], sizeof member[i], "%d.npy", i);
        CHECK(nnf__npy_write(&w, member[i], strlen(member[i]), nnf_npz_tensor(z, i)) == NNF_OK,
              "writing array %d back", i);
    }
    CHECK(nnf__zip_writer_finish(&w) == NNF_OK, "finishing the archive");
    nnf__zip_writer_free(&w);
    *n = (size_t)w.offset;
    unsigned char *buf = malloc(*n + 1);
    CHECK(buf != NULL && fflush(f) == 0 && pread(fd, buf, *n, 0) == (ssize_t)*n, "reading back");
    fclose(f);
    return buf;
}

static void round_trip(const nnf_npz *z)
{
    if (nnf_npz_len(z) > MAX_ARRAYS)
        return;
    size_t n;
    unsigned char *buf = write_back(z, &n);
    nnf_npz *again = load(buf, n);
    CHECK(again != NULL, "nnf's own archive of what loaded does not load");
    CHECK(nnf_npz_len(again) == nnf_npz_len(z), "%d arrays written, %d read back",
          nnf_npz_len(z), nnf_npz_len(again));
    for (int i = 0; i < nnf_npz_len(z); i++)
        CHECK(same_tensor(nnf_npz_tensor(z, i), nnf_npz_tensor(again, i)),
              "array %d changed in the round trip", i);
    nnf_npz_free(again);
    free(buf);
}

/* ---- The model ---- */

static nnf_model *model;
static const char *const names[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
static float before[6 + 3 + 3 + 1];

static void make_model(void)
{
    nnf_layer *l[3];
    if (nnf_model_new(&model, NULL) != NNF_OK ||
        nnf_layer_linear(&l[0], NULL, 2, 3, NNF_INIT_KAIMING) || nnf_model_add(model, l[0]) || nnf_layer_relu(&l[1]) || nnf_model_add(model, l[1]) ||
        nnf_layer_linear(&l[2], NULL, 3, 1, NNF_INIT_KAIMING) || nnf_model_add(model, l[2]))
        broken("cannot build the model");
}

static void params_to(float *dst)
{
    for (int i = 0; i < 4; i++) {
        const nnf_tensor *p = nnf_model_parameters(model)[i];
        memcpy(dst, nnf_tensor_data(p), (size_t)nnf_tensor_numel(p) * 4);
        dst += nnf_tensor_numel(p);
    }
}

/* Whether z holds exactly the model's names with its shapes. */
static int fits_model(const nnf_npz *z)
{
    if (z == NULL || nnf_npz_len(z) != 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        const nnf_tensor *t = nnf_npz_get(z, names[i]);
        const nnf_tensor *p = nnf_model_parameters(model)[i];
        if (t == NULL || nnf_tensor_ndim(t) != nnf_tensor_ndim(p) ||
            memcmp(nnf_tensor_shape(t), nnf_tensor_shape(p),
                   (size_t)nnf_tensor_ndim(p) * sizeof(int64_t)) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (model == NULL)
        make_model();
    long live = nnf__alloc_live();
    size_t cap = 1032 * size + 65536;
    nnf__alloc_cap(cap);
    nnf_npz *z = load(data, size);
    if (z != NULL) {
        for (int i = 0; i < nnf_npz_len(z); i++) {
            const nnf_tensor *t = nnf_npz_tensor(z, i);
            CHECK(nnf_tensor_dtype(t) == NNF_F32 && nnf_tensor_is_contiguous(t),
                  "array %d is not a contiguous float32 tensor", i);
        }
        round_trip(z);
    }

    params_to(before);
    nnf_status st = nnf__model_load_npz_bytes(model, data, size, NAME);
    int expect = fits_model(z);
    CHECK((st == NNF_OK) == expect, "the model load %s (%s), the plain load says it should %s",
          st == NNF_OK ? "succeeded" : "failed", nnf_status_str(st), expect ? "succeed" : "fail");
    if (st == NNF_OK) {
        for (int i = 0; i < 4; i++)
            CHECK(same_tensor(nnf_model_parameters(model)[i], nnf_npz_get(z, names[i])),
                  "parameter %s differs from the array of its name", names[i]);
    } else {
        float after[sizeof before / sizeof before[0]];
        params_to(after);
        CHECK(memcmp(before, after, sizeof before) == 0, "a failed load changed the model");
        CHECK(strncmp(nnf_last_error(), "nnf_model_load_npz: " NAME ": ", 30) == 0,
              "the message does not name the function and file");
    }
    nnf_npz_free(z);
    long over = nnf__alloc_over_cap();
    nnf__alloc_cap(0);
    CHECK(over == 0, "an archive of %zu bytes asked for more than %zu bytes at once", size, cap);
    CHECK(nnf__alloc_live() == live, "%ld blocks leaked", nnf__alloc_live() - live);
    return 0;
}
