/* nnf_einsum against a brute-force double-precision reference (a loop over every
 * assignment of every subscript), for the chapter's examples, every kind of equation
 * (transposes, products, batches, traces, diagonals, outer products, sums, ellipses,
 * broadcasting, 1..4 operands), views as operands, outputs given, errors with their
 * messages, allocation failures, and bitwise agreement with nnf_matmul. */
#include "test_linalg_ref.h"

#include <stdio.h>

static void check_result(const nnf_tensor *got, const ref_einsum_result *r)
{
    assert_int_equal(nnf_tensor_ndim(got), r->ndim);
    for (int d = 0; d < r->ndim; d++)
        assert_int_equal(nnf_tensor_shape(got)[d], r->shape[d]);
    /* products of up to n factors, then sums of `terms` of them */
    ref_assert_near(got, r->want, r->mag, r->terms + 4);
}

/* einsum(spec) into a new tensor and into a given NaN-filled one, against the reference. */
static void check(const char *spec, int n, const nnf_tensor *const *ops, const char *const *in,
                  const char *out)
{
    ref_einsum_result r;
    ref_einsum(in, out, n, ops, &r);
    nnf_tensor *c = NULL;
    nnf_status st = nnf_einsum(&c, spec, n, ops);
    if (st != NNF_OK)
        fail_msg("einsum(\"%s\") failed: %s: %s", spec, nnf_status_str(st), nnf_last_error());
    check_result(c, &r);
    nnf_tensor *given = NULL;
    NNF_ASSERT_OK(nnf_full(&given, r.ndim, r.shape, NAN));
    NNF_ASSERT_OK(nnf_einsum(&given, spec, n, ops));
    check_result(given, &r);
    nnf_tensor_free(given);
    nnf_tensor_free(c);
    ref_einsum_free(&r);
}

#define OPS(...) (int)(sizeof((const nnf_tensor *[]){__VA_ARGS__}) / sizeof(nnf_tensor *)), \
                 (const nnf_tensor *const[]){__VA_ARGS__}
#define IN(...) (const char *const[]){__VA_ARGS__}

static const float chapter_x[] = {-1.1307f, -0.2858f, -1.7678f, 0.2907f, 0.4672f, -1.6520f};
static const float chapter_y[] = {0.9601f, 0.8377f, 0.8417f, -0.8874f, -0.3875f, -1.0783f};

/* The chapter's three examples, with the values its notebook printed. */
static void test_chapter_examples(void **state)
{
    (void)state;
    static const double transposed[] = {-1.1307, 0.2907, -0.2858, 0.4672, -1.7678, -1.6520};
    static const double product[] = {-0.6411, 1.2128, 1.3124, 1.6104};
    static const double gram[] = {4.4852, 2.4583, 2.4583, 3.0320};
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *x = NULL, *y = NULL, *t = NULL, *p = NULL, *g = NULL;
        NNF_ASSERT_OK(nnf_from_data(&x, chapter_x, NNF_SHAPE(2, 3)));
        NNF_ASSERT_OK(nnf_from_data(&y, chapter_y, NNF_SHAPE(3, 2)));
        NNF_ASSERT_OK(nnf_einsum(&t, "ij->ji", OPS(x)));
        NNF_ASSERT_OK(nnf_einsum(&p, "ik, kj -> ij", OPS(x, y)));
        NNF_ASSERT_OK(nnf_einsum(&g, "ij, kj -> ik", OPS(x, x)));
        assert_true(nnf_tensor_shares_storage(t, x));   /* a view, as in PyTorch */
        double *dt = ref_gather(t), *dp = ref_gather(p), *dg = ref_gather(g);
        for (int i = 0; i < 6; i++)
            assert_true(fabs(dt[i] - transposed[i]) < 1e-6);
        for (int i = 0; i < 4; i++) {
            assert_true(fabs(dp[i] - product[i]) < 1e-3);
            assert_true(fabs(dg[i] - gram[i]) < 1e-3);
        }
        free(dt);
        free(dp);
        free(dg);
        check("ij->ji", OPS(x), IN("ij"), "ji");
        check("ik, kj -> ij", OPS(x, y), IN("ik", "kj"), "ij");
        check("ij, kj -> ik", OPS(x, x), IN("ij", "kj"), "ik");
        NNF_TEST_FREE(x, y, t, p, g);
    }
    nnf_test_restore_isa();
}

