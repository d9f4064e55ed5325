// Interleaved rounds: nnf and every peer time the same work in one benchmark row, so a
// slow spell of a shared machine hits all of them alike (bench_util.h's take_turns for
// two, generalised). Each Google Benchmark iteration is one round; in a round every
// contender runs one batch of calls (about kBatchSeconds long, the count fixed once per
// row, from the calling thread's CPU time), in an order shuffled afresh each round (a
// fixed seed, so runs repeat it): no contender always follows the same one. With a
// rotation, which keeps neighbours, nnf always ran soon after the read of B (2 ms of
// sequential passes over it), and that alone made the batch-64 Linear's in-place read
// of B 18% slower (286-298 us, 242-246 with the read left out of the row; oneDNN, after
// BLIS, 241-251 either way).
// Times are the process's CPU time (every thread a library starts is charged to it;
// waiting for a core is not), so rows are meant for one thread per library.
//
//     std::vector<nnf_bench::contender> cs;
//     cs.push_back({"nnf", contender::role::nnf, [&] { return run_nnf(); }});
//     cs.push_back({"openblas", contender::role::peer, [&] { return run->call(); }});
//     cs.push_back(nnf_bench::peak_contender(nnf_isa_active()));
//     nnf_bench::run_rounds(state, cs, flops, "5x784x10");
//     ...
//     benchmark::RegisterBenchmark("sgemm/5x784x10", fn)->Iterations(nnf_bench::rounds())
//         ->UseManualTime();
//
// Counters (medians over the rounds; per call):
//   us:<name>         time of each contender, µs
//   x:<name>          median over rounds of <name>'s time / nnf's time in the same round
//                     (above 1: nnf is faster); xp:<name> the same against nnf:prepacked
//   nnf_GFLOPS, nnf_pct_peak   nnf's rate and its share of the peak loop's rate, paired
//                     round by round
//   GFLOPS:<name>, GBs:<name>  rates of the peak and bandwidth contenders
//   pack_us:<name>    one-off packing time of a prepared contender, reported apart
//   floor_us          max(read of the weights, flops / peak): no call can beat both
// The manual iteration time is nnf's time per call, so Google Benchmark's own Time
// column reads as nnf's.
#ifndef NNF_BENCH_COMPARE_H
#define NNF_BENCH_COMPARE_H

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdlib>

#include <functional>
#include <string>
#include <vector>

extern "C" {
#include "nnf/nnf.h"
}

namespace nnf_bench {

struct contender {
    enum class role {
        nnf,            // the reference: nnf as an application calls it (widest ISA)
        nnf_prepacked,  // nnf with its weights packed once (a second reference)
        nnf_variant,    // nnf forced to another ISA
        peer,
        peak,           // the FMA peak loop: nnf_pct_peak and floor_us
        read,           // a plain read of the operand a prepacked product must read
        machine,        // bandwidth loops of the machine row
    };
    std::string name;
    role kind;
    std::function<bool()> call;       // one call; false: it failed (the row is skipped)
    std::function<void()> enter = {}; // before each batch, untimed (e.g. nnf_isa_force)
    double flops = 0, bytes = 0;      // per call, for GFLOPS:/GBs: counters
    double pack_seconds = 0;          // reported as pack_us:<name> if > 0
    std::string kernel = {};          // named in the row's label if not empty
};

// The median of v (the mean of the middle two for an even count).
double median(std::vector<double> v);

// Memory for the contenders' operands and results, as nnf's own allocator gives it:
// 64-byte aligned, and from 1 MiB on 2 MiB aligned with transparent huge pages (the
// kernel's "madvise" mode gives them only on request). Plain std::vector memory made a
// peer's training step up to 1.3x slower or faster depending on which of several equal
// copies was allocated first (4 KiB pages and their placement), so every contender gets
// this one.
void *big_alloc(size_t bytes);   // std::bad_alloc on failure; std::free releases it

template <class T> struct big_allocator {
    using value_type = T;
    big_allocator() = default;
    template <class U> big_allocator(const big_allocator<U> &) {}
    T *allocate(size_t n) { return static_cast<T *>(big_alloc(n * sizeof(T))); }
    void deallocate(T *p, size_t) { std::free(p); }
    bool operator==(const big_allocator &) const { return true; }
    bool operator!=(const big_allocator &) const { return false; }
};
using floats = std::vector<float, big_allocator<float>>;

// Rounds per row: NNF_BENCH_ROUNDS, default 11 (and never fewer than 3).
int rounds();

// The Time column's unit for a row of `flops` per call: milliseconds from 1 GFLOP
// (~10 ms here; a 4096x784x512 product read "19599 us"), microseconds below. The
// us:<name> counters stay in microseconds whatever the row's unit.
inline benchmark::TimeUnit row_unit(double flops)
{
    return flops >= 1e9 ? benchmark::kMillisecond : benchmark::kMicrosecond;
}

// Runs the rounds in state's loop and sets the counters above. `flops` is the work of
// one nnf call (2mnk per product); `label` names the row. Skips the row with an error if
// a call fails.
void run_rounds(benchmark::State &state, std::vector<contender> &cs, double flops,
                const std::string &label);

// The FMA peak loop at the vector width of nnf's `isa` (fma_peak.h), named "peak", role
// peak. Empty `call` (none) for ISAs without one.
contender peak_contender(nnf_isa isa);

// A plain read of n floats at p (bandwidth.h), named `name`, role read.
contender read_contender(const std::string &name, const float *p, size_t n);

// The machine row's contenders: the FMA peak at 256 and 512 bits, a plain read of a
// buffer larger than the last-level cache, and STREAM copy and triad on arrays of the
// same size (allocated here and kept while the returned contenders live).
std::vector<contender> machine_contenders();

// Registers "machine": the row of machine_contenders().
void register_machine_row();

}  // namespace nnf_bench

#endif
