/* The allocator: alignment, the huge-page path and its cache, failure injection and
 * live-block counting (the hooks every allocation-failure test relies on), threads. */
#include "nnf_test.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "src/core/alloc.h"

#define MIB ((size_t)1 << 20)

static void fill_check(unsigned char *p, size_t n, unsigned char v)
{
    memset(p, v, n);
    assert_int_equal(p[0], v);
    assert_int_equal(p[n / 2], v);
    assert_int_equal(p[n - 1], v);
}

static void test_alignment(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 2 * MIB - 1, 2 * MIB, 3 * MIB + 5, 9 * MIB};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = nnf__alloc(sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 64, 0);
            /* Large blocks start on a huge-page boundary so every 2 MiB can be one. */
            if (sizes[i] >= 2 * MIB)
                assert_int_equal((uintptr_t)p % (2 * MIB), 0);
            if (sizes[i] > 0)
                fill_check(p, sizes[i], 0xa5);
            nnf__dealloc(p, sizes[i]);
        }
        nnf__dealloc(NULL, 100);
        nnf__dealloc(NULL, 100 * MIB);
        assert_null(nnf__alloc(SIZE_MAX));
        assert_null(nnf__alloc(SIZE_MAX / 2 + 1));
    }
}

static void test_live_count(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        long base = nnf__alloc_live();
        void *a = nnf__alloc(10), *b = nnf__alloc(4 * MIB), *c = nnf__calloc(100);
        assert_int_equal(nnf__alloc_live(), base + 3);
        nnf__dealloc(b, 4 * MIB);
        /* A block held by the cache is not live. */
        assert_int_equal(nnf__alloc_live(), base + 2);
        nnf__dealloc(a, 10);
        nnf__dealloc(c, 100);
        assert_int_equal(nnf__alloc_live(), base);
    }
}

/* The cache hands a freed large block to the next request that fits, trimmed to the
 * request so that freeing it with the request's size is exact. */
static void test_cache_reuse(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf__alloc_trim();
        unsigned char *p = nnf__alloc(16 * MIB);
        assert_non_null(p);
        fill_check(p, 16 * MIB, 1);
        nnf__dealloc(p, 16 * MIB);
        unsigned char *q = nnf__alloc(16 * MIB - 100);
        assert_ptr_equal(q, p);
        nnf__dealloc(q, 16 * MIB - 100);
        /* A smaller request takes the block and gives back its tail. */
        unsigned char *r = nnf__alloc(4 * MIB);
        assert_ptr_equal(r, p);
        fill_check(r, 4 * MIB, 2);
        nnf__dealloc(r, 4 * MIB);
        /* The trimmed 4 MiB block cannot serve 16 MiB. */
        unsigned char *s = nnf__alloc(16 * MIB);
        assert_non_null(s);
        fill_check(s, 16 * MIB, 3);
        nnf__dealloc(s, 16 * MIB);
        nnf__alloc_trim();
    }
}

/* nnf__calloc zeroes small blocks, fresh mappings and reused (dirty) cached blocks. */
static void test_calloc_zeroes(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        const size_t sizes[] = {100, 4 * MIB, 4 * MIB};
        for (size_t i = 0; i < 3; i++) {
            unsigned char *p = nnf__alloc(sizes[i]);
            memset(p, 0xff, sizes[i]);
            nnf__dealloc(p, sizes[i]);
            if (i == 2)
                nnf__alloc_trim();   /* the next large block is a fresh mapping */
            unsigned char *z = nnf__calloc(sizes[i]);
            assert_non_null(z);
            for (size_t j = 0; j < sizes[i]; j += 4093)
                assert_int_equal(z[j], 0);
            assert_int_equal(z[sizes[i] - 1], 0);
            nnf__dealloc(z, sizes[i]);
        }
    }
}

/* The cache keeps at most 512 MiB; freeing more returns memory to the OS (the test only
 * checks this stays correct: every block can be reused or remapped and written). */
static void test_cache_overflow(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        enum { N = 12 };
        void *p[N];
        long base = nnf__alloc_live();
        for (int i = 0; i < N; i++) {
            p[i] = nnf__alloc((size_t)(2 + i) * MIB);
            assert_non_null(p[i]);
        }
        for (int i = 0; i < N; i++)
            nnf__dealloc(p[i], (size_t)(2 + i) * MIB);
        for (int i = N - 1; i >= 0; i--) {
            p[i] = nnf__alloc((size_t)(2 + i) * MIB);
            assert_non_null(p[i]);
            fill_check(p[i], (size_t)(2 + i) * MIB, (unsigned char)i);
        }
        for (int i = 0; i < N; i++)
            nnf__dealloc(p[i], (size_t)(2 + i) * MIB);
        assert_int_equal(nnf__alloc_live(), base);
        nnf__alloc_trim();
    }
}

static void test_fail_after(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        long base = nnf__alloc_live();
        nnf__alloc_fail_after(3);
        void *a = nnf__alloc(8), *b = nnf__alloc(3 * MIB);
        assert_non_null(a);
        assert_non_null(b);
        /* The third and every later allocation fail, small, large and zeroed alike. */
        assert_null(nnf__alloc(8));
        assert_null(nnf__alloc(3 * MIB));
        assert_null(nnf__calloc(8));
        assert_int_equal(nnf__alloc_live(), base + 2);
        nnf__alloc_fail_after(0);
        void *c = nnf__alloc(8);
        assert_non_null(c);
        nnf__alloc_fail_after(1);
        assert_null(nnf__alloc(1));
        nnf__alloc_fail_after(0);
        nnf__dealloc(a, 8);
        nnf__dealloc(b, 3 * MIB);
        nnf__dealloc(c, 8);
        assert_int_equal(nnf__alloc_live(), base);
    }
}

static void *churn(void *arg)
{
    unsigned char tag = (unsigned char)(uintptr_t)arg;
    for (int i = 0; i < 200; i++) {
        size_t n = (i % 3 == 0) ? (size_t)(2 + i % 5) * MIB : (size_t)(1 + i * 7919 % 10000);
        unsigned char *p = nnf__alloc(n);
        if (p == NULL)
            return (void *)1;
        p[0] = tag;
        p[n - 1] = tag;
        if (p[0] != tag || p[n - 1] != tag)
            return (void *)1;
        nnf__dealloc(p, n);
    }
    return NULL;
}

/* Threads sharing the cache never get the same block at once (each checks its tags). */
static void test_threads(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        enum { T = 4 };
        pthread_t th[T];
        long base = nnf__alloc_live();
        for (int i = 0; i < T; i++)
            assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
        for (int i = 0; i < T; i++) {
            void *ret;
            pthread_join(th[i], &ret);
            assert_null(ret);
        }
        assert_int_equal(nnf__alloc_live(), base);
        nnf__alloc_trim();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_live_count),
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_cache_overflow),
        cmocka_unit_test(test_fail_after),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
