/* nnf/log.h: messages reach the callback at their level and no others, fn and user
 * arrive as a pair while callbacks change under concurrent messages, the default sink
 * is stderr, NNF_VERBOSE's levels; and nnf_isa_from_name reads names in any case. */
#include "nnf_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/core/alloc.h"
#include "src/core/log.h"
#include "src/runtime/pool.h"

typedef struct {
    pthread_mutex_t lock;
    int n[4];            /* messages per level */
    char last[4][512];   /* the last message per level */
    int mismatched;      /* messages that arrived with another callback's user */
} sink;

static void collect(void *user, nnf_log_level level, const char *message)
{
    sink *s = user;
    pthread_mutex_lock(&s->lock);
    if (level >= NNF_LOG_WARNING && level <= NNF_LOG_DEBUG) {
        s->n[level]++;
        snprintf(s->last[level], sizeof s->last[level], "%s", message);
    }
    pthread_mutex_unlock(&s->lock);
}

static void sink_reset(sink *s)
{
    memset(s->n, 0, sizeof s->n);
    memset(s->last, 0, sizeof s->last);
    s->mismatched = 0;
}

/* One warning and one debug message (NNF_CACHE_MAX), one info (NNF_NUM_THREADS). */
static void provoke(void)
{
    setenv("NNF_CACHE_MAX", "bogus", 1);
    nnf__alloc_reread_env();
    unsetenv("NNF_CACHE_MAX");
    setenv("NNF_NUM_THREADS", "2", 1);
    nnf__threads_reread_env();
    unsetenv("NNF_NUM_THREADS");
}

static void restore(void)
{
    nnf__alloc_reread_env();
    nnf__threads_reread_env();
}

static void test_levels(void **state)
{
    (void)state;
    static sink s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    NNF_FOR_EACH_ISA(isa) {
        for (int level = 0; level <= 3; level++) {
            NNF_ASSERT_OK(nnf_set_log_level(level));
            assert_int_equal(nnf_get_log_level(), level);
            nnf_set_log_callback(collect, &s);
            sink_reset(&s);
            provoke();
            nnf_set_log_callback(NULL, NULL);
            assert_int_equal(s.n[NNF_LOG_WARNING], level >= 1);
            assert_int_equal(s.n[NNF_LOG_INFO], level >= 2);
            assert_true((s.n[NNF_LOG_DEBUG] > 0) == (level >= 3));
            if (level >= 1)
                assert_string_equal(s.last[NNF_LOG_WARNING],
                                    "NNF_CACHE_MAX=bogus is not a size in bytes (e.g. 0, 64M, "
                                    "1G); using 512 MiB");
            if (level >= 2)
                assert_string_equal(s.last[NNF_LOG_INFO], "threads: 2 (NNF_NUM_THREADS)");
        }
        NNF_ASSERT_OK(nnf_set_log_level(0));
        restore();
        NNF_ASSERT_OK(nnf_set_log_level(1));
    }
}

static void test_set_level_invalid(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        NNF_ASSERT_OK(nnf_set_log_level(2));
        NNF_ASSERT_FAILS(nnf_set_log_level(4), NNF_ERR_INVALID);
        assert_string_equal(nnf_last_error(), "nnf_set_log_level: level must be 0 (silent), "
                                              "1 (warnings), 2 (info) or 3 (debug), got 4");
        NNF_ASSERT_FAILS(nnf_set_log_level(-1), NNF_ERR_INVALID);
        assert_int_equal(nnf_get_log_level(), 2);
        NNF_ASSERT_OK(nnf_set_log_level(1));
    }
}

static void test_verbose_env(void **state)
{
    (void)state;
    static sink s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    const struct {
        const char *value;
        int level, warns;
    } cases[] = {
        {"0", 0, 0}, {"1", 1, 0}, {"2", 2, 0}, {"3", 3, 0}, {"", 1, 0},
        {"4", 1, 1}, {"-1", 1, 1}, {"12", 1, 1}, {"debug", 1, 1}, {"2 ", 1, 1},
    };
    NNF_FOR_EACH_ISA(isa) {
        nnf_set_log_callback(collect, &s);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            sink_reset(&s);
            setenv("NNF_VERBOSE", cases[i].value, 1);
            nnf__log_reread_env();
            if (nnf_get_log_level() != cases[i].level || s.n[NNF_LOG_WARNING] != cases[i].warns)
                fail_msg("NNF_VERBOSE=\"%s\": level %d with %d warnings, expected %d with %d",
                         cases[i].value, nnf_get_log_level(), s.n[NNF_LOG_WARNING],
                         cases[i].level, cases[i].warns);
        }
        unsetenv("NNF_VERBOSE");
        nnf__log_reread_env();
        assert_int_equal(nnf_get_log_level(), 1);
        nnf_set_log_callback(NULL, NULL);
    }
}

/* Threads log while the main thread switches between two callbacks: every message
 * reaches a callback together with that callback's own user pointer. */
enum { LOGGERS = 4, MESSAGES = 2000 };
static sink pair[2] = {{.lock = PTHREAD_MUTEX_INITIALIZER}, {.lock = PTHREAD_MUTEX_INITIALIZER}};

