// One training step (forward, backward, SGD update) of nnf's sequential model per ISA,
// against the same step written in plain C around OpenBLAS's cblas_sgemm, 1 thread:
//
//   chapter  the chapter's model: 200 x 100 -> 50 -> ReLU -> 1, MSE
//   mlp      batch 4096, 784 -> 512 -> ReLU -> 10, softmax cross-entropy
//
//     build/bench/bench_train_step --benchmark_repetitions=5
//         --benchmark_report_aggregates_only=true
//
// OpenBLAS picks its kernels from CPUID; where it does not know the CPU it falls back to
// old SSE3 ones ("Prescott", printed at start): set OPENBLAS_CORETYPE (e.g. SkylakeX,
// Cooperlake, Haswell) to give the peer the kernels the machine can run.
//
// Neither computes the gradient of the data x (PyTorch's autograd does not either; see
// scripts/peers_train_step.py for PyTorch 1.13 on the same steps). GFLOPS counts the
// step's matrix products: forward, weight gradients and the hidden activation's
// gradient, 2 * N * (IN*H + H*OUT) * 2 + 2 * N * H * OUT.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"

namespace {

struct shape {
    const char *name;
    int n, in, hidden, out;
    bool ce;
};

const shape shapes[] = {
    {"chapter", 200, 100, 50, 1, false},
    {"mlp", 4096, 784, 512, 10, true},
};

double step_flops(const shape &s)
{
    double mm = 2.0 * s.n * ((double)s.in * s.hidden + (double)s.hidden * s.out);
    return 2.0 * mm + 2.0 * s.n * (double)s.hidden * s.out;
}

void set_counters(benchmark::State &state, const shape &s)
{
    state.counters["GFLOPS"] = benchmark::Counter(step_flops(s) * 1e-9,
                                                  benchmark::Counter::kIsIterationInvariantRate);
    state.counters["steps/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

// x uniform [-1, 1), regression targets or labels, from one seed for both sides.
struct data {
    std::vector<float> x, y;
    std::vector<int64_t> labels;
    explicit data(const shape &s) : x((size_t)s.n * s.in), y((size_t)s.n), labels((size_t)s.n)
    {
        uint64_t r = 12345;
        auto next = [&r] {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            return (float)((r >> 40) * 0x1p-24) * 2.0f - 1.0f;
        };
        for (auto &v : x) v = next();
        for (auto &v : y) v = next();
        for (size_t i = 0; i < labels.size(); i++) labels[i] = (int64_t)(i * 7 % (size_t)s.out);
    }
};

// nnf's sequential model for one shape, with its data and optimizer. `ok` is false (and
// nnf_last_error() says why) if building it failed.
struct nnf_net {
    nnf_model *m = nullptr;
    nnf_tensor *x = nullptr, *y = nullptr;
    nnf_sgd *opt = nullptr;
    bool ok = false;

    nnf_net(const shape &s, const data &d)
    {
        nnf_rng rng;
        nnf_rng_seed(&rng, 1);
        nnf_loss *loss = nullptr;
        nnf_layer *l1 = nullptr, *act = nullptr, *l2 = nullptr;
        const int64_t xshape[2] = {s.n, s.in}, yshape[1] = {s.n};
        ok = (s.ce ? nnf_loss_cross_entropy(&loss) : nnf_loss_mse(&loss)) == NNF_OK &&
             nnf_model_new(&m, loss) == NNF_OK &&
             nnf_layer_lin(&l1, s.in, s.hidden, NNF_INIT_KAIMING, &rng) == NNF_OK &&
             nnf_model_add(m, l1) == NNF_OK && nnf_layer_relu(&act) == NNF_OK &&
             nnf_model_add(m, act) == NNF_OK &&
             nnf_layer_lin(&l2, s.hidden, s.out, NNF_INIT_KAIMING, &rng) == NNF_OK &&
             nnf_model_add(m, l2) == NNF_OK &&
             nnf_from_data(&x, d.x.data(), 2, xshape) == NNF_OK;
        if (ok && s.ce) {
            ok = nnf_empty_dtype(&y, NNF_I64, 1, yshape) == NNF_OK;
            if (ok)
                std::memcpy(nnf_tensor_raw(y), d.labels.data(), d.labels.size() * sizeof(int64_t));
        } else if (ok) {
            ok = nnf_from_data(&y, d.y.data(), 1, yshape) == NNF_OK;
        }
        ok = ok && nnf_sgd_new(&opt, nnf_model_num_parameters(m), nnf_model_parameters(m),
                               0.01f, 0.0f, 0.0f) == NNF_OK;
    }
    ~nnf_net()
    {
        nnf_sgd_free(opt);
        nnf_model_free(m);
        nnf_tensor_free(x);
        nnf_tensor_free(y);
    }

    bool step(float *value)
    {
        return nnf_model_forward(m, x, y, value) == NNF_OK &&
               (nnf_sgd_zero_grad(opt), nnf_model_backward(m) == NNF_OK) &&
               nnf_sgd_step(opt) == NNF_OK;
    }
};

void BM_nnf(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    const shape &s = shapes[state.range(1)];
    omp_set_num_threads(1);
    data d(s);
    nnf_net net(s, d);
    if (!net.ok) {
        state.SkipWithError(nnf_last_error());
        return;
    }
    float value = 0;
    for (auto _ : state)
        if (!net.step(&value)) {
            state.SkipWithError(nnf_last_error());
            break;
        }
    benchmark::DoNotOptimize(value);
    set_counters(state, s);
}

// The same step as a C programmer would write it around cblas_sgemm: bias copied into
// the output and the product added (beta 1), ReLU and its mask in loops, gradients
// written (beta 0) rather than zeroed and accumulated.
struct c_mlp {
    const shape &s;
    std::vector<float> w1, b1, w2, b2, l1, l2, out, g_out, g_l2, w1g, b1g, w2g, b2g;
    explicit c_mlp(const shape &sh)
        : s(sh), w1((size_t)sh.hidden * sh.in), b1(sh.hidden), w2((size_t)sh.out * sh.hidden),
          b2(sh.out), l1((size_t)sh.n * sh.hidden), l2(l1.size()), out((size_t)sh.n * sh.out),
          g_out(out.size()), g_l2(l1.size()), w1g(w1.size()), b1g(b1.size()), w2g(w2.size()),
          b2g(b2.size())
    {
        uint64_t r = 99;
        auto next = [&r] {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            return (float)((r >> 40) * 0x1p-24) - 0.5f;
        };
        for (auto &v : w1) v = next() * std::sqrt(24.0f / sh.in);
        for (auto &v : w2) v = next() * std::sqrt(24.0f / sh.hidden);
    }

    static void lin(int n, int k, int m, const float *x, const float *w, const float *b, float *y)
    {
        for (int i = 0; i < n; i++)
            std::memcpy(y + (size_t)i * m, b, (size_t)m * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1.0f, x, k, w, k, 1.0f, y, m);
    }

    static void col_sum(int n, int m, const float *g, float *s)
    {
        std::memset(s, 0, (size_t)m * sizeof(float));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                s[j] += g[(size_t)i * m + j];
    }

    static void sgd(std::vector<float> &p, const std::vector<float> &g, float lr)
    {
        for (size_t i = 0; i < p.size(); i++)
            p[i] -= lr * g[i];
    }

    float step(const data &d)
    {
        const int n = s.n, in = s.in, h = s.hidden, o = s.out;
        lin(n, in, h, d.x.data(), w1.data(), b1.data(), l1.data());
        for (size_t i = 0; i < l1.size(); i++)
            l2[i] = l1[i] > 0.0f ? l1[i] : 0.0f;
        lin(n, h, o, l2.data(), w2.data(), b2.data(), out.data());
        double loss = 0.0;
        if (s.ce) {
            for (int i = 0; i < n; i++) {
                const float *z = &out[(size_t)i * o];
                float *g = &g_out[(size_t)i * o];
                float mx = z[0], sum = 0.0f;
                for (int j = 1; j < o; j++) mx = z[j] > mx ? z[j] : mx;
                for (int j = 0; j < o; j++) sum += (g[j] = std::exp(z[j] - mx));
                int64_t t = d.labels[(size_t)i];
                loss += std::log(sum) - (z[t] - mx);
                for (int j = 0; j < o; j++) g[j] = (g[j] / sum - (j == t)) / n;
            }
        } else {
            for (int i = 0; i < n; i++) {
                float diff = out[(size_t)i] - d.y[(size_t)i];
                loss += (double)diff * diff;
                g_out[(size_t)i] = 2.0f * diff / n;
            }
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, h, n, 1.0f, g_out.data(), o,
                    l2.data(), h, 0.0f, w2g.data(), h);
        col_sum(n, o, g_out.data(), b2g.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, h, o, 1.0f, g_out.data(), o,
                    w2.data(), h, 0.0f, g_l2.data(), h);
        for (size_t i = 0; i < g_l2.size(); i++)
            g_l2[i] = l1[i] > 0.0f ? g_l2[i] : 0.0f;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, in, n, 1.0f, g_l2.data(), h,
                    d.x.data(), in, 0.0f, w1g.data(), in);
        col_sum(n, h, g_l2.data(), b1g.data());
        sgd(w1, w1g, 0.01f);
        sgd(b1, b1g, 0.01f);
        sgd(w2, w2g, 0.01f);
        sgd(b2, b2g, 0.01f);
        return (float)(loss / n);
    }
};

void BM_c_openblas(benchmark::State &state)
{
    const shape &s = shapes[state.range(0)];
    openblas_set_num_threads(1);
    state.SetLabel("C + OpenBLAS");
    data d(s);
    c_mlp net(s);
    float value = 0;
    for (auto _ : state)
        value = net.step(d);
    benchmark::DoNotOptimize(value);
    set_counters(state, s);
}

// nnf (the widest ISA here) and the C + OpenBLAS step taking turns, step by step (the
// first of each pair alternates), so a slow spell of a shared machine hits both alike:
// `speedup` (C + OpenBLAS's time over nnf's) is the steady figure to compare.
void BM_paired(benchmark::State &state)
{
    const shape &s = shapes[state.range(0)];
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    nnf_bench::use_widest_isa();
    data d(s);
    nnf_net net(s, d);
    c_mlp c(s);
    if (!net.ok) {
        state.SkipWithError(nnf_last_error());
        return;
    }
    double t_nnf = 0, t_c = 0;
    float value = 0;
    if (!nnf_bench::take_turns(
            state, [&] { return net.step(&value); }, [&] { value = c.step(d); }, [] {}, t_nnf,
            t_c))
        return;
    benchmark::DoNotOptimize(value);
    double steps = (double)state.iterations();
    state.counters["nnf_us"] = t_nnf / steps * 1e6;
    state.counters["c_openblas_us"] = t_c / steps * 1e6;
    state.counters["speedup"] = t_c / t_nnf;
    state.SetLabel(std::string(nnf_isa_name(nnf_isa_active())) + " vs C + OpenBLAS " + s.name);
}

// The scalar kernels take ~10 s for one step of the big MLP: chapter shape only.
void nnf_rows(benchmark::internal::Benchmark *b)
{
    for (int isa = NNF_ISA_SCALAR; isa <= NNF_ISA_NEON; isa++) {
        if (!nnf_isa_supported(static_cast<nnf_isa>(isa)))
            continue;
        b->Args({isa, 0});
        if (isa != NNF_ISA_SCALAR)
            b->Args({isa, 1});
    }
}

}  // namespace

// The minimum over repetitions besides the median: on a machine shared with other jobs
// the fastest run is the one least disturbed.
double fastest(const std::vector<double> &v)
{
    return *std::min_element(v.begin(), v.end());
}

BENCHMARK(BM_nnf)->Apply(nnf_rows)->ArgNames({"isa", "shape"})->ComputeStatistics("min", fastest);
BENCHMARK(BM_c_openblas)->Arg(0)->Arg(1)->ArgNames({"shape"})->ComputeStatistics("min", fastest);
BENCHMARK(BM_paired)->Arg(0)->Arg(1)->ArgNames({"shape"});

int main(int argc, char **argv)
{
    std::fprintf(stderr, "# shape 0: chapter 200x100 -> 50 -> 1 (MSE); shape 1: 4096x784 -> 512 -> 10 (CE)\n");
    std::fprintf(stderr, "# OpenBLAS core: %s\n", openblas_get_corename());
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
