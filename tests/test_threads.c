/* The thread API and the runtime's promises: the count and where it comes from (the
 * API, NNF_NUM_THREADS, OMP_NUM_THREADS, affinity and cgroup quotas), correct results
 * from several application threads at once, after fork(), with FTZ set, with worker
 * creation failing, inside OpenMP regions and nnf's own jobs; and no CPU used once a
 * call has returned. */
#include "nnf_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/linalg/sgemm.h"
#include "src/linalg/sgemm_paths.h"
#include "src/runtime/cores.h"
#include "src/runtime/fpenv.h"
#include "src/runtime/pool.h"

/* ---- the count ---- */

static void test_set_get(void **state)
{
    (void)state;
    int before = nnf_get_num_threads();
    assert_true(before >= 1);
    NNF_ASSERT_OK(nnf_set_num_threads(3));
    assert_int_equal(nnf_get_num_threads(), 3);
    NNF_ASSERT_FAILS(nnf_set_num_threads(-1), NNF_ERR_INVALID);
    assert_non_null(strstr(nnf_last_error(), "nnf_set_num_threads: n must be between 0 and"));
    NNF_ASSERT_FAILS(nnf_set_num_threads(1025), NNF_ERR_INVALID);
    assert_int_equal(nnf_get_num_threads(), 3);
    NNF_ASSERT_OK(nnf_set_num_threads(0));
    assert_int_equal(nnf_get_num_threads(), nnf__cores_available());
    NNF_ASSERT_OK(nnf_set_num_threads(before));
}

/* The count a process would start with under this environment (NULL: unset). */
static int count_with(const char *nnf_env, const char *omp_env)
{
    if (nnf_env != NULL)
        setenv("NNF_NUM_THREADS", nnf_env, 1);
    else
        unsetenv("NNF_NUM_THREADS");
    if (omp_env != NULL)
        setenv("OMP_NUM_THREADS", omp_env, 1);
    else
        unsetenv("OMP_NUM_THREADS");
    nnf__threads_reread_env();
    return nnf_get_num_threads();
}

static void test_environment(void **state)
{
    (void)state;
    char *saved_nnf = getenv("NNF_NUM_THREADS"), *saved_omp = getenv("OMP_NUM_THREADS");
    saved_nnf = saved_nnf ? strdup(saved_nnf) : NULL;
    saved_omp = saved_omp ? strdup(saved_omp) : NULL;
    int cores = nnf__cores_available();
    assert_int_equal(count_with(NULL, NULL), cores);
    assert_int_equal(count_with("3", NULL), 3);
    assert_int_equal(count_with(NULL, "5"), 5);
    assert_int_equal(count_with(NULL, "4,2"), 4);    /* nested levels: the first */
    assert_int_equal(count_with("2", "5"), 2);       /* NNF_NUM_THREADS wins */
    assert_int_equal(count_with("0", "5"), cores);   /* 0: every core */
    assert_int_equal(count_with("abc", "6"), 6);     /* invalid: as if unset */
    assert_int_equal(count_with("7x", NULL), cores);
    assert_int_equal(count_with(NULL, "0"), cores);  /* OpenMP rejects 0 */
    assert_int_equal(count_with("2000", NULL), cores);
    assert_int_equal(count_with(saved_nnf, saved_omp), count_with(saved_nnf, saved_omp));
    free(saved_nnf);
    free(saved_omp);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *path)
{
    assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
}

