// The peers of peers.h. Each library is compiled in only if meson found it
// (NNF_BENCH_HAVE_<PEER>); an absent one is reported as such and its rows are skipped.
#include "peers.h"

#include "bench_util.h"
#include "compare.h"

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_map>

#ifdef NNF_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef NNF_BENCH_HAVE_BLIS
#include <blis.h>
#endif
#ifdef NNF_BENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_debug.h>
#endif
#ifdef NNF_BENCH_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

namespace nnf_bench {
namespace {

bool available[std::size(all_peers)];
std::vector<std::pair<std::string, std::string>> info;

bool &is_available(peer p)
{
    return available[static_cast<int>(p)];
}

// ---- the environment every peer gets ----

// Variables through which the environment could steer a peer's choice of kernels. Each
// is removed (the peer then detects the CPU itself) or set where a peer's own detection
// is known to fall short:
// - OPENBLAS_CORETYPE on AVX-512 CPUs: OpenBLAS 0.3.21 does not know some of them (Intel
//   family 6 model 207) and falls back to SSE3 "Prescott" kernels.
//   NNF_BENCH_OPENBLAS_CORETYPE overrides the choice, for experiments.
// BLIS is handled apart (blis_choose): its variable aborts Debian's BLIS 0.9.0.
const char *const kCleared[] = {"OPENBLAS_L2_SIZE",  "BLIS_ARCH_TYPE",       "LIBXSMM_TARGET",
                                "DNNL_MAX_CPU_ISA",  "ONEDNN_MAX_CPU_ISA",   "DNNL_CPU_ISA_HINTS",
                                "ONEDNN_CPU_ISA_HINTS", "DNNL_VERBOSE",      "ONEDNN_VERBOSE"};
constexpr const char *kReexecMark = "NNF_BENCH_PEERS_SET";

std::string openblas_coretype()
{
    if (const char *v = std::getenv("NNF_BENCH_OPENBLAS_CORETYPE"))
        return v;
#if defined(__x86_64__)
    // Cooperlake is SkylakeX's sgemm kernels plus bf16 ones: what OpenBLAS picks itself
    // on CPUs with AVX512_BF16 that it knows (Zen 4, Zen 5).
    if (nnf_isa_supported(NNF_ISA_AVX512))
        return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
#endif
    return "";
}

// Sets the variables; returns what changed ("" if nothing did).
std::string set_peer_environment()
{
    std::vector<std::pair<std::string, std::string>> before;   // variable, value or ""
    for (const char *var : kCleared) {
        const char *v = std::getenv(var);
        before.emplace_back(var, v ? v : "");
        unsetenv(var);
    }
    const char *core_was = std::getenv("OPENBLAS_CORETYPE");
    before.emplace_back("OPENBLAS_CORETYPE", core_was ? core_was : "");
    const std::string core = openblas_coretype();
    if (core.empty())
        unsetenv("OPENBLAS_CORETYPE");
    else
        setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
    std::string changed;
    for (const auto &[var, was] : before) {
        const char *now = std::getenv(var.c_str());
        if (was != (now ? now : ""))
            changed += (changed.empty() ? "" : ", ") + var + "=" + (was.empty() ? "(unset)" : was) +
                       " -> " + (now ? now : "(unset)");
    }
    return changed;
}

#ifdef NNF_BENCH_HAVE_BLIS
// BLIS 0.9 runs its portable C "generic" configuration on a CPU it does not know (AMD
// family 26, Zen 5), and its override, BLIS_ARCH_TYPE, aborts Debian's 0.9.0 ("Accessed
// uninitialized context in gks") whatever its value. So where BLIS detects "generic", the
// bench builds the contexts of its configurations for this CPU and passes one to each
// call: on AVX-512, skx for products of 128^3 multiply-adds and more and zen3 (AMD) or
// haswell below, whose small-matrix ("sup") kernels skx lacks; measured here, one thread,
// generic / skx / zen3: 5x784x10 33 / 25 / 5.1 us, 200x50x100 118 / 28 / 28 us,
// 512^3 9.9 / 1.6 / 2.8 ms. The context initialisers are not exported from libblis.so:
// BLIS is linked statically (meson.build).
cntx_t blis_contexts[2];
cntx_t *blis_small = nullptr, *blis_large = nullptr;   // null: BLIS's own choice
std::string blis_small_name, blis_large_name;          // empty: BLIS's own choice

bool blis_is_large(const gemm_args &g)
{
    return (double)g.m * g.n * g.k >= 128.0 * 128 * 128;
}

cntx_t *blis_context_for(const gemm_args &g)
{
    return blis_is_large(g) ? blis_large : blis_small;
}

std::string blis_choose()
{
    bli_init();
    arch_t id = bli_arch_query_id();
    std::string detected = bli_arch_string(id);
#if defined(__x86_64__)
    if (id == BLIS_ARCH_GENERIC && nnf_isa_supported(NNF_ISA_AVX2)) {
        const bool amd = __builtin_cpu_is("amd");
        (amd ? bli_cntx_init_zen3 : bli_cntx_init_haswell)(&blis_contexts[0]);
        blis_small = blis_large = &blis_contexts[0];
        blis_small_name = blis_large_name = amd ? "zen3" : "haswell";
        if (nnf_isa_supported(NNF_ISA_AVX512)) {
            bli_cntx_init_skx(&blis_contexts[1]);
            blis_large = &blis_contexts[1];
            blis_large_name = "skx";
        }
        return blis_large_name + " from 128^3 multiply-adds, " + blis_small_name +
               " below (contexts passed to each call: BLIS detected " + detected + ")";
    }
#endif
    return detected + " (detected)";
}
#endif

// ---- which library a symbol came from ----

[[maybe_unused]] std::string library_of(const void *fn)
{
    Dl_info dl;
    if (fn == nullptr || dladdr(fn, &dl) == 0 || dl.dli_fname == nullptr)
        return "";
    return dl.dli_fname;
}

#ifdef NNF_BENCH_HAVE_OPENBLAS
// BLIS, linked statically, defines cblas_sgemm and sgemm_ too: OpenBLAS is used only if
// its entry point comes from its own library.
bool from_library(peer p, const void *fn, const char *lib)
{
    std::string file = library_of(fn);
    if (file.find(lib) == std::string::npos) {
        info.emplace_back(peer_name(p), std::string("not used: its entry point comes from ") +
                                            (file.empty() ? "nowhere" : file));
        return false;
    }
    return true;
}
#endif

std::string cpu_model()
{
    std::ifstream f("/proc/cpuinfo");
    std::string line, name, family, model;
    while (std::getline(f, line)) {
        auto value = [&line] { return line.substr(line.find(':') + 2); };
        if (name.empty() && line.rfind("model name", 0) == 0) name = value();
        if (family.empty() && line.rfind("cpu family", 0) == 0) family = value();
        if (model.empty() && line.rfind("model\t", 0) == 0) model = value();
    }
    return name + " (family " + family + " model " + model + ")";
}

// ---- the calls ----

void plain_c_sgemm(const gemm_args &g)
{
    for (int i = 0; i < g.m; i++) {
        float *ci = g.c + (size_t)i * g.ldc;
        for (int j = 0; j < g.n; j++)
            ci[j] = g.beta == 0.0f ? 0.0f : g.beta * ci[j];
        for (int p = 0; p < g.k; p++) {
            float aip = g.alpha * (g.ta == NNF_TRANS ? g.a[(size_t)p * g.lda + i]
                                                     : g.a[(size_t)i * g.lda + p]);
            if (g.tb == NNF_TRANS)
                for (int j = 0; j < g.n; j++)
                    ci[j] += aip * g.b[(size_t)j * g.ldb + p];
            else
                for (int j = 0; j < g.n; j++)
                    ci[j] += aip * g.b[(size_t)p * g.ldb + j];
        }
    }
}

struct stateless : prepared {
    peer p;
    gemm_args g;
    stateless(peer pp, const gemm_args &gg) : p(pp), g(gg) {}
    bool call() override { return peer_sgemm(p, g); }
};

#ifdef NNF_BENCH_HAVE_ONEDNN
dnnl::engine &onednn_engine()
{
    static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    return eng;
}

// y = x W^T with W (n x k) in whatever layout oneDNN prefers, reordered once from B.
struct onednn_ip : prepared {
    dnnl::stream stream{onednn_engine()};
    dnnl::inner_product_forward ip;
    dnnl::memory weights;
    std::unordered_map<int, dnnl::memory> args;

