/* Messages: a level read once from NNF_VERBOSE (or set), and a sink (the application's
 * callback or stderr). The pair fn/user is read and written under one lock so a message
 * never meets one callback with the other's user pointer; the callback itself runs
 * outside the lock, so it may take as long as it likes and messages from several
 * threads reach it at once. */
#include "src/core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/core/error.h"

enum { LEVEL_UNREAD = -1, LEVEL_DEFAULT = NNF_LOG_WARNING, LEVEL_MAX = NNF_LOG_DEBUG };

static atomic_int level = LEVEL_UNREAD;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static nnf_log_fn sink_fn;
static void *sink_user;

static void deliver(nnf_log_level lv, const char *msg)
{
    pthread_mutex_lock(&sink_lock);
    nnf_log_fn fn = sink_fn;
    void *user = sink_user;
    pthread_mutex_unlock(&sink_lock);
    if (fn != NULL)
        fn(user, lv, msg);
    else
        fprintf(stderr, "nnf: %s%s\n", lv == NNF_LOG_WARNING ? "warning: " : "", msg);
}

/* NNF_VERBOSE: one digit 0-3. Anything else counts as 1 and says so, once: the first
 * reader to set the level is the one that warns. */
static int level_now(void)
{
    int lv = atomic_load_explicit(&level, memory_order_relaxed);
    if (lv != LEVEL_UNREAD)
        return lv;
    const char *env = getenv("NNF_VERBOSE");
    int bad = env != NULL && env[0] != '\0' &&
              !(env[0] >= '0' && env[0] <= '0' + LEVEL_MAX && env[1] == '\0');
    int want = env == NULL || env[0] == '\0' || bad ? LEVEL_DEFAULT : env[0] - '0';
    int expected = LEVEL_UNREAD;
    if (atomic_compare_exchange_strong(&level, &expected, want)) {
        if (bad)
            deliver(NNF_LOG_WARNING, "NNF_VERBOSE must be 0 (silent), 1 (warnings), "
                                     "2 (info) or 3 (debug); using 1");
        return want;
    }
    return expected;
}

int nnf__log_enabled(nnf_log_level lv)
{
    return (int)lv <= level_now();
}

void nnf__log(nnf_log_level lv, const char *fmt, ...)
{
    if (!nnf__log_enabled(lv))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    deliver(lv, msg);
}

void nnf__log_reread_env(void)
{
    atomic_store(&level, LEVEL_UNREAD);
    (void)level_now();
}

void nnf_set_log_callback(nnf_log_fn fn, void *user)
{
    pthread_mutex_lock(&sink_lock);
    sink_fn = fn;
    sink_user = user;
    pthread_mutex_unlock(&sink_lock);
}

nnf_status nnf_set_log_level(int lv)
{
    NNF_PUBLIC("nnf_set_log_level");
    NNF_RETURN_IF(lv < 0 || lv > LEVEL_MAX, NNF_ERR_INVALID,
                  "level must be 0 (silent), 1 (warnings), 2 (info) or 3 (debug), got %d", lv);
    atomic_store(&level, lv);
    return NNF_OK;
}

int nnf_get_log_level(void)
{
    return level_now();
}
