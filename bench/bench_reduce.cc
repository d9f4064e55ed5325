// Reductions: sum over 16M floats against a plain C loop and a STREAM-style read of the
// same buffer; the chapter's per-channel mean and std of a [64, 3, 256, 256] batch
// (torch.mean(image_batch, dim=(0, 2, 3))) through nnf_std_mean, and the broadcast
// normalisation (x - mean) / std as the notebook writes it. Rows take {isa, threads}.
// PyTorch and numpy on the same shapes: scripts/peers_reduce.py.
//
//   build-<name>/bench/bench_reduce --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench_util.h"

namespace {

constexpr int64_t kN = int64_t(1) << 24;                 // 16M floats, 64 MiB
constexpr int64_t kB = 64, kC = 3, kHW = 256 * 256;      // the chapter's image batch

// Inputs live in nnf tensors, so nnf and the C peers read the same (huge-page) memory.
nnf_tensor *uniform(int ndim, const int64_t *shape)
{
    nnf_rng rng;
    nnf_rng_seed(&rng, 42);
    nnf_tensor *t = nullptr;
    if (nnf_rand(&t, &rng, ndim, shape) != NNF_OK)
        std::abort();
    return t;
}

nnf_tensor *vec16m()
{
    static nnf_tensor *t = uniform(NNF_SHAPE(kN));
    return t;
}

nnf_tensor *batch()
{
    static nnf_tensor *t = uniform(NNF_SHAPE(kB, kC, 256, 256));
    return t;
}

bool setup(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return false;
    nnf_bench::set_threads(static_cast<int>(state.range(1)));
    return true;
}

// Benchmark::Apply takes a plain function pointer in Google Benchmark 1.7 (Debian 12).
void isa_threads(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{1}, {2}});
}

void isa_one_thread(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{1}});
}

void check(nnf_status s)
{
    if (s != NNF_OK)
        std::abort();
}

// ---- sum over 16M floats ----

void BM_sum(benchmark::State &state)
{
    if (!setup(state))
        return;
    nnf_tensor *x = vec16m();
    for (auto _ : state) {
        nnf_tensor *r = nullptr;
        check(nnf_sum(&r, x, NNF_ALL_DIMS, 0));
        benchmark::DoNotOptimize(nnf_tensor_data(r)[0]);
        nnf_tensor_free(r);
    }
    state.SetBytesProcessed(state.iterations() * kN * 4);
}
BENCHMARK(BM_sum)->Apply(isa_threads)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Where a second thread starts to pay (NNF__RED_PARALLEL_MIN in src/ops/reduce_plan.h):
// {isa, threads, n} for n around the threshold, data in cache.
void BM_sum_size(benchmark::State &state)
{
    if (!setup(state))
        return;
    nnf_tensor *x = nullptr;
    check(nnf_narrow(&x, vec16m(), 0, 0, state.range(2)));
    for (auto _ : state) {
        nnf_tensor *r = nullptr;
        check(nnf_sum(&r, x, NNF_ALL_DIMS, 0));
        benchmark::DoNotOptimize(nnf_tensor_data(r)[0]);
        nnf_tensor_free(r);
    }
    nnf_tensor_free(x);
    state.SetBytesProcessed(state.iterations() * state.range(2) * 4);
}
void isa_threads_sizes(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{1, 1 << 14}, {2, 1 << 14}, {1, 1 << 16}, {2, 1 << 16},
                               {1, 1 << 18}, {2, 1 << 18}});
}
BENCHMARK(BM_sum_size)->Apply(isa_threads_sizes)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The loop a C programmer writes: one accumulator, so one add per fadd latency
// (not vectorised: without -ffast-math the compiler may not reorder the sum).
void BM_sum_plain_c(benchmark::State &state)
{
    const float *x = nnf_tensor_data(vec16m());
    for (auto _ : state) {
        float s = 0.0f;
        for (int64_t i = 0; i < kN; i++)
            s += x[i];
        benchmark::DoNotOptimize(s);
    }
    state.SetLabel("plain C, 1 thread");
    state.SetBytesProcessed(state.iterations() * kN * 4);
}
BENCHMARK(BM_sum_plain_c)->Unit(benchmark::kMillisecond)->UseRealTime();