static void test_equations(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = ref_rand(NNF_SHAPE(4, 5), 1), *b = ref_rand(NNF_SHAPE(5, 3), 2);
        nnf_tensor *s = ref_rand(NNF_SHAPE(4, 4), 3), *v = ref_rand(NNF_SHAPE(5), 4);
        nnf_tensor *u = ref_rand(NNF_SHAPE(4), 5), *c = ref_rand(NNF_SHAPE(3, 6), 6);
        nnf_tensor *ba = ref_rand(NNF_SHAPE(2, 4, 5), 7), *bb = ref_rand(NNF_SHAPE(2, 5, 3), 8);
        nnf_tensor *bc = ref_rand(NNF_SHAPE(2, 3, 6), 9), *a2 = ref_rand(NNF_SHAPE(4, 5), 10);
        nnf_tensor *t3 = ref_rand(NNF_SHAPE(3, 3, 4), 11);
        nnf_tensor *d4 = ref_rand(NNF_SHAPE(2, 3, 4, 5), 12);
        nnf_tensor *bt = ref_rand(NNF_SHAPE(3, 5), 13), *at = ref_rand(NNF_SHAPE(5, 4), 14);
        nnf_tensor *p3 = ref_rand(NNF_SHAPE(2, 3, 4), 15), *q3 = ref_rand(NNF_SHAPE(4, 3, 5), 16);
        nnf_tensor *sc = NULL;
        NNF_ASSERT_OK(nnf_full(&sc, 0, NULL, -1.5f));

        check("ik,kj->ij", OPS(a, b), IN("ik", "kj"), "ij");          /* matmul */
        check("ij,jk", OPS(a, b), IN("ij", "jk"), "ik");              /* implicit */
        check("ij,kj->ik", OPS(a, a2), IN("ij", "kj"), "ik");         /* gram */
        check("ij,kj", OPS(a, bt), IN("ij", "kj"), "ik");             /* a @ bt.t() */
        check("ji,jk->ik", OPS(a, s), IN("ji", "jk"), "ik");          /* a.t() @ s */
        check("bik,bkj->bij", OPS(ba, bb), IN("bik", "bkj"), "bij");  /* batch */
        check("bik,kj->bij", OPS(ba, b), IN("bik", "kj"), "bij");
        check("bik,bkj->bji", OPS(ba, bb), IN("bik", "bkj"), "bji");
        check("ii->", OPS(s), IN("ii"), "");                          /* trace */
        check("ii", OPS(s), IN("ii"), "");
        check("ii->i", OPS(s), IN("ii"), "i");                        /* diagonal */
        check("iij->ij", OPS(t3), IN("iij"), "ij");
        check("iij->", OPS(t3), IN("iij"), "");
        check("i,j->ij", OPS(u, v), IN("i", "j"), "ij");              /* outer */
        check("i,j", OPS(v, u), IN("i", "j"), "ij");
        check("ij->i", OPS(a), IN("ij"), "i");                        /* sums */
        check("ij->j", OPS(a), IN("ij"), "j");
        check("ij->", OPS(a), IN("ij"), "");
        check("ijkl->jl", OPS(d4), IN("ijkl"), "jl");
        check("ijkl->ljki", OPS(d4), IN("ijkl"), "ljki");             /* permutation */
        check("ij,ij->ij", OPS(a, a2), IN("ij", "ij"), "ij");         /* hadamard */
        check("ij,ij->", OPS(a, a2), IN("ij", "ij"), "");
        check("ij,ji->", OPS(a, at), IN("ij", "ji"), "");            /* trace of a product */
        check("i,i->", OPS(v, v), IN("i", "i"), "");                  /* dot */
        check("i,i->i", OPS(u, u), IN("i", "i"), "i");
        check("ij,j->i", OPS(a, v), IN("ij", "j"), "i");              /* gemv */
        check("j,ij->i", OPS(v, a), IN("j", "ij"), "i");
        check("ij,jk,kl->il", OPS(a, b, c), IN("ij", "jk", "kl"), "il");
        check("bij,bjk,bkl->bil", OPS(ba, bb, bc), IN("bij", "bjk", "bkl"), "bil");
        check("i,i,i->", OPS(u, u, u), IN("i", "i", "i"), "");
        check("ij,jk,kl->", OPS(a, b, c), IN("ij", "jk", "kl"), "");
        check("ij,->ij", OPS(a, sc), IN("ij", ""), "ij");             /* scalar operand */
        check("->", OPS(sc), IN(""), "");
        check("i,j,k,l->ijkl", OPS(u, v, u, v), IN("i", "j", "k", "l"), "ijkl");
        check("ik,kj->ji", OPS(a, b), IN("ik", "kj"), "ji");
        check("ij,jk->", OPS(a, b), IN("ij", "jk"), "");
        check("ij,jk->k", OPS(a, b), IN("ij", "jk"), "k");
        check("ij,kl->", OPS(a, c), IN("ij", "kl"), "");
        /* the right side's contracted dims (k, j) are not evenly strided: copied */
        check("ikj,jkl->il", OPS(p3, q3), IN("ikj", "jkl"), "il");
        check("ikj,jkl->li", OPS(p3, q3), IN("ikj", "jkl"), "li");
        NNF_TEST_FREE(a, b, s, v, u, c, ba, bb, bc, a2, t3, d4, sc, bt, at, p3, q3);
    }
    nnf_test_restore_isa();
}

