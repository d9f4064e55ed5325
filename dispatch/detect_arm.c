/* aarch64: NEON (ASIMD) is baseline; HWCAP tells about later extensions. The caches
 * come from the OS only (CTR_EL0/CCSIDR_EL1 need the kernel's help anyway). */
#include "dispatch/cpu_features.h"

#include <string.h>
#include <sys/auxv.h>

void nnf__cpu_detect(nnf__cpu_features *f)
{
    memset(f, 0, sizeof *f);
    f->arm.hwcap = getauxval(AT_HWCAP);
    f->arm.hwcap2 = getauxval(AT_HWCAP2);
    nnf__os_caches_detect(&f->os);
}