    explicit onednn_ip(const gemm_args &g)
    {
        using md = dnnl::memory::desc;
        const auto f32 = dnnl::memory::data_type::f32;
        dnnl::engine &eng = onednn_engine();
        md src({g.m, g.k}, f32, {g.lda, 1}), dst({g.m, g.n}, f32, {g.ldc, 1});
        // W[o][i] is B[i][o] when B is k x n (not transposed).
        md user_w({g.n, g.k}, f32,
                  g.tb == NNF_TRANS ? dnnl::memory::dims{g.ldb, 1} : dnnl::memory::dims{1, g.ldb});
        md any_w({g.n, g.k}, f32, dnnl::memory::format_tag::any);
#if DNNL_VERSION_MAJOR >= 3
        dnnl::inner_product_forward::primitive_desc pd(
            eng, dnnl::prop_kind::forward_inference, src, any_w, dst);
#else
        dnnl::inner_product_forward::primitive_desc pd(
            {dnnl::prop_kind::forward_inference, src, any_w, dst}, eng);
#endif
        kernel = pd.impl_info_str();
        ip = dnnl::inner_product_forward(pd);
        dnnl::memory from(user_w, eng, const_cast<float *>(g.b));
        if (pd.weights_desc() == user_w) {
            weights = from;
        } else {
            weights = dnnl::memory(pd.weights_desc(), eng);
            dnnl::reorder pack(from, weights);
            std::vector<double> t;
            for (int i = 0; i < 5; i++) {
                auto t0 = std::chrono::steady_clock::now();
                pack.execute(stream, from, weights);
                stream.wait();
                t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                                .count());
            }
            pack_seconds = median(t);
        }
        args = {{DNNL_ARG_SRC, dnnl::memory(src, eng, const_cast<float *>(g.a))},
                {DNNL_ARG_WEIGHTS, weights},
                {DNNL_ARG_DST, dnnl::memory(dst, eng, g.c)}};
    }

