/* The allocation-failure sweep (SQLite's malloc test, issue 10): each representative
 * call runs with its Nth allocation failing, for N = 1, 2, ... until it succeeds. Every
 * failure must return NNF_ERR_NOMEM, leave the caller's tensors (values and gradients)
 * and any given output bit-identical, leave a new output unset, and leak nothing; the
 * call that finally succeeds must give the bits of an undisturbed run on a twin
 * fixture. Allocations include zlib's (the IDX and npz readers inflate through
 * nnf__alloc) and sgemm's packing buffers. One thread, so that the Nth allocation is
 * the same one in every run; worker creation failing is its own case at the end.
 * Under valgrind or NNF_TEST_THIN=1 only every 7th N is tried past the first 8. */
#include "nnf_test.h"
#include "nnf/conv.h"
#include "nnf/weights.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "src/core/alloc.h"
#include "src/linalg/sgemm_scratch.h"
#include "src/runtime/pool.h"
#include "test_tmpdir.h"

#define FIX_MAX 8

/* What a call works on: the caller's tensors (whose bits must survive a failure; a
 * given output is one of them), for the nn cases the model and optimiser that own or
 * borrow them, and the call's new result, set only on success. */
typedef struct {
    int n;
    nnf_tensor *t[FIX_MAX];
    int owned;                  /* t[] are freed with the fixture (else the model owns them) */
    nnf_model *model;
    nnf_sgd *opt;
    nnf_tensor *x, *y;          /* the model's batch */
    nnf_tensor *result;
} fixture;

typedef struct {
    const char *name;
    void (*make)(fixture *f);
    nnf_status (*call)(fixture *f);
} sweep_case;

/* The body of a call that makes a new tensor: `expr` writes it through &r, which must
 * still be NULL when it fails. */
#define NEW_RESULT(f, expr)                       \
    do {                                          \
        nnf_tensor *r = NULL;                     \
        nnf_status st_ = (expr);                  \
        if (st_ != NNF_OK) {                      \
            assert_null(r);                       \
            return st_;                           \
        }                                         \
        (f)->result = r;                          \
        return NNF_OK;                            \
    } while (0)

static nnf_tensor *rnd(int ndim, const int64_t *shape, uint64_t seed)
{
    nnf_tensor *t = NULL;
    NNF_ASSERT_OK(nnf_empty(&t, ndim, shape));
    nnf_test_fill_uniform(nnf_tensor_data(t), (size_t)nnf_tensor_numel(t), seed, -1, 1);
    return t;
}

static void add(fixture *f, nnf_tensor *t)
{
    assert_true(f->n < FIX_MAX);
    f->t[f->n++] = t;
    f->owned = 1;
}

static void fixture_free(fixture *f)
{
    if (f->owned)
        for (int i = 0; i < f->n; i++)
            nnf_tensor_free(f->t[i]);
    nnf_tensor_free(f->result);
    nnf_sgd_free(f->opt);
    nnf_model_free(f->model);
    nnf_tensor_free(f->x);
    nnf_tensor_free(f->y);
    memset(f, 0, sizeof *f);
}

/* ---- Snapshots: every bit the caller can see ---- */

typedef struct {
    int n;
    float *val[FIX_MAX + 1], *grad[FIX_MAX + 1];
    size_t numel[FIX_MAX + 1];
} snap;

static float *bits_of(const nnf_tensor *t)
{
    size_t n = (size_t)nnf_tensor_numel(t);
    float *p = malloc((n + 1) * sizeof *p);
    NNF_ASSERT_OK(nnf_copy_to_buffer(p, n * sizeof *p, t));
    return p;
}

/* The fixture's tensors, then its result if it has one. */
static void snap_take(snap *s, const fixture *f)
{
    s->n = f->n + (f->result != NULL);
    for (int i = 0; i < s->n; i++) {
        const nnf_tensor *t = i < f->n ? f->t[i] : f->result;
        s->numel[i] = (size_t)nnf_tensor_numel(t);
        s->val[i] = bits_of(t);
        s->grad[i] = nnf_tensor_grad(t) ? bits_of(nnf_tensor_grad(t)) : NULL;
    }
}

