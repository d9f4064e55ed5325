/* Fuzzing the einsum parser (zstd fuzzes its parsers): random and mutated equations must
 * give NNF_OK or NNF_ERR_PARSE, never crash or read out of bounds (run it under ASan),
 * never leak, and every accepted equation must satisfy the parser's invariants. The same
 * strings then go through nnf_einsum on small tensors. */
#include "test_linalg_ref.h"

#include <stdio.h>

#include "src/linalg/einsum_parse.h"

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *const seeds[] = {
    "ik,kj->ij", "ij,jk", "ij, kj -> ik", "bik,bkj->bij", "ii->", "ii->i", "ii", "i,j->ij",
    "ij->i", "ij->", "...ij,...jk->...ik", "i...j,j...->...i", "...", " b A -> A b",
    "ij,->ij", "->", "", "i,i,i->", "abc,cde,efg->ag", "ij->ji", "iij->j", "a...,...a",
};

/* Characters that matter to the grammar, weighted towards them, plus any byte. */
static char random_char(uint64_t *s)
{
    static const char useful[] = "ijkabAZz.,->  ...,,->";
    uint64_t r = next(s);
    if (r % 8 == 0)
        return (char)(1 + (r >> 8) % 255);
    return useful[(r >> 8) % (sizeof useful - 1)];
}

/* A seed, mutated a few times (replace, insert, delete, splice with another seed). */
static void make_spec(uint64_t *s, char *buf, size_t size)
{
    size_t nseeds = sizeof seeds / sizeof *seeds;
    snprintf(buf, size, "%s", seeds[next(s) % nseeds]);
    int edits = (int)(next(s) % 5);
    for (int e = 0; e < edits; e++) {
        size_t len = strlen(buf);
        size_t at = len ? next(s) % (len + 1) : 0;
        switch (next(s) % 4) {
        case 0:
            if (at < len)
                buf[at] = random_char(s);
            break;
        case 1:
            if (len + 1 < size) {
                memmove(buf + at + 1, buf + at, len - at + 1);
                buf[at] = random_char(s);
            }
            break;
        case 2:
            if (at < len)
                memmove(buf + at, buf + at + 1, len - at);
            break;
        default: {
            const char *other = seeds[next(s) % nseeds];
            snprintf(buf + at, size - at, "%s", other + next(s) % (strlen(other) + 1));
            break;
        }
        }
    }
}

static int count_terms(const char *spec)
{
    int n = 1;
    for (const char *p = spec; *p && !(p[0] == '-' && p[1] == '>'); p++)
        n += *p == ',';
    return n;
}

/* The number of letters in term k (plus one for an ellipsis), to pick a tensor that
 * mostly fits. */
