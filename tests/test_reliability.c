/* Regression tests for issue 10's findings: signed overflow in shape and stride
 * arithmetic (item 4), products with empty operands (item 1), and backward / SGD steps
 * that fail part-way (items 2 and 3). Each failing call must return its error code with a
 * message, leave what the caller owns as it was and leak nothing; each succeeding one is
 * checked against a reference computed another way. Built with UBSan, an overflow here
 * aborts instead of wrapping. */
#include "nnf/conv.h"
#include "test_linalg_ref.h"
#include "test_nn_util.h"

#define BIG ((int64_t)1 << 32)

/* call must fail with code, name something in its message, leave *out NULL (the result
 * handle starts NULL, as every op's OUT/IN-OUT argument must) and free what it took. */
#define FAILS_CLEAN(call_with_out, code)                                  \
    do {                                                                  \
        nnf_tensor *out = NULL;                                           \
        long live_ = nnf__alloc_live();                                   \
        NNF_ASSERT_FAILS(call_with_out, code);                            \
        assert_null(out);                                                 \
        assert_true(strlen(nnf_last_error()) > 10);                       \
        assert_int_equal(nnf__alloc_live(), live_);                       \
    } while (0)

/* ---- Item 4: overflow in view, broadcast, reduction and conv arithmetic ---- */

static void test_slice_huge_step(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t = NULL, *s = NULL;
        NNF_ASSERT_OK(nnf_arange(&t, 0, 20, 1));
        nnf_tensor *m = NULL;
        NNF_ASSERT_OK(nnf_view(&m, t, NNF_SHAPE(4, 5)));
        /* One element per row: its stride addresses nothing, the step is not multiplied
         * in (gcc once returned a wrapped stride here). */
        NNF_ASSERT_OK(nnf_slice(&s, m, 1, 2, 5, INT64_MAX));
        assert_int_equal(nnf_tensor_shape(s)[1], 1);
        for (int64_t i = 0; i < 4; i++) {
            float v;
            NNF_ASSERT_OK(nnf_value_at(&v, s, (const int64_t[]){i, 0}));
            assert_true(v == (float)(i * 5 + 2));
        }
        nnf_tensor_free(s);
        s = NULL;
        NNF_ASSERT_OK(nnf_slice(&s, m, 0, 1, INT64_MAX, INT64_MAX / 2));
        assert_int_equal(nnf_tensor_shape(s)[0], 1);
        nnf_tensor_free(s);

        /* An empty tensor's strides are bounded by nothing. */
        float buf[1] = {0};
        nnf_tensor *e = NULL;
        NNF_ASSERT_OK(nnf_wrap(&e, buf, NNF_SHAPE(0, 5), (const int64_t[]){1, INT64_MAX / 2}));
        FAILS_CLEAN(nnf_slice(&out, e, 1, 0, 5, 3), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_slice(&out, e, 1, 4, 5, 1), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_narrow(&out, e, 1, 3, 2), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_select(&out, e, 1, 4), NNF_ERR_OVERFLOW);
        nnf_tensor_free(e);
        nnf_tensor_free(m);
        nnf_tensor_free(t);
    }
}

static void test_unsqueeze_empty_huge_stride(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        float buf[1] = {0};
        nnf_tensor *e = NULL, *u = NULL;
        NNF_ASSERT_OK(nnf_wrap(&e, buf, NNF_SHAPE(3, 0), (const int64_t[]){INT64_MAX / 2, 1}));
        FAILS_CLEAN(nnf_unsqueeze(&out, e, 0), NNF_ERR_OVERFLOW);
        assert_non_null(strstr(nnf_last_error(), "nnf_unsqueeze: "));
        /* Elsewhere the new dim's stride fits. */
        NNF_ASSERT_OK(nnf_unsqueeze(&u, e, 2));
        assert_int_equal(nnf_tensor_numel(u), 0);
        nnf_tensor_free(u);
        nnf_tensor_free(e);
    }
}

