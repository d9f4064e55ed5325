/* nnf-info: the library's np.show_runtime(): version, ISAs, threads, CPU features, as
 * text or as JSON for scripts and bug reports. */
#include <stdio.h>
#include <string.h>

#include "dispatch/cpu_features.h"
#include "dispatch/dispatch.h"
#include "nnf/nnf.h"

static const char usage[] =
    "usage: nnf-info [--json | --version | --help]\n"
    "Prints what nnf found on this machine and will use: its version, the ISAs compiled\n"
    "in and supported here, the active one and why, the thread count, the CPU features.\n"
    "\n"
    "  --json     the same as one JSON object\n"
    "  --version  the version of the nnf library only\n"
    "  --help     this text\n"
    "\n"
    "Environment (read as nnf reads it in any program): NNF_ISA caps the ISA (a name this\n"
    "tool lists; any case), NNF_NUM_THREADS sets the thread count, NNF_CACHE_MAX\n"
    "the huge-page cache limit, NNF_VERBOSE the messages on stderr (0 silent, 1 warnings,\n"
    "2 info, 3 debug).\n";

/* A JSON string: nnf's texts are ASCII, but quotes, backslashes and controls are
 * escaped all the same. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* The ISAs compiled in (supported_only 0) or supported here (1), as a list. */
static void isa_list(int json, int supported_only)
{
    const char *sep = "";
    if (json)
        putchar('[');
    static const nnf_isa all[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        nnf_isa isa = all[i];
        if (nnf__isa_rank(isa) < 0 || (supported_only && !nnf_isa_supported(isa)))
            continue;
        fputs(sep, stdout);
        if (json)
            json_string(nnf_isa_name(isa));
        else
            fputs(nnf_isa_name(isa), stdout);
        sep = json ? ", " : " ";
    }
    if (json)
        putchar(']');
}

static void print_json(const nnf__dispatch_info *info)
{
    printf("{\n  \"version\": ");
    json_string(nnf_version());
    printf(",\n  \"isas_compiled\": ");
    isa_list(1, 0);
    printf(",\n  \"isas_supported\": ");
    isa_list(1, 1);
    printf(",\n  \"active_isa\": ");
    json_string(nnf_isa_name(nnf_isa_active()));
    printf(",\n  \"why\": ");
    json_string(info->why);
    printf(",\n  \"nnf_isa\": ");
    if (info->env_cap != NULL)
        json_string(info->env_cap);
    else
        printf("null");
    printf(",\n  \"threads\": %d", nnf_get_num_threads());
    printf(",\n  \"cache_limit_bytes\": %zu", nnf_get_cache_limit());
    printf(",\n  \"log_level\": %d", nnf_get_log_level());
    printf(",\n  \"cpu_features\": ");
    json_string(info->features);
#if defined(__x86_64__)
    printf(",\n  \"xcr0\": \"%#llx\"", info->xcr0);
#endif
    const nnf__caches *c = &info->caches;
    const nnf__sgemm_kernels *g = &nnf__kernels_active()->gemm;
    printf(",\n  \"caches\": {\"source\": ");
    json_string(c->source);
    printf(", \"l1d\": %llu, \"l2\": %llu, \"l3\": %llu, \"l2_sharing\": %u, "
           "\"l3_sharing\": %u}", (unsigned long long)c->l1d, (unsigned long long)c->l2,
           (unsigned long long)c->l3, (unsigned)c->l2_sharing, (unsigned)c->l3_sharing);
    printf(",\n  \"sgemm_blocks\": {\"kc\": %d, \"a_block_rows\": %d, "
           "\"b_block_cols\": %d}", NNF__SGEMM_KC, g->a_block_rows, g->b_block_cols);
    printf("\n}\n");
}

static void print_text(const nnf__dispatch_info *info)
{
    printf("nnf %s\n", nnf_version());
    printf("ISAs compiled in: ");
    isa_list(0, 0);
    printf("\nISAs supported here: ");
    isa_list(0, 1);
    printf("\nactive ISA: %s (%s)\n", nnf_isa_name(nnf_isa_active()), info->why);
    if (info->env_cap != NULL)
        printf("NNF_ISA: %s\n", info->env_cap);
    printf("threads: %d\n", nnf_get_num_threads());
    printf("huge-page cache limit: %zu bytes\n", nnf_get_cache_limit());
    printf("log level: %d\n", nnf_get_log_level());
    printf("CPU features: %s\n", info->features);
#if defined(__x86_64__)
    printf("XCR0: %#llx\n", info->xcr0);
#endif
    const nnf__caches *c = &info->caches;
    const nnf__sgemm_kernels *g = &nnf__kernels_active()->gemm;
    printf("caches (from %s; 0: not reported): L1d %llu KiB, L2 %llu KiB shared by %u, "
           "L3 %llu KiB shared by %u\n", c->source, (unsigned long long)c->l1d >> 10,
           (unsigned long long)c->l2 >> 10, (unsigned)c->l2_sharing,
           (unsigned long long)c->l3 >> 10, (unsigned)c->l3_sharing);
    printf("sgemm blocks (%s): KC %d, A %d rows, B %d columns\n",
           nnf_isa_name(nnf_isa_active()), NNF__SGEMM_KC, g->a_block_rows, g->b_block_cols);
}

int main(int argc, char **argv)
{
    int json = 0;
    if (argc > 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (argc == 2) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
            printf("%s\n", nnf_version());
            return 0;
        }
        if (strcmp(argv[1], "--json") != 0) {
            fprintf(stderr, "nnf-info: unknown option %s\n%s", argv[1], usage);
            return 2;
        }
        json = 1;
    }
    nnf__dispatch_info info;
    nnf__dispatch_facts(&info);
    if (json)
        print_json(&info);
    else
        print_text(&info);
    return 0;
}
