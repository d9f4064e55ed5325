/* A participant stalled inside an item (nnf__runtime_set_test_stall: a stand-in for a
 * worker descheduled in the middle of one): the caller, once nothing is left to claim,
 * moves that worker onto its own CPU before it sleeps (pool.c, lend_cpu), and results
 * keep the 1-thread bits for 1, 2, 3, 5, 8 and 16 threads on every ISA. A worker that
 * runs keeps its own CPU. */
#include "nnf_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/runtime/pool.h"
#include "src/runtime/wait.h"

static const int counts[] = {1, 2, 3, 5, 8, 16};
enum { NCOUNTS = sizeof counts / sizeof counts[0] };

/* ---- the pool alone ---- */

enum { ITEMS = 64 };

typedef struct {
    atomic_int by[ITEMS];   /* participant + 1 that ran each item */
} spin_job;

/* ~100 us of work: long enough that a worker joins before the caller is done. valgrind
 * runs one thread at a time and hands over only every few milliseconds, so there each
 * item takes 2 ms. */
static void spin_item(void *ctx, int64_t item, int participant)
{
    spin_job *j = ctx;
    uint64_t end = nnf__now_ns() + (nnf_test_under_valgrind() ? 2000000 : 100000);
    while (nnf__now_ns() < end)
        nnf__cpu_relax();
    atomic_store(&j->by[item], participant + 1);
}

/* A worker stalled inside an item until a caller lends it a CPU (or 2 s pass): the
 * caller, once it has run every other item, must lend it its CPU, however late the
 * scheduler lets either of them run. A round in which the worker took no item (it woke
 * after the caller had claimed everything) says nothing and is run again. */
static void test_caller_lends_its_cpu(void **state)
{
    (void)state;
    NNF_ASSERT_OK(nnf_set_num_threads(2));
    int stalled_rounds = 0;
    for (int round = 0; round < 20 && stalled_rounds < 3; round++) {
        spin_job j;
        for (int i = 0; i < ITEMS; i++)
            atomic_init(&j.by[i], 0);
        long before = nnf__runtime_lends();
        nnf__runtime_set_test_stall(1, 2000000000);
        nnf__parallel_for(2, ITEMS, spin_item, &j);
        nnf__runtime_set_test_stall(1, 0);
        int worker_items = 0;
        for (int i = 0; i < ITEMS; i++) {
            int by = atomic_load(&j.by[i]);
            assert_true(by == 1 || by == 2);   /* every item ran, once */
            worker_items += by == 2;
        }
        if (worker_items == 0)
            continue;
        stalled_rounds++;
        /* The stall ended at the lend (or after 2 s, and then there was none). */
        assert_true(nnf__runtime_lends() > before);
    }
    NNF_ASSERT_OK(nnf_set_num_threads(1));
    /* Under valgrind's one-thread-at-a-time scheduler a run in which the worker never got
     * in proves nothing either way (the native runs assert it); there it is a skip. */
    if (stalled_rounds == 0 && nnf_test_under_valgrind())
        skip();
    assert_true(stalled_rounds > 0);
}

/* Item 0 ~200 us (long enough for the worker to join and claim item 1), item 1 ~1 ms,
 * both spinning. */
static void long_second_item(void *ctx, int64_t item, int participant)
{
    atomic_int *by = ctx;
    uint64_t end = nnf__now_ns() + (item == 1 ? 1000000 : 200000);
    while (nnf__now_ns() < end)
        nnf__cpu_relax();
    atomic_store(&by[item], participant + 1);
}

/* A worker that runs (its CPU clock advancing) is not moved onto the waiting caller's
 * CPU: the move would cost it its caches and the caller its CPU. Rounds in which the
 * caller ran the long item never wait and are run again; one round without a lend among
 * those where the worker ran it is required (of up to 100), since on a busy machine the
 * scheduler may truly take the worker's CPU away (and then the lend is right). The old
 * rule, a lend whenever the caller's spin ended, lent in every such round. valgrind runs one thread
 * at a time: there the worker never runs while the caller looks, so it is a skip. */
