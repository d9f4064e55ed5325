// One training step (forward, backward, SGD update) of nnf's sequential model against
// the same step written in plain C around each peer's sgemm (peers.h), 1 thread:
//
//   chapter  the chapter's model: 200 x 100 -> 50 -> ReLU -> 1, MSE
//   mlp      batch 4096, 784 -> 512 -> ReLU -> 10, softmax cross-entropy
//
//   train_step/<shape>   every version taking turns in the same rounds (compare.h): nnf
//                        at its widest ISA ("nnf") and its other ISAs, C + OpenBLAS,
//                        C + BLIS, C + oneDNN (dnnl_sgemm), C + libxsmm, and for the
//                        chapter C with plain loops; the FMA peak loop. Before timing,
//                        every version's first step is checked against nnf's from the
//                        same weights: nnf's other ISAs bit for bit (loss and gradients),
//                        the C steps within 1e-4 (loss) and 1e-3 of the largest gradient
//                        element; a mismatch skips the row.
//   BM_nnf/isa/shape, BM_c_peer/peer/shape   one version per row
//
//     build/bench/bench_train_step --benchmark_filter='^train_step/'
//
// Neither computes the gradient of the data x (PyTorch's autograd does not either; see
// scripts/peers_train_step.py for PyTorch 1.13 on the same steps). FLOPs count the
// step's matrix products at 2mnk each: forward, weight gradients and the hidden
// activation's gradient, 2 * N * (IN*H + H*OUT) * 2 + 2 * N * H * OUT.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "compare.h"
#include "peers.h"
#include "train_net.h"

