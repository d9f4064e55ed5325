/* nnf/memory.h: the huge-page cache keeps freed large buffers resident, nnf_trim gives
 * them back (the resident set, read from /proc/self/statm, falls), the cache limit
 * (nnf_set_cache_limit, NNF_CACHE_MAX) bounds what is kept, and an application's
 * allocator (nnf_set_allocator) receives every buffer and gets every one back. */
#include "nnf_test.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/alloc.h"

#define MIB ((size_t)1 << 20)
/* 4M floats: 16 MiB, well above the 2 MiB from which buffers are cached. */
#define BIG ((int64_t)4 << 20)

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size, resident;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static double mib(size_t bytes)
{
    return (double)bytes / (double)MIB;
}

/* Makes n 16 MiB tensors with every page written: pairs from nnf_full and their sum
 * through the active ISA's kernel, checked against the sum done here. */
static void make_big(nnf_tensor **t, int n)
{
    for (int i = 0; i < n; i++) {
        t[i] = NULL;
        if (i % 3 < 2) {
            NNF_ASSERT_OK(nnf_full(&t[i], NNF_SHAPE(BIG), (float)(i % 3 + 1)));
        } else {
            NNF_ASSERT_OK(nnf_add(&t[i], t[i - 2], t[i - 1]));
            float v[3];
            nnf_tensor *tail = NULL;
            NNF_ASSERT_OK(nnf_slice(&tail, t[i], 0, BIG - 3, BIG, 1));
            NNF_ASSERT_OK(nnf_copy_to_buffer(v, sizeof v, tail));
            nnf_tensor_free(tail);
            for (int j = 0; j < 3; j++)
                assert_true(v[j] == 3.0f);
        }
    }
}

static void test_rss_falls_after_trim(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_set_cache_limit(512 * MIB);
        (void)nnf_trim();
        size_t before = rss_bytes();
        nnf_tensor *t[6];
        make_big(t, 6);
        size_t used = rss_bytes();
        nnf_test_free_tensors(t, 6);
        size_t freed = rss_bytes();
        size_t released = nnf_trim();
        size_t trimmed = rss_bytes();
        print_message("%s: resident %.1f MiB before, %.1f with 6 x 16 MiB tensors, %.1f "
                      "after freeing them, %.1f after nnf_trim (%.1f MiB returned)\n",
                      nnf_isa_name(isa), mib(before), mib(used), mib(freed), mib(trimmed),
                      mib(released));
        /* The six buffers stay cached after the free... */
        assert_true(released == 6 * 16 * MIB);
        assert_true(freed + 16 * MIB > used);
        /* ...and the resident set falls by most of them with the trim. */
        assert_true(trimmed + 80 * MIB < freed);
    }
}

static void test_cache_limit(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        nnf_tensor *t[4];
        /* At most 32 MiB: the two buffers freed last stay. */
        nnf_set_cache_limit(32 * MIB);
        assert_true(nnf_get_cache_limit() == 32 * MIB);
        (void)nnf_trim();
        make_big(t, 4);
        nnf_test_free_tensors(t, 4);
        assert_true(nnf_trim() == 32 * MIB);

        /* Lowering the limit returns what is over it at once. */
        nnf_set_cache_limit(512 * MIB);
        make_big(t, 4);
        nnf_test_free_tensors(t, 4);
        nnf_set_cache_limit(16 * MIB);
        assert_true(nnf_trim() == 16 * MIB);

        /* 0: nothing is kept, and freeing gives the memory back by itself. */
        nnf_set_cache_limit(0);
        make_big(t, 3);
        size_t used = rss_bytes();
        nnf_test_free_tensors(t, 3);
        assert_true(rss_bytes() + 40 * MIB < used);
        assert_true(nnf_trim() == 0);
        nnf_set_cache_limit(512 * MIB);
    }
}

static void test_env(void **state)
{
    (void)state;
    const struct {
        const char *value;
        size_t limit;
    } cases[] = {
        {"20M", 20 * MIB}, {"20m", 20 * MIB}, {"1G", (size_t)1 << 30}, {"640K", 640 << 10},
        {"123456", 123456}, {"0", 0},
        /* Not a size: the default. */
        {"", 512 * MIB}, {"abc", 512 * MIB}, {"12X", 512 * MIB}, {"-5", 512 * MIB},
        {"5 M", 512 * MIB}, {"99999999999999999999", 512 * MIB},
        {"99999999999999G", 512 * MIB},
    };
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            setenv("NNF_CACHE_MAX", cases[i].value, 1);
            nnf__alloc_reread_env();
            if (nnf_get_cache_limit() != cases[i].limit)
                fail_msg("NNF_CACHE_MAX=%s: limit %zu, expected %zu", cases[i].value,
                         nnf_get_cache_limit(), cases[i].limit);
        }
        /* nnf_set_cache_limit overrides the variable. */
        nnf_set_cache_limit(3 * MIB);
        assert_true(nnf_get_cache_limit() == 3 * MIB);
        unsetenv("NNF_CACHE_MAX");
        nnf__alloc_reread_env();
        assert_true(nnf_get_cache_limit() == 512 * MIB);
    }
}

