/* aarch64: NEON (ASIMD) is baseline; HWCAP tells about later extensions. */
#include "dispatch/cpu_features.h"

#include <string.h>
#include <sys/auxv.h>

void nnf__cpu_detect(nnf__cpu_features *f)
{
    memset(f, 0, sizeof *f);
    f->arm.hwcap = getauxval(AT_HWCAP);
    f->arm.hwcap2 = getauxval(AT_HWCAP2);
}