namespace {

using nnf_bench::data;
using nnf_bench::nnf_net;
using nnf_bench::shape;
using nnf_bench::shapes;
using nnf_bench::step_flops;

void set_counters(benchmark::State &state, const shape &s)
{
    state.counters["GFLOPS"] = benchmark::Counter(step_flops(s) * 1e-9,
                                                  benchmark::Counter::kIsIterationInvariantRate);
    state.counters["steps/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_nnf(benchmark::State &state)
{
    if (!nnf_bench::use_isa(state))
        return;
    const shape &s = shapes[state.range(1)];
    nnf_bench::set_threads(1);
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

// The same step as a C programmer would write it around a library's sgemm: bias copied
// into the output and the product added (beta 1), ReLU and its mask in loops, gradients
// written (beta 0) rather than zeroed and accumulated.
struct c_mlp {
    const shape &s;
    nnf_bench::peer lib;
    nnf_bench::floats w1, b1, w2, b2, l1, l2, out, g_out, g_l2, w1g, b1g, w2g, b2g;
    c_mlp(const shape &sh, nnf_bench::peer p)
        : s(sh), lib(p), w1((size_t)sh.hidden * sh.in), b1(sh.hidden), w2((size_t)sh.out * sh.hidden),
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

    // Starts from nnf's parameters (weight, bias of each Lin, as nnf_model_parameters
    // lists them), so the first steps of both can be compared.
    void load(const nnf_net &net)
    {
        nnf_tensor *const *p = nnf_model_parameters(net.m);
        for (auto [i, v] : {std::pair{0, &w1}, {1, &b1}, {2, &w2}, {3, &b2}})
            std::memcpy(v->data(), nnf_tensor_data(p[i]), v->size() * sizeof(float));
    }

    // C = alpha op(A) op(B) + beta C, row-major, dense.
    bool mm(nnf_trans ta, nnf_trans tb, int m, int n, int k, const float *a, const float *b,
            float beta, float *c)
    {
        return nnf_bench::peer_sgemm(lib, {ta, tb, m, n, k, 1.0f, a, ta == NNF_TRANS ? m : k, b,
                                           tb == NNF_TRANS ? k : n, beta, c, n});
    }

    bool lin(int n, int k, int m, const float *x, const float *w, const float *b, float *y)
    {
        for (int i = 0; i < n; i++)
            std::memcpy(y + (size_t)i * m, b, (size_t)m * sizeof(float));
        return mm(NNF_NO_TRANS, NNF_TRANS, n, m, k, x, w, 1.0f, y);
    }

    static void col_sum(int n, int m, const float *g, float *s)
    {
        std::memset(s, 0, (size_t)m * sizeof(float));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                s[j] += g[(size_t)i * m + j];
    }

    static void sgd(nnf_bench::floats &p, const nnf_bench::floats &g, float lr)
    {
        for (size_t i = 0; i < p.size(); i++)
            p[i] -= lr * g[i];
    }

    // False if the library failed.
    bool step(const data &d, float *value)
    {
        const int n = s.n, in = s.in, h = s.hidden, o = s.out;
        if (!lin(n, in, h, d.x.data(), w1.data(), b1.data(), l1.data()))
            return false;
        for (size_t i = 0; i < l1.size(); i++)
            l2[i] = l1[i] > 0.0f ? l1[i] : 0.0f;
        if (!lin(n, h, o, l2.data(), w2.data(), b2.data(), out.data()))
            return false;
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
        if (!mm(NNF_TRANS, NNF_NO_TRANS, o, h, n, g_out.data(), l2.data(), 0.0f, w2g.data()))
            return false;
        col_sum(n, o, g_out.data(), b2g.data());
        if (!mm(NNF_NO_TRANS, NNF_NO_TRANS, n, h, o, g_out.data(), w2.data(), 0.0f, g_l2.data()))
            return false;
        for (size_t i = 0; i < g_l2.size(); i++)
            g_l2[i] = l1[i] > 0.0f ? g_l2[i] : 0.0f;
        if (!mm(NNF_TRANS, NNF_NO_TRANS, h, in, n, g_l2.data(), d.x.data(), 0.0f, w1g.data()))
            return false;
        col_sum(n, h, g_l2.data(), b1g.data());
        sgd(w1, w1g, 0.01f);
        sgd(b1, b1g, 0.01f);
        sgd(w2, w2g, 0.01f);
        sgd(b2, b2g, 0.01f);
        *value = (float)(loss / n);
        return true;
    }
};

// Plain loops only where they take milliseconds: the chapter's step.
bool c_peer_runs(nnf_bench::peer p, const shape &s)
{
    return nnf_bench::peer_available(p) && p != nnf_bench::peer::onednn_ip &&
           (p != nnf_bench::peer::c || !s.ce);
}

std::string c_name(nnf_bench::peer p)
{
    return p == nnf_bench::peer::c ? "c" : std::string("c+") + nnf_bench::peer_name(p);
}

// Args: {peer, shape}.
void BM_c_peer(benchmark::State &state)
{
    const auto p = static_cast<nnf_bench::peer>(state.range(0));
    const shape &s = shapes[state.range(1)];
    nnf_bench::peer_set_threads(p, 1);
    state.SetLabel(c_name(p));
    data d(s);
    c_mlp net(s, p);
    float value = 0;
    for (auto _ : state)
        if (!net.step(d, &value)) {
            state.SkipWithError("the peer's sgemm failed");
            break;
        }
    benchmark::DoNotOptimize(value);
    set_counters(state, s);
}

// A step's loss and its parameters' gradients, as nnf_model_parameters orders them.
struct first_step {
    float loss;
    std::vector<std::vector<float>> grads;
};

first_step of_nnf(const nnf_net &net, float loss)
{
    first_step f{loss, {}};
    nnf_tensor *const *p = nnf_model_parameters(net.m);
    for (int i = 0; i < nnf_model_num_parameters(net.m); i++) {
        const float *g = nnf_tensor_data(nnf_tensor_grad(p[i]));
        f.grads.emplace_back(g, g + nnf_tensor_numel(p[i]));
    }
    return f;
}

// "" if `got` matches `want` (bit for bit if exact), else what differs.
std::string compare_steps(const first_step &want, const first_step &got, bool exact)
{
    char msg[160];
    if (exact ? std::memcmp(&want.loss, &got.loss, sizeof(float)) != 0
              : !(std::fabs(want.loss - got.loss) <= 1e-4 * std::max(1.0f, std::fabs(want.loss)))) {
        std::snprintf(msg, sizeof msg, "loss %.9g where nnf has %.9g", got.loss, want.loss);
        return msg;
    }
    for (size_t i = 0; i < want.grads.size(); i++) {
        const std::vector<float> &w = want.grads[i], &g = got.grads[i];
        float scale = 0, worst = 0;
        for (size_t j = 0; j < w.size(); j++) {
            scale = std::max(scale, std::fabs(w[j]));
            float e = std::fabs(w[j] - g[j]);
            worst = std::isnan(e) || e > worst ? (std::isnan(e) ? INFINITY : e) : worst;
        }
        if (exact ? std::memcmp(w.data(), g.data(), w.size() * sizeof(float)) != 0
                  : !(worst <= 1e-3f * scale)) {
            std::snprintf(msg, sizeof msg, "gradient of parameter %zu off by %.3g (largest element %.3g)",
                          i, worst, scale);
            return msg;
        }
    }
    return "";
}

// Every version taking turns, one thread.
void compare_row(benchmark::State &state, int shape_index)
{
    using nnf_bench::contender;
    const shape &s = shapes[shape_index];
    const nnf_isa widest = nnf_bench::one_thread_widest_isa();
    const data d(s);
    std::vector<contender> cs;
    std::vector<first_step> firsts;
    std::vector<nnf_isa> isas{widest};
    isas.insert(isas.end(), std::begin(nnf_bench::all_isas), std::end(nnf_bench::all_isas));
    for (nnf_isa isa : isas) {
        bool main_row = cs.empty();
        if ((!main_row && isa == widest) || !nnf_isa_supported(isa) ||
            (nnf_bench::portable_kernels(isa) && s.ce))
            continue;
        (void)nnf_isa_force(isa);
        auto net = std::make_shared<nnf_net>(s, d);
        float loss = 0;
        if (!net->ok || !net->step(&loss)) {
            state.SkipWithError(nnf_last_error());
            return;
        }
        firsts.push_back(of_nnf(*net, loss));
        cs.push_back({main_row ? "nnf" : std::string("nnf:") + nnf_isa_name(isa),
                      main_row ? contender::role::nnf : contender::role::nnf_variant,
                      [net] {
                          float v;
                          return net->step(&v);
                      },
                      [isa] { (void)nnf_isa_force(isa); }});
    }
    const nnf_net fresh(s, d);   // the nnf versions' first weights
    for (nnf_bench::peer p : nnf_bench::all_peers) {
        if (!c_peer_runs(p, s))
            continue;
        auto c = std::make_shared<c_mlp>(s, p);
        c->load(fresh);
        float loss = 0;
        if (!c->step(d, &loss)) {
            state.SkipWithError((c_name(p) + " failed").c_str());
            return;
        }
        firsts.push_back({loss, {}});
        for (const nnf_bench::floats *g : {&c->w1g, &c->b1g, &c->w2g, &c->b2g})
            firsts.back().grads.emplace_back(g->begin(), g->end());
        cs.push_back({c_name(p), contender::role::peer, [c, &d] {
                          float v;
                          return c->step(d, &v);
                      }});
    }
    for (size_t i = 1; i < cs.size(); i++) {
        std::string why = compare_steps(firsts[0], firsts[i], cs[i].kind != contender::role::peer);
        if (!why.empty()) {
            state.SkipWithError((cs[i].name + " disagrees with nnf's first step: " + why).c_str());
            return;
        }
    }
    cs.push_back(nnf_bench::peak_contender(widest));
    nnf_bench::run_rounds(state, cs, step_flops(s),
                          std::string(s.name) + " " + std::to_string(s.n) + "x" + std::to_string(s.in) +
                              "->" + std::to_string(s.hidden) + "->" + std::to_string(s.out));
}

// The hidden layer's forward alone, y = relu(x @ w1.t() + b1), one thread: "nnf" is
// nnf_linear_relu (the bias and the ReLU inside the product, tile by tile), "nnf:separate"
// nnf_linear then nnf_relu in place, a second pass over y. Checked bit for bit first.
//
//     build/bench/bench_train_step --benchmark_filter='^lin_relu/'
void lin_relu_row(benchmark::State &state, int shape_index)
{
    using nnf_bench::contender;
    const shape &s = shapes[shape_index];
    const nnf_isa widest = nnf_bench::one_thread_widest_isa();
    (void)nnf_isa_force(widest);
    nnf_bench::set_threads(1);
    const data d(s);
    nnf_rng rng;
    nnf_rng_seed(&rng, 1);
    const int64_t xs[2] = {s.n, s.in}, ws[2] = {s.hidden, s.in}, bs[1] = {s.hidden};
    nnf_tensor *x = nullptr, *w = nullptr, *b = nullptr, *fused = nullptr, *separate = nullptr;
    bool ok = nnf_from_data(&x, d.x.data(), 2, xs) == NNF_OK && nnf_empty(&w, 2, ws) == NNF_OK &&
              nnf_weight_init(w, &rng, NNF_INIT_KAIMING) == NNF_OK &&
              nnf_rand(&b, &rng, 1, bs) == NNF_OK && nnf_linear_relu(&fused, x, w, b) == NNF_OK &&
              nnf_linear(&separate, x, w, b) == NNF_OK && nnf_relu(&separate, separate) == NNF_OK;
    const bool same = ok && std::memcmp(nnf_tensor_const_data(fused), nnf_tensor_const_data(separate),
                                        (size_t)nnf_tensor_numel(fused) * sizeof(float)) == 0;
    if (!ok)
        state.SkipWithError(nnf_last_error());
    else if (!same)
        state.SkipWithError("nnf_linear_relu disagrees with nnf_linear + nnf_relu");
    if (same) {
        std::vector<contender> cs;
        cs.push_back({"nnf", contender::role::nnf,
                      [&] { return nnf_linear_relu(&fused, x, w, b) == NNF_OK; }});
        cs.push_back({"nnf:separate", contender::role::nnf_variant, [&] {
                          return nnf_linear(&separate, x, w, b) == NNF_OK &&
                                 nnf_relu(&separate, separate) == NNF_OK;
                      }});
        cs.push_back(nnf_bench::peak_contender(widest));
        nnf_bench::run_rounds(state, cs, 2.0 * s.n * (double)s.in * s.hidden,
                              std::string(s.name) + " " + std::to_string(s.n) + "x" +
                                  std::to_string(s.in) + "->" + std::to_string(s.hidden) + "+relu");
    }
    for (nnf_tensor *t : {x, w, b, fused, separate})
        nnf_tensor_free(t);
}

// The scalar kernels take ~10 s for one step of the big MLP: chapter shape only.
void nnf_rows(benchmark::internal::Benchmark *b)
{
    for (nnf_isa isa : nnf_bench::all_isas) {
        if (!nnf_isa_supported(isa))
            continue;
        b->Args({isa, 0});
        if (!nnf_bench::portable_kernels(isa))
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

int main(int argc, char **argv)
{
    nnf_bench::peers_init(argc, argv);
    for (int s = 0; s < 2; s++) {
        benchmark::RegisterBenchmark((std::string("train_step/") + shapes[s].name).c_str(), compare_row, s)
            ->Iterations(nnf_bench::rounds())
            ->UseManualTime()
            ->Unit(nnf_bench::row_unit(step_flops(shapes[s])));
        benchmark::RegisterBenchmark((std::string("lin_relu/") + shapes[s].name).c_str(), lin_relu_row, s)
            ->Iterations(nnf_bench::rounds())
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
        for (nnf_bench::peer p : nnf_bench::all_peers)
            if (c_peer_runs(p, shapes[s]))
                benchmark::RegisterBenchmark("BM_c_peer", BM_c_peer)
                    ->Args({static_cast<int>(p), s})
                    ->ComputeStatistics("min", fastest);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
