// The FP32 FMA peak of one core, as loops that bench_peak times on their own and
// BM_paired (bench_sgemm) times between the calls it compares, so a GFLOPS figure can be
// read as a fraction of what the core delivered in the same minute. 12 independent
// accumulator chains cover the FMA latency (4 cycles) times two FMA ports with room to
// spare, so the loops are throughput-bound. x86 only.
#ifndef NNF_BENCH_FMA_PEAK_H
#define NNF_BENCH_FMA_PEAK_H

#if defined(__x86_64__)
#include <immintrin.h>

namespace nnf_bench {

constexpr int kPeakChains = 12;

// The chains' inputs, hidden from the optimiser. Through a volatile, not
// benchmark::DoNotOptimize: GCC 12 compiles DoNotOptimize(x) on a float local ("+m,r")
// to a load from an uninitialised stack slot, dropping the store of x's initial value,
// so the chains ran on garbage; on Intel cores a subnormal there costs a microcode assist
// per FMA (0.6 GFLOPS "peak" on an Emerald Rapids against 160 from the same loop).
inline float opaque(float v)
{
    volatile float x = v;
    return x;
}

// `iters` rounds of the chains: 2 * lanes * kPeakChains * iters flops. One function per
// width: vector types cannot cross a function boundary compiled for a lower ISA without
// changing the ABI. x and y should be opaque to the caller's optimiser.
// C (default kPeakChains) chains: bench_sgemm's floor:chains runs fewer, where the FMA
// latency rather than the ports sets the time.
template <int C = kPeakChains>
__attribute__((target("avx2,fma"))) inline float fma_chains256(int iters, float x, float y)
{
    __m256 acc[C];
    for (int i = 0; i < C; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
    const __m256 a = _mm256_set1_ps(x), b = _mm256_set1_ps(y);
    for (int it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < C; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < C; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    return _mm256_cvtss_f32(acc[0]);
}

template <int C = kPeakChains>
__attribute__((target("avx512f"))) inline float fma_chains512(int iters, float x, float y)
{
    __m512 acc[C];
    for (int i = 0; i < C; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512 a = _mm512_set1_ps(x), b = _mm512_set1_ps(y);
    for (int it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < C; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < C; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_cvtss_f32(acc[0]);
}

}  // namespace nnf_bench
#endif

#endif
