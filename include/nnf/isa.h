/* nnf/isa.h — which instruction set runs the kernels.
 *
 * nnf compiles every kernel once per ISA (nnf/isa_list.h lists them) and picks, the
 * first time a kernel is needed, the best one that both the CPU and the operating
 * system support (CPUID + XGETBV on x86, HWCAP on aarch64). The environment variable
 * NNF_ISA=scalar|scalar_fma|avx2|avx512|neon (in any case: AVX2 too) caps that choice;
 * NNF_VERBOSE=2 reports the ISA chosen and why, NNF_VERBOSE=3 also what was detected
 * (nnf/log.h). All ISAs give bit-identical results for the ops that promise it, so the
 * choice changes speed, not answers, with one exception: x86's `scalar`, the baseline
 * without FMA, computes exp, log, tanh, sigmoid and pow differently in the last bit for
 * about 0.7% of inputs (within 1 ULP); `scalar_fma`, the same portable kernels built
 * with FMA for x86 CPUs that have it, gives the vector ISAs' bits. On aarch64 FMA is
 * baseline, and `scalar` gives them too.
 */
#ifndef NNF_ISA_H
#define NNF_ISA_H

#include "status.h"
#include "isa_list.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The values are fixed (ABI); nnf/isa_list.h lists them, in order of preference. */
#define NNF__ISA_ENUMERATOR(ID, name, value, arch) NNF_ISA_##ID = value,
typedef enum { NNF_ISA_LIST(NNF__ISA_ENUMERATOR) } nnf_isa;
#undef NNF__ISA_ENUMERATOR

/* The ISA whose kernels run now. The first call performs detection. */
NNF_API nnf_isa nnf_isa_active(void);

/* 1 if `isa` is compiled into this build AND supported by this CPU and OS, else 0. */
NNF_API int nnf_isa_supported(nnf_isa isa);

/* "scalar", "scalar_fma", "avx2", "avx512", "neon"; "unknown" for a value outside the
 * enum. */
NNF_API const char *nnf_isa_name(nnf_isa isa);

/* The ISA called `name`, in any case ("avx2", "AVX2"), as NNF_ISA reads it; whether it
 * runs here is nnf_isa_supported's question. NNF_ERR_INVALID for another name,
 * NNF_ERR_NULL for a NULL pointer; *isa is written on success only. */
NNF_API NNF_NODISCARD nnf_status nnf_isa_from_name(nnf_isa *isa /* OUT */, const char *name);

/* Switch every later nnf call to `isa`'s kernels (for tests and benchmarks).
 * NNF_ERR_UNSUPPORTED, and no change, if nnf_isa_supported(isa) is 0.
 * Not meant to race with kernels running on other threads. */
NNF_API NNF_NODISCARD nnf_status nnf_isa_force(nnf_isa isa);

#ifdef __cplusplus
}
#endif
#endif
