// Elementwise ops on 16M floats (64 MiB per array, far out of the 32 MiB L3) against
// the memory limit, per ISA, 1 and 2 threads:
//   add / relu        into an existing tensor (out=) and allocating a fresh result
//   stream_copy       plain C y[i] = x[i]            (8 bytes per element)
//   stream_triad      plain C a[i] = b[i] + s * c[i] (12 bytes per element, STREAM's)
//   c_add / c_relu    the plain C loops the ops replace (peers)
// The plain C rows run on the same huge-page-backed tensor buffers as the nnf rows,
// so the difference is the code, not the memory. Bytes/s counts every array read or
// written once, as STREAM does.
// Two smaller families give the numbers src/ops uses:
//   add_size          add from 4K to 1M floats, 1 thread, and 2 threads from the
//                     threshold up; omp_fork is an empty parallel region: together they
//                     say where a second thread starts to pay (NNF__ELT_PARALLEL_WORK in
//                     src/ops/eltwise_iter.c)
//   cost              add, exp, tanh, pow on 4K floats in L1: SLEEF ops' cost in adds
//                     (COST_SLEEF in src/ops/unary.c and binary.c)
//
//   relu_grad         ReLU's backward x > 0 ? g : 0 (nnf_threshold_backward, what src/nn/relu.c
//                     runs) on an MLP activation 4096 x 512, 1 thread, into an existing
//                     tensor; c_relu_grad is the plain C loop it replaced
//   small_add         per-call overhead: a 16-float add into an existing tensor
//                     (alloc 0) or allocating its result (alloc 1)
//   row_broadcast     nnf_copy of a [50] row into [200, 50]: the engine's cost per short
//                     row
//
//   ./bench_eltwise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "bench_util.h"

#include <omp.h>

#include <cstdio>
#include <cstdlib>

extern "C" {
#include "nnf/nnf.h"
}

namespace {

constexpr int64_t kBig = int64_t(1) << 24;

void check(nnf_status st)
{
    if (st != NNF_OK) {
        std::fprintf(stderr, "nnf: %s\n", nnf_last_error());
        std::abort();
    }
}

struct Arrays {
    nnf_tensor *a = nullptr, *b = nullptr, *c = nullptr;
    explicit Arrays(int64_t n)
    {
        const int64_t shape[] = {n};
        check(nnf_randn(&a, nullptr, 1, shape));
        check(nnf_randn(&b, nullptr, 1, shape));
        check(nnf_zeros(&c, 1, shape));
    }
    ~Arrays()
    {
        nnf_tensor_free(a);
        nnf_tensor_free(b);
        nnf_tensor_free(c);
    }
};

void set_bytes(benchmark::State &state, int64_t n, int arrays)
{
    state.SetBytesProcessed(int64_t(state.iterations()) * n * arrays * int64_t(sizeof(float)));
}

// Args: {isa, threads, allocate}
void BM_add(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    nnf_bench::set_threads(int(state.range(1)));
    bool allocate = state.range(2) != 0;
    Arrays x(kBig);
    for (auto _ : state) {
        if (allocate) {
            nnf_tensor *y = nullptr;
            check(nnf_add(&y, x.a, x.b));
            benchmark::DoNotOptimize(nnf_tensor_data(y));
            nnf_tensor_free(y);
        } else {
            check(nnf_add(&x.c, x.a, x.b));
        }
    }
    set_bytes(state, kBig, 3);
}

void BM_relu(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    nnf_bench::set_threads(int(state.range(1)));
    bool allocate = state.range(2) != 0;
    Arrays x(kBig);
    for (auto _ : state) {
        if (allocate) {
            nnf_tensor *y = nullptr;
            check(nnf_relu(&y, x.a));
            benchmark::DoNotOptimize(nnf_tensor_data(y));
            nnf_tensor_free(y);
        } else {
            check(nnf_relu(&x.c, x.a));
        }
    }
    set_bytes(state, kBig, 2);
}

// Plain C peers, Args: {threads}: out[i] = f(a[i], b[i]) over kBig floats, OpenMP static
// schedule as STREAM does; `streams` counts the arrays the loop touches (for bytes/s).
template <class F> void plain_c(benchmark::State &state, int streams, F f)
{
    int threads = int(state.range(0));
    Arrays x(kBig);
    const float *a = nnf_tensor_data(x.a), *b = nnf_tensor_data(x.b);
    float *out = nnf_tensor_data(x.c);
    for (auto _ : state) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t i = 0; i < kBig; i++)
            out[i] = f(a[i], b[i]);
        benchmark::ClobberMemory();
    }
    set_bytes(state, kBig, streams);
}

void BM_stream_copy(benchmark::State &state)
{
    plain_c(state, 2, [](float a, float) { return a; });
}

void BM_stream_triad(benchmark::State &state)
{
    plain_c(state, 3, [](float a, float b) { return a + 3.0f * b; });
}

void BM_c_add(benchmark::State &state)
{
    plain_c(state, 3, [](float a, float b) { return a + b; });
}

void BM_c_relu(benchmark::State &state)
{
    plain_c(state, 2, [](float a, float) { return a < 0.0f ? 0.0f : a; });
}

// Args: {isa, n, threads}: add into an existing tensor, in cache for small n.
void BM_add_size(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    int64_t n = state.range(1);
    nnf_bench::set_threads(int(state.range(2)));
    Arrays x(n);
    for (auto _ : state)
        check(nnf_add(&x.c, x.a, x.b));
    set_bytes(state, n, 3);
}