static void test_add_empty_expanded(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *z = NULL, *x = NULL, *r = NULL, *into = NULL;
        NNF_ASSERT_OK(nnf_zeros(&z, NNF_SHAPE(0, 1, 1)));
        NNF_ASSERT_OK(nnf_expand(&x, z, NNF_SHAPE(0, BIG, BIG)));
        assert_true(nnf_tensor_is_contiguous(x));
        NNF_ASSERT_OK(nnf_add(&r, x, x));
        assert_int_equal(nnf_tensor_numel(r), 0);
        assert_int_equal(nnf_tensor_shape(r)[2], BIG);
        NNF_ASSERT_OK(nnf_empty(&into, NNF_SHAPE(0, BIG, BIG)));
        NNF_ASSERT_OK(nnf_add(&into, x, x));
        NNF_ASSERT_OK(nnf_mul(&into, into, x));
        nnf_tensor *t = NULL, *z2 = NULL;
        NNF_ASSERT_OK(nnf_zeros(&z2, NNF_SHAPE(1, 1, 0)));
        NNF_ASSERT_OK(nnf_expand(&t, z2, NNF_SHAPE(BIG, BIG, 0)));
        nnf_tensor_free(z2);
        NNF_ASSERT_FAILS(nnf_relu(&r, t), NNF_ERR_SHAPE);   /* r is [0, 2^32, 2^32] */
        nnf_tensor *s = NULL;
        NNF_ASSERT_OK(nnf_relu(&s, t));
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        /* Summing out the 0 leaves 2^64 results: an error, not a wrapped count. */
        FAILS_CLEAN(nnf_sum(&out, x, 1, (const int[]){0}, 0), NNF_ERR_OVERFLOW);
        FAILS_CLEAN(nnf_max(&out, t, 1, (const int[]){2}, 0), NNF_ERR_OVERFLOW);
        s = NULL;
        NNF_ASSERT_OK(nnf_sum(&s, x, 2, (const int[]){1, 2}, 0));
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        s = NULL;
        NNF_ASSERT_OK(nnf_max(&s, t, 2, (const int[]){0, 1}, 0));   /* reduced dims non-empty */
        assert_int_equal(nnf_tensor_numel(s), 0);
        nnf_tensor_free(s);
        /* Batched products over the same batch shape. */
        nnf_tensor *b = NULL, *w = NULL, *p = NULL;
        NNF_ASSERT_OK(nnf_zeros(&b, NNF_SHAPE(1, 1, 0, 3)));
        NNF_ASSERT_OK(nnf_expand(&w, b, NNF_SHAPE(BIG, BIG, 0, 3)));
        nnf_tensor *k = NULL;
        NNF_ASSERT_OK(nnf_ones(&k, NNF_SHAPE(3, 2)));
        NNF_ASSERT_OK(nnf_matmul(&p, w, k));
        assert_int_equal(nnf_tensor_numel(p), 0);
        nnf_tensor_free(p);
        p = NULL;
        NNF_ASSERT_OK(nnf_einsum(&p, "abij,jk->abik", 2, (const nnf_tensor *const[]){w, k}));
        assert_int_equal(nnf_tensor_numel(p), 0);
        nnf_tensor_free(p);
        nnf_tensor_free(k);
        nnf_tensor_free(w);
        nnf_tensor_free(b);
        nnf_tensor_free(t);
        nnf_tensor_free(into);
        nnf_tensor_free(r);
        nnf_tensor_free(x);
        nnf_tensor_free(z);
    }
}

static void test_conv_huge_sizes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_layer *l = NULL;
        long live = nnf__alloc_live();
        NNF_ASSERT_FAILS(nnf_layer_conv2d_nchw(&l, NULL, (int64_t)1 << 40, 1, 1 << 20, 1, 0,
                                               NNF_INIT_KAIMING),
                         NNF_ERR_OVERFLOW);
        assert_null(l);
        assert_int_equal(nnf__alloc_live(), live);
        /* The unfolded input of a broadcast image: 2^40 channels x 2^12 kernel elements by
         * ~2^20 positions. */
        nnf_tensor *one = NULL, *x = NULL;
        NNF_ASSERT_OK(nnf_zeros(&one, NNF_SHAPE(1, 1, 1, 1)));
        NNF_ASSERT_OK(nnf_expand(&x, one, NNF_SHAPE(1, (int64_t)1 << 40, 1 << 20, 4)));
        FAILS_CLEAN(nnf_unfold(&out, x, 1 << 10, 4, 1, 0), NNF_ERR_OVERFLOW);
        nnf_tensor *cols = NULL;
        NNF_ASSERT_OK(nnf_zeros(&cols, NNF_SHAPE(1, 1, 1)));
        FAILS_CLEAN(nnf_fold(&out, cols, INT64_MAX, 1, 1, 1, 1, 1 << 20), NNF_ERR_OVERFLOW);
        nnf_tensor_free(cols);
        nnf_tensor_free(x);
        nnf_tensor_free(one);
    }
}

