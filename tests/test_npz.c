/* Weights in and out (nnf/weights.h): numpy .npz files with PyTorch's state_dict names.
 *
 * Files numpy and PyTorch wrote (tests/npz/, made by scripts/npz_fixtures.py) are read
 * and checked against the formula their values came from, bit for bit, and against
 * numpy's own float64 -> float32 rounding; models PyTorch trained predict what PyTorch
 * predicted, within a bound any summation order meets; nnf's own files round-trip to the
 * same bits and the same predictions. Damaged files (every truncation, every single-byte
 * change, and crafted lies about sizes, names, shapes and offsets) must give an error
 * naming the file and leave the model bit for bit as it was, with nothing leaked; so must
 * every allocation failure. That numpy and torch read nnf's files is checked from Python
 * (tests/npz_interop.py). */
#include "nnf_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/alloc.h"
#include "src/io/npz.h"
#include "test_tmpdir.h"

static const char *fixture(const char *name)
{
    static char path[512];
    const char *dir = getenv("NNF_NPZ_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/npz", name);
    return path;
}

typedef struct {
    unsigned char *p;
    size_t n;
} bytes;

static bytes read_bytes(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    bytes b = {malloc((size_t)n + 1), (size_t)n};
    assert_non_null(b.p);
    assert_int_equal(fread(b.p, 1, b.n, f), b.n);
    fclose(f);
    return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void assert_message_has(const char *needle)
{
    if (strstr(nnf_last_error(), needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", nnf_last_error(), needle);
}

/* ---- The values the fixtures hold ---- */

/* value(i, salt) of scripts/npz_fixtures.py, as float64: an exact integer divided once. */
static double fixture_value(int64_t i, int64_t salt)
{
    return (double)(((i + salt) * 7919) % 1000 - 500) / 37.0;
}

/* Asserts t has `shape` and holds value(i, salt) rounded to float32, bit for bit. */
static void assert_fixture(const nnf_tensor *t, int ndim, const int64_t *shape, int64_t salt)
{
    assert_non_null(t);
    assert_int_equal(nnf_tensor_dtype(t), NNF_F32);
    assert_int_equal(nnf_tensor_ndim(t), ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(nnf_tensor_shape(t)[d], shape[d]);
    assert_true(nnf_tensor_is_contiguous(t));
    int64_t n = nnf_tensor_numel(t);
    float *want = malloc((size_t)n * sizeof(float) + 1);
    for (int64_t i = 0; i < n; i++)
        want[i] = (float)fixture_value(i, salt);
    if (n > 0)
        nnf_test_assert_bits_equal(nnf_tensor_data(t), want, (size_t)n);
    free(want);
}

/* The arrays of plain_arrays() in the script, with their key suffix. */
static void assert_plain(const nnf_npz *z, const char *suffix, int big)
{
    char key[32];
    snprintf(key, sizeof key, "a%s", suffix);
    assert_fixture(nnf_npz_get(z, key), NNF_SHAPE(2, 3), 1);
    snprintf(key, sizeof key, "b%s", suffix);
    assert_fixture(nnf_npz_get(z, key), NNF_SHAPE(3), 2);
    snprintf(key, sizeof key, "s%s", suffix);
    assert_fixture(nnf_npz_get(z, key), 0, NULL, 3);
    snprintf(key, sizeof key, "e%s", suffix);
    assert_fixture(nnf_npz_get(z, key), NNF_SHAPE(0, 4), 4);
    if (big) {
        snprintf(key, sizeof key, "big%s", suffix);
        assert_fixture(nnf_npz_get(z, key), NNF_SHAPE(100, 50), 5);
    }
}

static nnf_npz *load_fixture(const char *name)
{
    nnf_npz *z = NULL;
    NNF_ASSERT_OK(nnf_npz_load(&z, fixture(name)));
    return z;
}

/* Everything numpy.savez and numpy.savez_compressed write, read to the formula's bits. */
static void test_numpy_files(void **state)
{
    (void)state;
    long live = nnf__alloc_live();
    static const struct { const char *file; int big, count; } plain[] = {
        {"savez_f32.npz", 1, 6},        {"savez_compressed.npz", 1, 5},
        {"savez_f64.npz", 0, 4},        {"zip64.npz", 0, 4},
        {"zip64_compressed.npz", 1, 5}, {"descriptors.npz", 1, 5},
        {"npy_v2.npz", 0, 4},           {"npy_v3.npz", 0, 4},
    };
    for (size_t f = 0; f < sizeof plain / sizeof plain[0]; f++) {
        nnf_npz *z = load_fixture(plain[f].file);
        assert_int_equal(nnf_npz_len(z), plain[f].count);
        /* numpy's order: the order savez was given the arrays in */
        assert_string_equal(nnf_npz_key(z, 0), "a");
        assert_string_equal(nnf_npz_key(z, 3), "e");
        assert_ptr_equal(nnf_npz_tensor(z, 0), nnf_npz_get(z, "a"));
        assert_null(nnf_npz_key(z, plain[f].count));
        assert_null(nnf_npz_tensor(z, -1));
        assert_null(nnf_npz_get(z, "missing"));
        assert_plain(z, "", plain[f].big);
        nnf_npz_free(z);
    }
    nnf_npz *z = load_fixture("savez_be.npz");
    assert_int_equal(nnf_npz_len(z), 8);
    assert_plain(z, "_f4", 0);
    assert_plain(z, "_f8", 0);
    nnf_npz_free(z);

    /* Fortran order: the same logical values as the C-order arrays */
    z = load_fixture("fortran.npz");
    assert_fixture(nnf_npz_get(z, "f32"), NNF_SHAPE(3, 4, 5), 6);
    assert_fixture(nnf_npz_get(z, "f64be"), NNF_SHAPE(4, 7), 7);
    assert_fixture(nnf_npz_get(z, "vec"), NNF_SHAPE(6), 8);
    assert_fixture(nnf_npz_get(z, "big"), NNF_SHAPE(100, 50), 5);
    nnf_npz_free(z);
    nnf_npz_free(NULL);
    assert_int_equal(nnf__alloc_live(), live);
}

/* float32 keeps its bits, NaN payloads and signs included; float64 rounds exactly as
 * numpy's astype(float32) did when it wrote the expected values. */
static void test_conversion_rule(void **state)
{
    (void)state;
    nnf_npz *z = load_fixture("savez_f32.npz");
    /* the bit patterns scripts/npz_fixtures.py wrote (f32_specials) */
    static const uint32_t bits[] = {0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0x80000000,
                                    0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7f7fffff};
    const nnf_tensor *t = nnf_npz_get(z, "f32_specials");
    assert_int_equal(nnf_tensor_numel(t), 10);
    assert_memory_equal(nnf_tensor_data(t), bits, sizeof bits);
    nnf_npz_free(z);

    z = load_fixture("specials.npz");
    const nnf_tensor *got = nnf_npz_get(z, "f64"), *want = nnf_npz_get(z, "expected");
    assert_int_equal(nnf_tensor_numel(got), nnf_tensor_numel(want));
    nnf_test_assert_bits_equal(nnf_tensor_data(got), nnf_tensor_data(want),
                               (size_t)nnf_tensor_numel(want));
    nnf_npz_free(z);

    long live = nnf__alloc_live();
    NNF_ASSERT_FAILS(nnf_npz_load(&z, fixture("f64_overflow.npz")), NNF_ERR_OVERFLOW);
    assert_message_has("f64_overflow.npz: member 'bad.npy': its float64 element [1, 1]");
    NNF_ASSERT_FAILS(nnf_npz_load(&z, fixture("int64.npz")), NNF_ERR_DTYPE);
    assert_message_has("member 'labels.npy': its dtype '<i8' is not supported");
    assert_int_equal(nnf__alloc_live(), live);
}

/* ---- Models ---- */

/* The architectures of the torch_* fixtures: nn.Sequential(Linear(8, 16), ReLU(),
 * Linear(16, 4)) and the CNN below; weights from `seed`. */
static nnf_model *new_mlp(uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_model *m = NULL;
    nnf_layer *l[3];
    NNF_ASSERT_OK(nnf_model_new(&m, NULL));
    NNF_ASSERT_OK(nnf_layer_linear(&l[0], &rng, 8, 16, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[1]));
    NNF_ASSERT_OK(nnf_layer_linear(&l[2], &rng, 16, 4, NNF_INIT_KAIMING));
    for (int i = 0; i < 3; i++)
        NNF_ASSERT_OK(nnf_model_add(m, l[i]));
    return m;
}

/* Conv2d(1, 4, 3, padding=1), ReLU, Conv2d(4, 8, 3, stride=2, padding=1), ReLU,
 * Flatten, Linear(128, 3), on 8x8 images; the biases drawn too, so that a swap of
 * weight and bias cannot go unseen. */
static nnf_model *new_cnn(uint64_t seed)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, seed);
    nnf_model *m = NULL;
    nnf_layer *l[6];
    NNF_ASSERT_OK(nnf_model_new(&m, NULL));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l[0], &rng, 1, 4, 3, 1, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[1]));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&l[2], &rng, 4, 8, 3, 2, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[3]));
    NNF_ASSERT_OK(nnf_layer_flatten(&l[4]));
    NNF_ASSERT_OK(nnf_layer_linear(&l[5], &rng, 128, 3, NNF_INIT_KAIMING));
    for (int i = 0; i < 6; i++)
        NNF_ASSERT_OK(nnf_model_add(m, l[i]));
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        nnf_tensor *p = nnf_model_parameters(m)[i];
        if (nnf_tensor_ndim(p) == 1)
            for (int64_t j = 0; j < nnf_tensor_numel(p); j++)
                nnf_tensor_data(p)[j] = (float)(0.01 * (double)(j + 1 + i));
    }
    return m;
}

