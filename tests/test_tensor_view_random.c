/* nnf_view on random geometries, against a brute-force rule: a view of shape S exists
 * exactly when the source's elements, enumerated in row-major order, sit at storage
 * offsets that are an affine function of the S-index (then the strides are the offset
 * steps along each dim). The sources are permuted, sliced with steps and expanded
 * views, so the chunk walk in src/tensor/view_shape.c meets gaps, stride-0 dims and
 * size-1 dims with arbitrary strides. nnf_reshape must give the same view, or else a
 * copy of the elements in the same order. */
#include "nnf_test.h"

#include <string.h>

static uint64_t lcg;

static int rnd(int n)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((lcg >> 33) % (uint64_t)n);
}

/* Storage offsets of t's elements in row-major order. */
static int64_t offsets(const nnf_tensor *t, int64_t *off)
{
    int nd = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    int64_t n = nnf_tensor_numel(t), idx[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t o = nnf_tensor_offset(t);
        for (int d = 0; d < nd; d++)
            o += idx[d] * stride[d];
        off[i] = o;
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    return n;
}

/* The affine rule: strides from the offset steps, then checked on every element. */
static int affine_strides(const int64_t *off, int64_t n, int nd, const int64_t *shape,
                          int64_t *stride)
{
    int64_t step = n;
    for (int d = 0; d < nd; d++) {
        step /= shape[d];
        stride[d] = shape[d] > 1 ? off[step] - off[0] : -1;
    }
    int64_t idx[NNF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t o = off[0];
        for (int d = 0; d < nd; d++)
            if (shape[d] > 1)
                o += idx[d] * stride[d];
        if (o != off[i])
            return 0;
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    return 1;
}

/* A random source: a contiguous block, permuted, sliced with steps, maybe expanded. */
static nnf_tensor *random_source(nnf_tensor *base)
{
    int nd = 1 + rnd(4);
    int64_t shape[4];
    for (int d = 0; d < nd; d++)
        shape[d] = 1 + rnd(4);
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    nnf_tensor *t = NULL, *u = NULL;
    NNF_ASSERT_OK(nnf_narrow(&u, base, 0, rnd((int)(256 - n + 1)), n));
    NNF_ASSERT_OK(nnf_view(&t, u, nd, shape));
    nnf_tensor_free(u);
    int perm[4] = {0, 1, 2, 3};
    for (int d = nd - 1; d > 0; d--) {
        int j = rnd(d + 1), tmp = perm[d];
        perm[d] = perm[j];
        perm[j] = tmp;
    }
    NNF_ASSERT_OK(nnf_permute(&u, t, perm));
    nnf_tensor_free(t);
    t = u;
    for (int d = 0; d < nd; d++) {
        int64_t size = nnf_tensor_shape(t)[d];
        if (size < 2 || rnd(3) != 0)
            continue;
        NNF_ASSERT_OK(nnf_slice(&u, t, d, rnd((int)size), size, 1 + rnd(2)));
        nnf_tensor_free(t);
        t = u;
    }
    if (rnd(3) == 0) {
        int64_t ex[5];
        int end = nnf_tensor_ndim(t);
        ex[0] = 1 + rnd(3);
        for (int d = 0; d < end; d++)
            ex[d + 1] = nnf_tensor_shape(t)[d] == 1 ? 1 + rnd(3) : -1;
        NNF_ASSERT_OK(nnf_expand(&u, t, end + 1, ex));
        nnf_tensor_free(t);
        t = u;
    }
    return t;
}

/* A random shape with numel n: its prime factors dealt into dims, plus some 1s. */
static int random_shape(int64_t n, int64_t *shape)
{
    int64_t f[16];
    int nf = 0;
    for (int64_t p = 2; n > 1 && nf < 16;) {
        if (n % p == 0) {
            f[nf++] = p;
            n /= p;
        } else {
            p++;
        }
    }
    int nd = 1 + rnd(NNF_MAX_DIMS);
    for (int d = 0; d < nd; d++)
        shape[d] = 1;
    for (int i = 0; i < nf; i++)
        shape[rnd(nd)] *= f[i];
    return nd;
}

static void test_random_views(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *base = NULL;
        NNF_ASSERT_OK(nnf_arange(&base, 0, 256, 1));
        lcg = 2024;
        int viewable = 0, refused = 0;
        for (int iter = 0; iter < 3000; iter++) {
            nnf_tensor *src = random_source(base), *v = NULL;
            int64_t off[1024], shape[NNF_MAX_DIMS], want[NNF_MAX_DIMS];
            int64_t n = offsets(src, off);
            if (n == 0) {
                nnf_tensor_free(src);
                continue;
            }
            int nd = random_shape(n, shape);
            nnf_status s = nnf_view(&v, src, nd, shape);
            if (affine_strides(off, n, nd, shape, want)) {
                if (s != NNF_OK)
                    fail_msg("iteration %d: view refused (%s) where strides exist", iter,
                             nnf_last_error());
                int64_t got[1024];
                offsets(v, got);
                assert_memory_equal(got, off, (size_t)n * sizeof off[0]);
                for (int d = 0; d < nd; d++)
                    if (shape[d] > 1)
                        assert_int_equal(nnf_tensor_strides(v)[d], want[d]);
                viewable++;
            } else {
                if (s != NNF_ERR_STRIDE)
                    fail_msg("iteration %d: view gave %s where no strides exist", iter,
                             nnf_status_str(s));
                refused++;
            }
            /* reshape: the same view, or a copy of the elements in the same order. */
            nnf_tensor *r = NULL;
            NNF_ASSERT_OK(nnf_reshape(&r, src, nd, shape));
            assert_int_equal(nnf_tensor_shares_storage(r, src), s == NNF_OK);
            if (s != NNF_OK) {
                assert_true(nnf_tensor_is_contiguous(r));
                const float *data = nnf_tensor_data(r), *all = nnf_tensor_data(base);
                for (int64_t i = 0; i < n; i++)
                    assert_true(data[i] == all[off[i]]);
            }
            nnf_tensor_free(r);
            nnf_tensor_free(v);
            nnf_tensor_free(src);
        }
        /* Both outcomes are exercised often. */
        assert_true(viewable > 300);
        assert_true(refused > 300);
        nnf_tensor_free(base);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