static void test_running_worker_keeps_its_cpu(void **state)
{
    (void)state;
    if (nnf_test_under_valgrind())
        skip();
    NNF_ASSERT_OK(nnf_set_num_threads(2));
    int waited = 0, kept = 0;
    for (int round = 0; round < 100 && kept == 0; round++) {
        atomic_int by[2];
        atomic_init(&by[0], 0);
        atomic_init(&by[1], 0);
        long before = nnf__runtime_lends();
        nnf__parallel_for(2, 2, long_second_item, by);
        if (atomic_load(&by[1]) != 2)   /* the caller ran the long item */
            continue;
        waited++;
        kept += nnf__runtime_lends() == before;
    }
    NNF_ASSERT_OK(nnf_set_num_threads(1));
    assert_true(waited > 0);
    assert_true(kept > 0);
}

/* ---- reductions under a stall ---- */

typedef struct {
    const char *name;
    int dim;   /* -1: every dim */
} red_case;

static const red_case cases[] = {{"sum", -1}, {"mean", 1}, {"var", -1}, {"std", 0},
                                 {"max", -1}, {"min", 0}};
enum { NCASES = sizeof cases / sizeof cases[0] };

static nnf_tensor *reduce(const red_case *c, const nnf_tensor *x)
{
    nnf_tensor *out = NULL;
    int nd = c->dim >= 0, *dims = c->dim >= 0 ? (int[]){c->dim} : NULL;
    nnf_status st;
    if (strcmp(c->name, "sum") == 0)
        st = nnf_sum(&out, x, nd, dims, 0);
    else if (strcmp(c->name, "mean") == 0)
        st = nnf_mean(&out, x, nd, dims, 0);
    else if (strcmp(c->name, "var") == 0)
        st = nnf_var(&out, x, nd, dims, 1, 0);
    else if (strcmp(c->name, "std") == 0)
        st = nnf_std(&out, x, nd, dims, 1, 0);
    else if (strcmp(c->name, "max") == 0)
        st = nnf_max(&out, x, nd, dims, 0);
    else
        st = nnf_min(&out, x, nd, dims, 0);
    NNF_ASSERT_OK(st);
    return out;
}

/* [96, 20000]: reduced whole, over rows (many blocks per result) and over columns. */
static void test_reductions_under_stall(void **state)
{
    (void)state;
    enum { ROWS = 96, COLS = 20000 };
    float *v = malloc(sizeof(float) * ROWS * COLS);
    assert_non_null(v);
    nnf_test_fill_uniform(v, (size_t)ROWS * COLS, 12, -2.0f, 3.0f);
    nnf_tensor *x = NULL;
    NNF_ASSERT_OK(nnf_from_data(&x, v, NNF_SHAPE(ROWS, COLS)));
    for (int k = 0; k < NCASES; k++) {
        float *first = NULL;
        int64_t n = 0;
        NNF_FOR_EACH_ISA(isa) {
            for (int c = 0; c < NCOUNTS; c++) {
                NNF_ASSERT_OK(nnf_set_num_threads(counts[c]));
                nnf__runtime_set_test_stall(1, 2000000);
                nnf_tensor *out = reduce(&cases[k], x);
                nnf__runtime_set_test_stall(1, 0);
                const float *got = nnf_tensor_data(out);
                if (first == NULL) {
                    n = nnf_tensor_numel(out);
                    first = malloc(sizeof(float) * (size_t)n);
                    assert_non_null(first);
                    memcpy(first, got, sizeof(float) * (size_t)n);
                } else if (nnf_test_isa_exact()) {
                    assert_int_equal(nnf_tensor_numel(out), n);
                    if (memcmp(got, first, sizeof(float) * (size_t)n) != 0)
                        fail_msg("%s on %s with %d threads: bits differ from the first run",
                                 cases[k].name, nnf_isa_name(isa), counts[c]);
                }
                nnf_tensor_free(out);
            }
        }
        free(first);
    }
    nnf_test_restore_isa();
    NNF_ASSERT_OK(nnf_set_num_threads(1));
    nnf_tensor_free(x);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_lends_its_cpu),
        cmocka_unit_test(test_running_worker_keeps_its_cpu),
        cmocka_unit_test(test_reductions_under_stall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