/* Every parameter's bits, in model order. */
typedef struct {
    float *v;
    size_t n;
} snapshot;

static snapshot take_snapshot(const nnf_model *m)
{
    snapshot s = {0};
    for (int i = 0; i < nnf_model_num_parameters(m); i++)
        s.n += (size_t)nnf_tensor_numel(nnf_model_parameters(m)[i]);
    s.v = malloc(s.n * sizeof(float) + 1);
    size_t at = 0;
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        const nnf_tensor *p = nnf_model_parameters(m)[i];
        nnf_tensor *c = NULL;
        NNF_ASSERT_OK(nnf_contiguous(&c, p));
        memcpy(s.v + at, nnf_tensor_data(c), (size_t)nnf_tensor_numel(p) * sizeof(float));
        at += (size_t)nnf_tensor_numel(p);
        nnf_tensor_free(c);
    }
    return s;
}

static void assert_snapshot(const nnf_model *m, const snapshot *s)
{
    snapshot now = take_snapshot(m);
    assert_int_equal(now.n, s->n);
    nnf_test_assert_bits_equal(now.v, s->v, s->n);
    free(now.v);
}

/* PyTorch's predictions from weights PyTorch saved through numpy (savez for the MLP,
 * savez_compressed for the CNN), within the bound the script computed: any two
 * summation orders of a float32 dot product of K terms differ by at most
 * 2 gamma_K sum|terms|, added over the layers. */
static void check_torch_model(nnf_model *m, const char *weights, const char *io)
{
    NNF_ASSERT_OK(nnf_model_load_npz(m, fixture(weights)));
    nnf_npz *z = load_fixture(io);
    nnf_tensor *y = NULL;
    NNF_ASSERT_OK(nnf_model_infer(m, &y, nnf_npz_get(z, "x")));
    const nnf_tensor *want = nnf_npz_get(z, "y"), *tol = nnf_npz_get(z, "tol");
    assert_int_equal(nnf_tensor_numel(y), nnf_tensor_numel(want));
    double worst = 0;
    for (int64_t i = 0; i < nnf_tensor_numel(y); i++) {
        double d = fabs((double)nnf_tensor_data(y)[i] - (double)nnf_tensor_data(want)[i]);
        if (!(d <= nnf_tensor_data(tol)[i]))
            fail_msg("%s output %lld: nnf %.9g, PyTorch %.9g, bound %.3g", weights, (long long)i,
                     (double)nnf_tensor_data(y)[i], (double)nnf_tensor_data(want)[i],
                     (double)nnf_tensor_data(tol)[i]);
        worst = fmax(worst, d / nnf_tensor_data(tol)[i]);
    }
    print_message("%s: largest difference %.2g of the bound\n", weights, worst);
    nnf_npz_free(z);
}

static void test_torch_models(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_model *mlp = new_mlp(3), *cnn = new_cnn(4);
        check_torch_model(mlp, "torch_mlp.npz", "torch_mlp_io.npz");
        check_torch_model(mlp, "torch_mlp_f64.npz", "torch_mlp_io.npz");
        check_torch_model(cnn, "torch_cnn.npz", "torch_cnn_io.npz");
        nnf_model_free(mlp);
        nnf_model_free(cnn);
    }
    nnf_test_restore_isa();
}

/* nnf -> file -> nnf: the same parameters, the same predictions, to the bit; the same
 * model saved twice gives the same bytes. */