static void snap_check(const snap *s, const fixture *f, const char *what, long n)
{
    assert_int_equal(s->n, f->n + (f->result != NULL));
    for (int i = 0; i < s->n; i++) {
        const nnf_tensor *t = i < f->n ? f->t[i] : f->result;
        assert_int_equal((size_t)nnf_tensor_numel(t), s->numel[i]);
        float *v = bits_of(t);
        if (memcmp(v, s->val[i], s->numel[i] * sizeof *v) != 0)
            fail_msg("%s (allocation %ld failing): tensor %d differs", what, n, i);
        free(v);
        const nnf_tensor *g = nnf_tensor_grad(t);
        if ((g == NULL) != (s->grad[i] == NULL))
            fail_msg("%s (allocation %ld failing): tensor %d's gradient %s", what, n, i,
                     g ? "appeared" : "vanished");
        if (g != NULL) {
            float *gb = bits_of(g);
            if (memcmp(gb, s->grad[i], s->numel[i] * sizeof *gb) != 0)
                fail_msg("%s (allocation %ld failing): tensor %d's gradient differs", what, n,
                         i);
            free(gb);
        }
    }
}

static void snap_free(snap *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->val[i]);
        free(s->grad[i]);
    }
}

/* ---- The sweep ---- */

static void sweep(const sweep_case *c)
{
    int thin = nnf_test_thin();
    nnf__sgemm_scratch_release();
    long live0 = nnf__alloc_live();
    /* The undisturbed run, on a twin (which also warms what persists between calls,
     * such as sgemm's packing buffers). */
    fixture gold = {0}, f = {0};
    c->make(&gold);
    NNF_ASSERT_OK(c->call(&gold));
    snap want, before;
    snap_take(&want, &gold);
    c->make(&f);
    snap_take(&before, &f);
    /* sgemm keeps its packing buffers per thread between calls: freed before each run,
     * so that their allocation is swept too. */
    nnf__sgemm_scratch_release();
    long live = nnf__alloc_live(), n;
    for (n = 1;; n++) {
        if (thin && n > 8 && n % 7 != 0)
            continue;
        nnf__alloc_fail_after(n);
        nnf_status st = c->call(&f);
        nnf__alloc_fail_after(0);
        nnf__sgemm_scratch_release();
        if (st == NNF_OK)
            break;
        if (st != NNF_ERR_NOMEM)
            fail_msg("%s, allocation %ld failing: %s: %s", c->name, n, nnf_status_str(st),
                     nnf_last_error());
        snap_check(&before, &f, c->name, n);
        /* Objects keep buffers between calls; plain calls give back everything. */
        if (f.model == NULL && live != nnf__alloc_live())
            fail_msg("%s, allocation %ld failing: %ld blocks leaked", c->name, n,
                     nnf__alloc_live() - live);
        if (n > 10000)
            fail_msg("%s: still failing after %ld allocations", c->name, n);
    }
    snap_check(&want, &f, c->name, 0);
    snap_free(&want);
    snap_free(&before);
    fixture_free(&gold);
    fixture_free(&f);
    nnf__sgemm_scratch_release();
    if (nnf__alloc_live() != live0)
        fail_msg("%s: %ld blocks leaked", c->name, nnf__alloc_live() - live0);
    print_message("  %-22s %ld allocations\n", c->name, n - 1);
}

/* ---- linalg ---- */

static void make_mm(fixture *f)
{
    /* big enough for sgemm to pack both operands (sgemm_paths.c: m > 4 mr, n > 2 nr,
     * k * n > 64K) */
    add(f, rnd(NNF_SHAPE(72, 300), 1));
    add(f, rnd(NNF_SHAPE(300, 240), 2));
    add(f, rnd(NNF_SHAPE(1, 7), 3));       /* expanded below: rows at stride 0, copied */
    add(f, rnd(NNF_SHAPE(3, 7, 5), 4));
}

static nnf_status call_mm(fixture *f)
{
    NEW_RESULT(f, nnf_matmul(&r, f->t[0], f->t[1]));
}