/* A batch size near INT64_MAX is one batch of every row, not an overflowed count. */
static void test_loader_huge_batch(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *xb = NULL;
        NNF_ASSERT_OK(nnf_arange(&x, 0, 5, 1));
        nnf_loader *l = NULL;
        NNF_ASSERT_OK(nnf_loader_new(&l, x, NULL, INT64_MAX, 1));
        assert_int_equal(nnf_loader_len(l), 1);
        NNF_ASSERT_OK(nnf_loader_get_batch(l, &xb, NULL, 0));   /* borrowed */
        assert_int_equal(nnf_tensor_numel(xb), 5);
        nnf_loader_free(l);
        nnf_tensor_free(x);
    }
}

/* ---- Item 1: products with empty operands ---- */

/* einsum(spec) of ops, into a new tensor and into a NaN-filled given one, against the
 * double reference (for an empty contraction: zeros). */
static void check_einsum(const char *spec, const char *const *in, const char *out_letters,
                         int n, const nnf_tensor *const *ops)
{
    ref_einsum_result r;
    ref_einsum(in, out_letters, n, ops, &r);
    nnf_tensor *c = NULL, *given = NULL;
    nnf_status st = nnf_einsum(&c, spec, n, ops);
    if (st != NNF_OK)
        fail_msg("einsum(\"%s\") failed: %s: %s", spec, nnf_status_str(st), nnf_last_error());
    assert_int_equal(nnf_tensor_ndim(c), r.ndim);
    for (int d = 0; d < r.ndim; d++)
        assert_int_equal(nnf_tensor_shape(c)[d], r.shape[d]);
    ref_assert_near(c, r.want, r.mag, r.terms + 2);
    NNF_ASSERT_OK(nnf_full(&given, r.ndim, r.shape, NAN));
    NNF_ASSERT_OK(nnf_einsum(&given, spec, n, ops));
    ref_assert_near(given, r.want, r.mag, r.terms + 2);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_einsum_free(&r);
}

/* a @ b for 2-D operands, new and into a NaN-filled given result, against the reference. */
static void check_matmul(const nnf_tensor *a, const nnf_tensor *b)
{
    const nnf_tensor *ops[] = {a, b};
    ref_einsum_result r;
    ref_einsum((const char *const[]){"ij", "jk"}, "ik", 2, ops, &r);
    nnf_tensor *c = NULL, *given = NULL;
    NNF_ASSERT_OK(nnf_matmul(&c, a, b));
    assert_int_equal(nnf_tensor_shape(c)[0], r.shape[0]);
    assert_int_equal(nnf_tensor_shape(c)[1], r.shape[1]);
    ref_assert_near(c, r.want, r.mag, r.terms + 2);
    NNF_ASSERT_OK(nnf_full(&given, 2, r.shape, NAN));
    NNF_ASSERT_OK(nnf_matmul(&given, a, b));
    ref_assert_near(given, r.want, r.mag, r.terms + 2);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_einsum_free(&r);
}

/* The operand rows x cols in one of four layouts: contiguous, transposed, expanded from
 * one row (stride 0), or a slice with a step. */
static nnf_tensor *operand(int64_t rows, int64_t cols, int layout, uint64_t seed)
{
    nnf_tensor *base = NULL, *v = NULL;
    switch (layout) {
    case 0:
        return ref_rand(2, (const int64_t[]){rows, cols}, seed);
    case 1:
        base = ref_rand(2, (const int64_t[]){cols, rows}, seed);
        NNF_ASSERT_OK(nnf_t(&v, base));
        break;
    case 2:
        base = ref_rand(2, (const int64_t[]){1, cols}, seed);
        NNF_ASSERT_OK(nnf_expand(&v, base, NNF_SHAPE(rows, cols)));
        break;
    default:
        base = ref_rand(2, (const int64_t[]){rows, 2 * cols}, seed);
        NNF_ASSERT_OK(nnf_slice(&v, base, 1, 0, 2 * cols, 2));
        break;
    }
    nnf_tensor_free(base);
    return v;
}

