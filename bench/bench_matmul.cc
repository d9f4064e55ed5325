// The chapter's matmul progression on its 5x784 @ 784x10 example, each step as the
// chapter wrote it in Python, here in C on nnf tensors:
//   loops_indexed     three loops, c[i,j] += a[i,k] * b[k,j] through element indexing
//                     (nnf_value_at/nnf_set: the per-element call overhead Python has)
//   loops_raw         the same three loops on raw float pointers (what a C compiler does)
//   row_col           c[i,j] = (a[i] * b[:,j]).sum(): one elementwise product and one sum
//                     per output element
//   row_broadcast     c[i] = (a[i].unsqueeze(-1) * b).sum(dim=0): one broadcast product
//                     and one column sum per row
//   einsum            einsum("ik,kj->ij", a, b)
//   matmul            a @ b into a new tensor; matmul_out into an existing one;
//                     matmul_wt with w.t() as the right operand (a view, never copied)
// and the peers of peers.h on the same product (one thread). Every nnf row runs per ISA.
//
//   ./bench_matmul --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "bench_util.h"
#include "peers.h"

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include "nnf/nnf.h"
}

namespace {

constexpr int64_t M = 5, K = 784, N = 10;

void check(nnf_status st)
{
    if (st != NNF_OK) {
        std::fprintf(stderr, "nnf: %s\n", nnf_last_error());
        std::abort();
    }
}

// The chapter's m1 = randn(5, 784), m2 = randn(784, 10).
struct Operands {
    nnf_tensor *a = nullptr, *b = nullptr, *c = nullptr, *w = nullptr, *wt = nullptr;
    Operands()
    {
        nnf_rng rng;
        nnf_rng_seed(&rng, 42);
        check(nnf_randn(&a, &rng, NNF_SHAPE(M, K)));
        check(nnf_randn(&b, &rng, NNF_SHAPE(K, N)));
        check(nnf_zeros(&c, NNF_SHAPE(M, N)));
        check(nnf_randn(&w, &rng, NNF_SHAPE(N, K)));
        check(nnf_t(&wt, w));
    }
    ~Operands()
    {
        nnf_tensor *all[] = {a, b, c, w, wt};
        for (nnf_tensor *t : all)
            nnf_tensor_free(t);
    }
};

void set_flops(benchmark::State &state)
{
    state.counters["GFLOPS"] = benchmark::Counter(
        2.0 * M * N * K * static_cast<double>(state.iterations()) / 1e9,
        benchmark::Counter::kIsRate);
}

void BM_loops_indexed(benchmark::State &state)
{
    Operands op;
    for (auto _ : state) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                const int64_t ij[] = {i, j};
                check(nnf_set(op.c, ij, 0.0f));
                for (int64_t k = 0; k < K; k++) {
                    const int64_t ik[] = {i, k}, kj[] = {k, j};
                    float x, y, acc;
                    check(nnf_value_at(&x, op.a, ik));
                    check(nnf_value_at(&y, op.b, kj));
                    check(nnf_value_at(&acc, op.c, ij));
                    check(nnf_set(op.c, ij, acc + x * y));
                }
            }
        benchmark::DoNotOptimize(nnf_tensor_data(op.c));
    }
    state.SetLabel("C, element indexing");
    set_flops(state);
}

void BM_loops_raw(benchmark::State &state)
{
    Operands op;
    const float *a = nnf_tensor_data(op.a), *b = nnf_tensor_data(op.b);
    float *c = nnf_tensor_data(op.c);
    for (auto _ : state) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float acc = 0.0f;
                for (int64_t k = 0; k < K; k++)
                    acc += a[i * K + k] * b[k * N + j];
                c[i * N + j] = acc;
            }
        benchmark::DoNotOptimize(c);
        benchmark::ClobberMemory();
    }
    state.SetLabel("C, raw pointers");
    set_flops(state);
}