    bool call() override
    {
        try {
            ip.execute(stream, args);
            stream.wait();
            return true;
        } catch (const dnnl::error &) {
            return false;
        }
    }
};
#endif

}  // namespace

const char *peer_name(peer p)
{
    switch (p) {
    case peer::openblas: return "openblas";
    case peer::blis: return "blis";
    case peer::onednn: return "onednn";
    case peer::onednn_ip: return "onednn_ip";
    case peer::libxsmm: return "libxsmm";
    case peer::c: return "c";
    }
    return "unknown";
}

bool peer_available(peer p)
{
    return is_available(p);
}

void peer_set_threads(peer p, int threads)
{
    switch (p) {
    case peer::openblas:
#ifdef NNF_BENCH_HAVE_OPENBLAS
        openblas_set_num_threads(threads);
#endif
        break;
    case peer::blis:
#ifdef NNF_BENCH_HAVE_BLIS
        bli_thread_set_num_threads(threads);
#endif
        break;
    case peer::onednn:
    case peer::onednn_ip:
        omp_set_num_threads(threads);
        break;
    case peer::libxsmm:
    case peer::c:
        break;
    }
}

bool peer_sgemm(peer p, const gemm_args &g)
{
    if (!is_available(p))
        return false;
    [[maybe_unused]] const bool ta = g.ta == NNF_TRANS, tb = g.tb == NNF_TRANS;
    switch (p) {
    case peer::openblas:
#ifdef NNF_BENCH_HAVE_OPENBLAS
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc);
        return true;
#else
        return false;
#endif
    case peer::blis: {
#ifdef NNF_BENCH_HAVE_BLIS
        // Row-major operands as BLIS's general strides: row stride ld, column stride 1.
        float alpha = g.alpha, beta = g.beta;
        bli_sgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                     g.m, g.n, g.k, &alpha, const_cast<float *>(g.a), g.lda, 1,
                     const_cast<float *>(g.b), g.ldb, 1, &beta, g.c, g.ldc, 1, blis_context_for(g), nullptr);
        return true;
#else
        return false;
#endif
    }
    case peer::onednn:
#ifdef NNF_BENCH_HAVE_ONEDNN
        return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b,
                          g.ldb, g.beta, g.c, g.ldc) == dnnl_success;
#else
        return false;