static nnf_status call_mm_batched(fixture *f)
{
    nnf_tensor *a = NULL, *bt = NULL;
    nnf_status st = nnf_expand(&a, f->t[2], NNF_SHAPE(3, 6, 7));
    if (st == NNF_OK)
        st = nnf_transpose(&bt, f->t[3], 1, 2);   /* [3, 5, 7], read as TRANS ... */
    nnf_tensor *b = NULL;
    if (st == NNF_OK)
        st = nnf_transpose(&b, bt, 1, 2);         /* ... and back: [3, 7, 5] */
    nnf_tensor *r = NULL;
    if (st == NNF_OK)
        st = nnf_matmul(&r, a, b);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(bt);
    if (st == NNF_OK)
        f->result = r;
    return st;
}

static void make_mm_given(fixture *f)
{
    nnf_tensor *c = rnd(NNF_SHAPE(72, 480), 5), *cs = NULL;
    /* every other column: sgemm cannot write it, so the product is computed aside and
     * copied in */
    NNF_ASSERT_OK(nnf_slice(&cs, c, 1, 0, 480, 2));
    nnf_tensor_free(c);
    add(f, cs);
    add(f, rnd(NNF_SHAPE(72, 300), 1));
    add(f, rnd(NNF_SHAPE(300, 240), 2));
}

static nnf_status call_mm_given(fixture *f)
{
    return nnf_matmul(&f->t[0], f->t[1], f->t[2]);
}

/* A stored transposed (300 x 72, read as 72 x 300) times a prepacked B: the packed
 * path's job over the handle's panels (sgemm_prepacked.c), which packs such an A a
 * level at a time into sgemm's scratch. */
static void make_prepacked(fixture *f)
{
    add(f, rnd(NNF_SHAPE(300, 72), 23));
    add(f, rnd(NNF_SHAPE(300, 240), 24));
}

static nnf_status call_prepacked(fixture *f)
{
    nnf_packed_matrix *p = NULL;
    nnf_tensor *x = NULL, *r = NULL;
    nnf_status st = nnf_pack_matrix(&p, f->t[1]);
    if (st == NNF_OK)
        st = nnf_transpose(&x, f->t[0], 0, 1);
    if (st == NNF_OK)
        st = nnf_matmul_prepacked(&r, x, p);
    nnf_tensor_free(x);
    nnf_packed_free(p);
    if (st != NNF_OK) {
        assert_null(r);
        return st;
    }
    f->result = r;
    return NNF_OK;
}

static void make_einsum(fixture *f)
{
    add(f, rnd(NNF_SHAPE(4, 6, 5), 6));
    add(f, rnd(NNF_SHAPE(4, 5, 3), 7));
    add(f, rnd(NNF_SHAPE(5, 5), 8));
}

static nnf_status call_einsum(fixture *f)
{
    /* a batched product, and a diagonal with a three-operand contraction */
    nnf_tensor *p = NULL, *q = NULL, *ps = NULL, *r = NULL;
    nnf_status st = nnf_einsum(&p, "bij,bjk->bik", 2,
                               (const nnf_tensor *const[]){f->t[0], f->t[1]});
    if (st == NNF_OK)
        st = nnf_einsum(&q, "bij,jj,bjk->bk", 3,
                        (const nnf_tensor *const[]){f->t[0], f->t[2], f->t[1]});
    if (st == NNF_OK) st = nnf_sum(&ps, p, 1, (const int[]){1}, 0);
    if (st == NNF_OK) st = nnf_add(&r, q, ps);
    nnf_tensor_free(p);
    nnf_tensor_free(q);
    nnf_tensor_free(ps);
    if (st == NNF_OK)
        f->result = r;
    return st;
}

/* ---- tensor views, broadcasting, reductions ---- */

static void make_views(fixture *f)
{
    add(f, rnd(NNF_SHAPE(4, 1, 6), 9));
    add(f, rnd(NNF_SHAPE(12, 1), 10));
}