/* An application's allocator that counts, and can fail or misalign on request. */
typedef struct {
    pthread_mutex_t lock;
    long allocs, frees;
    size_t outstanding, largest;
    int fail, misalign, bad_size;
} counter;

static void *counting_alloc(void *user, size_t nbytes, size_t alignment)
{
    counter *c = user;
    pthread_mutex_lock(&c->lock);
    char *p = NULL;
    if (!c->fail) {
        p = aligned_alloc(alignment, (nbytes + 2 * alignment - 1) / alignment * alignment);
        if (p != NULL) {
            p += c->misalign ? 8 : 0;
            c->allocs++;
            c->outstanding += nbytes;
            c->largest = nbytes > c->largest ? nbytes : c->largest;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void counting_free(void *user, void *ptr, size_t nbytes)
{
    counter *c = user;
    pthread_mutex_lock(&c->lock);
    c->frees++;
    c->bad_size |= nbytes > c->outstanding;
    c->outstanding -= nbytes;
    free((char *)ptr - ((uintptr_t)ptr % 64));
    pthread_mutex_unlock(&c->lock);
}

static void test_allocator(void **state)
{
    (void)state;
    static counter c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    enum { N = 320 };   /* k * n over 64K floats: the packed product and its scratch */
    NNF_FOR_EACH_ISA(isa) {
        c.allocs = c.frees = 0;
        c.outstanding = c.largest = 0;
        NNF_ASSERT_FAILS(nnf_set_allocator(counting_alloc, NULL, &c), NNF_ERR_NULL);
        assert_string_equal(nnf_last_error(), "nnf_set_allocator: free_fn is NULL but "
                            "alloc_fn is not: set both, or both NULL for nnf's own allocator");
        NNF_ASSERT_OK(nnf_set_allocator(counting_alloc, counting_free, &c));

        nnf_tensor *big = NULL, *a = NULL, *b = NULL, *p = NULL;
        NNF_ASSERT_OK(nnf_full(&big, NNF_SHAPE(BIG), 1.0f));
        NNF_ASSERT_OK(nnf_full(&a, NNF_SHAPE(N, N), 0.5f));
        NNF_ASSERT_OK(nnf_full(&b, NNF_SHAPE(N, N), 2.0f));
        NNF_ASSERT_OK(nnf_matmul(&p, a, b));
        float corner[2];
        nnf_tensor *row = NULL;
        NNF_ASSERT_OK(nnf_slice(&row, p, 1, N - 2, N, 1));
        nnf_tensor *last = NULL;
        NNF_ASSERT_OK(nnf_select(&last, row, 0, N - 1));
        NNF_ASSERT_OK(nnf_copy_to_buffer(corner, sizeof corner, last));
        assert_true(corner[0] == (float)N && corner[1] == (float)N);   /* 0.5 * 2 * N */
        assert_true(c.largest >= (size_t)BIG * sizeof(float));
        assert_true(c.outstanding >= (size_t)BIG * sizeof(float));

        /* Not while its buffers are in use. */
        NNF_ASSERT_FAILS(nnf_set_allocator(NULL, NULL, NULL), NNF_ERR_STATE);
        assert_non_null(strstr(nnf_last_error(), "still in use"));
        NNF_TEST_FREE(big, a, b, p, row, last);
        (void)nnf_trim();   /* this thread's packing buffer */
        assert_int_equal(c.outstanding, 0);
        assert_int_equal(c.allocs, c.frees);
        assert_false(c.bad_size);

        /* Its failures are nnf's out-of-memory errors, and leave nothing behind. */
        nnf_tensor *t = NULL;
        c.fail = 1;
        NNF_ASSERT_FAILS(nnf_zeros(&t, NNF_SHAPE(1000)), NNF_ERR_NOMEM);
        c.fail = 0;
        NNF_ASSERT_OK(nnf_set_log_level(0));   /* the warning below is expected */
        c.misalign = 1;
        NNF_ASSERT_FAILS(nnf_zeros(&t, NNF_SHAPE(1000)), NNF_ERR_NOMEM);
        c.misalign = 0;
        NNF_ASSERT_OK(nnf_set_log_level(1));
        assert_null(t);
        assert_int_equal(c.outstanding, 0);

        /* Back to nnf's own: the application's allocator is not called again. */
        NNF_ASSERT_OK(nnf_set_allocator(NULL, NULL, NULL));
        long before = c.allocs;
        NNF_ASSERT_OK(nnf_zeros(&t, NNF_SHAPE(1000)));
        nnf_tensor_free(t);
        assert_int_equal(c.allocs, before);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_falls_after_trim),
        cmocka_unit_test(test_cache_limit),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_allocator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
