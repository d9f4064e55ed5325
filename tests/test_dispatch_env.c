/* Detection at first use: NNF_ISA, NNF_VERBOSE, one warning, one thread-safe choice.
 * Detection happens once per process, so every scenario runs in a forked child that
 * has not touched nnf yet; this parent process never triggers detection before forking
 * (which is also why these cases do not loop over ISAs: forcing one would detect). */
#include "nnf_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch/cpu_features.h"
#include "dispatch/dispatch.h"

#define THREADS 8

typedef struct {
    int active;
    int supported[NNF_TEST_ISA_SLOTS];
    int threads_agree;
} child_result;

static pthread_barrier_t barrier;
static const nnf__kernels *seen[THREADS];

static void *race(void *arg)
{
    int i = (int)(intptr_t)arg;
    pthread_barrier_wait(&barrier);
    seen[i] = nnf__kernels_active();
    return NULL;
}

/* Runs detection in a child with NNF_ISA / NNF_VERBOSE set as given (NULL: unset),
 * from THREADS threads at once; returns the child's stderr in err. */
static child_result run_child(const char *isa_env, const char *verbose_env, char *err, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    FILE *errf = tmpfile();
    assert_non_null(errf);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_result r;
        memset(&r, 0, sizeof r);
        dup2(fileno(errf), 2);
        if (isa_env != NULL)
            setenv("NNF_ISA", isa_env, 1);
        else
            unsetenv("NNF_ISA");
        if (verbose_env != NULL)
            setenv("NNF_VERBOSE", verbose_env, 1);
        else
            unsetenv("NNF_VERBOSE");
        pthread_t th[THREADS];
        pthread_barrier_init(&barrier, NULL, THREADS);
        for (int i = 0; i < THREADS; i++)
            pthread_create(&th[i], NULL, race, (void *)(intptr_t)i);
        for (int i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
        r.threads_agree = 1;
        for (int i = 1; i < THREADS; i++)
            r.threads_agree &= seen[i] == seen[0];
        r.active = (int)nnf_isa_active();
        r.threads_agree &= seen[0]->isa == (nnf_isa)r.active;
        NNF_TEST_ALL_ISAS(isa)
            r.supported[isa] = nnf_isa_supported(isa);
        /* Later calls must not warn or report again. */
        (void)nnf_isa_active();
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    child_result r;
    assert_int_equal(read(fds[0], &r, sizeof r), (ssize_t)sizeof r);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    rewind(errf);
    size_t n = fread(err, 1, size - 1, errf);
    err[n] = '\0';
    fclose(errf);
    assert_true(r.threads_agree);
    return r;
}

static nnf_isa best_here(void)
{
    nnf__cpu_features f;
    nnf__cpu_detect(&f);
    return nnf__isa_choose(&f, NNF__ISA_NO_CAP, NULL);
}

static int count(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_unset(void **state)
{
    (void)state;
    char err[4096];
    child_result r = run_child(NULL, NULL, err, sizeof err);
    assert_int_equal(r.active, best_here());
    assert_string_equal(err, "");
    r = run_child("", NULL, err, sizeof err);
    assert_int_equal(r.active, best_here());
    assert_string_equal(err, "");
}

/* Each ISA of this architecture caps the choice; supported() still tells the hardware. */
static void test_cap_each_level(void **state)
{
    (void)state;
    char err[4096];
    nnf_isa best = best_here();
    NNF_TEST_ALL_ISAS(isa) {
        if (nnf__isa_rank(isa) < 0)
            continue;
        child_result r = run_child(nnf_isa_name(isa), NULL, err, sizeof err);
        nnf_isa want = nnf__isa_rank(isa) < nnf__isa_rank(best) ? isa : best;
        assert_int_equal(r.active, want);
        assert_true(r.supported[best]);
        assert_string_equal(err, "");
    }
}

static void test_wrong_arch_warns_once(void **state)
{
    (void)state;
    char err[4096];
#if defined(__aarch64__)
    const char *other = "avx512";
#else
    const char *other = "neon";
#endif
    child_result r = run_child(other, NULL, err, sizeof err);
    assert_int_equal(r.active, best_here());
    assert_int_equal(count(err, "warning"), 1);
    assert_non_null(strstr(err, other));
}

static void test_unknown_warns_once(void **state)
{
    (void)state;
    char err[4096];
    child_result r = run_child("avx1024", NULL, err, sizeof err);
    assert_int_equal(r.active, best_here());
    assert_int_equal(count(err, "warning"), 1);
    assert_non_null(strstr(err, "avx1024"));
}

/* NNF_VERBOSE=2 reports the choice once, even with THREADS threads detecting at the
 * same moment; 3 adds what was detected; 1 (the default) only warns; 0 is silent. */
static void test_verbose_levels(void **state)
{
    (void)state;
    char err[4096];
    child_result r = run_child("scalar", "2", err, sizeof err);
    assert_int_equal(r.active, NNF_ISA_SCALAR);
    assert_int_equal(count(err, "nnf: ISA: scalar"), 1);
    assert_int_equal(count(err, "nnf: features:"), 0);
    assert_non_null(strstr(err, "NNF_ISA"));
    r = run_child("scalar", "3", err, sizeof err);
    assert_int_equal(count(err, "nnf: ISA: scalar"), 1);
    assert_int_equal(count(err, "nnf: features:"), 1);
    r = run_child("scalar", "1", err, sizeof err);
    assert_string_equal(err, "");
    r = run_child(NULL, "0", err, sizeof err);
    assert_string_equal(err, "");
    r = run_child("avx1024", "0", err, sizeof err);
    assert_int_equal(r.active, best_here());
    assert_string_equal(err, "");
    /* Not a level: one warning that says so, then level 1. */
    r = run_child("scalar", "verbose", err, sizeof err);
    assert_int_equal(count(err, "nnf: warning:"), 1);
    assert_non_null(strstr(err, "NNF_VERBOSE"));
    assert_int_equal(count(err, "nnf: ISA:"), 0);
}

/* ISA names in NNF_ISA are read in any case, as nnf_isa_from_name reads them. */
static void test_case_insensitive(void **state)
{
    (void)state;
    char err[4096];
    child_result r = run_child("SCALAR", NULL, err, sizeof err);
    assert_int_equal(r.active, NNF_ISA_SCALAR);
    assert_string_equal(err, "");
    nnf_isa best = best_here();
    if (nnf__isa_rank(NNF_ISA_AVX2) >= 0) {
        r = run_child("AVX2", NULL, err, sizeof err);
        assert_int_equal(r.active, nnf__isa_rank(best) > nnf__isa_rank(NNF_ISA_AVX2)
                                       ? NNF_ISA_AVX2 : best);
        assert_string_equal(err, "");
    }
    if (nnf__isa_rank(NNF_ISA_NEON) >= 0) {
        r = run_child("Neon", NULL, err, sizeof err);
        assert_int_equal(r.active, best);
        assert_string_equal(err, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset),
        cmocka_unit_test(test_cap_each_level),
        cmocka_unit_test(test_wrong_arch_warns_once),
        cmocka_unit_test(test_unknown_warns_once),
        cmocka_unit_test(test_verbose_levels),
        cmocka_unit_test(test_case_insensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
