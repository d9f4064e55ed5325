// nnf_sgemm against its peers (peers.h: OpenBLAS, BLIS, oneDNN's dnnl_sgemm and its
// prepacked inner product, libxsmm, plain C) on the chapter's products, the products of
// an inference and a training step, and squares.
//
//   sgemm/<shape>   one thread, every library taking turns in the same rounds (compare.h):
//                   nnf at its widest ISA ("nnf") and at each other ISA, every peer, the
//                   FMA peak loop, a plain read of B, the numerics contract's floor
//                   (floor:chains) and nnf's fixed cost per call (nnf:1x1x1); medians,
//                   paired ratios (peer time / nnf time), nnf's share of the peak. Each result is checked before
//                   timing: nnf's other ISAs bit for bit against nnf, peers within the
//                   rounding bound (peers.h, gemm_agrees); a mismatch skips the row.
//   machine         the FMA peak and the memory bandwidth, in the same run
//   BM_nnf/<isa>/<shape>/<threads>, BM_peer/<peer>/<shape>/<threads>
//                   one library per row, 1 and 2 threads (2-thread rows time the wall
//                   clock): for runs of one library at a time, as threads need
//
//     build/bench/bench_sgemm --benchmark_filter='^(machine|sgemm/)'
//     NNF_BENCH_ROUNDS=21 build/bench/bench_sgemm --benchmark_filter='sgemm/64\^3'
//
// The peers get their best kernels for this CPU whatever the environment says, and the
// first lines printed (and the JSON context) name them: see peers_init.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "compare.h"
#include "fma_peak.h"
#include "peers.h"
#include "sgemm_shapes.h"