static void to_first(void *user, nnf_log_level level, const char *message)
{
    if (user != &pair[0])
        pair[0].mismatched++;   /* a data race only if the test fails anyway */
    collect(&pair[0], level, message);
}

static void to_second(void *user, nnf_log_level level, const char *message)
{
    if (user != &pair[1])
        pair[1].mismatched++;
    collect(&pair[1], level, message);
}

static void *logger(void *arg)
{
    for (int i = 0; i < MESSAGES; i++)
        nnf__log(NNF_LOG_WARNING, "logger %d message %d", (int)(intptr_t)arg, i);
    return NULL;
}

static void test_concurrent_callbacks(void **state)
{
    (void)state;
    NNF_FOR_EACH_ISA(isa) {
        sink_reset(&pair[0]);
        sink_reset(&pair[1]);
        nnf_set_log_callback(to_first, &pair[0]);
        pthread_t t[LOGGERS];
        for (int i = 0; i < LOGGERS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, logger, (void *)(intptr_t)i), 0);
        for (int i = 0; i < 500; i++) {
            nnf_set_log_callback(to_second, &pair[1]);
            nnf_set_log_callback(to_first, &pair[0]);
        }
        for (int i = 0; i < LOGGERS; i++)
            pthread_join(t[i], NULL);
        nnf_set_log_callback(NULL, NULL);
        assert_int_equal(pair[0].mismatched + pair[1].mismatched, 0);
        assert_int_equal(pair[0].n[NNF_LOG_WARNING] + pair[1].n[NNF_LOG_WARNING],
                         LOGGERS * MESSAGES);
    }
}

/* Without a callback, messages go to stderr as "nnf: warning: ..." and "nnf: ...". */
static void test_default_stderr(void **state)
{
    (void)state;
    FILE *errf = tmpfile();
    assert_non_null(errf);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(errf), 2);
        nnf_set_log_callback(NULL, NULL);
        _exit(nnf_set_log_level(2) == NNF_OK ? (provoke(), 0) : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char err[1024];
    rewind(errf);
    size_t n = fread(err, 1, sizeof err - 1, errf);
    err[n] = '\0';
    fclose(errf);
    assert_string_equal(err, "nnf: warning: NNF_CACHE_MAX=bogus is not a size in bytes "
                             "(e.g. 0, 64M, 1G); using 512 MiB\n"
                             "nnf: threads: 2 (NNF_NUM_THREADS)\n");
}

static void test_isa_from_name(void **state)
{
    (void)state;
    const struct {
        const char *name;
        nnf_isa isa;
    } good[] = {
        {"scalar", NNF_ISA_SCALAR}, {"SCALAR", NNF_ISA_SCALAR}, {"Scalar", NNF_ISA_SCALAR},
        {"avx2", NNF_ISA_AVX2},     {"AVX2", NNF_ISA_AVX2},     {"avx512", NNF_ISA_AVX512},
        {"AVX512", NNF_ISA_AVX512}, {"neon", NNF_ISA_NEON},     {"NEON", NNF_ISA_NEON},
        {"scalar_fma", NNF_ISA_SCALAR_FMA}, {"SCALAR_FMA", NNF_ISA_SCALAR_FMA},
    };
    /* Every name of nnf/isa_list.h, in its order. */
#define NAME_ITEM(ID, name, value, arch) ", " #name
    static const char list[] = NNF_ISA_LIST(NAME_ITEM);
    const char *names = &list[2];   /* past the first ", " */
#undef NAME_ITEM
    const char *bad[] = {"", "avx1024", "avx", "avx2 ", " avx2", "avx-512", "sse"};
    NNF_FOR_EACH_ISA(isa) {
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            nnf_isa got = (nnf_isa)-1;
            NNF_ASSERT_OK(nnf_isa_from_name(&got, good[i].name));
            assert_int_equal(got, good[i].isa);
            /* The names round-trip through nnf_isa_name. */
            NNF_ASSERT_OK(nnf_isa_from_name(&got, nnf_isa_name(good[i].isa)));
            assert_int_equal(got, good[i].isa);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            nnf_isa got = NNF_ISA_NEON;
            NNF_ASSERT_FAILS(nnf_isa_from_name(&got, bad[i]), NNF_ERR_INVALID);
            assert_int_equal(got, NNF_ISA_NEON);
            char want[160];
            snprintf(want, sizeof want, "nnf_isa_from_name: \"%s\" is not one of %s", bad[i],
                     names);
            assert_string_equal(nnf_last_error(), want);
        }
        nnf_isa got;
        NNF_ASSERT_FAILS(nnf_isa_from_name(NULL, "avx2"), NNF_ERR_NULL);
        NNF_ASSERT_FAILS(nnf_isa_from_name(&got, NULL), NNF_ERR_NULL);
        assert_string_equal(nnf_last_error(), "nnf_isa_from_name: name is NULL");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_set_level_invalid),
        cmocka_unit_test(test_verbose_env),
        cmocka_unit_test(test_concurrent_callbacks),
        cmocka_unit_test(test_default_stderr),
        cmocka_unit_test(test_isa_from_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