static int term_dims(const char *spec, int k)
{
    int term = 0, dims = 0;
    for (const char *p = spec; *p && !(p[0] == '-' && p[1] == '>'); p++) {
        if (*p == ',')
            term++;
        else if (term == k)
            dims += (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.';
    }
    return dims;
}

static void check_invariants(const nnf__einsum_eq *eq, int n, const int *ndims)
{
    assert_int_equal(eq->noperands, n);
    assert_true(eq->ell_ndim >= 0 && eq->ell_ndim <= NNF_MAX_DIMS);
    uint64_t seen = 0;
    for (int k = 0; k < n; k++) {
        assert_int_equal(eq->in[k].ndim, ndims[k]);
        for (int d = 0; d < ndims[k]; d++) {
            int l = eq->in[k].label[d];
            assert_true(l >= 0 && l < NNF__EINSUM_ELL + eq->ell_ndim);
            seen |= (uint64_t)1 << l;
        }
    }
    assert_true(eq->out.ndim >= 0 && eq->out.ndim <= NNF_MAX_DIMS);
    uint64_t out = 0;
    for (int d = 0; d < eq->out.ndim; d++) {
        uint64_t bit = (uint64_t)1 << eq->out.label[d];
        assert_true(seen & bit);
        assert_false(out & bit);
        out |= bit;
    }
}

static void test_parser(void **state)
{
    (void)state;
    uint64_t s = 0x5eed;
    char spec[96];
    long live = nnf__alloc_live();
    int accepted = 0;
    for (int it = 0; it < 30000; it++) {
        make_spec(&s, spec, sizeof spec);
        /* mostly the number of terms written, sometimes one off */
        int n = count_terms(spec) + (int)(next(&s) % 5 == 0) - (int)(next(&s) % 7 == 0);
        if (n < 1)
            n = 1;
        if (n > 8)
            n = 8;
        int ndims[8];
        for (int k = 0; k < n; k++)
            ndims[k] = (int)(next(&s) % 5);
        nnf__einsum_eq eq;
        nnf_status st = nnf__einsum_parse(&eq, spec, n, ndims);
        if (st == NNF_OK) {
            check_invariants(&eq, n, ndims);
            nnf__einsum_eq_free(&eq);
            accepted++;
        } else if (st != NNF_ERR_PARSE) {
            fail_msg("\"%s\" (%d operands): %s: %s", spec, n, nnf_status_str(st),
                     nnf_last_error());
        }
        assert_int_equal(nnf__alloc_live(), live);
    }
    /* the mutations must leave enough valid equations to test the accepting paths */
    assert_true(accepted > 1000);
}

static void test_parser_alloc_failure(void **state)
{
    (void)state;
    long live = nnf__alloc_live();
    const int ndims[] = {3, 3, 2};
    for (long k = 1;; k++) {
        nnf__einsum_eq eq;
        nnf__alloc_fail_after(k);
        nnf_status st = nnf__einsum_parse(&eq, "bik,bkj,jl->bil", 3, ndims);
        nnf__alloc_fail_after(0);
        if (st == NNF_OK) {
            nnf__einsum_eq_free(&eq);
            break;
        }
        assert_int_equal(st, NNF_ERR_NOMEM);
        assert_int_equal(nnf__alloc_live(), live);
    }
    assert_int_equal(nnf__alloc_live(), live);
}

/* The brute-force reference for an equation the parser accepted: its labels spelled as
 * letters, with the ellipsis dims as digits. */
static void check_against_reference(const char *spec, int n, const nnf_tensor *const *ops,
                                    const nnf_tensor *got)
{
    int ndims[3];
    for (int k = 0; k < n; k++)
        ndims[k] = nnf_tensor_ndim(ops[k]);
    nnf__einsum_eq eq;
    NNF_ASSERT_OK(nnf__einsum_parse(&eq, spec, n, ndims));
    char in[3][NNF_MAX_DIMS + 1], out[NNF_MAX_DIMS + 1];
    const char *ins[3];
    for (int k = 0; k <= n; k++) {
        const nnf__einsum_term *t = k < n ? &eq.in[k] : &eq.out;
        char *dst = k < n ? in[k] : out;
        for (int d = 0; d < t->ndim; d++)
            dst[d] = t->label[d] >= NNF__EINSUM_ELL ? (char)('0' + t->label[d] - NNF__EINSUM_ELL)
                                                    : nnf__einsum_label_char(t->label[d]);
        dst[t->ndim] = '\0';
        if (k < n)
            ins[k] = in[k];
    }
    nnf__einsum_eq_free(&eq);
    ref_einsum_result r;
    ref_einsum(ins, out, n, ops, &r);
    assert_int_equal(nnf_tensor_ndim(got), r.ndim);
    for (int d = 0; d < r.ndim; d++)
        assert_int_equal(nnf_tensor_shape(got)[d], r.shape[d]);
    ref_assert_near(got, r.want, r.mag, r.terms + 4);
    ref_einsum_free(&r);
}

/* The whole of nnf_einsum on random equations over tensors whose dims are all 2 (so no
 * size can mismatch, and with <= 3 dims and <= 3 operands no intermediate exceeds 8 dims):
 * only NNF_OK or NNF_ERR_PARSE, nothing leaks, and every result matches the brute-force
 * reference. */
static void test_einsum(void **state)
{
    (void)state;
    nnf_tensor *t[4] = {NULL};
    for (int d = 0; d < 4; d++)
        t[d] = ref_rand(d, (const int64_t[]){2, 2, 2}, (uint64_t)d);
    NNF_FOR_EACH_ISA(isa) {
        uint64_t s = 0xf00d;
        char spec[96];
        long live = nnf__alloc_live();
        for (int it = 0; it < 1500; it++) {
            make_spec(&s, spec, sizeof spec);
            int n = count_terms(spec);
            if (n > 3)
                continue;
            const nnf_tensor *ops[3];
            for (int k = 0; k < n; k++) {
                int d = term_dims(spec, k) - (int)(next(&s) % 2);
                ops[k] = t[d < 0 ? 0 : d > 3 ? 3 : d];
            }
            nnf_tensor *c = NULL;
            nnf_status st = nnf_einsum(&c, spec, n, ops);
            if (st != NNF_OK && st != NNF_ERR_PARSE)
                fail_msg("\"%s\": %s: %s", spec, nnf_status_str(st), nnf_last_error());
            if (st == NNF_OK)
                check_against_reference(spec, n, ops, c);
            nnf_tensor_free(c);
            assert_int_equal(nnf__alloc_live(), live);
        }
    }
    nnf_test_restore_isa();
    for (int d = 0; d < 4; d++)
        nnf_tensor_free(t[d]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser),
        cmocka_unit_test(test_parser_alloc_failure),
        cmocka_unit_test(test_einsum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