/* Ellipses, size-1 broadcasting and the implicit output order (ASCII: A before b). */
static void test_ellipsis_and_broadcast(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *a = ref_rand(NNF_SHAPE(2, 1, 3, 4), 1), *b = ref_rand(NNF_SHAPE(5, 4, 2), 2);
        nnf_tensor *c = ref_rand(NNF_SHAPE(2, 1), 3), *d = ref_rand(NNF_SHAPE(3, 3), 4);
        nnf_tensor *e = ref_rand(NNF_SHAPE(1, 3), 5), *f = ref_rand(NNF_SHAPE(4, 3), 6);
        nnf_tensor *g = ref_rand(NNF_SHAPE(2, 4, 3), 7), *h = ref_rand(NNF_SHAPE(3, 4), 8);
        check("...ij,...jk->...ik", OPS(a, b), IN("ABij", "Bjk"), "ABik");
        check("...ij,...jk", OPS(a, b), IN("ABij", "Bjk"), "ABik");
        check("...ij->...", OPS(a), IN("ABij"), "AB");
        check("...ij->", OPS(a), IN("ABij"), "");
        check("i...j,j...->...i", OPS(g, h), IN("iAj", "jA"), "Ai");
        check("...", OPS(a), IN("ABCD"), "ABCD");
        check("ij->i...", OPS(f), IN("ij"), "i");
        check("ij,jk->ik", OPS(c, d), IN("ij", "jk"), "ik");         /* j: 1 against 3 */
        check("ab,ab->a", OPS(e, f), IN("ab", "ab"), "a");           /* a: 1 against 4 */
        check("ab,ab->ab", OPS(e, f), IN("ab", "ab"), "ab");
        check("bA", OPS(f), IN("bA"), "Ab");
        check("Ab", OPS(f), IN("Ab"), "Ab");
        check(" b A ->A b", OPS(f), IN("bA"), "Ab");
        NNF_TEST_FREE(a, b, c, d, e, f, g, h);
    }
    nnf_test_restore_isa();
}

/* Views as operands (transposed, sliced with a step, expanded, offset), and results that
 * are views: "ij->ji" and "ii->i" share the operand's storage. */
static void test_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *w = ref_rand(NNF_SHAPE(6, 8), 1), *x = ref_rand(NNF_SHAPE(5, 8), 2);
        nnf_tensor *wt = NULL, *step = NULL, *win = NULL, *r = ref_rand(NNF_SHAPE(1, 8), 3);
        nnf_tensor *ex = NULL, *sq = ref_rand(NNF_SHAPE(5, 5), 4), *diag = NULL, *t = NULL;
        nnf_tensor *q = ref_rand(NNF_SHAPE(4, 3), 5), *wide = ref_rand(NNF_SHAPE(6, 12), 6);
        nnf_tensor *stepsq = NULL;
        NNF_ASSERT_OK(nnf_slice(&stepsq, wide, 1, 0, 12, 2));     /* 6x6, strides (12, 2) */
        NNF_ASSERT_OK(nnf_t(&wt, w));
        NNF_ASSERT_OK(nnf_slice(&step, w, 1, 0, 8, 2));
        NNF_ASSERT_OK(nnf_narrow(&win, w, 0, 1, 4));
        NNF_ASSERT_OK(nnf_expand(&ex, r, NNF_SHAPE(5, 8)));
        check("ik,kj->ij", OPS(x, wt), IN("ik", "kj"), "ij");
        check("ij,kj->ik", OPS(x, win), IN("ij", "kj"), "ik");
        check("ij,jk->ik", OPS(step, q), IN("ij", "jk"), "ik");
        check("ij,jk->ik", OPS(ex, wt), IN("ij", "jk"), "ik");
        check("ij->i", OPS(ex), IN("ij"), "i");
        check("ii->i", OPS(stepsq), IN("ii"), "i");
        check("ii->", OPS(stepsq), IN("ii"), "");
        NNF_ASSERT_OK(nnf_einsum(&diag, "ii->i", OPS(sq)));
        NNF_ASSERT_OK(nnf_einsum(&t, "ij->ji", OPS(w)));
        assert_true(nnf_tensor_shares_storage(diag, sq));
        assert_int_equal(nnf_tensor_strides(diag)[0], 6);
        assert_true(nnf_tensor_shares_storage(t, w));
        NNF_TEST_FREE(w, x, wt, step, win, r, ex, sq, diag, t, q, wide, stepsq);
    }
    nnf_test_restore_isa();
}