namespace {

using namespace nnf_bench::sgemm_rows;

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
    nnf_bench::set_threads(threads);
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


// The scalar kernel runs ~30x below the vector ones: squares above 256 would take
// minutes per row without telling anything new.
bool worth_running(nnf_isa isa, const shape &s)
{
    return !nnf_bench::portable_kernels(isa) || (double)s.m * s.n * s.k <= 256.0 * 256 * 256;
}

template <int threads> void nnf_rows(benchmark::internal::Benchmark *b)
{
    for (nnf_isa isa : nnf_bench::all_isas) {
        if (!nnf_isa_supported(isa))
            continue;
        for (int s = 0; s < n_shapes; s++)
            if (worth_running(isa, shapes[s]))
                b->Args({isa, s, threads});
    }
}


// Args: {peer, shape, threads}.
void BM_peer(benchmark::State &state)
{
    const auto p = static_cast<nnf_bench::peer>(state.range(0));
    const shape &s = shapes[state.range(1)];
    int threads = (int)state.range(2);
    nnf_bench::peer_set_threads(p, threads);
    operands o(s);
    if (!nnf_bench::time_peer(state, p, args_of(s, o, o.c.data())))
        return;
    finish(state, s, threads, nnf_bench::peer_name(p));
}

// nnf's prepacked weights (nnf_pack_b, nnf_sgemm_packed_b): op(B) packed once, then
// multiplied by many times with the same bits as nnf_sgemm. Every row times it as
// "nnf:prepacked" beside "nnf", checks its bits against nnf's and reports the peers
// against it too (xp:<peer>); pack_seconds is the packing, timed apart. Null when the
// packing fails.
struct nnf_prepacked final : nnf_bench::prepared {
    nnf_bench::gemm_args g;
    nnf_packed_matrix *packed = nullptr;
    ~nnf_prepacked() override { nnf_packed_free(packed); }
    bool call() override
    {
        return nnf_sgemm_packed_b(g.ta, g.m, g.n, g.k, g.alpha, g.a, g.lda, packed, g.beta, g.c,
                                  g.ldc) == NNF_OK;
    }
};

std::unique_ptr<nnf_bench::prepared> prepare_nnf_prepacked(const nnf_bench::gemm_args &g)
{
    auto run = std::make_unique<nnf_prepacked>();
    run->g = g;
    std::vector<double> t;
    // The median of 11: the first packings of a process write fresh heap pages, whose first
    // touch under KVM made packs 1-4 of a 784x10 B take ~80 us each (1.2 us after).
    for (int i = 0; i < 11; i++) {   // the last packing is the one kept
        nnf_packed_free(run->packed);
        run->packed = nullptr;
        auto t0 = std::chrono::steady_clock::now();
        if (nnf_pack_b(&run->packed, g.tb, g.k, g.n, g.b, g.ldb) != NNF_OK)
            return nullptr;
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    run->pack_seconds = t[t.size() / 2];
    return run;
}

// The contract's floor (kernels/sgemm_kernels.h): each element's sum over a KC block is a
// chain of dependent FMAs, so no call ends before the longest block's chain has run (its
// length times the FMA latency), nor before all m*n*k FMAs have passed the FMA ports at
// full vector width, whatever the layout. "floor:chains" times exactly that on registers:
// ceil(mnk / (lanes * L)) vector chains of L = min(k, KC) steps, nothing loaded or
// stored. Transposing or
// packing an operand comes on top (pack_us:nnf:prepacked times op(B)'s packing alone).
// "nnf:1x1x1" is nnf_sgemm's fixed cost per call: checks, dispatch, path choice and one
// FMA. Both are reported as us:<name> beside the row's contenders (role machine: no ratio).
constexpr int kContractKC = 384;   // NNF__SGEMM_KC, where every element's sums restart

#if defined(__x86_64__)
// `chains` (1..kPeakChains) vector chains of `steps` FMAs each.
template <int... C>
float chains_of(bool zmm, long chains, int steps, float x, float y,
                std::integer_sequence<int, C...>)
{
    using group_fn = float (*)(int, float, float);
    static const group_fn g512[] = {nnf_bench::fma_chains512<C + 1>...};
    static const group_fn g256[] = {nnf_bench::fma_chains256<C + 1>...};
    return (zmm ? g512 : g256)[chains - 1](steps, x, y);
}
#endif

// The floor above for a shape on nnf's widest ISA; no `call` where there is no such loop.
nnf_bench::contender chains_contender(const shape &s, nnf_isa isa)
{
    using nnf_bench::contender;
    contender c{"floor:chains", contender::role::machine, {}};
#if defined(__x86_64__)
    if (isa != NNF_ISA_AVX512 && isa != NNF_ISA_AVX2)
        return c;
    const bool zmm = isa == NNF_ISA_AVX512;
    const long lanes = zmm ? 16 : 8;
    const double fmas = (double)s.m * s.n * s.k;
    long steps = std::min(s.k, kContractKC);
    long chains = (long)std::ceil(fmas / (double)(lanes * steps));
    // Past a dozen chains the ports, not the latency, set the time: the same FMAs as a
    // dozen longer chains (depth 1's thousands of one-step chains would time the loop).
    if (chains > nnf_bench::kPeakChains) {
        steps = (chains * steps + nnf_bench::kPeakChains - 1) / nnf_bench::kPeakChains;
        chains = nnf_bench::kPeakChains;
    }
    c.call = [zmm, chains, steps] {
        float x = nnf_bench::opaque(0.999999f), y = nnf_bench::opaque(1e-7f);
        benchmark::DoNotOptimize(chains_of(zmm, chains, (int)steps, x, y,
                                           std::make_integer_sequence<int, nnf_bench::kPeakChains>()));
        return true;
    };
#else
    (void)s;
    (void)isa;
#endif
    return c;
}

nnf_bench::contender fixed_cost_contender()
{
    using nnf_bench::contender;
    auto one = std::make_shared<std::array<float, 3>>(std::array<float, 3>{0.5f, 0.25f, 0.0f});
    return {"nnf:1x1x1", contender::role::machine, [one] {
                float *v = one->data();
                return nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, 1, 1, 1, 1.0f, v, 1, v + 1, 1, 0.0f,
                                 v + 2, 1) == NNF_OK;
            }};
}

// Every library taking turns, one thread. Each contender writes its own
// C, checked against nnf's before the rounds start.
void compare_row(benchmark::State &state, int shape_index)
{
    using nnf_bench::contender;
    const shape &s = shapes[shape_index];
    const nnf_isa widest = nnf_bench::one_thread_widest_isa();
    operands o(s);
    std::vector<nnf_bench::floats> outs;   // outs[i] is cs[i]'s C
    outs.reserve(16);                       // the calls keep pointers into it
    auto fresh_c = [&] { return outs.emplace_back(o.c.size(), 0.0f).data(); };

    std::vector<contender> cs;
    auto add_nnf = [&](std::string name, contender::role role, nnf_isa isa) {
        nnf_bench::gemm_args g = args_of(s, o, fresh_c());
        cs.push_back({std::move(name), role,
                      [g] {
                          return nnf_sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b,
                                           g.ldb, g.beta, g.c, g.ldc) == NNF_OK;
                      },
                      [isa] { (void)nnf_isa_force(isa); }});
    };
    add_nnf("nnf", contender::role::nnf, widest);
    if (std::shared_ptr<nnf_bench::prepared> run = prepare_nnf_prepacked(args_of(s, o, fresh_c()))) {
        cs.push_back({"nnf:prepacked", contender::role::nnf_prepacked,
                      [run] { return run->call(); }, [widest] { (void)nnf_isa_force(widest); }});
        cs.back().pack_seconds = run->pack_seconds;
    } else {
        outs.pop_back();
    }
    for (nnf_isa isa : nnf_bench::all_isas)
        if (isa != widest && nnf_isa_supported(isa) && worth_running(isa, s))
            add_nnf(std::string("nnf:") + nnf_isa_name(isa), contender::role::nnf_variant, isa);
    const size_t n_nnf = cs.size();
    for (nnf_bench::peer p : nnf_bench::all_peers) {
        std::string why;
        std::shared_ptr<nnf_bench::prepared> run =
            nnf_bench::peer_prepare(p, args_of(s, o, fresh_c()), &why);
        if (!run) {
            outs.pop_back();
            continue;
        }
        cs.push_back({nnf_bench::peer_name(p), contender::role::peer, [run] { return run->call(); }});
        cs.back().pack_seconds = run->pack_seconds;
        cs.back().kernel = run->kernel;
    }