static void round_trip(nnf_model *(*make)(uint64_t), const nnf_tensor *x, int force_zip64)
{
    nnf_model *a = make(11), *b = make(12);
    const char *path = tmp_path("round.npz");
    if (force_zip64) {
        nnf__io_ctx ctx;
        nnf__io_init(&ctx, "test", path);
        int n = nnf_model_num_parameters(a);
        /* the names nnf_model_save_npz gives: written here by hand as another check */
        const char *mlp_keys[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
        const char *cnn_keys[] = {"0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"};
        NNF_ASSERT_OK(nnf__npz_save(path, n, n == 4 ? mlp_keys : cnn_keys,
                                    (const nnf_tensor *const *)nnf_model_parameters(a), 1, &ctx));
    } else {
        NNF_ASSERT_OK(nnf_model_save_npz(a, path));
    }
    NNF_ASSERT_OK(nnf_model_load_npz(b, path));
    snapshot sa = take_snapshot(a);
    assert_snapshot(b, &sa);
    free(sa.v);
    nnf_tensor *ya = NULL, *yb = NULL;
    NNF_ASSERT_OK(nnf_model_infer(a, &ya, (nnf_tensor *)x));
    NNF_ASSERT_OK(nnf_model_infer(b, &yb, (nnf_tensor *)x));
    nnf_test_assert_bits_equal(nnf_tensor_data(yb), nnf_tensor_data(ya),
                               (size_t)nnf_tensor_numel(ya));
    if (!force_zip64) {
        bytes first = read_bytes(path);
        NNF_ASSERT_OK(nnf_model_save_npz(b, tmp_path("again.npz")));
        bytes second = read_bytes(tmp_path("again.npz"));
        assert_int_equal(first.n, second.n);
        assert_memory_equal(first.p, second.p, first.n);
        free(first.p);
        free(second.p);
    }
    nnf_model_free(a);
    nnf_model_free(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    nnf_rng rng;
    nnf_rng_seed(&rng, 5);
    nnf_tensor *x2 = NULL, *x4 = NULL;
    NNF_ASSERT_OK(nnf_randn(&x2, &rng, NNF_SHAPE(7, 8)));
    NNF_ASSERT_OK(nnf_randn(&x4, &rng, NNF_SHAPE(3, 1, 8, 8)));
    NNF_FOR_EACH_ISA(isa) {
        long live = nnf__alloc_live();
        for (int zip64 = 0; zip64 <= 1; zip64++) {
            round_trip(new_mlp, x2, zip64);
            round_trip(new_cnn, x4, zip64);
        }
        assert_int_equal(nnf__alloc_live(), live);
    }
    nnf_test_restore_isa();
    nnf_tensor_free(x2);
    nnf_tensor_free(x4);
}

/* nnf_npz_save of views (read through their strides), scalars, empty and 8-d arrays;
 * nnf_npz_load gives them back in C order. */
static void test_npz_save_load(void **state)
{
    (void)state;
    long live = nnf__alloc_live();
    nnf_tensor *base = NULL, *tr = NULL, *ex = NULL, *sc = NULL, *em = NULL, *d8 = NULL;
    NNF_ASSERT_OK(nnf_arange(&base, 0, 12, 1));
    nnf_tensor *m34 = NULL;
    NNF_ASSERT_OK(nnf_view(&m34, base, NNF_SHAPE(3, 4)));
    NNF_ASSERT_OK(nnf_t(&tr, m34));                              /* 4 x 3, strides (1, 4) */
    NNF_ASSERT_OK(nnf_expand(&ex, base, NNF_SHAPE(2, 12)));      /* a stride-0 dim */
    NNF_ASSERT_OK(nnf_full(&sc, 0, NULL, -2.5f));
    NNF_ASSERT_OK(nnf_empty(&em, NNF_SHAPE(3, 0)));
    NNF_ASSERT_OK(nnf_ones(&d8, NNF_SHAPE(1, 2, 1, 2, 1, 2, 1, 2)));
    const char *keys[] = {"t", "expanded", "scalar", "empty", "8d", "\xc3\xa9t\xc3\xa9"};
    const nnf_tensor *ts[] = {tr, ex, sc, em, d8, base};
    const char *path = tmp_path("arrays.npz");
    NNF_ASSERT_OK(nnf_npz_save(path, 6, keys, ts));
    nnf_npz *z = NULL;
    NNF_ASSERT_OK(nnf_npz_load(&z, path));
    assert_int_equal(nnf_npz_len(z), 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(nnf_npz_key(z, i), keys[i]);
        const nnf_tensor *got = nnf_npz_tensor(z, i);
        assert_int_equal(nnf_tensor_ndim(got), nnf_tensor_ndim(ts[i]));
        assert_memory_equal(nnf_tensor_shape(got), nnf_tensor_shape(ts[i]),
                            (size_t)nnf_tensor_ndim(got) * sizeof(int64_t));
        nnf_tensor *want = NULL;
        NNF_ASSERT_OK(nnf_contiguous(&want, ts[i]));
        if (nnf_tensor_numel(want) > 0)
            nnf_test_assert_bits_equal(nnf_tensor_data(got), nnf_tensor_data(want),
                                       (size_t)nnf_tensor_numel(want));
        nnf_tensor_free(want);
    }
    nnf_npz_free(z);

    /* an empty archive is a valid .npz (numpy.savez with no arrays) */
    NNF_ASSERT_OK(nnf_npz_save(tmp_path("none.npz"), 0, NULL, NULL));
    NNF_ASSERT_OK(nnf_npz_load(&z, tmp_path("none.npz")));
    assert_int_equal(nnf_npz_len(z), 0);
    nnf_npz_free(z);

    /* arguments */
    const char *dup[] = {"a", "b", "a"};
    const nnf_tensor *three[] = {sc, sc, sc};
    NNF_ASSERT_FAILS(nnf_npz_save(path, 3, dup, three), NNF_ERR_INVALID);
    assert_message_has("the key 'a' is given twice");
    nnf_tensor *idx = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&idx, NNF_SHAPE(2), NNF_I64));
    const nnf_tensor *bad[] = {sc, idx};
    NNF_ASSERT_FAILS(nnf_npz_save(path, 2, keys, bad), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_npz_save(path, -1, keys, ts), NNF_ERR_INVALID);
    NNF_ASSERT_FAILS(nnf_npz_save(path, 2, NULL, ts), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_npz_save(NULL, 0, NULL, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_npz_load(NULL, path), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_npz_save(tmp_path("no/such/dir.npz"), 0, NULL, NULL), NNF_ERR_IO);
    assert_message_has("no/such/dir.npz: cannot create");
    /* the failed saves left the first file as it was */
    NNF_ASSERT_OK(nnf_npz_load(&z, path));
    assert_int_equal(nnf_npz_len(z), 6);
    nnf_npz_free(z);
    NNF_ASSERT_FAILS(nnf_npz_load(&z, tmp_path("missing.npz")), NNF_ERR_IO);
    assert_message_has("missing.npz: cannot open: No such file or directory");
    NNF_ASSERT_FAILS(nnf_npz_load(&z, tmpdir), NNF_ERR_IO);

    NNF_TEST_FREE(base, m34, tr, ex, sc, em, d8, idx);
    assert_int_equal(nnf__alloc_live(), live);
}

/* ---- Names, shapes and the transaction ---- */

/* A layer of one's own with one parameter, a scale stored as a transposed view (so that
 * loading has to write through strides). */
typedef struct {
    nnf_tensor *base, *scale;
} scale_state;

static nnf_status scale_forward(nnf_layer *self, const nnf_tensor *in, nnf_tensor **out)
{
    (void)self;
    return nnf_relu(out, in);
}

static nnf_status scale_backward(nnf_layer *self, const nnf_tensor *g, nnf_tensor *in_g)
{
    (void)self, (void)g, (void)in_g;
    return NNF_OK;
}

static nnf_tensor *scale_parameter(nnf_layer *self, int i)
{
    return i == 0 ? ((scale_state *)nnf_layer_state(self))->scale : NULL;
}

static void scale_destroy(void *state)
{
    scale_state *s = state;
    nnf_tensor_free(s->base);
    nnf_tensor_free(s->scale);
    free(s);
}

static const nnf_layer_fn scale_fn = {"Scale", scale_forward, scale_backward, scale_parameter,
                                      scale_destroy};

static nnf_layer *new_scale(int expanded)
{
    scale_state *s = calloc(1, sizeof *s);
    NNF_ASSERT_OK(nnf_arange(&s->base, 0, 6, 1));
    nnf_tensor *v = NULL;
    if (expanded) {
        NNF_ASSERT_OK(nnf_narrow(&v, s->base, 0, 0, 3));
        NNF_ASSERT_OK(nnf_expand(&s->scale, v, NNF_SHAPE(2, 3)));
    } else {
        NNF_ASSERT_OK(nnf_view(&v, s->base, NNF_SHAPE(2, 3)));
        NNF_ASSERT_OK(nnf_t(&s->scale, v));
    }
    nnf_tensor_free(v);
    nnf_layer *l = NULL;
    NNF_ASSERT_OK(nnf_layer_new(&l, &scale_fn, s));
    return l;
}

static void test_state_dict_names(void **state)
{
    (void)state;
    long live = nnf__alloc_live();
    nnf_model *m = new_mlp(1);
    NNF_ASSERT_OK(nnf_model_add(m, new_scale(0)));
    const char *path = tmp_path("names.npz");
    NNF_ASSERT_OK(nnf_model_save_npz(m, path));
    nnf_npz *z = NULL;
    NNF_ASSERT_OK(nnf_npz_load(&z, path));
    const char *want[] = {"0.weight", "0.bias", "2.weight", "2.bias", "3.0"};
    assert_int_equal(nnf_npz_len(z), 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(nnf_npz_key(z, i), want[i]);
    const nnf_tensor *s = nnf_npz_get(z, "3.0");
    assert_int_equal(nnf_tensor_shape(s)[0], 3);
    assert_int_equal(nnf_tensor_shape(s)[1], 2);
    /* the transposed view, stored in C order: [[0, 3], [1, 4], [2, 5]] */
    static const float scale_t[] = {0, 3, 1, 4, 2, 5};
    nnf_test_assert_bits_equal(nnf_tensor_data(s), scale_t, 6);

    /* load into a model whose scale differs: written back through the strides */
    nnf_model *m2 = new_mlp(2);
    nnf_layer *sc = new_scale(0);
    NNF_ASSERT_OK(nnf_model_add(m2, sc));
    nnf_tensor *p = nnf_layer_parameter(sc, 0);
    NNF_ASSERT_OK(nnf_fill(p, 7.0f));
    NNF_ASSERT_OK(nnf_model_load_npz(m2, path));
    snapshot sm = take_snapshot(m);
    assert_snapshot(m2, &sm);
    free(sm.v);
    nnf_npz_free(z);
    nnf_model_free(m);
    nnf_model_free(m2);

    /* an expanded parameter cannot take one value per element */
    m = new_mlp(1);
    NNF_ASSERT_OK(nnf_model_add(m, new_scale(1)));
    NNF_ASSERT_OK(nnf_model_save_npz(m, path));
    snapshot before = take_snapshot(m);
    NNF_ASSERT_FAILS(nnf_model_load_npz(m, path), NNF_ERR_STRIDE);
    assert_message_has("parameter 3.0 has a dim of stride 0");
    assert_snapshot(m, &before);
    free(before.v);
    nnf_model_free(m);
    assert_int_equal(nnf__alloc_live(), live);
}

/* Loading rewrites the weights in place: a backward pending from the last forward would
 * mix old activations with new weights, so it is refused until the next forward. */
static void test_load_invalidates_backward(void **state)
{
    (void)state;
    nnf_loss *loss = NULL;
    NNF_ASSERT_OK(nnf_loss_mse(&loss));
    nnf_model *m = NULL;
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    nnf_layer *l = NULL;
    NNF_ASSERT_OK(nnf_layer_linear(&l, NULL, 3, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, l));
    const char *path = tmp_path("lin.npz");
    NNF_ASSERT_OK(nnf_model_save_npz(m, path));
    nnf_tensor *x = NULL, *y = NULL;
    NNF_ASSERT_OK(nnf_ones(&x, NNF_SHAPE(2, 3)));
    NNF_ASSERT_OK(nnf_zeros(&y, NNF_SHAPE(2, 1)));
    float v;
    NNF_ASSERT_OK(nnf_model_call(m, &v, x, y));
    NNF_ASSERT_OK(nnf_model_load_npz(m, path));
    NNF_ASSERT_FAILS(nnf_model_backward(m), NNF_ERR_STATE);
    NNF_ASSERT_FAILS(nnf_layer_backward(l, 0), NNF_ERR_STATE);
    NNF_ASSERT_OK(nnf_model_call(m, &v, x, y));
    NNF_ASSERT_OK(nnf_model_backward(m));
    /* a failed load leaves a pending backward alone */
    NNF_ASSERT_OK(nnf_model_call(m, &v, x, y));
    NNF_ASSERT_FAILS(nnf_model_load_npz(m, fixture("torch_mlp.npz")), NNF_ERR_INVALID);
    NNF_ASSERT_OK(nnf_model_backward(m));
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_model_free(m);
}

/* Strict like load_state_dict: missing and unexpected names, other shapes. */
static void test_wrong_names_and_shapes(void **state)
{
    (void)state;
    long live = nnf__alloc_live();
    nnf_model *mlp = new_mlp(1), *cnn = new_cnn(2);
    snapshot s_mlp = take_snapshot(mlp), s_cnn = take_snapshot(cnn);

    NNF_ASSERT_FAILS(nnf_model_load_npz(mlp, fixture("torch_cnn.npz")), NNF_ERR_INVALID);
    assert_message_has("torch_cnn.npz: Error(s) in loading state_dict: Unexpected key(s) in "
                       "state_dict: \"5.weight\", \"5.bias\".");
    NNF_ASSERT_FAILS(nnf_model_load_npz(cnn, fixture("torch_mlp.npz")), NNF_ERR_INVALID);
    assert_message_has("Missing key(s) in state_dict: \"5.weight\", \"5.bias\".");
    NNF_ASSERT_FAILS(nnf_model_load_npz(mlp, fixture("savez_f32.npz")), NNF_ERR_INVALID);
    assert_message_has("Missing key(s) in state_dict: \"0.weight\", \"0.bias\", \"2.weight\", "
                       "\"2.bias\". Unexpected key(s) in state_dict: \"a\", \"b\", \"s\"");

    /* the right names with other shapes: nn.Linear(8, 16) saved, (16, 8) expected */
    nnf_model *wide = NULL;
    nnf_layer *l[3];
    NNF_ASSERT_OK(nnf_model_new(&wide, NULL));
    NNF_ASSERT_OK(nnf_layer_linear(&l[0], NULL, 8, 12, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&l[1]));
    NNF_ASSERT_OK(nnf_layer_linear(&l[2], NULL, 12, 4, NNF_INIT_KAIMING));
    for (int i = 0; i < 3; i++)
        NNF_ASSERT_OK(nnf_model_add(wide, l[i]));
    const char *path = tmp_path("wide.npz");
    NNF_ASSERT_OK(nnf_model_save_npz(wide, path));
    NNF_ASSERT_FAILS(nnf_model_load_npz(mlp, path), NNF_ERR_SHAPE);
    assert_message_has("wide.npz: size mismatch for 0.weight: copying a param with shape "
                       "[12, 8] from checkpoint, the shape in current model is [16, 8]");

    /* one float64 weight beyond float32's range, in the last array: the three before it
     * were read and converted, and still nothing is written */
    NNF_ASSERT_FAILS(nnf_model_load_npz(mlp, fixture("torch_mlp_f64_overflow.npz")),
                     NNF_ERR_OVERFLOW);
    assert_message_has("member '2.bias.npy': its float64 element [3] = 1e+39 is beyond");
    assert_snapshot(mlp, &s_mlp);
    assert_snapshot(cnn, &s_cnn);
    free(s_mlp.v);
    free(s_cnn.v);
    nnf_model_free(mlp);
    nnf_model_free(cnn);
    nnf_model_free(wide);
    NNF_ASSERT_FAILS(nnf_model_load_npz(NULL, path), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_model_save_npz(NULL, path), NNF_ERR_NULL);
    assert_int_equal(nnf__alloc_live(), live);
}

/* ---- Damaged files ---- */

/* Puts a snapshot's bits back into m's (contiguous) parameters. */
static void restore(nnf_model *m, const snapshot *s)
{
    size_t at = 0;
    for (int i = 0; i < nnf_model_num_parameters(m); i++) {
        nnf_tensor *p = nnf_model_parameters(m)[i];
        memcpy(nnf_tensor_data(p), s->v + at, (size_t)nnf_tensor_numel(p) * sizeof(float));
        at += (size_t)nnf_tensor_numel(p);
    }
}

/* Loads `b` into m through the in-memory path. Either it fails, naming the file, and m
 * keeps its bits, or it succeeds and m holds exactly `good`'s bits. Nothing leaks. */
static void load_damaged(nnf_model *m, const bytes *b, const snapshot *before,
                         const snapshot *good, int *failures)
{
    long live = nnf__alloc_live();
    nnf_status st = nnf__model_load_npz_bytes(m, b->p, b->n, "damaged.npz");
    assert_int_equal(nnf__alloc_live(), live);
    if (st == NNF_OK) {
        assert_snapshot(m, good);
        restore(m, before);
        return;
    }
    (*failures)++;
    if (strncmp(nnf_last_error(), "nnf_model_load_npz: damaged.npz: ", 33) != 0)
        fail_msg("status %s, message \"%s\" does not name the file", nnf_status_str(st),
                 nnf_last_error());
    assert_snapshot(m, before);
}

/* Every truncation and every single-byte change of a good file. */
static void damage_everywhere(nnf_model *(*make)(uint64_t), const char *file)
{
    nnf_model *m = make(21), *ref = make(22);
    NNF_ASSERT_OK(nnf_model_load_npz(ref, file));
    snapshot before = take_snapshot(m), good = take_snapshot(ref);
    bytes b = read_bytes(file);
    int failures = 0;
    for (size_t len = 0; len < b.n; len++) {
        bytes cut = {b.p, len};
        load_damaged(m, &cut, &before, &good, &failures);
    }
    assert_int_equal(failures, (int)b.n);
    failures = 0;
    for (size_t i = 0; i < b.n; i++) {
        for (int flip = 0; flip < 2; flip++) {
            unsigned char old = b.p[i];
            b.p[i] = flip ? (unsigned char)(old + 1) : (unsigned char)~old;
            load_damaged(m, &b, &before, &good, &failures);
            b.p[i] = old;
        }
    }
    print_message("%s: %zu truncations and %d of %zu byte changes refused\n", file, b.n,
                  failures, 2 * b.n);
    free(b.p);
    free(before.v);
    free(good.v);
    nnf_model_free(m);
    nnf_model_free(ref);
}

static void test_damaged_files(void **state)
{
    (void)state;
    /* numpy's stored and deflated archives, nnf's own with and without zip64 */
    damage_everywhere(new_mlp, fixture("torch_mlp.npz"));
    damage_everywhere(new_cnn, fixture("torch_cnn.npz"));
    nnf_model *m = new_mlp(9);
    NNF_ASSERT_OK(nnf_model_save_npz(m, tmp_path("mlp.npz")));
    damage_everywhere(new_mlp, tmp_path("mlp.npz"));
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "test", "mlp64.npz");
    const char *keys[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    NNF_ASSERT_OK(nnf__npz_save(tmp_path("mlp64.npz"), 4, keys,
                                (const nnf_tensor *const *)nnf_model_parameters(m), 1, &ctx));
    damage_everywhere(new_mlp, tmp_path("mlp64.npz"));
    nnf_model_free(m);
}

/* The same for the plain reader on numpy's zip64 and data-descriptor files. */
static void test_damaged_archives(void **state)
{
    (void)state;
    const char *files[] = {"zip64_compressed.npz", "descriptors.npz", "npy_v3.npz"};
    for (size_t f = 0; f < 3; f++) {
        bytes b = read_bytes(fixture(files[f]));
        nnf_npz *good = load_fixture(files[f]);
        int failures = 0, cases = 0;
        for (size_t i = 0; i <= b.n; i++) {
            for (int kind = 0; kind < 2; kind++, cases++) {
                unsigned char old = i < b.n ? b.p[i] : 0;
                size_t len = kind == 0 ? i : b.n;
                if (kind == 1 && i == b.n)
                    break;
                if (kind == 1)
                    b.p[i] = (unsigned char)~old;
                long live = nnf__alloc_live();
                nnf__io_ctx ctx;
                nnf__io_init(&ctx, "nnf_npz_load", "damaged.npz");
                nnf__npz_file file;
                nnf_npz *z = NULL;
                nnf_status st = nnf__npz_file_wrap(&file, b.p, len, &ctx);
                if (st == NNF_OK) {
                    st = nnf__npz_load_file(&z, &file, &ctx);
                    nnf__npz_file_close(&file);
                }
                if (st == NNF_OK) {
                    assert_int_equal(nnf_npz_len(z), nnf_npz_len(good));
                    for (int k = 0; k < nnf_npz_len(z); k++) {
                        const nnf_tensor *t = nnf_npz_get(z, nnf_npz_key(good, k));
                        assert_non_null(t);
                        assert_int_equal(nnf_tensor_numel(t), nnf_tensor_numel(nnf_npz_tensor(good, k)));
                        if (nnf_tensor_numel(t) > 0)
                            nnf_test_assert_bits_equal(nnf_tensor_data(t),
                                                       nnf_tensor_data(nnf_npz_tensor(good, k)),
                                                       (size_t)nnf_tensor_numel(t));
                    }
                    nnf_npz_free(z);
                } else {
                    failures++;
                    assert_true(strncmp(nnf_last_error(), "nnf_npz_load: damaged.npz: ", 27) == 0);
                }
                assert_int_equal(nnf__alloc_live(), live);
                if (kind == 1)
                    b.p[i] = old;
            }
        }
        print_message("%s: %d of %d damaged copies refused\n", files[f], failures, cases);
        nnf_npz_free(good);
        free(b.p);
    }
}

/* ---- Crafted lies ---- */

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Offset of the central directory entry of member i (found by walking the directory). */
static size_t central_entry(const bytes *b, int i)
{
    size_t end = b->n - 22;
    assert_int_equal(get32(b->p + end), 0x06054b50u);
    size_t at = get32(b->p + end + 16);
    for (; i > 0; i--)
        at += 46 + (size_t)(b->p[at + 28] | b->p[at + 29] << 8) +
              (size_t)(b->p[at + 30] | b->p[at + 31] << 8) + (size_t)(b->p[at + 32] | b->p[at + 33] << 8);
    assert_int_equal(get32(b->p + at), 0x02014b50u);
    return at;
}

/* A stored archive of .npy members whose bytes are given. */
static bytes archive(int n, const char *const *names, const bytes *members)
{
    const char *path = tmp_path("crafted.npz");
    FILE *f = fopen(path, "w+b");
    assert_non_null(f);
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "test", path);
    nnf__zip_writer w;
    NNF_ASSERT_OK(nnf__zip_writer_init(&w, f, (size_t)n, 0, &ctx));
    for (int i = 0; i < n; i++) {
        NNF_ASSERT_OK(nnf__zip_begin(&w, names[i], strlen(names[i]), members[i].n));
        NNF_ASSERT_OK(nnf__zip_write(&w, members[i].p, members[i].n));
        NNF_ASSERT_OK(nnf__zip_end(&w));
    }
    NNF_ASSERT_OK(nnf__zip_writer_finish(&w));
    nnf__zip_writer_free(&w);
    assert_int_equal(fclose(f), 0);
    return read_bytes(path);
}

/* A .npy of format `major`.0 with this header text (padded) and `data_nbytes` bytes of
 * data, each 0x3f (floats near 0.75). */
static bytes npy(int major, const char *header, size_t data_nbytes)
{
    size_t hlen = strlen(header), prefix = major == 1 ? 10 : 12;
    size_t total_header = (prefix + hlen + 1 + 63) / 64 * 64 - prefix;
    bytes b = {calloc(1, prefix + total_header + data_nbytes + 1), prefix + total_header + data_nbytes};
    memcpy(b.p, "\x93NUMPY", 6);
    b.p[6] = (unsigned char)major;
    b.p[7] = 0;
    set32(b.p + 8, (uint32_t)total_header);   /* 2 bytes in 1.0: the upper two are header text */
    memset(b.p + prefix, ' ', total_header);
    memcpy(b.p + prefix, header, hlen);
    b.p[prefix + total_header - 1] = '\n';
    memset(b.p + prefix + total_header, 0x3f, data_nbytes);
    return b;
}

/* Loads `b` with nnf_npz_load from a file; asserts `code` and a message part. */
static void assert_refused(const bytes *b, nnf_status code, const char *needle)
{
    const char *path = tmp_path("lie.npz");
    write_bytes(path, b->p, b->n);
    long live = nnf__alloc_live();
    nnf_npz *z = NULL;
    nnf_status st = nnf_npz_load(&z, path);
    if (st == NNF_OK)
        fail_msg("a file that should fail (%s) loaded", needle);
    if (st != code)
        fail_msg("status %s, expected %s (%s): %s", nnf_status_str(st), nnf_status_str(code),
                 needle, nnf_last_error());
    assert_message_has(path);
    assert_message_has(needle);
    assert_int_equal(nnf__alloc_live(), live);
}

static void test_crafted_headers(void **state)
{
    (void)state;
    static const struct {
        int major;
        const char *header;
        size_t data;
        nnf_status code;
        const char *needle;
    } cases[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, NNF_OK, ""},
        {1, "{\"shape\": (2L, 3L), \"descr\": \">f8\", \"fortran_order\": True}", 48, NNF_OK, ""},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", 8, NNF_ERR_PARSE,
         "expected ',' or ')'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", 24, NNF_ERR_PARSE,
         "needs a trailing comma"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", 24,
         NNF_ERR_PARSE, "needs 4000000000000000000 bytes of data, the member holds 24"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 24,
         NNF_ERR_OVERFLOW, "more elements than a 64-bit byte count can hold"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 24,
         NNF_ERR_OVERFLOW, "does not fit in 64 bits"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
         NNF_ERR_UNSUPPORTED, "more than 8 dims"},
        {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4, NNF_ERR_DTYPE,
         "dtype '<f2' is not supported"},
        {1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
         NNF_ERR_DTYPE, "structured"},
        {1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8, NNF_ERR_PARSE,
         "fortran_order must be True or False"},
        {1, "{'descr': '<f4', 'shape': (2,), }", 8, NNF_ERR_PARSE, "must have 'descr'"},
        {1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
         NNF_ERR_PARSE, "a key given twice"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8,
         NNF_ERR_PARSE, "a key other than"},
        {1, "['descr', '<f4']", 8, NNF_ERR_PARSE, "expected '{'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", 8, NNF_ERR_PARSE,
         "bytes after the dict"},
        {1, "{'descr': '<f4\\x', 'fortran_order': False, 'shape': (2,), }", 8, NNF_ERR_PARSE,
         "expected the dtype as a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes m = npy(cases[i].major, cases[i].header, cases[i].data);
        const char *name = "x.npy";
        bytes b = archive(1, &name, &m);
        if (cases[i].code == NNF_OK) {
            nnf_npz *z = NULL;
            write_bytes(tmp_path("ok.npz"), b.p, b.n);
            NNF_ASSERT_OK(nnf_npz_load(&z, tmp_path("ok.npz")));
            assert_int_equal(nnf_tensor_numel(nnf_npz_get(z, "x")), 6);
            nnf_npz_free(z);
        } else {
            assert_refused(&b, cases[i].code, cases[i].needle);
            assert_message_has("member 'x.npy'");
        }
        free(m.p);
        free(b.p);
    }

    /* the prefix: magic, version, header length */
    bytes m = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
    const char *name = "x.npy";
    struct { size_t at; unsigned char to; nnf_status code; const char *needle; } prefix[] = {
        {1, 'n', NNF_ERR_PARSE, "does not start with numpy's magic"},
        {6, 4, NNF_ERR_UNSUPPORTED, "format version is 4.0"},
        {7, 1, NNF_ERR_UNSUPPORTED, "format version is 1.1"},
        {9, 0xff, NNF_ERR_PARSE, "header claims 65398 bytes, but only 126 follow"},
    };
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        unsigned char old = m.p[prefix[i].at];
        m.p[prefix[i].at] = prefix[i].to;
        bytes b = archive(1, &name, &m);
        assert_refused(&b, prefix[i].code, prefix[i].needle);
        m.p[prefix[i].at] = old;
        free(b.p);
    }
    /* a version 2.0 header over numpy's 10000-byte limit, with the bytes there */
    free(m.p);
    char *big = malloc(10100);
    memset(big, ' ', 10099);
    big[10099] = '\0';
    memcpy(big, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 57);
    m = npy(2, big, 8);
    bytes b = archive(1, &name, &m);
    assert_refused(&b, NNF_ERR_PARSE, "more than the 10000 numpy itself reads");
    free(big);
    free(m.p);
    free(b.p);
    /* too short for a .npy; a member that is not .npy */
    m = (bytes){(unsigned char *)"\x93NUMPY\x01", 7};
    b = archive(1, &name, &m);
    assert_refused(&b, NNF_ERR_PARSE, "not a .npy array: 7 bytes");
    free(b.p);
    const char *txt = "notes.txt";
    b = archive(1, &txt, &m);
    assert_refused(&b, NNF_ERR_PARSE, "member 'notes.txt': not a .npy array: its name does not "
                                      "end in \".npy\"");
    free(b.p);
}