/* A given output: written in place, also when it is an operand ("ij->ji" of a square
 * into itself, a product into one of its factors); a wrong shape leaves it alone. */
static void test_given_output(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *s = ref_rand(NNF_SHAPE(4, 4), 1), *m = ref_rand(NNF_SHAPE(4, 4), 2);
        ref_einsum_result r;
        ref_einsum(IN("ij"), "ji", OPS(s), &r);
        nnf_tensor *keep = s;
        NNF_ASSERT_OK(nnf_einsum(&s, "ij->ji", OPS(s)));
        assert_ptr_equal(s, keep);
        check_result(s, &r);
        ref_einsum_free(&r);
        ref_einsum(IN("ik", "kj"), "ij", OPS(s, m), &r);
        NNF_ASSERT_OK(nnf_einsum(&m, "ik,kj->ij", OPS(s, m)));
        check_result(m, &r);
        ref_einsum_free(&r);

        nnf_tensor *wrong = NULL;
        NNF_ASSERT_OK(nnf_full(&wrong, NNF_SHAPE(3, 4), 2.0f));
        NNF_ASSERT_FAILS(nnf_einsum(&wrong, "ij->ji", OPS(s)), NNF_ERR_SHAPE);
        ref_assert_message("nnf_einsum: the output has shape [3, 4] but the result has shape [4, 4]");
        double *gw = ref_gather(wrong);
        for (int i = 0; i < 12; i++)
            assert_true(gw[i] == 2.0);
        free(gw);
        nnf_tensor_free(wrong);
        nnf_tensor_free(s);
        nnf_tensor_free(m);
    }
    nnf_test_restore_isa();
}

static void expect_error(const char *spec, int n, const nnf_tensor *const *ops,
                         nnf_status code, const char *message)
{
    nnf_tensor *c = NULL;
    nnf_status st = nnf_einsum(&c, spec, n, ops);
    if (st != code)
        fail_msg("einsum(\"%s\") returned %s, expected %s (%s)", spec, nnf_status_str(st),
                 nnf_status_str(code), nnf_last_error());
    assert_null(c);
    ref_assert_message(message);
}

