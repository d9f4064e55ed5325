// The interleaved rounds of compare.h.
#include "compare.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>

#include "bandwidth.h"
#include "fma_peak.h"

namespace nnf_bench {
namespace {

// A batch long enough that the clock's cost (a system call, ~0.5 µs here) and the
// calibration's rounding stay below 0.1% of it; 11 rounds of 10 contenders then take
// a quarter of a second per row of short calls.
constexpr double kBatchSeconds = 2e-3;

double clock_now(clockid_t clock)
{
    timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cpu_now()
{
    return clock_now(CLOCK_PROCESS_CPUTIME_ID);
}

// Calls per batch: doubles a warm batch until it lasts an eighth of kBatchSeconds, then
// scales. 0 if a call failed. Sized by the calling thread's CPU time, not the process's:
// that also counts every other thread, and at its start OpenBLAS's pool thread (there is
// one unless OPENBLAS_NUM_THREADS=1 is set before it loads) spins on the other core for
// ~0.1 s. A calibration inside that spin timed one training step of the chapter at over
// 1.3 ms: a batch of one cold step per round, and nnf's step at 118-133 us instead of
// 45-60 in 4 of 10 bench_train_step processes on the Emerald Rapids.
long calibrate(contender &c)
{
    if (c.enter)
        c.enter();
    if (!c.call())
        return 0;
    for (long reps = 1;; reps *= 2) {
        double t0 = clock_now(CLOCK_THREAD_CPUTIME_ID);
        for (long i = 0; i < reps; i++)
            if (!c.call())
                return 0;
        double t = clock_now(CLOCK_THREAD_CPUTIME_ID) - t0;
        if (t >= kBatchSeconds / 8 || reps >= (1L << 24))
            return std::max(1L, std::lround(reps * kBatchSeconds / std::max(t, 1e-9)));
    }
}

int find_role(const std::vector<contender> &cs, contender::role r)
{
    for (size_t i = 0; i < cs.size(); i++)
        if (cs[i].kind == r)
            return (int)i;
    return -1;
}

// Median over rounds of t[i][r] / t[ref][r].
double paired_ratio(const std::vector<std::vector<double>> &t, int i, int ref)
{
    std::vector<double> q;
    for (size_t r = 0; r < t[i].size(); r++)
        q.push_back(t[i][r] / t[ref][r]);
    return median(q);
}

// Floats per bandwidth array: four times the last-level cache, so at most a quarter of
// it can be served from the cache, within [64, 256] MiB (this kind of VM reports an L3
// of 508 MiB that is not there; three arrays of 256 MiB are already 768 MiB).
size_t bandwidth_floats()
{
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    double bytes = std::min(std::max(4.0 * (double)std::max(l3, 0L), 64.0 * (1 << 20)),
                            256.0 * (1 << 20));
    return (size_t)bytes / sizeof(float);
}

#if defined(__x86_64__)
// The FMA chains of fma_peak.h at 512 or 256 bits, about 2 µs per call at this core's peak.
contender fma_contender(const std::string &name, contender::role role, bool zmm)
{
    constexpr int kIters = 1024;
    contender c{name, role, [zmm] {
                    float a = opaque(0.999999f), b = opaque(1e-7f);   // not folded away
                    benchmark::DoNotOptimize(zmm ? fma_chains512(kIters, a, b)
                                                 : fma_chains256(kIters, a, b));
                    return true;
                }};
    c.flops = 2.0 * (zmm ? 16 : 8) * kPeakChains * kIters;
    return c;
}
#endif

}  // namespace

void *big_alloc(size_t bytes)
{
    const size_t align = bytes >= (1 << 20) ? (2 << 20) : 64;
    bytes = (std::max(bytes, (size_t)1) + align - 1) / align * align;
    void *p = std::aligned_alloc(align, bytes);
    if (p == nullptr)
        throw std::bad_alloc();
    if (align > 64)
        madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

int rounds()
{
    static const int n = [] {
        const char *v = std::getenv("NNF_BENCH_ROUNDS");
        return std::max(3, v ? std::atoi(v) : 11);
    }();
    return n;
}

void run_rounds(benchmark::State &state, std::vector<contender> &cs, double flops,
                const std::string &label)
{
    cs.erase(std::remove_if(cs.begin(), cs.end(), [](const contender &c) { return !c.call; }),
             cs.end());
    const size_t n = cs.size();
    std::vector<long> reps(n);
    for (size_t i = 0; i < n; i++)
        if ((reps[i] = calibrate(cs[i])) == 0) {
            state.SkipWithError((cs[i].name + " failed").c_str());
            return;
        }
    const int ref = find_role(cs, contender::role::nnf);
    const int prepacked = find_role(cs, contender::role::nnf_prepacked);
    const int peak = find_role(cs, contender::role::peak);
    const int read = find_role(cs, contender::role::read);
    std::vector<std::vector<double>> t(n);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::mt19937 shuffle_rng(0x6e6e66);
    for (auto _ : state) {
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        for (size_t i : order) {
            contender &c = cs[i];
            if (c.enter)
                c.enter();
            double t0 = cpu_now();
            for (long q = 0; q < reps[i]; q++)
                if (!c.call()) {
                    state.SkipWithError((c.name + " failed").c_str());
                    return;
                }
            t[i].push_back((cpu_now() - t0) / (double)reps[i]);
            benchmark::ClobberMemory();
        }
        state.SetIterationTime(t[ref >= 0 ? ref : 0].back());
    }

    std::string kernels;
    for (size_t i = 0; i < n; i++) {
        const contender &c = cs[i];
        double med = median(t[i]);
        state.counters["us:" + c.name] = med * 1e6;
        if (c.flops > 0)
            state.counters["GFLOPS:" + c.name] = c.flops / med * 1e-9;
        if (c.bytes > 0)
            state.counters["GBs:" + c.name] = c.bytes / med * 1e-9;
        if (c.pack_seconds > 0)
            state.counters["pack_us:" + c.name] = c.pack_seconds * 1e6;
        bool timed_work = c.kind != contender::role::peak && c.kind != contender::role::read &&
                          c.kind != contender::role::machine;
        if (ref >= 0 && (int)i != ref && timed_work)
            state.counters["x:" + c.name] = paired_ratio(t, (int)i, ref);
        if (prepacked >= 0 && (int)i != prepacked && timed_work)
            state.counters["xp:" + c.name] = paired_ratio(t, (int)i, prepacked);
        if (!c.kernel.empty())
            kernels += (kernels.empty() ? " [" : "; ") + c.name + ": " + c.kernel;
    }
    if (ref >= 0 && flops > 0) {
        state.counters["nnf_GFLOPS"] = flops / median(t[ref]) * 1e-9;
        if (peak >= 0) {
            std::vector<double> share;
            for (size_t r = 0; r < t[ref].size(); r++)
                share.push_back(100.0 * (flops / t[ref][r]) / (cs[peak].flops / t[peak][r]));
            state.counters["nnf_pct_peak"] = median(share);
            double floor = flops / (cs[peak].flops / median(t[peak]));
            if (read >= 0)
                floor = std::max(floor, median(t[read]));
            state.counters["floor_us"] = floor * 1e6;
        }
    }
    state.SetLabel(label + (kernels.empty() ? "" : kernels + "]"));
}

contender peak_contender(nnf_isa isa)
{
#if defined(__x86_64__)
    if (isa == NNF_ISA_AVX512 || isa == NNF_ISA_AVX2)
        return fma_contender("peak", contender::role::peak, isa == NNF_ISA_AVX512);
#endif
    return {"peak", contender::role::peak, {}};
}

contender read_contender(const std::string &name, const float *p, size_t n)
{
    contender c{name, contender::role::read, [p, n] {
                    benchmark::DoNotOptimize(read_floats(p, n));
                    return true;
                }};
    c.bytes = (double)n * sizeof(float);
    return c;
}

std::vector<contender> machine_contenders()
{
    const size_t n = bandwidth_floats();
    auto a = std::make_shared<floats>(n, 1.0f), b = std::make_shared<floats>(n, 2.0f),
         c = std::make_shared<floats>(n, 3.0f);
    std::vector<contender> cs;
#if defined(__x86_64__)
    if (nnf_isa_supported(NNF_ISA_AVX512))
        cs.push_back(fma_contender("peak:zmm", contender::role::machine, true));
    if (nnf_isa_supported(NNF_ISA_AVX2))
        cs.push_back(fma_contender("peak:ymm", contender::role::machine, false));
#endif
    // a, b and c live as long as the copy and triad calls that hold them.
    cs.push_back(read_contender("read", a->data(), n));
    cs.back().kind = contender::role::machine;
    cs.push_back({"copy", contender::role::machine, [a, b, n] {
                      stream_copy(b->data(), a->data(), n);
                      return true;
                  }});
    cs.back().bytes = 8.0 * (double)n;
    cs.push_back({"triad", contender::role::machine, [a, b, c, n] {
                      stream_triad(a->data(), b->data(), c->data(), 3.0f, n);
                      return true;
                  }});
    cs.back().bytes = 12.0 * (double)n;
    return cs;
}

void register_machine_row()
{
    benchmark::RegisterBenchmark("machine", [](benchmark::State &state) {
        std::vector<contender> cs = machine_contenders();
        long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
        run_rounds(state, cs, 0,
                   "FMA peak, one core; read, copy, triad of " +
                       std::to_string(bandwidth_floats() * sizeof(float) >> 20) +
                       " MiB arrays (L3 reported: " + std::to_string(l3 >> 20) + " MiB)");
    })->Iterations(rounds())->UseManualTime();
}

}  // namespace nnf_bench