static void test_crafted_archives(void **state)
{
    (void)state;
    /* a bad CRC: one data byte changed in numpy's stored file */
    bytes b = read_bytes(fixture("savez_f32.npz"));
    size_t data = 30 + 5 + 20 + 128;   /* a.npy: local header, name, zip64 extra, .npy header */
    b.p[data + 2] ^= 0x40;
    assert_refused(&b, NNF_ERR_PARSE, "member 'a.npy': the CRC-32 of its data is");
    b.p[data + 2] ^= 0x40;

    /* lying sizes: the last member's sizes reach into the central directory */
    size_t c = central_entry(&b, 5);
    set32(b.p + c + 20, get32(b.p + c + 20) + 4);
    set32(b.p + c + 24, get32(b.p + c + 24) + 4);
    assert_refused(&b, NNF_ERR_PARSE, "run past the start of the central directory");
    set32(b.p + c + 20, get32(b.p + c + 20) - 8);
    set32(b.p + c + 24, get32(b.p + c + 24) - 8);
    assert_refused(&b, NNF_ERR_PARSE, "needs 40 bytes of data, the member holds 36");
    set32(b.p + c + 20, get32(b.p + c + 20) + 4);
    set32(b.p + c + 24, get32(b.p + c + 24) + 8);
    assert_refused(&b, NNF_ERR_PARSE, "is stored, but its compressed size (168) differs from its size (172)");
    set32(b.p + c + 24, get32(b.p + c + 24) - 4);
    /* a local header offset that points nowhere, or at another member */
    uint32_t off = get32(b.p + c + 42);
    set32(b.p + c + 42, off + 1);
    assert_refused(&b, NNF_ERR_PARSE, "no local header at offset");
    set32(b.p + c + 42, 0);
    assert_refused(&b, NNF_ERR_PARSE, "names another member");
    set32(b.p + c + 42, 0xfffffff0u);
    assert_refused(&b, NNF_ERR_PARSE, "is not inside the members' area");
    set32(b.p + c + 42, off);
    /* two members of one name (both headers renamed) */
    size_t c1 = central_entry(&b, 1);
    b.p[c1 + 46] = 'a';
    b.p[get32(b.p + c1 + 42) + 30] = 'a';
    assert_refused(&b, NNF_ERR_PARSE, "member 'a.npy': the archive holds two members of this name");
    b.p[c1 + 46] = 'b';
    b.p[get32(b.p + c1 + 42) + 30] = 'b';
    /* unsupported features */
    b.p[c + 8] |= 1;
    assert_refused(&b, NNF_ERR_UNSUPPORTED, "it is encrypted");
    b.p[c + 8] &= 0xfe;
    b.p[c + 10] = 12;
    assert_refused(&b, NNF_ERR_UNSUPPORTED, "compressed with method 12");
    b.p[c + 10] = 0;
    /* the end record: a count its directory cannot hold, a directory in the wrong place */
    size_t end = b.n - 22;
    b.p[end + 10] = b.p[end + 8] = 200;
    assert_refused(&b, NNF_ERR_PARSE, "claims 200 members, but its central directory");
    b.p[end + 10] = b.p[end + 8] = 5;
    assert_refused(&b, NNF_ERR_PARSE, "bytes after its 5 entries");
    b.p[end + 10] = b.p[end + 8] = 6;
    set32(b.p + end + 16, get32(b.p + end + 16) + 1);
    assert_refused(&b, NNF_ERR_PARSE, "does not end where its end record starts");
    set32(b.p + end + 16, get32(b.p + end + 16) - 1);
    b.p[end] = 'Q';
    assert_refused(&b, NNF_ERR_PARSE, "no end-of-central-directory record");
    b.p[end] = 'P';
    bytes tiny = {b.p, 21};
    assert_refused(&tiny, NNF_ERR_PARSE, "not a zip archive: 21 bytes");
    free(b.p);

    /* deflate: a corrupt stream; a member whose stream ends early; one that overlaps */
    b = read_bytes(fixture("savez_compressed.npz"));
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "test", "savez_compressed.npz");
    nnf__zip zip;
    NNF_ASSERT_OK(nnf__zip_open(&zip, b.p, b.n, &ctx));
    size_t a_data = (size_t)zip.members[0].data_offset;
    nnf__zip_close(&zip);
    unsigned char first = b.p[a_data];
    b.p[a_data] = (unsigned char)(first | 0x06);   /* block type 11: reserved */
    assert_refused(&b, NNF_ERR_PARSE, "member 'a.npy': its deflate stream is corrupt (zlib: "
                                      "invalid block type)");
    b.p[a_data] = first;
    c = central_entry(&b, 0);
    set32(b.p + c + 20, get32(b.p + c + 20) + 30);
    assert_refused(&b, NNF_ERR_PARSE, "member 'a.npy': its data (offset");
    assert_message_has("overlaps the member whose local header is at offset");
    set32(b.p + c + 20, get32(b.p + c + 20) - 30);
    set32(b.p + c + 24, get32(b.p + c + 24) + 4);
    assert_refused(&b, NNF_ERR_PARSE, "needs 24 bytes of data, the member holds 28");
    set32(b.p + c + 24, get32(b.p + c + 24) - 4);
    set32(b.p + c + 20, get32(b.p + c + 20) - 3);
    assert_refused(&b, NNF_ERR_PARSE, "its deflate stream is cut off");
    set32(b.p + c + 20, get32(b.p + c + 20) + 3);
    c = central_entry(&b, 4);                            /* big.npy: 20128 bytes */
    uint32_t csize = get32(b.p + c + 20);
    set32(b.p + c + 20, 18);
    assert_refused(&b, NNF_ERR_PARSE, "claims to inflate 18 bytes to 20128, more than "
                                      "deflate's 1032:1 allows");
    set32(b.p + c + 20, csize);
    free(b.p);

    /* bogus zip64 fields in numpy's forced-zip64 file */
    b = read_bytes(fixture("zip64.npz"));
    c = central_entry(&b, 1);
    size_t nlen = (size_t)(b.p[c + 28] | b.p[c + 29] << 8);
    unsigned char *extra = b.p + c + 46 + nlen;
    assert_int_equal(extra[0], 1);                       /* the zip64 field */
    extra[2] = 8;                                        /* holds 8 of the 24 bytes needed */
    assert_refused(&b, NNF_ERR_PARSE, "its zip64 extra field holds 8 bytes; the sizes and "
                                      "offset it stands in for need 24");
    extra[2] = 24;
    extra[0] = 9;
    assert_refused(&b, NNF_ERR_PARSE, "has no zip64 extra field");
    extra[0] = 1;
    uint64_t lie = 1ull << 40;
    memcpy(extra + 4 + 16, &lie, 8);                     /* offset 2^40: beyond the file */
    assert_refused(&b, NNF_ERR_PARSE, "is not inside the members' area");
    free(b.p);
    b = read_bytes(fixture("zip64.npz"));
    end = b.n - 22;
    size_t locator = end - 20;
    assert_int_equal(get32(b.p + locator), 0x07064b50u);
    size_t rec = get32(b.p + locator + 8);
    set32(b.p + locator + 8, (uint32_t)rec - 1);
    assert_refused(&b, NNF_ERR_PARSE, "no zip64 end record at offset");
    set32(b.p + locator + 8, (uint32_t)rec);
    set32(b.p + rec + 24, 3);                            /* zip64 count against the plain one */
    set32(b.p + rec + 32, 3);
    assert_refused(&b, NNF_ERR_PARSE, "contradicts its zip64 end record");
    set32(b.p + rec + 24, 4);
    assert_refused(&b, NNF_ERR_UNSUPPORTED, "spans several disks");
    set32(b.p + rec + 32, 4);
    b.p[rec + 4] = 40;
    assert_refused(&b, NNF_ERR_PARSE, "zip64 end record says it is 40 bytes long");
    free(b.p);
}

