/* A private temporary directory for a test binary that writes files: made by the cmocka
 * group setup, removed with everything in it by the teardown.
 *
 *     return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
 */
#ifndef NNF_TEST_TMPDIR_H
#define NNF_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

static inline int make_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/nnf_test_XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* tmpdir/name, in one of eight buffers used in turn, so that a few paths can be held at
 * once. */
static inline const char *tmp_path(const char *name)
{
    static char path[8][512];
    static int which;
    which = (which + 1) % 8;
    snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
    return path[which];
}

#endif
