/* libnnf.so loaded with dlopen, used from a second thread, and unloaded with dlclose
 * while that thread still lives; then the thread exits and the process forks.
 *
 * What could crash: a pool worker still running in unmapped code, the thread-exit
 * destructor of the second thread's sgemm scratch (a pthread key destructor pointing
 * into unmapped code), an atfork handler of the unmapped library. The product is large
 * enough for the packed path (its per-thread scratch) and for a pool worker, and the
 * test checks both happened and both are gone after dlclose: the library is no longer
 * mapped and the process is back to its own two threads. Each supported ISA gets its
 * own load/unload cycle, so the library is also loaded again after an unload.
 *
 * Usage: test_dlclose /path/to/libnnf.so. NNF_TEST_ISAS (e.g. "scalar,avx2") limits the
 * ISAs as in nnf_test.h; this program does not link nnf, so it cannot use that file.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnf/nnf.h"

/* k * n = 102400 floats > the 64K below which sgemm reads B in place (sgemm_paths.c). */
enum { M = 320, K = 320, N = 320 };

static struct {
    __typeof__(nnf_isa_supported) *isa_supported;
    __typeof__(nnf_isa_force) *isa_force;
    __typeof__(nnf_isa_name) *isa_name;
    __typeof__(nnf_set_num_threads) *set_num_threads;
    __typeof__(nnf_from_data) *from_data;
    __typeof__(nnf_matmul) *matmul;
    __typeof__(nnf_copy_to_buffer) *copy_to_buffer;
    __typeof__(nnf_tensor_free) *tensor_free;
    __typeof__(nnf_last_error) *last_error;
} api;

static float a[M * K], b[K * N], c[M * N];
static double want[M * N];

/* The second thread's life, in steps the main thread waits for. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static enum { RUNNING, COMPUTED, MAY_EXIT } step;
static int thread_failed;

static void set_step(int s)
{
    pthread_mutex_lock(&lock);
    step = s;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void wait_step(int s)
{
    pthread_mutex_lock(&lock);
    while ((int)step != s)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
}

static int fail(const char *what)
{
    fprintf(stderr, "FAIL: %s\n", what);
    return 1;
}

static void *second_thread(void *arg)
{
    (void)arg;
    nnf_tensor *ta = NULL, *tb = NULL, *tc = NULL;
    int64_t sa[] = {M, K}, sb[] = {K, N};
    if (api.from_data(&ta, a, 2, sa) != NNF_OK || api.from_data(&tb, b, 2, sb) != NNF_OK ||
        api.matmul(&tc, ta, tb) != NNF_OK || api.copy_to_buffer(c, sizeof c, tc) != NNF_OK) {
        fprintf(stderr, "FAIL: %s\n", api.last_error());
        thread_failed = 1;
    }
    api.tensor_free(ta);
    api.tensor_free(tb);
    api.tensor_free(tc);
    set_step(COMPUTED);
    wait_step(MAY_EXIT);   /* the library is unloaded by now */
    return NULL;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int load(void *h)
{
#define SYM(field, name)                                         \
    if ((*(void **)&api.field = dlsym(h, name)) == NULL)       \
        return fail("dlsym " name);
    SYM(isa_supported, "nnf_isa_supported")
    SYM(isa_force, "nnf_isa_force")
    SYM(isa_name, "nnf_isa_name")
    SYM(set_num_threads, "nnf_set_num_threads")
    SYM(from_data, "nnf_from_data")
    SYM(matmul, "nnf_matmul")
    SYM(copy_to_buffer, "nnf_copy_to_buffer")
    SYM(tensor_free, "nnf_tensor_free")
    SYM(last_error, "nnf_last_error")
#undef SYM
    return 0;
}

static int isa_selected(const char *name)
{
    const char *list = getenv("NNF_TEST_ISAS");
    if (list == NULL || *list == '\0')
        return 1;
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

/* One cycle on `isa`: 0 passed or skipped (ISA not supported), 1 failed. */
static int cycle(const char *path, nnf_isa isa)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return fail(dlerror());
    if (load(h))
        return 1;
    if (!api.isa_supported(isa) || !isa_selected(api.isa_name(isa))) {
        dlclose(h);
        return 0;
    }
    char name[16];   /* the library's own string goes with it */
    snprintf(name, sizeof name, "%s", api.isa_name(isa));
    if (api.isa_force(isa) != NNF_OK || api.set_num_threads(2) != NNF_OK)
        return fail(api.last_error());

    int before = count_threads();
    step = RUNNING;
    thread_failed = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, second_thread, NULL) != 0)
        return fail("pthread_create");
    wait_step(COMPUTED);
    int during = count_threads();
    int bad = thread_failed;
    for (int i = 0; i < M * N && !bad; i++)
        if (fabs(c[i] - want[i]) > 1e-4 * (1.0 + fabs(want[i]))) {
            fprintf(stderr, "FAIL: %s: c[%d] = %.9g, double reference %.9g\n", name, i,
                    (double)c[i], want[i]);
            bad = 1;
        }
    /* The caller, the second thread and at least one worker. */
    if (during < before + 2) {
        fprintf(stderr, "FAIL: %s: %d threads while the second thread waits, expected a "
                        "pool worker beside it (%d before)\n", name, during, before);
        bad = 1;
    }

    if (dlclose(h) != 0)
        return fail(dlerror());
    if (dlopen(path, RTLD_NOW | RTLD_NOLOAD) != NULL)
        return fail("libnnf.so is still mapped after dlclose");
    /* pthread_join returns when the kernel clears the worker's tid, which comes before
     * the task leaves /proc/self/task (under qemu-user and valgrind the gap is long enough
     * to see), so a joined worker may still be listed for a moment: wait up to 5 s. */
    int after = count_threads();
    for (int tries = 0; after > before + 1 && tries < 500; tries++) {
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        after = count_threads();
    }
    if (after != before + 1) {
        fprintf(stderr, "FAIL: %s: %d threads after dlclose, expected %d (workers joined)\n",
                name, after, before + 1);
        bad = 1;
    }

    set_step(MAY_EXIT);   /* its thread-exit destructors run now, with nnf unmapped */
    pthread_join(t, NULL);

    fflush(stdout);
    pid_t pid = fork();   /* no atfork handler of the unloaded library may run */
    if (pid == 0)
        _exit(0);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return fail("fork after dlclose");
    printf("%-7s matmul %dx%dx%d on a second thread with %d workers, unloaded: ok\n", name,
           M, K, N, during - before - 1);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/libnnf.so\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 53) % 97) / 97.0f - 0.5f;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++)
                s += (double)a[i * K + k] * b[k * N + j];
            want[i * N + j] = s;
        }
    int failed = 0;
    static const nnf_isa all[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        failed |= cycle(argv[1], all[i]);
    return failed;
}
