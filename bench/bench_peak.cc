// The machine's limits, measured in the same run as everything else: the FP32 FMA peak of
// one core with 256-bit and 512-bit FMAs (the loops are in fma_peak.h). Every GFLOPS
// figure nnf quotes is a fraction of these.
#include "bench_util.h"

#include "fma_peak.h"

#if defined(__x86_64__)
namespace {

constexpr int kIters = 1 << 14;

template <float (*Run)(int, float, float), int Lanes>
void BM_fma_peak(benchmark::State &state)
{
    if (!nnf_isa_supported(Lanes == 16 ? NNF_ISA_AVX512 : NNF_ISA_AVX2)) {
        state.SkipWithError("ISA not supported on this machine");
        return;
    }
    for (auto _ : state) {
        // Inputs the optimiser cannot see: the chains cannot be folded away.
        float a = nnf_bench::opaque(0.999999f), b = nnf_bench::opaque(1e-7f);
        benchmark::DoNotOptimize(Run(kIters, a, b));
    }
    state.counters["GFLOPS"] = benchmark::Counter(
        2.0 * Lanes * nnf_bench::kPeakChains * kIters * (double)state.iterations(),
        benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_fma_peak<nnf_bench::fma_chains256, 8>)->Name("fma_peak/ymm");
BENCHMARK(BM_fma_peak<nnf_bench::fma_chains512, 16>)->Name("fma_peak/zmm");

}  // namespace
#endif

BENCHMARK_MAIN();