/* expand -> permute -> slice with a step -> reshape (a copy) -> broadcast add */
static nnf_status call_views(fixture *f)
{
    nnf_tensor *e = NULL, *p = NULL, *s = NULL, *r = NULL, *b = NULL, *sum = NULL;
    nnf_status st = nnf_expand(&e, f->t[0], NNF_SHAPE(2, 4, 3, 6));
    if (st == NNF_OK) st = nnf_permute(&p, e, (const int[]){3, 1, 0, 2});
    if (st == NNF_OK) st = nnf_slice(&s, p, 0, 1, 6, 2);
    if (st == NNF_OK) st = nnf_reshape(&r, s, NNF_SHAPE(-1, 6));
    if (st == NNF_OK) st = nnf_unsqueeze(&b, f->t[1], 0);
    if (st == NNF_OK) st = nnf_add(&sum, r, b);
    nnf_tensor_free(e);
    nnf_tensor_free(p);
    nnf_tensor_free(s);
    nnf_tensor_free(r);
    nnf_tensor_free(b);
    if (st == NNF_OK)
        f->result = sum;
    return st;
}

static void make_bcast(fixture *f)
{
    add(f, rnd(NNF_SHAPE(3, 1, 5), 13));
    add(f, rnd(NNF_SHAPE(4, 1), 14));
}

static nnf_status call_add_broadcast(fixture *f)
{
    NEW_RESULT(f, nnf_add(&r, f->t[0], f->t[1]));
}

static void make_reduce(fixture *f)
{
    add(f, rnd(NNF_SHAPE(6, 9000), 11));   /* several blocks per row: partial sums */
    add(f, rnd(NNF_SHAPE(300, 5, 7), 12));
}

static nnf_status call_reduce(fixture *f)
{
    nnf_tensor *s = NULL, *v = NULL, *m = NULL, *am = NULL, *vs = NULL, *ms = NULL;
    nnf_tensor *part = NULL, *out = NULL;
    nnf_status st = nnf_sum(&s, f->t[0], 1, (const int[]){1}, 0);
    if (st == NNF_OK) st = nnf_var(&v, f->t[1], 1, (const int[]){0}, 1, 0);
    if (st == NNF_OK) st = nnf_max(&m, f->t[1], 2, (const int[]){0, 2}, 0);
    if (st == NNF_OK) st = nnf_argmax(&am, f->t[0], 1, 0);
    if (st == NNF_OK) st = nnf_sum(&vs, v, 0, NULL, 0);
    if (st == NNF_OK) st = nnf_sum(&ms, m, 0, NULL, 0);
    if (st == NNF_OK) st = nnf_add(&part, vs, ms);
    if (st == NNF_OK) st = nnf_add(&out, part, s);
    NNF_TEST_FREE(s, v, m, am, vs, ms, part);
    if (st == NNF_OK)
        f->result = out;
    return st;
}

/* ---- files: IDX plain and gzip, npz ---- */

static const char *idx_path(int gz)
{
    return tmp_path(gz ? "sweep.idx.gz" : "sweep.idx");
}

static void write_idx(int gz)
{
    unsigned char hdr[12] = {0, 0, 0x08, 2, 0, 0, 0, 30, 0, 0, 0, 100};   /* [30, 100] u8 */
    unsigned char data[3000];
    for (int i = 0; i < 3000; i++)
        data[i] = (unsigned char)(i * 37 % 251);
    if (gz) {
        gzFile g = gzopen(idx_path(1), "wb6");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, hdr, 12), 12);
        assert_int_equal(gzwrite(g, data, 3000), 3000);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *fp = fopen(idx_path(0), "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(hdr, 1, 12, fp), 12);
        assert_int_equal(fwrite(data, 1, 3000, fp), 3000);
        assert_int_equal(fclose(fp), 0);
    }
}

static void make_none(fixture *f)
{
    (void)f;
}

static nnf_status call_idx_plain(fixture *f)
{
    NEW_RESULT(f, nnf_idx_read(&r, idx_path(0), NNF_F32));
}

static nnf_status call_idx_gzip(fixture *f)
{
    NEW_RESULT(f, nnf_idx_read(&r, idx_path(1), NNF_F32));
}

static const char *npz_path(void)
{
    return tmp_path("sweep.npz");
}