#endif
    case peer::libxsmm: {
#ifdef NNF_BENCH_HAVE_LIBXSMM
        // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a row-major
        // matrix read column-major is its transpose: the same call with A and B swapped.
        const char tra = ta ? 'T' : 'N', trb = tb ? 'T' : 'N';
        const libxsmm_blasint m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
        libxsmm_sgemm(&trb, &tra, &n, &m, &k, &g.alpha, g.b, &ldb, g.a, &lda, &g.beta, g.c, &ldc);
        return true;
#else
        return false;
#endif
    }
    case peer::c:
        plain_c_sgemm(g);
        return true;
    case peer::onednn_ip:
        return false;
    }
    return false;
}

std::unique_ptr<prepared> peer_prepare(peer p, const gemm_args &g, std::string *why)
{
    if (!is_available(p)) {
        *why = std::string(peer_name(p)) + " is not available";
        return nullptr;
    }
    if (p == peer::c && (double)g.m * g.n * g.k > 128.0 * 128 * 128) {
        *why = "plain C loops take seconds above 128^3";
        return nullptr;
    }
    if (p != peer::onednn_ip) {
        auto run = std::make_unique<stateless>(p, g);
#ifdef NNF_BENCH_HAVE_BLIS
        if (p == peer::blis)
            run->kernel = blis_is_large(g) ? blis_large_name : blis_small_name;
#endif
#ifdef NNF_BENCH_HAVE_LIBXSMM
        // What LIBXSMM_VERBOSE=2's counts show libxsmm_sgemm doing: a JIT kernel only where
        // its own (column-major) A is not transposed, i.e. B here, and m n k is at most
        // LIBXSMM_MAX_MNK (64^3); else the BLAS's sgemm_.
        if (p == peer::libxsmm)
            run->kernel = g.tb == NNF_NO_TRANS && (double)g.m * g.n * g.k <= LIBXSMM_CONFIG_MAX_MNK
                              ? "JIT"
                              : "BLAS sgemm_";
#endif
        return run;
    }
#ifdef NNF_BENCH_HAVE_ONEDNN
    if (g.ta == NNF_TRANS || g.alpha != 1.0f || g.beta != 0.0f) {
        *why = "an inner product computes x W^T only: A not transposed, alpha 1, beta 0";
        return nullptr;
    }
    try {
        return std::make_unique<onednn_ip>(g);
    } catch (const dnnl::error &e) {
        *why = std::string("oneDNN: ") + e.what();
    }
#endif
    return nullptr;
}

nnf_isa one_thread_widest_isa()
{
    if (nnf_set_num_threads(1) != NNF_OK)
        std::abort();
    for (peer p : all_peers)
        peer_set_threads(p, 1);
    use_widest_isa();
    return nnf_isa_active();
}

bool time_peer(benchmark::State &state, peer p, const gemm_args &g)
{
    std::string why;
    std::unique_ptr<prepared> run = peer_prepare(p, g, &why);
    if (!run) {
        state.SkipWithError(why.c_str());
        return false;
    }
    for (auto _ : state) {
        if (!run->call()) {
            state.SkipWithError("the call failed");
            return false;
        }
        benchmark::DoNotOptimize(g.c);
        benchmark::ClobberMemory();
    }
    return true;
}

bool gemm_agrees(const gemm_args &g, const float *ref, const float *got, std::string *why)
{
    auto stored = [](nnf_trans t, int rows, int cols, int ld) {
        return (size_t)(t == NNF_TRANS ? cols : rows) * (size_t)ld;
    };
    std::vector<float> a(g.a, g.a + stored(g.ta, g.m, g.k, g.lda)),
        b(g.b, g.b + stored(g.tb, g.k, g.n, g.ldb)), bound((size_t)g.m * g.n);
    for (float &v : a) v = std::fabs(v);
    for (float &v : b) v = std::fabs(v);
    if (nnf_sgemm(g.ta, g.tb, g.m, g.n, g.k, std::fabs(g.alpha), a.data(), g.lda, b.data(), g.ldb,
                  0.0f, bound.data(), g.n) != NNF_OK) {
        *why = nnf_last_error();
        return false;
    }
    const double u = 0x1p-24, gamma = g.k * u / (1.0 - g.k * u);
    for (int i = 0; i < g.m; i++)
        for (int j = 0; j < g.n; j++) {
            double r = ref[(size_t)i * g.ldc + j], x = got[(size_t)i * g.ldc + j];
            double tol = 2.5 * gamma * bound[(size_t)i * g.n + j];
            if (!(std::fabs(x - r) <= tol)) {
                char msg[160];
                std::snprintf(msg, sizeof msg, "C[%d][%d] = %.9g where nnf has %.9g (bound %.3g)",
                              i, j, x, r, tol);
                *why = msg;
                return false;
            }
        }
    return true;
}