static void test_matmul_empty(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        /* The case: (1,0) expanded to (2,0), strides [0, 1], times (0,3). */
        nnf_tensor *row = NULL, *a = NULL, *b = NULL, *c = NULL;
        NNF_ASSERT_OK(nnf_empty(&row, NNF_SHAPE(1, 0)));
        NNF_ASSERT_OK(nnf_expand(&a, row, NNF_SHAPE(2, 0)));
        assert_int_equal(nnf_tensor_strides(a)[0], 0);
        NNF_ASSERT_OK(nnf_empty(&b, NNF_SHAPE(0, 3)));
        NNF_ASSERT_OK(nnf_matmul(&c, a, b));
        assert_int_equal(nnf_tensor_shape(c)[0], 2);
        assert_int_equal(nnf_tensor_shape(c)[1], 3);
        for (int i = 0; i < 6; i++)
            assert_true(nnf_tensor_data(c)[i] == 0.0f && !signbit(nnf_tensor_data(c)[i]));
        nnf_tensor_free(c);
        nnf_tensor_free(b);
        nnf_tensor_free(a);
        nnf_tensor_free(row);

        /* Every combination of empty and non-empty m, k, n in every layout. */
        static const int64_t sizes[] = {0, 1, 3};
        uint64_t seed = 1;
        for (int im = 0; im < 3; im++)
            for (int ik = 0; ik < 3; ik++)
                for (int in = 0; in < 3; in++)
                    for (int la = 0; la < 4; la++)
                        for (int lb = 0; lb < 4; lb++) {
                            int64_t m = sizes[im], k = sizes[ik], n = sizes[in];
                            if (m * k * n != 0 && la == 0 && lb == 0 && m > 1)
                                continue;   /* the ordinary case, covered elsewhere */
                            nnf_tensor *x = operand(m, k, la, seed++);
                            nnf_tensor *y = operand(k, n, lb, seed++);
                            check_matmul(x, y);
                            nnf_tensor_free(x);
                            nnf_tensor_free(y);
                        }
    }
}

static void test_einsum_empty(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *e03 = ref_rand(NNF_SHAPE(0, 3), 1), *e30 = ref_rand(NNF_SHAPE(3, 0), 2);
        nnf_tensor *e20 = NULL, *one = ref_rand(NNF_SHAPE(1, 0), 3);
        NNF_ASSERT_OK(nnf_expand(&e20, one, NNF_SHAPE(2, 0)));
        nnf_tensor *b = ref_rand(NNF_SHAPE(2, 0, 4), 4), *bb = ref_rand(NNF_SHAPE(2, 4, 0), 5);
        nnf_tensor *z = ref_rand(NNF_SHAPE(0, 2, 3), 6), *zz = ref_rand(NNF_SHAPE(0, 3, 5), 7);
        nnf_tensor *sq = ref_rand(NNF_SHAPE(0, 0), 8), *v0 = ref_rand(NNF_SHAPE(0), 9);
        nnf_tensor *m34 = ref_rand(NNF_SHAPE(3, 4), 10);
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e20, e03});
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e30, e03});
        check_einsum("ij,jk->ik", (const char *const[]){"ij", "jk"}, "ik", 2,
                     (const nnf_tensor *const[]){e03, e30});
        check_einsum("bij,bjk->bik", (const char *const[]){"bij", "bjk"}, "bik", 2,
                     (const nnf_tensor *const[]){bb, b});
        check_einsum("bij,bjk->ik", (const char *const[]){"bij", "bjk"}, "ik", 2,
                     (const nnf_tensor *const[]){z, zz});
        check_einsum("bij,bjk->bik", (const char *const[]){"bij", "bjk"}, "bik", 2,
                     (const nnf_tensor *const[]){z, zz});
        check_einsum("i,i->", (const char *const[]){"i", "i"}, "", 2,
                     (const nnf_tensor *const[]){v0, v0});
        check_einsum("ii->i", (const char *const[]){"ii"}, "i", 1,
                     (const nnf_tensor *const[]){sq});
        check_einsum("ij->", (const char *const[]){"ij"}, "", 1,
                     (const nnf_tensor *const[]){e03});
        check_einsum("ij,jk,kl->il", (const char *const[]){"ij", "jk", "kl"}, "il", 3,
                     (const nnf_tensor *const[]){e30, e03, m34});
        check_einsum("ij,kl->ijkl", (const char *const[]){"ij", "kl"}, "ijkl", 2,
                     (const nnf_tensor *const[]){e20, m34});
        NNF_TEST_FREE(e03, e30, e20, one, b, bb, z, zz, sq, v0, m34);
    }
}

/* ---- Items 2, 3 and 7: backward passes and SGD steps that fail part-way ---- */