static void errors_once(void)
{
    nnf_tensor *a = ref_rand(NNF_SHAPE(2, 2), 1), *b = ref_rand(NNF_SHAPE(3, 3), 2);
    nnf_tensor *t3 = ref_rand(NNF_SHAPE(2, 3, 4), 3), *r = ref_rand(NNF_SHAPE(2, 3), 4);
    nnf_tensor *e1 = ref_rand(NNF_SHAPE(3, 4), 5), *e2 = ref_rand(NNF_SHAPE(3, 5), 6);
    nnf_tensor *one = NULL;
    NNF_ASSERT_OK(nnf_ones(&one, NNF_SHAPE(1, 1, 1, 1, 1, 1, 1, 1)));

    expect_error("ij->i->j", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: found '->' a second time at index 5");
    expect_error("i$j", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: invalid subscript given at index 1 in the equation string, "
                 "subscripts must be in [a-zA-Z]");
    expect_error("i - > i", OPS(a), NNF_ERR_PARSE, "invalid subscript given at index 2");
    expect_error("ij,jk", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: fewer operands were provided than specified in the equation");
    expect_error("ij", OPS(a, b), NNF_ERR_PARSE,
                 "nnf_einsum: more operands were provided than specified in the equation");
    expect_error("ij", OPS(t3), NNF_ERR_PARSE,
                 "nnf_einsum: the number of subscripts in the equation (2) does not match the "
                 "number of dimensions (3) for operand 0");
    expect_error("ijkl...", OPS(t3), NNF_ERR_PARSE,
                 "nnf_einsum: the number of subscripts in the equation (4) is more than the "
                 "number of dimensions (3) for operand 0");
    expect_error("ij->k", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: output subscript k does not appear in the equation for any input "
                 "operand");
    expect_error("ij->jj", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: output subscript j appears more than once in the output");
    expect_error("i..j", OPS(a), NNF_ERR_PARSE,
                 "nnf_einsum: found '.' at index 1 for operand 0 that is not part of any ellipsis");
    expect_error("...i...", OPS(t3), NNF_ERR_PARSE, "for which an ellipsis was already found");
    expect_error("ij->ij,", OPS(a), NNF_ERR_PARSE, "nnf_einsum: found ',' at index 6 in the output");
    expect_error("ij,jk->ik", OPS(a, b), NNF_ERR_SHAPE,
                 "nnf_einsum: subscript j has size 3 for operand 1 which does not broadcast with "
                 "previously seen size 2");
    expect_error("ii->i", OPS(r), NNF_ERR_SHAPE,
                 "nnf_einsum: subscript i is repeated for operand 0 but the sizes don't match, "
                 "3 != 2");
    expect_error("i...,i...", OPS(e1, e2), NNF_ERR_SHAPE,
                 "nnf_einsum: dimension 1 covered by ellipsis in operand 1 has size 5 which does "
                 "not broadcast with previously seen ellipsis with size 4 for the respective "
                 "dimension");
    expect_error("abcdefgh,ijklmnop,ijklmnop->abcdefgh", OPS(one, one, one), NNF_ERR_UNSUPPORTED,
                 "an intermediate product would have 16 dimensions");
    expect_error("abcdefgh,ijklmnop", OPS(one, one), NNF_ERR_PARSE,
                 "nnf_einsum: the implicit output has 16 dimensions, more than NNF_MAX_DIMS (8)");

    nnf_tensor *c = NULL, *i64 = NULL;
    NNF_ASSERT_OK(nnf_empty_typed(&i64, NNF_SHAPE(2), NNF_I64));
    NNF_ASSERT_FAILS(nnf_einsum(&c, "i", OPS(i64)), NNF_ERR_DTYPE);
    NNF_ASSERT_FAILS(nnf_einsum(NULL, "ij", OPS(a)), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_einsum(&c, NULL, OPS(a)), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_einsum(&c, "ij", 1, NULL), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_einsum(&c, "ij", 1, (const nnf_tensor *const[]){NULL}), NNF_ERR_NULL);
    NNF_ASSERT_FAILS(nnf_einsum(&c, "", 0, (const nnf_tensor *const[]){a}), NNF_ERR_INVALID);
    assert_null(c);
    NNF_TEST_FREE(a, b, t3, r, e1, e2, one, i64);
}

static void test_errors(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        errors_once();
    }
    nnf_test_restore_isa();
}

/* Each allocation failing in turn: NNF_ERR_NOMEM, nothing leaked, *out untouched. */
static void check_alloc_failures(const char *spec, int n, const nnf_tensor *const *ops)
{
    for (long k = 1;; k++) {
        nnf_tensor *c = NULL;
        long live = nnf__alloc_live();
        nnf__alloc_fail_after(k);
        nnf_status st = nnf_einsum(&c, spec, n, ops);
        nnf__alloc_fail_after(0);
        nnf_tensor_free(c);
        assert_int_equal(nnf__alloc_live(), live);
        if (st == NNF_OK)
            return;
        if (st != NNF_ERR_NOMEM)
            fail_msg("einsum(\"%s\") with allocation %ld failing: %s (%s)", spec, k,
                     nnf_status_str(st), nnf_last_error());
        assert_null(c);
        assert_true(k < 200);
    }
}

static void alloc_failure_once(void)
{
    nnf_tensor *a = ref_rand(NNF_SHAPE(3, 4), 1), *b = ref_rand(NNF_SHAPE(4, 5), 2);
    nnf_tensor *c = ref_rand(NNF_SHAPE(5, 2), 3), *s = ref_rand(NNF_SHAPE(4, 4), 4);
    nnf_tensor *ba = ref_rand(NNF_SHAPE(2, 3, 4), 5), *step = NULL;
    NNF_ASSERT_OK(nnf_slice(&step, b, 1, 0, 5, 2));
    check_alloc_failures("ik,kj->ij", OPS(a, b));
    check_alloc_failures("ij,jk,kl->li", OPS(a, b, c));
    check_alloc_failures("ii->", OPS(s));
    check_alloc_failures("ij->ji", OPS(s));
    check_alloc_failures("bij,jk->bk", OPS(ba, b));
    check_alloc_failures("ij,ij->ij", OPS(s, s));
    check_alloc_failures("ij,jk->ik", OPS(a, step));
    check_alloc_failures("...j,...j->...", OPS(ba, a));
    nnf_tensor *p3 = ref_rand(NNF_SHAPE(2, 3, 4), 7), *q3 = ref_rand(NNF_SHAPE(4, 3, 5), 8);
    check_alloc_failures("ikj,jkl->il", OPS(p3, q3));     /* the right side copied */
    nnf_tensor_free(p3);
    nnf_tensor_free(q3);
    NNF_TEST_FREE(a, b, c, s, ba, step);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        alloc_failure_once();
    }
    nnf_test_restore_isa();
}

/* A product is lowered to nnf_matmul: the bits are the same as calling it directly, on
 * every ISA. */
static void test_same_bits_as_matmul(void **state)
{
    (void)state;
    nnf_tensor *a = ref_rand(NNF_SHAPE(3, 20, 30), 1), *b = ref_rand(NNF_SHAPE(3, 30, 10), 2);
    nnf_tensor *w = ref_rand(NNF_SHAPE(10, 30), 3);
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *e = NULL, *m = NULL, *wt = NULL, *e2 = NULL, *m2 = NULL;
        NNF_ASSERT_OK(nnf_einsum(&e, "bik,bkj->bij", OPS(a, b)));
        NNF_ASSERT_OK(nnf_matmul(&m, a, b));
        nnf_test_assert_bits_equal(nnf_tensor_data(e), nnf_tensor_data(m), 3 * 20 * 10);
        NNF_ASSERT_OK(nnf_t(&wt, w));
        NNF_ASSERT_OK(nnf_einsum(&e2, "bik,jk->bij", OPS(a, w)));
        NNF_ASSERT_OK(nnf_matmul(&m2, a, wt));
        nnf_test_assert_bits_equal(nnf_tensor_data(e2), nnf_tensor_data(m2), 3 * 20 * 10);
        NNF_TEST_FREE(e, m, wt, e2, m2);
    }
    nnf_test_restore_isa();
    nnf_tensor_free(a);
    nnf_tensor_free(b);
    nnf_tensor_free(w);
}