/* cgroup v2 and v1 trees under a scratch directory, read as /sys/fs/cgroup would be. */
static void test_cgroup_quota(void **state)
{
    (void)state;
    char root[] = "/tmp/nnf_cgroup_XXXXXX", p[256];
    assert_non_null(mkdtemp(root));
    snprintf(p, sizeof p, "%s/app", root);
    make_dir(p);
    snprintf(p, sizeof p, "%s/app/job", root);
    make_dir(p);
    /* v2: no quota, then 1.5 cores on the leaf (2), then 1 core on its parent. */
    write_file(p, "cpu.max", "max 100000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("0::/app/job\n", root), 0);
    write_file(p, "cpu.max", "150000 100000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("0::/app/job\n", root), 2);
    snprintf(p, sizeof p, "%s/app", root);
    write_file(p, "cpu.max", "100000 100000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("0::/app/job\n", root), 1);
    /* A path that does not exist below the mount (a container's view): its ancestors,
     * down to the mount itself, still count. */
    write_file(root, "cpu.max", "300000 100000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("0::/elsewhere/x\n", root), 3);
    /* v1, the cpu controller among others, quota -1 (none) and 250000/100000 (3). */
    snprintf(p, sizeof p, "%s/cpu,cpuacct", root);
    make_dir(p);
    snprintf(p, sizeof p, "%s/cpu,cpuacct/svc", root);
    make_dir(p);
    write_file(p, "cpu.cfs_quota_us", "-1\n");
    write_file(p, "cpu.cfs_period_us", "100000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("4:memory:/svc\n3:cpu,cpuacct:/svc\n", root), 0);
    write_file(p, "cpu.cfs_quota_us", "250000\n");
    assert_int_equal(nnf__cgroup_cpu_limit("4:memory:/svc\n3:cpu,cpuacct:/svc\n", root), 3);
    /* Both kinds listed (a hybrid machine): the tighter one. */
    assert_int_equal(nnf__cgroup_cpu_limit("3:cpu,cpuacct:/svc\n0::/app/job\n", root), 1);
    /* Not the cpu controller: ignored. */
    assert_int_equal(nnf__cgroup_cpu_limit("5:cpuset:/svc\n", root), 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    /* This process: at least one core, at most its affinity mask. */
    int cores = nnf__cores_available();
    assert_true(cores >= 1 && cores <= sysconf(_SC_NPROCESSORS_CONF));
}

/* ---- a product that splits into items on every path ---- */

enum { M = 96, N = 160, K = 420 };

typedef struct {
    float a[M * K], b[K * N], want[M * N];
} product;

static void product_init(product *p, uint64_t seed)
{
    nnf_test_fill_uniform(p->a, M * K, seed, -1.0f, 1.0f);
    nnf_test_fill_uniform(p->b, K * N, seed + 1, -1.0f, 1.0f);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_PACKED);
    NNF_ASSERT_OK(nnf_set_num_threads(1));
    NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, M, N, K, 1.0f, p->a, K, p->b, N, 0.0f,
                            p->want, N));
}

/* C = A B on the packed path; 0 if the bits differ from p->want. */
static int product_matches(const product *p, float *c)
{
    if (nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, M, N, K, 1.0f, p->a, K, p->b, N, 0.0f, c, N) !=
        NNF_OK)
        return 0;
    return memcmp(c, p->want, sizeof p->want) == 0;
}

static product shared_product;
static float shared_sum;

/* ---- several application threads at once ---- */

enum { CALLERS = 4, ROUNDS = 12 };

/* sum(2 * arange(200000)): a large elementwise op and a large reduction. */
static int sum_of_doubled(nnf_tensor **x, nnf_tensor **y, nnf_tensor **s, float *got)
{
    return (*x != NULL || nnf_arange(x, 0, 200000, 1) == NNF_OK) &&
           nnf_mul_scalar(y, *x, 2.0f) == NNF_OK && nnf_sum(s, *y, 0, NULL, 0) == NNF_OK &&
           nnf_value(got, *s) == NNF_OK &&
           ((const float *)nnf_tensor_data(*y))[123457] == 246914.0f;
}

static void *caller(void *arg)
{
    (void)arg;
    static _Thread_local float c[M * N];
    nnf_tensor *x = NULL, *y = NULL, *s = NULL;
    int bad = 0;
    for (int r = 0; r < ROUNDS && !bad; r++) {
        float got = 0.0f;
        bad |= !product_matches(&shared_product, c);
        bad |= !sum_of_doubled(&x, &y, &s, &got) || memcmp(&got, &shared_sum, sizeof got);
    }
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_tensor_free(s);
    return (void *)(intptr_t)bad;
}

static void test_concurrent_callers(void **state)
{
    (void)state;
    product_init(&shared_product, 21);
    nnf_tensor *x = NULL, *y = NULL, *s = NULL;
    assert_true(sum_of_doubled(&x, &y, &s, &shared_sum));
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_tensor_free(s);
    nnf__sgemm_set_parallel_min_flops(0.0);
    NNF_ASSERT_OK(nnf_set_num_threads(3));
    pthread_t th[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, caller, NULL), 0);
    int bad = 0;
    for (int i = 0; i < CALLERS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad |= (int)(intptr_t)r;
    }
    assert_int_equal(bad, 0);
    /* One pool for all of them, no larger than the count. */
    assert_true(nnf__runtime_workers() <= 2);
    nnf__sgemm_set_parallel_min_flops(-1.0);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    NNF_ASSERT_OK(nnf_set_num_threads(nnf__cores_available()));
}

/* ---- what a job's participants see ---- */

/* A product split over `threads` threads, with every one of them taking items. */
static int spread_product(const product *p, float *c, int threads)
{
    NNF_ASSERT_OK(nnf_set_num_threads(threads));
    nnf__runtime_set_test_spread(1);
    int ok = product_matches(p, c);
    int participants = nnf__runtime_last_participants();
    nnf__runtime_set_test_spread(0);
    return ok ? participants : -1;
}

static void test_fork(void **state)
{
    (void)state;
#ifdef NNF_TEST_EMULATED
    skip();   /* qemu-user aborts when a forked child of a threaded process starts one */
#endif
    static product p;
    static float c[M * N];
    product_init(&p, 31);
    assert_int_equal(spread_product(&p, c, 3), 3);   /* the parent's workers run */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child has no workers of its own yet: the first parallel call starts them. */
        int ok = nnf__runtime_workers() == 0 && spread_product(&p, c, 3) == 3 &&
                 nnf__runtime_workers() == 2 && spread_product(&p, c, 2) == 2;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(spread_product(&p, c, 3), 3);   /* and the parent's still do */
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
}

static void test_thread_create_failure(void **state)
{
    (void)state;
    static product p;
    static float c[M * N];
    product_init(&p, 41);
    nnf__runtime_stop();
    nnf__runtime_fail_thread_create_after(2);   /* one worker, then failures */
    assert_int_equal(spread_product(&p, c, 4), 2);
    assert_int_equal(nnf__runtime_workers(), 1);
    nnf__runtime_stop();
    nnf__runtime_fail_thread_create_after(1);   /* none at all */
    assert_int_equal(spread_product(&p, c, 4), 1);
    assert_int_equal(nnf__runtime_workers(), 0);
    nnf__runtime_fail_thread_create_after(0);
    assert_int_equal(spread_product(&p, c, 4), 4);
    assert_int_equal(nnf__runtime_workers(), 3);
    /* A lower count stops the workers beyond it. */
    NNF_ASSERT_OK(nnf_set_num_threads(2));
    assert_int_equal(nnf__runtime_workers(), 1);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
}

/* Products made from inside a caller's OpenMP region and from inside an nnf job run on
 * their thread alone, with the same bits. */
typedef struct {
    const product *p;
    float c[8][M * N];
    int alone[8], ok[8];
} nested;

static void nested_item(void *ctx, int64_t i, int participant)
{
    (void)participant;
    nested *n = ctx;
    n->ok[i] = product_matches(n->p, n->c[i]);
    n->alone[i] = nnf__runtime_last_participants() == 1;
}

static void test_nested(void **state)
{
    (void)state;
    static product p;
    static nested n;
    product_init(&p, 51);
    n.p = &p;
    NNF_ASSERT_OK(nnf_set_num_threads(2));
    nnf__runtime_set_test_spread(1);
    int ok[2] = {0, 0}, alone[2] = {0, 0};
#pragma omp parallel num_threads(2)
    {
#pragma omp for
        for (int t = 0; t < 2; t++) {
            ok[t] = product_matches(&p, n.c[t]);
            alone[t] = nnf__runtime_last_participants() == 1;
        }
    }
    for (int t = 0; t < 2; t++)
        assert_true(ok[t] && alone[t]);
    nnf__parallel_for(2, 8, nested_item, &n);
    assert_int_equal(nnf__runtime_last_participants(), 2);
    for (int i = 0; i < 8; i++)
        assert_true(n.ok[i] && n.alone[i]);
    nnf__runtime_set_test_spread(0);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
}

/* ---- the floating-point environment ---- */

#if defined(__x86_64__)
#define FTZ_BITS 0x8040u   /* MXCSR FTZ (bit 15) and DAZ (bit 6) */
#elif defined(__aarch64__)
#define FTZ_BITS (1u << 24)   /* FPCR FZ */
#endif

#ifdef FTZ_BITS
/* Products and elementwise ops whose results are subnormal without FTZ: with it set by
 * the caller, every thread count gives the caller's bits, which differ from the bits
 * without it (so the case really exercises the flag). */
static void test_ftz_all_threads(void **state)
{
    (void)state;
    enum { S = 160 };
    static float a[S * S], b[S * S], c[S * S], c_ref[S * S], c_plain[S * S];
    nnf_test_fill_uniform(a, S * S, 61, 1e-20f, 2e-20f);
    nnf_test_fill_uniform(b, S * S, 62, 1e-20f, 2e-20f);
    nnf_tensor *x = NULL, *y = NULL, *y1 = NULL;
    NNF_ASSERT_OK(nnf_from_data(&x, a, NNF_SHAPE(S * S)));
    nnf__fpenv env = nnf__fpenv_get();
    /* valgrind does not emulate FTZ/DAZ: there the case cannot tell anything. */
    volatile float tiny = 1e-20f, square;
    nnf__fpenv_set(env | FTZ_BITS);
    square = tiny * tiny;   /* volatile: computed before the flags are restored */
    nnf__fpenv_set(env);
    if (square != 0.0f) {
        nnf_tensor_free(x);
        skip();
    }
    NNF_FOR_EACH_ISA(isa) {
        NNF_ASSERT_OK(nnf_set_num_threads(1));
        NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, S, S, S, 1.0f, a, S, b, S, 0.0f,
                                c_plain, S));
        nnf__fpenv_set(env | FTZ_BITS);
        NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, S, S, S, 1.0f, a, S, b, S, 0.0f,
                                c_ref, S));
        NNF_ASSERT_OK(nnf_mul(&y1, x, x));
        assert_true(memcmp(c_ref, c_plain, sizeof c_ref) != 0);
        assert_true(((const float *)nnf_tensor_data(y1))[7] == 0.0f);
        nnf__runtime_set_test_spread(1);
        for (int threads = 2; threads <= 5; threads += 3) {
            NNF_ASSERT_OK(nnf_set_num_threads(threads));
            for (int path = NNF__SGEMM_PATH_DIRECT; path <= NNF__SGEMM_PATH_PACKED; path++) {
                nnf__sgemm_force_path((nnf__sgemm_path)path);
                NNF_ASSERT_OK(nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, S, S, S, 1.0f, a, S, b, S,
                                        0.0f, c, S));
                assert_int_equal(nnf__runtime_last_participants(), threads);
                nnf_test_assert_bits_equal(c_ref, c, S * S);
            }
            NNF_ASSERT_OK(nnf_mul(&y, x, x));
            assert_int_equal(nnf__runtime_last_participants(), threads);
            nnf_test_assert_bits_equal(nnf_tensor_data(y1), nnf_tensor_data(y), S * S);
        }
        nnf__runtime_set_test_spread(0);
        nnf__fpenv_set(env);
        nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
    }
    nnf_test_restore_isa();
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_tensor_free(y1);
}
#endif