// STREAM-style read bandwidth: integer adds into four partial sums, which the compiler
// vectorises freely, so the loop runs at the speed of memory: the ceiling for any sum.
// Compiled for AVX2: with baseline 16-byte loads it reads ~40% slower here.
#if defined(__x86_64__)
__attribute__((target("avx2")))
#endif
uint64_t read_all(const uint64_t *p, int64_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int64_t i = 0; i < n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    return s0 + s1 + s2 + s3;
}

void BM_stream_read(benchmark::State &state)
{
    const uint64_t *p = reinterpret_cast<const uint64_t *>(nnf_tensor_data(vec16m()));
    int threads = static_cast<int>(state.range(0));
    for (auto _ : state) {
        uint64_t s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : s)
        {
            int64_t part = kN / 2 / omp_get_num_threads();
            s += read_all(p + part * omp_get_thread_num(), part);
        }
        benchmark::DoNotOptimize(s);
    }
    state.SetLabel(threads == 1 ? "STREAM read, 1 thread" : "STREAM read, 2 threads");
    state.SetBytesProcessed(state.iterations() * kN * 4);
}
BENCHMARK(BM_stream_read)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- the chapter: per-channel mean and std of [64, 3, 256, 256] ----

// The chapter's per-channel statistics of the image batch, over dims (0, 2, 3). `stats`
// stores one or two new result tensors in r[0], r[1]; the loop frees them.
template <typename Stats>
void chapter_stats(benchmark::State &state, Stats stats)
{
    if (!setup(state))
        return;
    nnf_tensor *x = batch();
    for (auto _ : state) {
        nnf_tensor *r[2] = {nullptr, nullptr};
        stats(x, r);
        benchmark::DoNotOptimize(nnf_tensor_data(r[0])[0]);
        nnf_tensor_free(r[0]);
        nnf_tensor_free(r[1]);
    }
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4);
}

void BM_chapter_std_mean(benchmark::State &state)
{
    chapter_stats(state, [](nnf_tensor *x, nnf_tensor **r) {
        check(nnf_std_mean(&r[0], &r[1], x, NNF_DIMS(0, 2, 3), 1, 0));
    });
}
BENCHMARK(BM_chapter_std_mean)->Apply(isa_threads)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_chapter_mean(benchmark::State &state)
{
    chapter_stats(state, [](nnf_tensor *x, nnf_tensor **r) {
        check(nnf_mean(&r[0], x, NNF_DIMS(0, 2, 3), 0));
    });
}
BENCHMARK(BM_chapter_mean)->Apply(isa_one_thread)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_chapter_std(benchmark::State &state)
{
    chapter_stats(state, [](nnf_tensor *x, nnf_tensor **r) {
        check(nnf_std(&r[0], x, NNF_DIMS(0, 2, 3), 1, 0));
    });
}
BENCHMARK(BM_chapter_std)->Apply(isa_one_thread)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The fastest honest C: one pass, 16 float partial sums of x and x*x per channel (the
// compiler vectorises across the 16), var = (sum2 - sum^2 / n) / (n - 1). Numerically
// naive (cancellation), which is what nnf's two-pass blocks avoid.
void BM_chapter_c_single_pass(benchmark::State &state)
{
    const float *x = nnf_tensor_data(batch());
    for (auto _ : state) {
        float mean[kC], var[kC];
        for (int64_t c = 0; c < kC; c++) {
            float s[16] = {0}, q[16] = {0};
            for (int64_t b = 0; b < kB; b++) {
                const float *p = x + (b * kC + c) * kHW;
                for (int64_t i = 0; i < kHW; i += 16)
                    for (int j = 0; j < 16; j++) {
                        s[j] += p[i + j];
                        q[j] += p[i + j] * p[i + j];
                    }
            }
            double ss = 0, qq = 0, n = double(kB * kHW);
            for (int j = 0; j < 16; j++) {
                ss += s[j];
                qq += q[j];
            }
            mean[c] = float(ss / n);
            var[c] = float((qq - ss * ss / n) / (n - 1));
        }
        benchmark::DoNotOptimize(mean[0]);
        benchmark::DoNotOptimize(var[0]);
    }
    state.SetLabel("plain C single pass, 1 thread");
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4);
}
BENCHMARK(BM_chapter_c_single_pass)->Unit(benchmark::kMillisecond)->UseRealTime();