/* The same bits on every ISA and with 1 or 2 threads, for equations that use every
 * lowering: batched products (16 of 48x48x48, 3.5 MFLOP: one product per thread), sums,
 * diagonals and elementwise products. */
static void test_bitwise_isas_threads(void **state)
{
    (void)state;
    static const char *const specs[] = {"bij,bjk,bkl->bil", "bij,bjk->k", "ii,ij->j",
                                        "bij,bij->bj", "ij,jk", "bii->b"};
    nnf_tensor *x = ref_rand(NNF_SHAPE(16, 48, 48), 1), *y = ref_rand(NNF_SHAPE(16, 48, 48), 2);
    nnf_tensor *z = ref_rand(NNF_SHAPE(16, 48, 48), 3), *s = ref_rand(NNF_SHAPE(48, 48), 4);
    const nnf_tensor *const ops[][3] = {{x, y, z}, {x, y, NULL}, {s, s, NULL}, {x, y, NULL},
                                        {s, s, NULL}, {x, NULL, NULL}};
    const int nops[] = {3, 2, 2, 2, 2, 1};
    nnf_tensor *first[6] = {NULL};
    int threads0 = nnf_get_num_threads();
    NNF_FOR_EACH_ISA(isa) {
        for (int threads = 1; threads <= 2; threads++) {
            nnf_test_threads(threads);
            for (int i = 0; i < 6; i++) {
                nnf_tensor *c = NULL;
                NNF_ASSERT_OK(nnf_einsum(&c, specs[i], nops[i], ops[i]));
                if (first[i] == NULL) {
                    first[i] = c;
                    continue;
                }
                nnf_test_assert_bits_equal(nnf_tensor_data(c), nnf_tensor_data(first[i]),
                                           (size_t)nnf_tensor_numel(c));
                nnf_tensor_free(c);
            }
        }
    }
    nnf_test_threads(threads0);
    nnf_test_restore_isa();
    nnf_test_free_tensors(first, 6);
    NNF_TEST_FREE(x, y, z, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chapter_examples),
        cmocka_unit_test(test_equations),
        cmocka_unit_test(test_ellipsis_and_broadcast),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_given_output),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_same_bits_as_matmul),
        cmocka_unit_test(test_bitwise_isas_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