/* The bits of some tensors' values and gradients (NULL where a tensor has none). */
#define SNAP_MAX 16
typedef struct {
    int n;
    float *val[SNAP_MAX], *grad[SNAP_MAX];
} snap;

static float *bits_of(const nnf_tensor *t)
{
    size_t nbytes = (size_t)nnf_tensor_numel(t) * sizeof(float);
    float *p = malloc(nbytes + sizeof(float));
    NNF_ASSERT_OK(nnf_copy_to_buffer(p, nbytes, t));
    return p;
}

static void snap_take(snap *s, int n, nnf_tensor *const *t)
{
    assert_true(n <= SNAP_MAX);
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->val[i] = bits_of(t[i]);
        s->grad[i] = nnf_tensor_grad(t[i]) != NULL ? bits_of(nnf_tensor_grad(t[i])) : NULL;
    }
}

static void snap_assert_same(const snap *s, nnf_tensor *const *t)
{
    for (int i = 0; i < s->n; i++) {
        size_t n = (size_t)nnf_tensor_numel(t[i]);
        float *v = bits_of(t[i]);
        nnf_test_assert_bits_equal(v, s->val[i], n);
        free(v);
        const nnf_tensor *g = nnf_tensor_grad(t[i]);
        if (s->grad[i] == NULL) {
            if (g != NULL)
                fail_msg("tensor %d got a gradient it did not have", i);
            continue;
        }
        assert_non_null(g);
        float *gb = bits_of(g);
        nnf_test_assert_bits_equal(gb, s->grad[i], n);
        free(gb);
    }
}

static void snap_free(snap *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->val[i]);
        free(s->grad[i]);
    }
}

/* Conv2d(1->2, 3x3, padding 1) -> ReLU -> Flatten -> Lin(32 -> 3), cross-entropy. */
static nnf_model *small_model(void)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 11);
    nnf_loss *loss = NULL;
    nnf_model *m = NULL;
    nnf_layer *conv = NULL, *relu = NULL, *flat = NULL, *lin = NULL;
    NNF_ASSERT_OK(nnf_loss_cross_entropy(&loss));
    NNF_ASSERT_OK(nnf_model_new(&m, loss));
    NNF_ASSERT_OK(nnf_layer_conv2d_nchw(&conv, &rng, 1, 2, 3, 1, 1, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_layer_relu(&relu));
    NNF_ASSERT_OK(nnf_layer_flatten(&flat));
    NNF_ASSERT_OK(nnf_layer_linear(&lin, &rng, 32, 3, NNF_INIT_KAIMING));
    NNF_ASSERT_OK(nnf_model_add(m, conv));
    NNF_ASSERT_OK(nnf_model_add(m, relu));
    NNF_ASSERT_OK(nnf_model_add(m, flat));
    NNF_ASSERT_OK(nnf_model_add(m, lin));
    return m;
}

/* With the Nth allocation failing for N = 1, 2, ... until backward succeeds: every
 * failure is NNF_ERR_NOMEM and leaves the parameters and their gradients bit-identical
 * (none appears where there was none); the success gives the bits of an undisturbed
 * twin; nothing leaks. With and without gradients from an earlier step. */
static void test_model_backward_transaction(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int prior = 0; prior <= 1; prior++) {
            long live0 = nnf__alloc_live();
            nnf_model *golden = small_model(), *m = small_model();
            nnf_tensor *x0 = nn_uniform(NNF_SHAPE(2, 1, 4, 4), 1, -1, 1);
            nnf_tensor *x1 = nn_uniform(NNF_SHAPE(2, 1, 4, 4), 2, -1, 1);
            nnf_tensor *y0 = nn_labels(2, 3, 3), *y1 = nn_labels(2, 3, 4);
            float loss;
            nnf_model *both[] = {golden, m};
            for (int k = 0; k < 2; k++) {
                if (prior) {
                    NNF_ASSERT_OK(nnf_model_call(both[k], &loss, x0, y0));
                    NNF_ASSERT_OK(nnf_model_backward(both[k]));
                }
                NNF_ASSERT_OK(nnf_model_call(both[k], &loss, x1, y1));
            }
            NNF_ASSERT_OK(nnf_model_backward(golden));
            int np = nnf_model_num_parameters(m);
            nnf_tensor *const *params = nnf_model_parameters(m);
            snap before, want;
            snap_take(&before, np, params);
            snap_take(&want, np, nnf_model_parameters(golden));
            long n;
            for (n = 1;; n++) {
                nnf__alloc_fail_after(n);
                nnf_status st = nnf_model_backward(m);
                nnf__alloc_fail_after(0);
                if (st == NNF_OK)
                    break;
                assert_int_equal(st, NNF_ERR_NOMEM);
                if (strstr(nnf_last_error(), "nnf_model_backward: ") != nnf_last_error())
                    fail_msg("message: %s", nnf_last_error());
                snap_assert_same(&before, params);
            }
            assert_true(n > 1 || prior);   /* the first backward allocates */
            snap_assert_same(&want, params);
            snap_free(&before);
            snap_free(&want);
            nnf_model_free(golden);
            nnf_model_free(m);
            NNF_TEST_FREE(x0, x1, y0, y1);
            assert_int_equal(nnf__alloc_live(), live0);
        }
    }
}

