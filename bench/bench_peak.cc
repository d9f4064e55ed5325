// The machine's limits, measured in the same run as everything else: the FP32 FMA peak of
// one core with 256-bit and 512-bit FMAs. Every GFLOPS figure nnf quotes is a fraction of
// these. 12 independent accumulator chains cover the FMA latency (4 cycles) times two
// FMA ports with room to spare, so the loop is throughput-bound.
#include "bench_util.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

constexpr int kChains = 12;
constexpr int kIters = 1 << 14;

// One function per width: vector types cannot cross a function boundary compiled for a
// lower ISA without changing the ABI.
__attribute__((target("avx2,fma"))) float run256(float x, float y)
{
    __m256 acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
    const __m256 a = _mm256_set1_ps(x), b = _mm256_set1_ps(y);
    for (int it = 0; it < kIters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < kChains; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    return _mm256_cvtss_f32(acc[0]);
}

__attribute__((target("avx512f"))) float run512(float x, float y)
{
    __m512 acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512 a = _mm512_set1_ps(x), b = _mm512_set1_ps(y);
    for (int it = 0; it < kIters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < kChains; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_cvtss_f32(acc[0]);
}

template <float (*Run)(float, float), int Lanes>
void BM_fma_peak(benchmark::State &state)
{
    if (!nnf_isa_supported(Lanes == 16 ? NNF_ISA_AVX512 : NNF_ISA_AVX2)) {
        state.SkipWithError("ISA not supported on this machine");
        return;
    }
    float a = 0.999999f, b = 1e-7f;
    for (auto _ : state) {
        benchmark::DoNotOptimize(a);   // opaque inputs: the chains cannot be folded away
        benchmark::DoNotOptimize(Run(a, b));
    }
    state.counters["GFLOPS"] = benchmark::Counter(
        2.0 * Lanes * kChains * kIters * (double)state.iterations(), benchmark::Counter::kIsRate,
        benchmark::Counter::kIs1000);
}
BENCHMARK(BM_fma_peak<run256, 8>)->Name("fma_peak/ymm");
BENCHMARK(BM_fma_peak<run512, 16>)->Name("fma_peak/zmm");

}  // namespace
#endif

BENCHMARK_MAIN();
