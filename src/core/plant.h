/* Bugs planted on purpose, one per fuzz target and a data race for ThreadSanitizer, so
 * that scripts/fuzz.sh and scripts/tsan.sh can prove each check able to fail (issue 10):
 * a check that never fails proves nothing.
 *
 * Only a library compiled with -DNNF_FUZZ_PLANT has them (fuzz/meson.build builds one,
 * libnnf_planted, beside the real one; scripts/tsan.sh's build defines it; no other build
 * does), and there each is off until the environment names it: NNF_FUZZ_PLANT=views turns
 * on the bug the views target must find, NNF_FUZZ_PLANT=race the race. One planted build
 * then serves every check, instead of one build of the library per plant. Elsewhere
 * NNF_PLANTED(...) is the constant 0 and the compiler drops the planted branch. */
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
