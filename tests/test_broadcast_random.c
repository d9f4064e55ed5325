/* Every pattern of size-1 dims, for operands of rank 1 to 5 (issue 10): for each pair
 * of ranks and each choice of which dims of each operand are 1, random sizes, random
 * layouts (contiguous, transposed, stepped) and a new or a given (possibly transposed)
 * output, on every ISA. The reference is read element by element through each view's
 * own strides with numpy's rules (nnf_test_at), independently of the engine, and the
 * float sum of two floats computed in double and rounded is exactly IEEE's float add,
 * so the comparison is bitwise. Among the pairs: same-rank operands that differ only in
 * dim 0 ([2,3,4] + [1,3,4]), which a dense fast path once read past the end of. */
#include "nnf_test.h"

#include <string.h>

static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* A tensor of `shape` with random values, laid out contiguously (0), as the transpose
 * of a contiguous tensor of the reversed shape (1), or as every other element of a
 * twice-as-long last dim (2). */
static nnf_tensor *operand(int nd, const int64_t *shape, int layout, uint64_t seed)
{
    int64_t full[NNF_MAX_DIMS];
    nnf_tensor *base = NULL, *v = NULL;
    for (int d = 0; d < nd; d++)
        full[d] = layout == 1 ? shape[nd - 1 - d] : shape[d];
    if (layout == 2)
        full[nd - 1] *= 2;
    NNF_ASSERT_OK(nnf_empty(&base, nd, full));
    nnf_test_fill_uniform(nnf_tensor_data(base), (size_t)nnf_tensor_numel(base), seed, -4, 4);
    if (layout == 0)
        return base;
    if (layout == 1) {
        int perm[NNF_MAX_DIMS];
        for (int d = 0; d < nd; d++)
            perm[d] = nd - 1 - d;
        NNF_ASSERT_OK(nnf_permute(&v, base, perm));
    } else {
        NNF_ASSERT_OK(nnf_slice(&v, base, nd - 1, 0, full[nd - 1], 2));
    }
    nnf_tensor_free(base);
    return v;
}

static void check_sum(const nnf_tensor *y, const nnf_tensor *a, const nnf_tensor *b,
                      const char *what)
{
    int nd = nnf_tensor_ndim(y);
    const int64_t *shape = nnf_tensor_shape(y);
    int64_t n = nnf_tensor_numel(y), index[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        float want = (float)((double)nnf_test_at(a, nd, index) + nnf_test_at(b, nd, index));
        float got = nnf_test_at(y, nd, index);
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("%s: flat element %lld: got %.9g, want %.9g", what, (long long)i,
                     (double)got, (double)want);
        for (int d = nd - 1; d >= 0; d--) {
            if (++index[d] < shape[d])
                break;
            index[d] = 0;
        }
    }
}

static void describe(char *buf, size_t size, int n, const int64_t *shape, int layout)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < n; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "",
                                 (long long)shape[d]);
    snprintf(buf + used, size - used, "]/%d", layout);
}

/* a (rank ra, dims in mask_a of size 1) + b (rank rb, mask_b), into a new tensor and
 * into a given one of the result's shape. */
static void one_pattern(int ra, unsigned mask_a, int rb, unsigned mask_b, uint64_t *rng)
{
    int nd = ra > rb ? ra : rb;
    int64_t out[NNF_MAX_DIMS], sa[NNF_MAX_DIMS], sb[NNF_MAX_DIMS];
    for (int d = 0; d < nd; d++)
        out[d] = 2 + (int64_t)(next(rng) % 3);
    /* Operand dim i is result dim nd - r + i (numpy aligns the trailing dims). */
    for (int i = 0; i < ra; i++)
        sa[i] = mask_a >> i & 1 ? 1 : out[nd - ra + i];
    for (int i = 0; i < rb; i++)
        sb[i] = mask_b >> i & 1 ? 1 : out[nd - rb + i];
    /* The result's own sizes: 1 where neither operand has the full size. */
    for (int d = 0; d < nd; d++) {
        int ia = d - (nd - ra), ib = d - (nd - rb);
        int full = (ia >= 0 && sa[ia] != 1) || (ib >= 0 && sb[ib] != 1);
        out[d] = full ? out[d] : 1;
    }
    int la = (int)(next(rng) % 3), lb = (int)(next(rng) % 3), lo = (int)(next(rng) % 2);
    nnf_tensor *a = operand(ra, sa, la, next(rng)), *b = operand(rb, sb, lb, next(rng));
    char what[160], da[64], db[64];
    describe(da, sizeof da, ra, sa, la);
    describe(db, sizeof db, rb, sb, lb);
    snprintf(what, sizeof what, "%s + %s", da, db);

    nnf_tensor *y = NULL;
    NNF_ASSERT_OK(nnf_add(&y, a, b));
    check_sum(y, a, b, what);
    nnf_tensor *given = operand(nd, out, lo, next(rng));
    NNF_ASSERT_OK(nnf_add(&given, a, b));
    check_sum(given, a, b, what);
    nnf_tensor_free(given);
    nnf_tensor_free(y);
    nnf_tensor_free(a);
    nnf_tensor_free(b);
}

static void test_every_size1_pattern(void **state)
{
    (void)state;
    /* Under valgrind or NNF_TEST_THIN=1: one pattern in 16, a different sample per ISA. */
    int thin = nnf_test_thin();
    NNF_FOR_EACH_ISA(isa) {
        uint64_t rng = 0x5eed + (uint64_t)isa, pick = rng;
        int64_t count = 0;
        for (int ra = 1; ra <= 5; ra++)
            for (int rb = 1; rb <= 5; rb++)
                for (unsigned ma = 0; ma < 1u << ra; ma++)
                    for (unsigned mb = 0; mb < 1u << rb; mb++) {
                        if (thin && next(&pick) % 16 != 0)
                            continue;
                        one_pattern(ra, ma, rb, mb, &rng);
                        count++;
                    }
        assert_true(count >= (thin ? 100 : 62 * 62));
    }
}

/* The case that escaped the suite, by name, contiguous, both orders, on every ISA. */
static void test_differ_in_dim0(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        for (int swap = 0; swap <= 1; swap++) {
            nnf_tensor *a = operand(3, (const int64_t[]){2, 3, 4}, 0, 1);
            nnf_tensor *b = operand(3, (const int64_t[]){1, 3, 4}, 0, 2);
            nnf_tensor *y = NULL;
            NNF_ASSERT_OK(swap ? nnf_add(&y, b, a) : nnf_add(&y, a, b));
            check_sum(y, a, b, "[2,3,4] + [1,3,4]");
            nnf_tensor_free(y);
            nnf_tensor_free(a);
            nnf_tensor_free(b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differ_in_dim0),
        cmocka_unit_test(test_every_size1_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
