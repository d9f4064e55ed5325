/* The active kernel table: chosen on first use (never in a constructor, so a program
 * that only links nnf runs no CPUID), once, under pthread_once; read with one acquire
 * load afterwards. nnf_isa_force swaps the pointer atomically. The pointer is to this
 * process's copy of the ISA's const table, with the sgemm blocks chosen for the caches
 * of the CPU (blocking_choose.c), filled in by the same once.
 */
#include "dispatch/dispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

#include "dispatch/blocking.h"
#include "dispatch/cpu_features.h"
#include "src/core/error.h"
#include "src/core/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic(const nnf__kernels *) active;
static nnf__cpu_features features;
static nnf_isa best;         /* highest ISA the CPU and OS support, before NNF_ISA */
static nnf_isa chosen;       /* after NNF_ISA */
static const char *chosen_why;
static const char *env_cap;  /* the ISA NNF_ISA named at detection; NULL if unset or ignored */

/* IF_<arch>(x): x where the list's arch column says the ISA is compiled in, else NULL. */
#define IF_ANY(x) x
#if defined(__x86_64__)
#define IF_X86(x) x
#else
#define IF_X86(x) NULL
#endif
#if defined(__aarch64__)
#define IF_ARM(x) x
#else
#define IF_ARM(x) NULL
#endif

/* Each ISA's table, by enum value; NULL where it is not compiled in. */
static const nnf__kernels *const tables[] = {
#define TABLE(ID, name, value, arch) [value] = IF_##arch(&nnf__kernels_##name),
    NNF_ISA_LIST(TABLE)
#undef TABLE
};

#define N_TABLES (sizeof tables / sizeof tables[0])
static nnf__caches caches;
/* tables[i] with its blocks for this CPU; written before `active` first points here
 * (and by nnf__blocking_force, a test hook), read-only after. */
static nnf__kernels tuned[N_TABLES];

static void tune(void)
{
    caches = nnf__caches_of(&features);
    for (size_t i = 0; i < N_TABLES; i++) {
        if (tables[i] == NULL)
            continue;
        tuned[i] = *tables[i];
        nnf__sgemm_kernels *g = &tuned[i].gemm;
        nnf__blocking fixed = {tables[i]->gemm.a_block_rows, tables[i]->gemm.b_block_cols};
        nnf__blocking b = nnf__blocking_choose(&caches, g->mr, g->nr, NNF__SGEMM_KC,
                                               sizeof(float), fixed);
        g->a_block_rows = b.a_block_rows;
        g->b_block_cols = b.b_block_cols;
    }
}

/* Only called for ISAs that nnf__isa_allowed. */
static const nnf__kernels *table_of(nnf_isa isa)
{
    return &tuned[isa];
}

/* Every name, in the list's order: "scalar, scalar_fma, avx2, ..." (past the first ", "). */
#define NAME_ITEM(ID, name, value, arch) ", " #name
static const char all_names[] = NNF_ISA_LIST(NAME_ITEM);
#undef NAME_ITEM
#define ALL_NAMES (all_names + 2)

static const char *arch_name(void)
{
#if defined(__x86_64__)
    return "x86-64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "this architecture";
#endif
}

/* An ISA's name in any case ("AVX2" as the CPU manuals write it); 0 if there is none. */
static int isa_of_name(const char *name, nnf_isa *isa)
{
    static const nnf_isa all[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcasecmp(name, nnf_isa_name(all[i])) == 0) {
            *isa = all[i];
            return 1;
        }
    return 0;
}

/* NNF_ISA's cap; an unknown name or another architecture's ISA is reported once (we
 * run once) and ignored, so a shared script setting NNF_ISA=avx2 still runs on Arm. */
static nnf_isa read_cap(void)
{
    const char *s = getenv("NNF_ISA");
    nnf_isa isa;
    if (s == NULL || s[0] == '\0')
        return NNF__ISA_NO_CAP;
    if (!isa_of_name(s, &isa)) {
        nnf__log(NNF_LOG_WARNING, "NNF_ISA=%s is not one of %s; ignored", s, ALL_NAMES);
        return NNF__ISA_NO_CAP;
    }
    if (nnf__isa_rank(isa) < 0) {
        nnf__log(NNF_LOG_WARNING, "NNF_ISA=%s is not an ISA of %s; ignored", s, arch_name());
        return NNF__ISA_NO_CAP;
    }
    env_cap = nnf_isa_name(isa);
    return isa;
}

