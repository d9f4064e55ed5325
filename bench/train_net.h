// The two training steps the benchmarks time: the chapter's model (200 x 100 -> 50 ->
// ReLU -> 1, MSE) and an MLP (batch 4096, 784 -> 512 -> ReLU -> 10, softmax
// cross-entropy), as nnf sequential models with their data and SGD. Shared by
// bench_train_step (against the peers) and bench_contention (under load).
#ifndef NNF_BENCH_TRAIN_NET_H
#define NNF_BENCH_TRAIN_NET_H

#include <cstdint>
#include <cstring>
#include <vector>

#include "compare.h"

extern "C" {
#include "nnf/nnf.h"
}

namespace nnf_bench {

struct shape {
    const char *name;
    int n, in, hidden, out;
    bool ce;
};

inline const shape shapes[] = {
    {"chapter", 200, 100, 50, 1, false},
    {"mlp", 4096, 784, 512, 10, true},
};

inline double step_flops(const shape &s)
{
    double mm = 2.0 * s.n * ((double)s.in * s.hidden + (double)s.hidden * s.out);
    return 2.0 * mm + 2.0 * s.n * (double)s.hidden * s.out;
}

// x uniform [-1, 1), regression targets or labels, from one seed for both sides.
struct data {
    floats x, y;
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
             nnf_layer_linear(&l1, &rng, s.in, s.hidden, NNF_INIT_KAIMING) == NNF_OK &&
             nnf_model_add(m, l1) == NNF_OK && nnf_layer_relu(&act) == NNF_OK &&
             nnf_model_add(m, act) == NNF_OK &&
             nnf_layer_linear(&l2, &rng, s.hidden, s.out, NNF_INIT_KAIMING) == NNF_OK &&
             nnf_model_add(m, l2) == NNF_OK &&
             nnf_from_data(&x, d.x.data(), 2, xshape) == NNF_OK;
        if (ok && s.ce) {
            ok = nnf_empty_typed(&y, 1, yshape, NNF_I64) == NNF_OK;
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
        return nnf_model_call(m, value, x, y) == NNF_OK &&
               (nnf_sgd_zero_grad(opt), nnf_model_backward(m) == NNF_OK) &&
               nnf_sgd_step(opt) == NNF_OK;
    }
};

}  // namespace nnf_bench

#endif