static nnf_status call_npz_load(fixture *f)
{
    nnf_npz *z = NULL;
    nnf_status st = nnf_npz_load(&z, npz_path());
    if (st != NNF_OK) {
        assert_null(z);
        return st;
    }
    nnf_tensor *r = NULL;
    assert_int_equal(nnf_npz_len(z), 2);
    st = nnf_add(&r, nnf_npz_get(z, "a"), nnf_npz_get(z, "b"));
    nnf_npz_free(z);
    if (st == NNF_OK)
        f->result = r;
    return st;
}

/* ---- nn: a training step of a small convolutional model, conv2d ---- */

static void make_model(fixture *f)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 5);
    nnf_loss *loss = NULL;
    nnf_layer *conv = NULL, *relu = NULL, *flat = NULL, *lin = NULL;
    NNF_ASSERT_OK(nnf_loss_cross_entropy(&loss));
    NNF_ASSERT_OK(nnf_model_new(&f->model, loss));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&conv, &rng, 2, 3, 3, 1, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&relu));
    NNF_ASSERT_OK(nnf_layer_flatten(&flat));
    NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 3 * 6 * 6, 4, NNF_INIT_KAIMING));
    nnf_layer *layers[] = {conv, relu, flat, lin};
    for (int i = 0; i < 4; i++)
        NNF_ASSERT_OK(nnf_model_add(f->model, layers[i]));
    f->n = nnf_model_num_parameters(f->model);
    for (int i = 0; i < f->n; i++)
        f->t[i] = nnf_model_parameters(f->model)[i];
    NNF_ASSERT_OK(nnf_sgd_new(&f->opt, f->n, f->t, 0.05f, 0.9f, 1e-3f));
    f->x = rnd(NNF_SHAPE(5, 2, 6, 6), 15);
    NNF_ASSERT_OK(nnf_empty_typed(&f->y, NNF_SHAPE(5), NNF_I64));
    for (int i = 0; i < 5; i++)
        ((int64_t *)nnf_tensor_raw(f->y))[i] = i % 4;
}

/* A training step, one call at a time (each must be a transaction of its own): the
 * model after a first step (gradients and momentum exist), then forward, then
 * backward, then the SGD step. */
static void make_trained(fixture *f)
{
    float loss;
    make_model(f);
    NNF_ASSERT_OK(nnf_model_call(f->model, &loss, f->x, f->y));
    NNF_ASSERT_OK(nnf_model_backward(f->model));
    NNF_ASSERT_OK(nnf_sgd_step(f->opt));
}

static nnf_status call_forward(fixture *f)
{
    float loss;
    nnf_status st = nnf_model_call(f->model, &loss, f->x, f->y);
    if (st == NNF_OK) st = nnf_full(&f->result, NNF_SHAPE(1), loss);
    return st;
}

static void make_forwarded(fixture *f)
{
    make_model(f);
    NNF_ASSERT_OK(call_forward(f));
    nnf_tensor_free(f->result);
    f->result = NULL;
}

static nnf_status call_backward(fixture *f)
{
    return nnf_model_backward(f->model);
}

static void make_backwarded(fixture *f)
{
    make_forwarded(f);
    NNF_ASSERT_OK(nnf_model_backward(f->model));
}

static nnf_status call_sgd(fixture *f)
{
    return nnf_sgd_step(f->opt);
}

static void make_trained_forwarded(fixture *f)
{
    float loss;
    make_trained(f);
    NNF_ASSERT_OK(nnf_model_call(f->model, &loss, f->x, f->y));
}

static void make_second_step(fixture *f)
{
    make_trained_forwarded(f);
    NNF_ASSERT_OK(nnf_model_backward(f->model));
}

static void make_conv(fixture *f)
{
    add(f, rnd(NNF_SHAPE(3, 2, 9, 9), 16));
    add(f, rnd(NNF_SHAPE(4, 2, 3, 3), 17));
    add(f, rnd(NNF_SHAPE(4), 18));
}

static nnf_status call_conv(fixture *f)
{
    NEW_RESULT(f, nnf_conv2d_nchw(&r, f->t[0], f->t[1], f->t[2], 2, 1));
}