void BM_omp_fork(benchmark::State &state)
{
    int threads = int(state.range(0));
    for (auto _ : state) {
#pragma omp parallel num_threads(threads)
        benchmark::ClobberMemory();
    }
}

// Args: {isa, op}: 4096 floats in L1; items/s compares the ops' per-element cost.
void BM_cost(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    nnf_bench::set_threads(1);
    constexpr int64_t n = 4096;
    Arrays x(n);
    check(nnf_abs(&x.a, x.a));
    const char *names[] = {"add", "exp", "tanh", "pow", "sigmoid"};
    int op = int(state.range(1));
    for (auto _ : state) {
        switch (op) {
        case 0: check(nnf_add(&x.c, x.a, x.b)); break;
        case 1: check(nnf_exp(&x.c, x.a)); break;
        case 2: check(nnf_tanh(&x.c, x.a)); break;
        case 3: check(nnf_pow(&x.c, x.a, x.b)); break;
        default: check(nnf_sigmoid(&x.c, x.a)); break;
        }
    }
    state.SetLabel(std::string(nnf_isa_name(nnf_isa_active())) + " " + names[op]);
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
}

// Benchmark::Apply takes a plain function pointer in Google Benchmark 1.7 (Debian 12).
void isa_threads_alloc(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{1, 0}, {2, 0}, {1, 1}, {2, 1}});
}

void isa_sizes(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{4096, 1}, {16384, 1}, {65536, 1}, {131072, 1}, {131072, 2},
                               {262144, 1}, {262144, 2}, {1048576, 1}, {1048576, 2}});
}

void isa_ops(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{0}, {1}, {2}, {3}, {4}});
}

// ---- ReLU's backward and per-call overheads (1 thread) ----

constexpr int64_t kActRows = 4096, kActCols = 512;

void BM_relu_grad(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    nnf_bench::set_threads(1);
    nnf_tensor *x = nullptr, *g = nullptr, *gx = nullptr;
    check(nnf_randn(&x, nullptr, NNF_SHAPE(kActRows, kActCols)));
    check(nnf_randn(&g, nullptr, NNF_SHAPE(kActRows, kActCols)));
    check(nnf_zeros(&gx, NNF_SHAPE(kActRows, kActCols)));
    for (auto _ : state)
        check(nnf_threshold_backward(&gx, x, g));
    benchmark::DoNotOptimize(nnf_tensor_data(gx)[0]);
    nnf_tensor_free(x);
    nnf_tensor_free(g);
    nnf_tensor_free(gx);
    set_bytes(state, kActRows * kActCols, 3);
}

void BM_c_relu_grad(benchmark::State &state)
{
    nnf_tensor *x = nullptr, *g = nullptr, *gx = nullptr;
    check(nnf_randn(&x, nullptr, NNF_SHAPE(kActRows, kActCols)));
    check(nnf_randn(&g, nullptr, NNF_SHAPE(kActRows, kActCols)));
    check(nnf_zeros(&gx, NNF_SHAPE(kActRows, kActCols)));
    const float *xp = nnf_tensor_data(x), *gp = nnf_tensor_data(g);
    float *yp = nnf_tensor_data(gx);
    for (auto _ : state) {
        for (int64_t i = 0; i < kActRows * kActCols; i++) {
            float gi = gp[i];
            yp[i] = xp[i] > 0.0f ? gi : 0.0f;
        }
        benchmark::ClobberMemory();
    }
    nnf_tensor_free(x);
    nnf_tensor_free(g);
    nnf_tensor_free(gx);
    state.SetLabel("plain C loop, 1 thread");
    set_bytes(state, kActRows * kActCols, 3);
}

// Args: {isa, allocate}
void BM_small_add(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Arrays x(16);
    for (auto _ : state) {
        if (state.range(1)) {
            nnf_tensor *y = nullptr;
            check(nnf_add(&y, x.a, x.b));
            benchmark::DoNotOptimize(nnf_tensor_data(y));
            nnf_tensor_free(y);
        } else {
            check(nnf_add(&x.c, x.a, x.b));
        }
    }
}

void BM_row_broadcast(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    nnf_tensor *row = nullptr, *dst = nullptr;
    check(nnf_randn(&row, nullptr, NNF_SHAPE(50)));
    check(nnf_empty(&dst, NNF_SHAPE(200, 50)));
    for (auto _ : state)
        check(nnf_copy(dst, row));
    benchmark::DoNotOptimize(nnf_tensor_data(dst)[0]);
    nnf_tensor_free(row);
    nnf_tensor_free(dst);
}

void isa_only(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{}});
}

void isa_alloc(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{0}, {1}});
}

}  // namespace

BENCHMARK(BM_relu_grad)->Apply(isa_only)->ArgNames({"isa"})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_c_relu_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_small_add)->Apply(isa_alloc)->ArgNames({"isa", "alloc"});
BENCHMARK(BM_row_broadcast)->Apply(isa_only)->ArgNames({"isa"});
BENCHMARK(BM_add)
    ->Apply(isa_threads_alloc)
    ->ArgNames({"isa", "threads", "alloc"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_relu)
    ->Apply(isa_threads_alloc)
    ->ArgNames({"isa", "threads", "alloc"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_stream_copy)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_stream_triad)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_c_add)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_c_relu)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_add_size)
    ->Apply(isa_sizes)
    ->ArgNames({"isa", "n", "threads"})
    ->UseRealTime();
BENCHMARK(BM_omp_fork)->Arg(2)->ArgName("threads")->UseRealTime();
BENCHMARK(BM_cost)
    ->Apply(isa_ops)
    ->ArgNames({"isa", "op"});

BENCHMARK_MAIN();