/* ---- idle workers use no CPU ---- */

/* The CPU time of the threads nnf runs on: this (calling) thread and the pool's workers.
 * Not the process's: under clang, the tests' own OpenMP regions run on LLVM's libomp,
 * whose threads spin for KMP_BLOCKTIME (200 ms) after a region (55-68 ms of CPU in this
 * window under TSan), and TSan has a background thread of its own. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec + nnf__runtime_workers_cpu_seconds();
}

/* After a parallel call returns, the CPU time of nnf's threads over the next 200 ms is
 * the workers' bounded spins (0.5 ms each at most, pool.c's worker_spin), far below 5 ms. */
static void test_idle_uses_no_cpu(void **state)
{
    (void)state;
    if (nnf_test_under_valgrind())
        skip();   /* 50x slower: the workers' way back to sleep takes milliseconds */
    static product p;
    static float c[M * N];
    product_init(&p, 71);
    assert_int_equal(spread_product(&p, c, 4), 4);
    double t0 = cpu_seconds();
    struct timespec pause = {0, 200000000};
    while (nanosleep(&pause, &pause) != 0)
        ;
    double used = cpu_seconds() - t0;
    print_message("CPU time in the 200 ms after a 4-thread call: %.3f ms\n", used * 1e3);
    assert_true(used < 5e-3);
    nnf__sgemm_force_path(NNF__SGEMM_PATH_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_cgroup_quota),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_thread_create_failure),
        cmocka_unit_test(test_nested),
#ifdef FTZ_BITS
        cmocka_unit_test(test_ftz_all_threads),
#endif
        cmocka_unit_test(test_idle_uses_no_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
