/* Bugs planted on purpose, one per fuzz target, so that scripts/fuzz.sh can prove each
 * target able to fail (issue 10): a target that never fails proves nothing.
 *
 * Only a library compiled with -DNNF_FUZZ_PLANT has them (fuzz/meson.build builds one,
 * libnnf_planted, beside the real one; no other build ever defines it), and there each is
 * off until the environment names its target: NNF_FUZZ_PLANT=views turns on the bug the
 * views target must find. One planted build then serves every target, instead of one
 * build of the library per target. Elsewhere NNF_PLANTED(...) is the constant 0 and the
 * compiler drops the planted branch. */
#ifndef NNF_CORE_PLANT_H
#define NNF_CORE_PLANT_H

#ifdef NNF_FUZZ_PLANT
#include <stdlib.h>
#include <string.h>
static inline int nnf__planted(const char *target)
{
    const char *e = getenv("NNF_FUZZ_PLANT");
    return e != NULL && strcmp(e, target) == 0;
}
#define NNF_PLANTED(target) nnf__planted(target)
#else
#define NNF_PLANTED(target) 0
#endif

#endif