static void detect(void)
{
    nnf__cpu_detect(&features);
    tune();
    best = nnf__isa_choose(&features, NNF__ISA_NO_CAP, NULL);
    chosen = nnf__isa_choose(&features, read_cap(), &chosen_why);
    atomic_store_explicit(&active, table_of(chosen), memory_order_release);
    if (nnf__log_enabled(NNF_LOG_DEBUG)) {
        char buf[1024];
        nnf__log(NNF_LOG_DEBUG, "features: %s",
                 nnf__cpu_features_str(&features, buf, sizeof buf));
#if defined(__x86_64__)
        nnf__log(NNF_LOG_DEBUG, "XCR0: %#llx", (unsigned long long)features.x86.xcr0);
#elif defined(__aarch64__)
        nnf__log(NNF_LOG_DEBUG, "HWCAP: %#lx HWCAP2: %#lx", features.arm.hwcap,
                 features.arm.hwcap2);
#endif
    }
    nnf__log(NNF_LOG_INFO, "ISA: %s (%s; the CPU and OS support up to %s)",
             nnf_isa_name(chosen), chosen_why, nnf_isa_name(best));
    nnf__log(NNF_LOG_INFO, "caches (%s): L1d %llu, L2 %llu, L3 %llu bytes; sgemm blocks "
             "%d A rows, %d B columns", caches.source, (unsigned long long)caches.l1d,
             (unsigned long long)caches.l2, (unsigned long long)caches.l3,
             tuned[chosen].gemm.a_block_rows, tuned[chosen].gemm.b_block_cols);
}

void nnf__blocking_force(int a_block_rows, int b_block_cols)
{
    pthread_once(&once, detect);
    tune();
    for (size_t i = 0; i < N_TABLES; i++) {
        if (tables[i] == NULL)
            continue;
        /* B in whole NR panels, as the packed path needs (a B block starts on a panel);
         * it rounds A blocks up to MR rows itself. */
        nnf__sgemm_kernels *g = &tuned[i].gemm;
        if (a_block_rows > 0)
            g->a_block_rows = a_block_rows;
        if (b_block_cols > 0)
            g->b_block_cols = b_block_cols > g->nr ? b_block_cols / g->nr * g->nr : g->nr;
    }
}

const nnf__kernels *nnf__kernels_active(void)
{
    const nnf__kernels *k = atomic_load_explicit(&active, memory_order_acquire);
    if (k != NULL)
        return k;
    pthread_once(&once, detect);
    return atomic_load_explicit(&active, memory_order_acquire);
}

nnf_isa nnf_isa_active(void)
{
    return nnf__kernels_active()->isa;
}

int nnf_isa_supported(nnf_isa isa)
{
    pthread_once(&once, detect);
    return nnf__isa_allowed(&features, isa);
}

const char *nnf_isa_name(nnf_isa isa)
{
    switch (isa) {
#define NAME_CASE(ID, name, value, arch) case NNF_ISA_##ID: return #name;
        NNF_ISA_LIST(NAME_CASE)
#undef NAME_CASE
    }
    return "unknown";
}

nnf_status nnf_isa_from_name(nnf_isa *isa, const char *name)
{
    NNF_PUBLIC("nnf_isa_from_name");
    NNF_RETURN_IF(isa == NULL || name == NULL, NNF_ERR_NULL, "%s is NULL",
                  isa == NULL ? "isa" : "name");
    NNF_RETURN_IF(!isa_of_name(name, isa), NNF_ERR_INVALID,
                  "\"%s\" is not one of %s", name, ALL_NAMES);
    return NNF_OK;
}

nnf_status nnf_isa_force(nnf_isa isa)
{
    NNF_PUBLIC("nnf_isa_force");
    NNF_RETURN_IF(!nnf_isa_supported(isa), NNF_ERR_UNSUPPORTED,
                  "nnf_isa_force: ISA %s is not supported by this build, CPU and OS (best: %s)",
                  nnf_isa_name(isa), nnf_isa_name(best));
    atomic_store_explicit(&active, table_of(isa), memory_order_release);
    return NNF_OK;
}

void nnf__dispatch_facts(nnf__dispatch_info *info)
{
    pthread_once(&once, detect);
    info->best = best;
    info->chosen_at_start = chosen;
    info->why = chosen_why;
    info->env_cap = env_cap;
    nnf__cpu_features_str(&features, info->features, sizeof info->features);
#if defined(__x86_64__)
    info->xcr0 = features.x86.xcr0;
#else
    info->xcr0 = 0;
#endif
    info->caches = caches;
}
