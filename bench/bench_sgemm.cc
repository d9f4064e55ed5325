// nnf_sgemm per ISA against OpenBLAS (cblas_sgemm) and BLIS (bli_sgemm, its native
// API) in the same binary, on the chapter's products and on squares, 1 and 2 threads.
//
//     build/bench/bench_sgemm --benchmark_repetitions=5
//         --benchmark_report_aggregates_only=true --benchmark_filter='BM_nnf/2/|BM_o|BM_b'
//
// Rows are BM_nnf/<isa>/<shape>/<threads> and BM_<peer>/<shape>/<threads>, with the
// shape's name in the label (shapes[] below); 1-thread rows time the CPU, 2-thread
// rows the wall clock.
//
// OpenBLAS picks its kernels from CPUID when it loads; on a CPU its DYNAMIC_ARCH build
// does not know (e.g. Intel family 6 model 207) it falls back to "Prescott" SSE3
// kernels, so the first lines printed name the core it chose, and
// OPENBLAS_CORETYPE=SkylakeX (or Cooperlake) gives it its AVX-512 kernels back.
//
// Both peers also export the BLAS symbols (sgemm_, and both a cblas_sgemm); OpenBLAS
// is reached only through cblas_sgemm and BLIS only through bli_*, and main() checks
// with dladdr which library each symbol came from before anything runs.
#include <cblas.h>
#include <blis.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "fma_peak.h"