/* The functional backward passes under the same sweep: x, w and b with no gradient
 * before keep none on failure (item 7), and the success matches an undisturbed twin. */
typedef nnf_status (*backward_fn)(nnf_tensor *const *t, const nnf_tensor *y);

static nnf_status lin_bwd(nnf_tensor *const *t, const nnf_tensor *y)
{
    return nnf_linear_backward(t[0], y, t[1], t[2], 1);
}

static nnf_status conv_bwd(nnf_tensor *const *t, const nnf_tensor *y)
{
    return nnf_conv2d_nchw_backward(t[0], y, t[1], t[2], 1, 1, 1);
}

static void sweep_functional(backward_fn bwd, nnf_tensor *const *t, nnf_tensor *const *twin,
                             const nnf_tensor *y, const nnf_tensor *y_twin)
{
    NNF_ASSERT_OK(bwd(twin, y_twin));
    snap before, want;
    snap_take(&before, 3, t);
    snap_take(&want, 3, twin);
    long live = nnf__alloc_live();
    for (long n = 1;; n++) {
        nnf__alloc_fail_after(n);
        nnf_status st = bwd(t, y);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK)
            break;
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_int_equal(nnf__alloc_live(), live);
        snap_assert_same(&before, t);
    }
    snap_assert_same(&want, t);
    snap_free(&before);
    snap_free(&want);
}

static void test_functional_backward_transaction(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int conv = 0; conv <= 1; conv++) {
            nnf_tensor *t[3], *twin[3], *y[2] = {NULL, NULL};
            for (int k = 0; k < 2; k++) {
                nnf_tensor **dst = k == 0 ? t : twin;
                if (conv) {
                    dst[0] = nn_uniform(NNF_SHAPE(2, 2, 5, 5), 21, -1, 1);
                    dst[1] = nn_uniform(NNF_SHAPE(3, 2, 3, 3), 22, -1, 1);
                    dst[2] = nn_uniform(NNF_SHAPE(3), 23, -1, 1);
                    NNF_ASSERT_OK(nnf_conv2d_nchw(&y[k], dst[0], dst[1], dst[2], 1, 1));
                } else {
                    dst[0] = nn_uniform(NNF_SHAPE(4, 6), 21, -1, 1);
                    dst[1] = nn_uniform(NNF_SHAPE(5, 6), 22, -1, 1);
                    dst[2] = nn_uniform(NNF_SHAPE(5), 23, -1, 1);
                    NNF_ASSERT_OK(nnf_linear(&y[k], dst[0], dst[1], dst[2]));
                }
                nnf_tensor *g = NULL;
                NNF_ASSERT_OK(nnf_tensor_grad_get(y[k], &g));
                NNF_ASSERT_OK(nnf_fill(g, 0.5f));
            }
            backward_fn bwd = conv ? conv_bwd : lin_bwd;
            sweep_functional(bwd, t, twin, y[0], y[1]);   /* no gradients before */
            sweep_functional(bwd, t, twin, y[0], y[1]);   /* accumulating into them */
            for (int i = 0; i < 3; i++) {
                nnf_tensor_free(t[i]);
                nnf_tensor_free(twin[i]);
            }
            nnf_tensor_free(y[0]);
            nnf_tensor_free(y[1]);
        }
    }
}

/* A stride-0 parameter is refused before any parameter moves (item 3), and a step with
 * its Nth allocation failing leaves every parameter as it was; the success matches the
 * update computed in double. */