static nnf_status call_conv_backward(fixture *f)
{
    nnf_tensor *y = NULL, *g = NULL;
    nnf_status st = nnf_conv2d_nchw(&y, f->t[0], f->t[1], f->t[2], 1, 1);
    if (st == NNF_OK) st = nnf_tensor_grad_get(y, &g);
    if (st == NNF_OK) st = nnf_fill(g, 0.25f);
    if (st == NNF_OK) st = nnf_conv2d_nchw_backward(f->t[0], y, f->t[1], f->t[2], 1, 1, 1);
    nnf_tensor_free(y);
    return st;
}

static const sweep_case cases[] = {
    {"matmul (packed)", make_mm, call_mm},
    {"matmul (batched, copy)", make_mm, call_mm_batched},
    {"matmul (given output)", make_mm_given, call_mm_given},
    {"matmul (prepacked A^T)", make_prepacked, call_prepacked},
    {"einsum", make_einsum, call_einsum},
    {"views", make_views, call_views},
    {"broadcast add", make_bcast, call_add_broadcast},
    {"reductions", make_reduce, call_reduce},
    {"idx read (plain)", make_none, call_idx_plain},
    {"idx read (gzip)", make_none, call_idx_gzip},
    {"npz load", make_none, call_npz_load},
    {"conv2d", make_conv, call_conv},
    {"conv2d backward", make_conv, call_conv_backward},
    {"model forward", make_model, call_forward},
    {"model backward (first)", make_forwarded, call_backward},
    {"sgd step (first)", make_backwarded, call_sgd},
    {"model forward (later)", make_trained, call_forward},
    {"model backward (later)", make_trained_forwarded, call_backward},
    {"sgd step (later)", make_second_step, call_sgd},
};

static void test_sweep(void **state)
{
    (void)state;
    write_idx(0);
    write_idx(1);
    nnf_tensor *a = rnd(NNF_SHAPE(7, 9), 19), *b = rnd(NNF_SHAPE(7, 9), 20);
    NNF_ASSERT_OK(nnf_npz_save(npz_path(), 2, (const char *const[]){"a", "b"},
                               (const nnf_tensor *const[]){a, b}));
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_test_threads(1);
    NNF_FOR_EACH_ISA(isa) {
        print_message("%s:\n", nnf_isa_name(isa));
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            sweep(&cases[i]);
    }
    nnf_test_threads(0);
}

/* Workers that cannot be created: a call runs on the threads it has (down to the
 * caller alone) and gives the same bits. */
static void test_worker_creation_fails(void **state)
{
    (void)state;
    nnf_tensor *a = rnd(NNF_SHAPE(256, 256), 21), *b = rnd(NNF_SHAPE(256, 256), 22);
    nnf_tensor *want = NULL, *sum_want = NULL;
    nnf_test_threads(1);
    NNF_ASSERT_OK(nnf_matmul(&want, a, b));
    NNF_ASSERT_OK(nnf_add(&sum_want, a, b));
    float *wbits = bits_of(want), *sbits = bits_of(sum_want);
    nnf_test_threads(2);
    nnf__runtime_set_test_spread(1);   /* threads for every op, whatever its size */
    for (long n = 1; n <= 3; n++) {
        nnf__runtime_stop();
        nnf__runtime_fail_thread_create_after(n);
        nnf_tensor *got = NULL, *sum = NULL;
        nnf_status st = nnf_matmul(&got, a, b);
        nnf_status st2 = nnf_add(&sum, a, b);
        nnf__runtime_fail_thread_create_after(0);
        NNF_ASSERT_OK(st);
        NNF_ASSERT_OK(st2);
        float *g = bits_of(got), *s2 = bits_of(sum);
        nnf_test_assert_bits_equal(g, wbits, 256 * 256);
        nnf_test_assert_bits_equal(s2, sbits, 256 * 256);
        free(g);
        free(s2);
        nnf_tensor_free(got);
        nnf_tensor_free(sum);
    }
    nnf__runtime_set_test_spread(0);
    nnf__runtime_stop();
    nnf_test_threads(0);
    free(wbits);
    free(sbits);
    NNF_TEST_FREE(a, b, want, sum_want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_worker_creation_fails),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
