/* nnf-info: the library's np.show_runtime(): version, ISAs, threads, CPU features. */
#include <stdio.h>

#include "dispatch/cpu_features.h"
#include "dispatch/dispatch.h"
#include "nnf/nnf.h"

int main(void)
{
    nnf__dispatch_info info;
    nnf__dispatch_facts(&info);
    printf("nnf %s\n", nnf_version());
    printf("ISAs compiled in:");
    for (int i = NNF_ISA_SCALAR; i <= NNF_ISA_NEON; i++)
        if (nnf__isa_rank((nnf_isa)i) >= 0)
            printf(" %s", nnf_isa_name((nnf_isa)i));
    printf("\nISAs supported here:");
    for (int i = NNF_ISA_SCALAR; i <= NNF_ISA_NEON; i++)
        if (nnf_isa_supported((nnf_isa)i))
            printf(" %s", nnf_isa_name((nnf_isa)i));
    printf("\nactive ISA: %s (%s)\n", nnf_isa_name(nnf_isa_active()), info.why);
    if (info.env_cap != NULL)
        printf("NNF_ISA: %s\n", info.env_cap);
    printf("threads: %d\n", nnf_get_num_threads());
    printf("CPU features: %s\n", info.features);
#if defined(__x86_64__)
    printf("XCR0: %#llx\n", info.xcr0);
#endif
    return 0;
}
