// Shared pieces of the Google Benchmark harness. Every nnf benchmark takes the ISA as
// its first argument, so one run compares scalar, AVX2, AVX-512 (and peers) side by side.
// Google Benchmark 1.7's Apply() takes a plain function pointer, so the rows are listed
// in a small function of the bench file:
//
//     void isa_threads(benchmark::internal::Benchmark *b)
//     {
//         nnf_bench::add_isa_args(b, {{1}, {2}});   // {isa, 1}, {isa, 2} for every ISA
//     }
//     BENCHMARK(BM_add)->Apply(isa_threads);
//
// A peer (OpenBLAS, BLIS, plain C) is registered as its own benchmark in the same binary.
#ifndef NNF_BENCH_UTIL_H
#define NNF_BENCH_UTIL_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" {
#include "nnf/nnf.h"
}

namespace nnf_bench {

// Every ISA of nnf/isa_list.h, in its order of preference (lowest first).
constexpr nnf_isa all_isas[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};

// Whether isa runs the portable C kernels (~30x below the vector ones): the list puts
// them before the first vector ISA, scalar_fma last among them.
inline bool portable_kernels(nnf_isa isa)
{
    for (nnf_isa i : all_isas) {
        if (i == isa)
            return true;
        if (i == NNF_ISA_SCALAR_FMA)
            break;
    }
    return false;
}

// Forces the ISA given as range(0) and labels the row with its name; skips the row
// (with a message) where this machine lacks it. Returns false when skipped.
inline bool use_isa(benchmark::State &state)
{
    nnf_isa isa = static_cast<nnf_isa>(state.range(0));
    if (!nnf_isa_supported(isa) || nnf_isa_force(isa) != NNF_OK) {
        state.SkipWithError("ISA not supported on this machine");
        return false;
    }
    state.SetLabel(nnf_isa_name(isa));
    return true;
}

// Forces the widest ISA this machine runs (what nnf picks at startup without NNF_ISA),
// for benchmarks that compare nnf as a whole with a peer.
inline void use_widest_isa()
{
    for (size_t i = sizeof all_isas / sizeof all_isas[0]; i-- > 0;)
        if (nnf_isa_force(all_isas[i]) == NNF_OK)
            return;
}

// nnf's thread count for the calls that follow (nnf_set_num_threads; OpenMP's settings
// do not reach nnf).
inline void set_threads(int n)
{
    if (nnf_set_num_threads(n) != NNF_OK)
        std::abort();
}

// Adds the rows {isa, row...} to b for every ISA this machine runs, times each row of
// `extra` ({{}}: just {isa}).
inline void add_isa_args(benchmark::internal::Benchmark *b,
                         const std::vector<std::vector<int64_t>> &extra)
{
    for (nnf_isa isa : all_isas) {
        if (!nnf_isa_supported(isa))
            continue;
        for (const auto &row : extra) {
            std::vector<int64_t> args{isa};
            args.insert(args.end(), row.begin(), row.end());
            b->Args(args);
        }
    }
}

}  // namespace nnf_bench

#endif