const std::vector<std::pair<std::string, std::string>> &peers_info()
{
    return info;
}

void peers_init(int argc, char **argv)
{
    bool print_only = false;
    for (int i = 1; i < argc; i++)
        print_only |= std::strcmp(argv[i], "--peers_info") == 0;

    // OpenBLAS has read its variables when it loaded, before main: if they were wrong,
    // run the binary again with the right ones (once: the mark stops a second round).
    std::string changed;
    if (const char *mark = std::getenv(kReexecMark)) {
        changed = mark;
        unsetenv(kReexecMark);
    } else {
        changed = set_peer_environment();
        if (!changed.empty()) {
            setenv(kReexecMark, changed.c_str(), 1);
            execv("/proc/self/exe", argv);
            std::fprintf(stderr, "# peers: re-executing with %s failed (%s); peers keep the "
                                 "environment's kernels\n", changed.c_str(), std::strerror(errno));
            changed = "not applied: " + changed;
        }
    }

    info.clear();
    info.emplace_back("cpu", cpu_model());
    info.emplace_back("nnf", std::string("widest ISA ") + nnf_isa_name(nnf_isa_active()));
    info.emplace_back("environment", changed.empty() ? "nothing changed" : changed);
    is_available(peer::c) = true;
    info.emplace_back("c", "plain C loops (i, p, j order) at the baseline ISA, no -ffast-math");
#ifdef NNF_BENCH_HAVE_OPENBLAS
    if (from_library(peer::openblas, reinterpret_cast<void *>(&cblas_sgemm), "openblas")) {
        is_available(peer::openblas) = true;
        const char *forced = std::getenv("OPENBLAS_CORETYPE");
        info.emplace_back("openblas", std::string(openblas_get_config()) + "; core " +
                                          openblas_get_corename() +
                                          (forced ? std::string(" (OPENBLAS_CORETYPE=") + forced + ")"
                                                  : std::string(" (detected)")));
    }
#else
    info.emplace_back("openblas", "not built in");
#endif
#ifdef NNF_BENCH_HAVE_BLIS
    is_available(peer::blis) = true;
    info.emplace_back("blis", std::string("BLIS ") + bli_info_get_version_str() + "; configuration " +
                                  blis_choose());
#else
    info.emplace_back("blis", "not built in");
#endif
#ifdef NNF_BENCH_HAVE_ONEDNN
    {
        const dnnl_version_t *v = dnnl_version();
        std::string isa = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
        is_available(peer::onednn) = is_available(peer::onednn_ip) = true;
        info.emplace_back("onednn", "oneDNN " + std::to_string(v->major) + "." +
                                        std::to_string(v->minor) + "." + std::to_string(v->patch) +
                                        " dnnl_sgemm; ISA " + isa);
        info.emplace_back("onednn_ip", "inner product, weights format_tag::any (kernel per row); ISA " + isa);
    }
#else
    info.emplace_back("onednn", "not built in");
#endif
#ifdef NNF_BENCH_HAVE_LIBXSMM
    {
        libxsmm_init();
        is_available(peer::libxsmm) = true;
        std::string blas = library_of(dlsym(RTLD_DEFAULT, "sgemm_"));
        info.emplace_back("libxsmm", std::string("libxsmm ") + LIBXSMM_CONFIG_VERSION + " libxsmm_sgemm; JIT target " +
                                         libxsmm_get_target_arch() + "; beyond its JIT kernels sgemm_ from " +
                                         (blas.empty() ? "nowhere" : blas));
    }
#else
    info.emplace_back("libxsmm", "not built in");
#endif

    for (const auto &kv : info) {
        if (print_only)
            std::printf("%s: %s\n", kv.first.c_str(), kv.second.c_str());
        else
            std::fprintf(stderr, "# %s: %s\n", kv.first.c_str(), kv.second.c_str());
        benchmark::AddCustomContext("bench." + kv.first, kv.second);
    }
    if (print_only)
        std::exit(0);
}

}  // namespace nnf_bench