void BM_row_col(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    for (auto _ : state) {
        for (int64_t i = 0; i < M; i++) {
            nnf_tensor *row = nullptr;
            check(nnf_select(&row, op.a, 0, i));
            for (int64_t j = 0; j < N; j++) {
                nnf_tensor *col = nullptr, *prod = nullptr, *sum = nullptr;
                float v;
                check(nnf_select(&col, op.b, 1, j));
                check(nnf_mul(&prod, row, col));
                check(nnf_sum(&sum, prod, NNF_ALL_DIMS, 0));
                check(nnf_value(&v, sum));
                const int64_t ij[] = {i, j};
                check(nnf_set(op.c, ij, v));
                nnf_tensor_free(col);
                nnf_tensor_free(prod);
                nnf_tensor_free(sum);
            }
            nnf_tensor_free(row);
        }
        benchmark::DoNotOptimize(nnf_tensor_data(op.c));
    }
    set_flops(state);
}

void BM_row_broadcast(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    for (auto _ : state) {
        for (int64_t i = 0; i < M; i++) {
            nnf_tensor *row = nullptr, *col = nullptr, *prod = nullptr, *sum = nullptr,
                       *crow = nullptr;
            check(nnf_select(&row, op.a, 0, i));
            check(nnf_unsqueeze(&col, row, -1));
            check(nnf_mul(&prod, col, op.b));
            check(nnf_sum(&sum, prod, NNF_DIMS(0), 0));
            check(nnf_select(&crow, op.c, 0, i));
            check(nnf_copy(crow, sum));
            nnf_tensor *all[] = {row, col, prod, sum, crow};
            for (nnf_tensor *t : all)
                nnf_tensor_free(t);
        }
        benchmark::DoNotOptimize(nnf_tensor_data(op.c));
    }
    set_flops(state);
}

void BM_einsum(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    const nnf_tensor *const ops[] = {op.a, op.b};
    for (auto _ : state) {
        nnf_tensor *c = nullptr;
        check(nnf_einsum(&c, "ik,kj->ij", 2, ops));
        benchmark::DoNotOptimize(nnf_tensor_data(c));
        nnf_tensor_free(c);
    }
    set_flops(state);
}

void BM_matmul(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    for (auto _ : state) {
        nnf_tensor *c = nullptr;
        check(nnf_matmul(&c, op.a, op.b));
        benchmark::DoNotOptimize(nnf_tensor_data(c));
        nnf_tensor_free(c);
    }
    set_flops(state);
}

void BM_matmul_out(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    for (auto _ : state) {
        check(nnf_matmul(&op.c, op.a, op.b));
        benchmark::DoNotOptimize(nnf_tensor_data(op.c));
    }
    set_flops(state);
}

void BM_matmul_wt(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    Operands op;
    for (auto _ : state) {
        check(nnf_matmul(&op.c, op.a, op.wt));
        benchmark::DoNotOptimize(nnf_tensor_data(op.c));
    }
    set_flops(state);
}

// Args: {peer}: the same product through each peer of peers.h.
void BM_peer_sgemm(benchmark::State &state)
{
    const auto p = static_cast<nnf_bench::peer>(state.range(0));
    Operands op;
    nnf_bench::peer_set_threads(p, 1);
    if (!nnf_bench::time_peer(state, p, {NNF_NO_TRANS, NNF_NO_TRANS, M, N, K, 1.0f, nnf_tensor_data(op.a),
                                         K, nnf_tensor_data(op.b), N, 0.0f, nnf_tensor_data(op.c), N}))
        return;
    state.SetLabel(nnf_bench::peer_name(p));
    set_flops(state);
}

// Benchmark::Apply takes a plain function pointer in Google Benchmark 1.7 (Debian 12).
void each_isa(benchmark::internal::Benchmark *b)
{
    nnf_bench::add_isa_args(b, {{}});
}

}  // namespace

BENCHMARK(BM_loops_indexed)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_loops_raw)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_row_col)->Apply(each_isa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_row_broadcast)->Apply(each_isa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_einsum)->Apply(each_isa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_matmul)->Apply(each_isa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_matmul_out)->Apply(each_isa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_matmul_wt)->Apply(each_isa)->Unit(benchmark::kMicrosecond);

int main(int argc, char **argv)
{
    nnf_bench::peers_init(argc, argv);
    for (nnf_bench::peer p : nnf_bench::all_peers)
        if (nnf_bench::peer_available(p) && p != nnf_bench::peer::c)   // c: BM_loops_raw
            benchmark::RegisterBenchmark("BM_peer_sgemm", BM_peer_sgemm)
                ->Arg(static_cast<int>(p))
                ->Unit(benchmark::kMicrosecond);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