    // nnf's ISAs give the same bits by design; peers agree within rounding.
    for (size_t i = 0; i < cs.size(); i++) {
        if (cs[i].enter)
            cs[i].enter();
        if (!cs[i].call()) {
            state.SkipWithError((cs[i].name + " failed: " + nnf_last_error()).c_str());
            return;
        }
    }
    for (size_t i = 1; i < cs.size(); i++) {
        std::string why;
        bool same = i < n_nnf ? std::memcmp(outs[i].data(), outs[0].data(),
                                            o.c.size() * sizeof(float)) == 0
                              : nnf_bench::gemm_agrees(args_of(s, o, nullptr), outs[0].data(),
                                                       outs[i].data(), &why);
        if (!same) {
            state.SkipWithError((cs[i].name + " disagrees with nnf" +
                                 (why.empty() ? std::string(" in bits") : ": " + why)).c_str());
            return;
        }
    }
    cs.push_back(nnf_bench::peak_contender(widest));
    cs.push_back(nnf_bench::read_contender("read:B", o.b.data(), o.b.size()));
    cs.push_back(chains_contender(s, widest));
    cs.push_back(fixed_cost_contender());
    nnf_bench::run_rounds(state, cs, 2.0 * s.m * s.n * s.k, s.name);
}

}  // namespace

// One thread: the calling thread's CPU time, which on a shared machine is steadier than
// the wall clock. Two threads: the wall clock (the CPU time of one thread would hide
// the other's work).
BENCHMARK(BM_nnf)->Apply(nnf_rows<1>);
BENCHMARK(BM_nnf)->Apply(nnf_rows<2>)->UseRealTime();

int main(int argc, char **argv)
{
    nnf_bench::peers_init(argc, argv);
    nnf_bench::register_machine_row();
    for (int s = 0; s < n_shapes; s++)
        benchmark::RegisterBenchmark((std::string("sgemm/") + shapes[s].name).c_str(), compare_row, s)
            ->Iterations(nnf_bench::rounds())
            ->UseManualTime()
            ->Unit(nnf_bench::row_unit(2.0 * shapes[s].m * shapes[s].n * shapes[s].k));
    for (int threads = 1; threads <= 2; threads++)
        for (nnf_bench::peer p : nnf_bench::all_peers)
            if (nnf_bench::peer_available(p) && p != nnf_bench::peer::c)
                for (int s = 0; s < n_shapes; s++) {
                    auto *b = benchmark::RegisterBenchmark("BM_peer", BM_peer)
                                  ->Args({static_cast<int>(p), s, threads});
                    if (threads > 1)
                        b->UseRealTime();
                }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