// The batch's per-channel statistics, shaped for broadcasting as the notebook does:
// mean [1, 3, 1, 1] and std [3, 1, 1].
struct channel_stats {
    nnf_tensor *s = nullptr, *m = nullptr, *mean = nullptr, *std = nullptr;
    explicit channel_stats(const nnf_tensor *x)
    {
        check(nnf_std_mean(&s, &m, x, NNF_DIMS(0, 2, 3), 1, 0));
        check(nnf_view(&mean, m, NNF_SHAPE(1, 3, 1, 1)));
        check(nnf_view(&std, s, NNF_SHAPE(3, 1, 1)));
    }
    ~channel_stats()
    {
        nnf_tensor_free(mean);
        nnf_tensor_free(std);
        nnf_tensor_free(s);
        nnf_tensor_free(m);
    }
};

// ---- the normalisation, as the notebook writes it ----
//   normalized_images = (image_batch - broadcasted_mean) / broadcasted_std
// with mean [1, 3, 1, 1] and std [3, 1, 1]: two allocating broadcast ops.
void BM_normalize(benchmark::State &state)
{
    if (!setup(state))
        return;
    nnf_tensor *x = batch();
    channel_stats st(x);
    const nnf_tensor *bm = st.mean, *bs = st.std;
    for (auto _ : state) {
        nnf_tensor *d = nullptr, *r = nullptr;
        check(nnf_sub(&d, x, bm));
        check(nnf_div(&r, d, bs));
        benchmark::DoNotOptimize(nnf_tensor_data(r)[0]);
        nnf_tensor_free(d);
        nnf_tensor_free(r);
    }
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4 * 2);
}
BENCHMARK(BM_normalize)->Apply(isa_threads)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The same two broadcast ops into an existing tensor (the second one in place): what
// the notebook's line costs without its two fresh 50 MB results.
void BM_normalize_out(benchmark::State &state)
{
    if (!setup(state))
        return;
    nnf_tensor *x = batch();
    static nnf_tensor *out = uniform(NNF_SHAPE(kB, kC, 256, 256));
    channel_stats st(x);
    const nnf_tensor *bm = st.mean, *bs = st.std;
    for (auto _ : state) {
        check(nnf_sub(&out, x, bm));
        check(nnf_div(&out, out, bs));
        benchmark::DoNotOptimize(nnf_tensor_data(out)[0]);
    }
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4 * 2);
}
BENCHMARK(BM_normalize_out)->Apply(isa_threads)->Unit(benchmark::kMillisecond)->UseRealTime();

// The fused form nnf_sub_div: one pass reading x and writing the result (100 MB of
// traffic against the two-op form's 200 MB), the same bits. `alloc` 1: a fresh result
// per call, as the notebook's line; 0: into an existing tensor.
void BM_normalize_fused(benchmark::State &state)
{
    if (!setup(state))
        return;
    nnf_tensor *x = batch();
    static nnf_tensor *existing = uniform(NNF_SHAPE(kB, kC, 256, 256));
    channel_stats st(x);
    const nnf_tensor *bm = st.mean, *bs = st.std;
    for (auto _ : state) {
        nnf_tensor *r = state.range(2) ? nullptr : existing;
        check(nnf_sub_div(&r, x, bm, bs));
        benchmark::DoNotOptimize(nnf_tensor_data(r)[0]);
        if (r != existing)
            nnf_tensor_free(r);
    }
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4 * 2);
}
void isa_threads_alloc(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{1, 0}, {2, 0}, {1, 1}, {2, 1}});
}
BENCHMARK(BM_normalize_fused)->Apply(isa_threads_alloc)->ArgNames({"isa", "threads", "alloc"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The C loop: one pass into an existing buffer.
void BM_normalize_c(benchmark::State &state)
{
    const float *x = nnf_tensor_data(batch());
    static nnf_tensor *out = uniform(NNF_SHAPE(kB, kC, 256, 256));
    float *y = nnf_tensor_data(out);
    const float mean[kC] = {0.5f, 0.5f, 0.5f}, stdv[kC] = {0.2887f, 0.2887f, 0.2887f};
    for (auto _ : state) {
        for (int64_t b = 0; b < kB; b++)
            for (int64_t c = 0; c < kC; c++) {
                const float *p = x + (b * kC + c) * kHW;
                float *q = y + (b * kC + c) * kHW;
                for (int64_t i = 0; i < kHW; i++)
                    q[i] = (p[i] - mean[c]) / stdv[c];
            }
        benchmark::DoNotOptimize(y[0]);
    }
    state.SetLabel("plain C into an existing buffer, 1 thread");
    state.SetBytesProcessed(state.iterations() * kB * kC * kHW * 4 * 2);
}
BENCHMARK(BM_normalize_c)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