static void test_sgd_transaction(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *p0 = nn_uniform(NNF_SHAPE(2, 3), 31, -1, 1), *row = NULL, *p1 = NULL;
        nnf_tensor *p2 = nn_uniform(NNF_SHAPE(40), 32, -1, 1), *g = NULL;
        NNF_ASSERT_OK(nnf_ones(&row, NNF_SHAPE(1, 3)));
        NNF_ASSERT_OK(nnf_expand(&p1, row, NNF_SHAPE(2, 3)));
        nnf_tensor *ps[] = {p0, p1, p2};
        for (int i = 0; i < 3; i++) {
            NNF_ASSERT_OK(nnf_tensor_grad_get(ps[i], &g));
            nnf_test_fill_uniform(nnf_tensor_data(g), (size_t)nnf_tensor_numel(g), 40 + i, -1, 1);
        }
        nnf_sgd *bad = NULL, *opt = NULL;
        NNF_ASSERT_OK(nnf_sgd_new(&bad, 3, ps, 0.1f, 0.9f, 0.01f));
        snap before;
        snap_take(&before, 3, ps);
        NNF_ASSERT_FAILS(nnf_sgd_step(bad), NNF_ERR_INVALID);
        assert_non_null(strstr(nnf_last_error(), "parameter 1"));
        snap_assert_same(&before, ps);
        snap_free(&before);

        nnf_tensor *good[] = {p0, p2};
        NNF_ASSERT_OK(nnf_sgd_new(&opt, 2, good, 0.1f, 0.9f, 0.01f));
        snap_take(&before, 2, good);
        for (long n = 1;; n++) {
            nnf__alloc_fail_after(n);
            nnf_status st = nnf_sgd_step(opt);
            nnf__alloc_fail_after(0);
            if (st == NNF_OK)
                break;
            assert_int_equal(st, NNF_ERR_NOMEM);
            snap_assert_same(&before, good);
        }
        /* First step: v = g + wd * p, p -= lr * v. */
        for (int k = 0; k < 2; k++) {
            size_t n = (size_t)nnf_tensor_numel(good[k]);
            const float *gv = nn_grad(good[k]), *pv = nnf_tensor_data(good[k]);
            double *want = malloc(n * sizeof *want);
            for (size_t i = 0; i < n; i++) {
                double p = before.val[k][i];
                want[i] = p - 0.1 * (gv[i] + 0.01 * p);
            }
            nnf_test_assert_close(pv, want, n, 1e-6, 1e-7);
            free(want);
        }
        snap_free(&before);
        nnf_sgd_free(opt);
        nnf_sgd_free(bad);
        for (int i = 0; i < 3; i++)
            nnf_tensor_free(ps[i]);
        nnf_tensor_free(row);
    }
}

/* float -> bool copies of NaN, infinities and huge values: nonzero is true. nnf_copy once
 * also converted each float to int64 on the way, undefined for these (UBSan). */
static void test_copy_float_to_bool(void **state)
{
    (void)state;
    const float v[] = {NAN, INFINITY, -INFINITY, 1e30f, -0.0f, 0.0f, 0x1p-149f};
    const uint8_t want[] = {1, 1, 1, 1, 0, 0, 1};
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *f = NULL, *b = NULL;
        NNF_ASSERT_OK(nnf_from_data(&f, v, NNF_SHAPE(7)));
        NNF_ASSERT_OK(nnf_empty_typed(&b, NNF_SHAPE(7), NNF_BOOL));
        NNF_ASSERT_OK(nnf_copy(b, f));
        const uint8_t *got = nnf_tensor_raw(b);
        for (int i = 0; i < 7; i++)
            if (got[i] != want[i])
                fail_msg("on %s: element %d (%g) became %d", nnf_isa_name(isa), i,
                         (double)v[i], got[i]);
        nnf_tensor_free(b);
        nnf_tensor_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_huge_step),
        cmocka_unit_test(test_unsqueeze_empty_huge_stride),
        cmocka_unit_test(test_add_empty_expanded),
        cmocka_unit_test(test_conv_huge_sizes),
        cmocka_unit_test(test_loader_huge_batch),
        cmocka_unit_test(test_matmul_empty),
        cmocka_unit_test(test_einsum_empty),
        cmocka_unit_test(test_model_backward_transaction),
        cmocka_unit_test(test_functional_backward_transaction),
        cmocka_unit_test(test_sgd_transaction),
        cmocka_unit_test(test_copy_float_to_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