/* ---- Allocation failures ---- */

static int temp_files_left(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    nnf_model *m = new_cnn(31), *other = new_cnn(32);
    const char *path = tmp_path("alloc.npz");
    NNF_ASSERT_OK(nnf_model_save_npz(other, path));
    bytes old = read_bytes(path);
    snapshot sm = take_snapshot(m), so = take_snapshot(other);
    /* save: every allocation fails in turn; the old file stays, no temporary is left */
    int n = 1;
    for (;; n++) {
        long live = nnf__alloc_live();
        nnf__alloc_fail_after(n);
        nnf_status st = nnf_model_save_npz(m, path);
        nnf__alloc_fail_after(0);
        assert_int_equal(nnf__alloc_live(), live);
        assert_int_equal(temp_files_left(), 0);
        if (st == NNF_OK)
            break;
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_message_has("nnf_model_save_npz: ");
        bytes now = read_bytes(path);
        assert_int_equal(now.n, old.n);
        assert_memory_equal(now.p, old.p, old.n);
        free(now.p);
    }
    print_message("save: %d allocations\n", n - 1);
    /* load (numpy's deflated file: zlib's allocations too) */
    for (int f = 0; f < 2; f++) {
        const char *file = f ? fixture("torch_cnn.npz") : path;
        nnf_model *ref = new_cnn(33);
        NNF_ASSERT_OK(nnf_model_load_npz(ref, file));
        snapshot want = take_snapshot(ref);
        for (n = 1;; n++) {
            long live = nnf__alloc_live();
            nnf__alloc_fail_after(n);
            nnf_status st = nnf_model_load_npz(other, file);
            nnf__alloc_fail_after(0);
            assert_int_equal(nnf__alloc_live(), live);
            if (st == NNF_OK)
                break;
            assert_int_equal(st, NNF_ERR_NOMEM);
            assert_snapshot(other, &so);
        }
        assert_snapshot(other, &want);
        print_message("load %s: %d allocations\n", file, n - 1);
        NNF_ASSERT_OK(nnf_model_load_npz(other, path));
        free(so.v);
        so = take_snapshot(other);
        free(want.v);
        nnf_model_free(ref);
    }
    /* nnf_npz_load */
    for (n = 1;; n++) {
        long live = nnf__alloc_live();
        nnf_npz *z = NULL;
        nnf__alloc_fail_after(n);
        nnf_status st = nnf_npz_load(&z, fixture("zip64_compressed.npz"));
        nnf__alloc_fail_after(0);
        if (st == NNF_OK) {
            assert_plain(z, "", 1);
            nnf_npz_free(z);
            assert_int_equal(nnf__alloc_live(), live);
            break;
        }
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_null(z);
        assert_int_equal(nnf__alloc_live(), live);
    }
    assert_snapshot(m, &sm);
    free(old.p);
    free(sm.v);
    free(so.v);
    nnf_model_free(m);
    nnf_model_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_files),
        cmocka_unit_test(test_conversion_rule),
        cmocka_unit_test(test_torch_models),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_npz_save_load),
        cmocka_unit_test(test_state_dict_names),
        cmocka_unit_test(test_load_invalidates_backward),
        cmocka_unit_test(test_wrong_names_and_shapes),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_damaged_archives),
        cmocka_unit_test(test_crafted_headers),
        cmocka_unit_test(test_crafted_archives),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