namespace {

struct shape {
    const char *name;
    nnf_trans ta, tb;
    int m, n, k;
};

// "MxKxN" names as in the chapter: op(A) is m x k, op(B) is k x n.
const shape shapes[] = {
    {"5x784x10", NNF_NO_TRANS, NNF_NO_TRANS, 5, 10, 784},       // the first matmul
    {"5x784x10:TB", NNF_NO_TRANS, NNF_TRANS, 5, 10, 784},       // x @ w.t()
    {"5x784x10:TA", NNF_TRANS, NNF_NO_TRANS, 5, 10, 784},
    {"200x100x50", NNF_NO_TRANS, NNF_NO_TRANS, 200, 50, 100},   // MLP layer forward
    {"xT@g:T100x200x50", NNF_TRANS, NNF_NO_TRANS, 100, 50, 200},  // weight gradient
    {"xT@g-as-NN:100x200x50", NNF_NO_TRANS, NNF_NO_TRANS, 100, 50, 200},
    {"g@wT:200x50xT100", NNF_NO_TRANS, NNF_TRANS, 200, 100, 50},  // input gradient
    {"g@wT-as-NN:200x50x100", NNF_NO_TRANS, NNF_NO_TRANS, 200, 100, 50},
    {"200x50x1", NNF_NO_TRANS, NNF_NO_TRANS, 200, 1, 50},       // last layer (GEMV)
    {"64^3", NNF_NO_TRANS, NNF_NO_TRANS, 64, 64, 64},
    {"128^3", NNF_NO_TRANS, NNF_NO_TRANS, 128, 128, 128},
    {"256^3", NNF_NO_TRANS, NNF_NO_TRANS, 256, 256, 256},
    {"512^3", NNF_NO_TRANS, NNF_NO_TRANS, 512, 512, 512},
    {"1024^3", NNF_NO_TRANS, NNF_NO_TRANS, 1024, 1024, 1024},
    {"2048^3", NNF_NO_TRANS, NNF_NO_TRANS, 2048, 2048, 2048},
    {"1024^3:TA", NNF_TRANS, NNF_NO_TRANS, 1024, 1024, 1024},
    {"1024^3:TB", NNF_NO_TRANS, NNF_TRANS, 1024, 1024, 1024},
};
constexpr int n_shapes = sizeof shapes / sizeof shapes[0];

// Operands for one shape, stored as the transposes say, filled in [-1, 1).
struct operands {
    std::vector<float> a, b, c;
    size_t lda, ldb, ldc;
    explicit operands(const shape &s)
    {
        size_t ra = s.ta == NNF_NO_TRANS ? s.m : s.k, ca = s.ta == NNF_NO_TRANS ? s.k : s.m;
        size_t rb = s.tb == NNF_NO_TRANS ? s.k : s.n, cb = s.tb == NNF_NO_TRANS ? s.n : s.k;
        lda = ca;
        ldb = cb;
        ldc = s.n;
        a.resize(ra * ca);
        b.resize(rb * cb);
        c.assign((size_t)s.m * s.n, 0.0f);
        uint64_t x = 0x243F6A8885A308D3ull;
        for (auto *v : {&a, &b})
            for (float &f : *v) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                f = (float)((x >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
            }
    }
};

nnf_status run_nnf(const shape &s, operands &o)
{
    return nnf_sgemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb,
                     0.0f, o.c.data(), o.ldc);
}

void run_openblas(const shape &s, operands &o)
{
    cblas_sgemm(CblasRowMajor, s.ta == NNF_TRANS ? CblasTrans : CblasNoTrans,
                s.tb == NNF_TRANS ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f,
                o.a.data(), (int)o.lda, o.b.data(), (int)o.ldb, 0.0f, o.c.data(), (int)o.ldc);
}

void finish(benchmark::State &state, const shape &s, int threads, const char *who)
{
    double flops = 2.0 * s.m * s.n * s.k;
    state.counters["GFLOPS"] = benchmark::Counter(flops * state.iterations() / 1e9,
                                                  benchmark::Counter::kIsRate);
    state.SetLabel(std::string(who) + " " + s.name + " t=" + std::to_string(threads));
}

// Args: {isa, shape, threads}.
void BM_nnf(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    const shape &s = shapes[state.range(1)];
    int threads = (int)state.range(2);
    omp_set_num_threads(threads);
    operands o(s);
    for (auto _ : state) {
        nnf_status st = run_nnf(s, o);
        if (st != NNF_OK) {
            state.SkipWithError(nnf_last_error());
            break;
        }
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    finish(state, s, threads, nnf_isa_name(nnf_isa_active()));
}

// Args: {shape, threads}.
void BM_openblas(benchmark::State &state)
{
    const shape &s = shapes[state.range(0)];
    int threads = (int)state.range(1);
    openblas_set_num_threads(threads);
    operands o(s);
    for (auto _ : state) {
        run_openblas(s, o);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    finish(state, s, threads, "openblas");
}

// Args: {shape, threads}. Row-major operands as BLIS's general strides (rs = ld, cs = 1).
void BM_blis(benchmark::State &state)
{
    const shape &s = shapes[state.range(0)];
    int threads = (int)state.range(1);
    bli_thread_set_num_threads(threads);
    operands o(s);
    float one = 1.0f, zero = 0.0f;
    for (auto _ : state) {
        bli_sgemm(s.ta == NNF_TRANS ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                  s.tb == NNF_TRANS ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, s.m, s.n, s.k,
                  &one, o.a.data(), (inc_t)o.lda, 1, o.b.data(), (inc_t)o.ldb, 1, &zero,
                  o.c.data(), (inc_t)o.ldc, 1);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    finish(state, s, threads, "blis");
}

// Args: {shape}. nnf (the widest ISA here) and OpenBLAS, one thread, taking turns call
// by call (the first of each pair alternates), so a slow spell of a shared machine hits
// both alike: `speedup` (OpenBLAS's time over nnf's) is the figure to compare, and stays
// put where the separate rows above move by 10-30% from run to run. On x86 each round
// also times the FMA peak loop of nnf's vector width for about as long as nnf's call
// would take at peak, and `nnf_pct_peak` is nnf's rate over the peak's in those rounds.
void BM_paired(benchmark::State &state)
{
    const shape &s = shapes[state.range(0)];
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    nnf_bench::use_widest_isa();
    operands o(s);
    const double flops = 2.0 * s.m * s.n * s.k;
    double t_nnf = 0, t_openblas = 0;
#if defined(__x86_64__)
    double t_peak = 0;
    const bool zmm = nnf_isa_active() == NNF_ISA_AVX512;
    const int lanes = zmm ? 16 : 8;
    const double round_flops = 2.0 * lanes * nnf_bench::kPeakChains;
    const int peak_iters = (int)std::min(std::max(flops / round_flops, 64.0), 65536.0);
    const bool with_peak = nnf_isa_active() != NNF_ISA_SCALAR;
    float pa = 0.999999f, pb = 1e-7f;
    auto peak_window = [&] {
        if (!with_peak)
            return;
        auto t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(pa);
        benchmark::DoNotOptimize(zmm ? nnf_bench::fma_chains512(peak_iters, pa, pb)
                                     : nnf_bench::fma_chains256(peak_iters, pa, pb));
        t_peak += nnf_bench::seconds_since(t0);
    };
#else
    auto peak_window = [] {};
#endif
    if (!nnf_bench::take_turns(
            state, [&] { return run_nnf(s, o) == NNF_OK; }, [&] { run_openblas(s, o); },
            peak_window, t_nnf, t_openblas))
        return;
    double total = flops * (double)state.iterations();
    state.counters["nnf_GFLOPS"] = total / t_nnf / 1e9;
    state.counters["openblas_GFLOPS"] = total / t_openblas / 1e9;
    state.counters["speedup"] = t_openblas / t_nnf;
#if defined(__x86_64__)
    if (with_peak) {
        double peak = round_flops * peak_iters * (double)state.iterations() / t_peak;
        state.counters["nnf_pct_peak"] = 100.0 * (total / t_nnf) / peak;
    }
#endif
    state.SetLabel(std::string(nnf_isa_name(nnf_isa_active())) + " vs openblas " + s.name);
}

// The scalar kernel runs ~30x below the vector ones: squares above 256 would take
// minutes per row without telling anything new.
bool worth_running(int isa, const shape &s)
{
    return isa != NNF_ISA_SCALAR || (double)s.m * s.n * s.k <= 256.0 * 256 * 256;
}

template <int threads> void nnf_rows(benchmark::internal::Benchmark *b)
{
    for (int isa = NNF_ISA_SCALAR; isa <= NNF_ISA_NEON; isa++) {
        if (!nnf_isa_supported(static_cast<nnf_isa>(isa)))
            continue;
        for (int s = 0; s < n_shapes; s++)
            if (worth_running(isa, shapes[s]))
                b->Args({isa, s, threads});
    }
}

template <int threads> void peer_rows(benchmark::internal::Benchmark *b)
{
    for (int s = 0; s < n_shapes; s++)
        b->Args({s, threads});
}

// Refuses to run if cblas_sgemm is not OpenBLAS's or bli_sgemm not BLIS's.
bool check_symbol(void *fn, const char *name, const char *lib)
{
    Dl_info info;
    if (dladdr(fn, &info) == 0 || info.dli_fname == nullptr ||
        std::strstr(info.dli_fname, lib) == nullptr) {
        std::fprintf(stderr, "%s does not come from %s (%s)\n", name, lib,
                     info.dli_fname ? info.dli_fname : "unknown");
        return false;
    }
    std::fprintf(stderr, "# %s from %s\n", name, info.dli_fname);
    return true;
}

}  // namespace

// One thread: the calling thread's CPU time, which on a shared machine is steadier than
// the wall clock. Two threads: the wall clock (the CPU time of one thread would hide
// the other's work).
BENCHMARK(BM_nnf)->Apply(nnf_rows<1>);
BENCHMARK(BM_openblas)->Apply(peer_rows<1>);
BENCHMARK(BM_blis)->Apply(peer_rows<1>);
BENCHMARK(BM_paired)->DenseRange(0, n_shapes - 1);
BENCHMARK(BM_nnf)->Apply(nnf_rows<2>)->UseRealTime();
BENCHMARK(BM_openblas)->Apply(peer_rows<2>)->UseRealTime();
BENCHMARK(BM_blis)->Apply(peer_rows<2>)->UseRealTime();

int main(int argc, char **argv)
{
    if (!check_symbol(reinterpret_cast<void *>(&cblas_sgemm), "cblas_sgemm", "openblas") ||
        !check_symbol(reinterpret_cast<void *>(&bli_sgemm), "bli_sgemm", "blis"))
        return 1;
    std::fprintf(stderr, "# OpenBLAS core: %s (OPENBLAS_CORETYPE overrides it)\n",
                 openblas_get_corename());
    std::fprintf(stderr, "# BLIS configuration: %s\n", bli_arch_string(bli_arch_query_id()));
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
