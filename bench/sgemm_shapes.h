// The products bench_sgemm times and bench_instructions counts: their shapes, in the
// chapter's "MxKxN" names, and their operands.
#ifndef NNF_BENCH_SGEMM_SHAPES_H
#define NNF_BENCH_SGEMM_SHAPES_H

#include <cstdint>

#include "compare.h"
#include "peers.h"

namespace nnf_bench::sgemm_rows {

struct shape {
    const char *name;
    nnf_trans ta, tb;
    int m, n, k;
};

// "MxKxN" names as in the chapter: op(A) is m x k, op(B) is k x n.
inline constexpr shape shapes[] = {
    {"5x784x10", NNF_NO_TRANS, NNF_NO_TRANS, 5, 10, 784},       // the first matmul
    {"5x784x10:TB", NNF_NO_TRANS, NNF_TRANS, 5, 10, 784},       // x @ w.t()
    {"5x784x10:TA", NNF_TRANS, NNF_NO_TRANS, 5, 10, 784},
    {"200x100x50", NNF_NO_TRANS, NNF_NO_TRANS, 200, 50, 100},   // MLP layer forward
    {"xT@g:T100x200x50", NNF_TRANS, NNF_NO_TRANS, 100, 50, 200},  // weight gradient
    {"xT@g-as-NN:100x200x50", NNF_NO_TRANS, NNF_NO_TRANS, 100, 50, 200},
    {"g@wT:200x50xT100", NNF_NO_TRANS, NNF_TRANS, 200, 100, 50},  // input gradient
    {"g@wT-as-NN:200x50x100", NNF_NO_TRANS, NNF_NO_TRANS, 200, 100, 50},
    {"200x50x1", NNF_NO_TRANS, NNF_NO_TRANS, 200, 1, 50},       // last layer (GEMV)
    {"64^3", NNF_NO_TRANS, NNF_NO_TRANS, 64, 64, 64},
    {"128^3", NNF_NO_TRANS, NNF_NO_TRANS, 128, 128, 128},
    {"256^3", NNF_NO_TRANS, NNF_NO_TRANS, 256, 256, 256},
    {"512^3", NNF_NO_TRANS, NNF_NO_TRANS, 512, 512, 512},
    {"1024^3", NNF_NO_TRANS, NNF_NO_TRANS, 1024, 1024, 1024},
    {"2048^3", NNF_NO_TRANS, NNF_NO_TRANS, 2048, 2048, 2048},
    {"1024^3:TA", NNF_TRANS, NNF_NO_TRANS, 1024, 1024, 1024},
    {"1024^3:TB", NNF_NO_TRANS, NNF_TRANS, 1024, 1024, 1024},
    // Appended, so the indices above (scripts/main.sh's 2-thread rows) stay put.
    // An inference step's Linear 784 -> 512 with w stored 512 x 784: x @ w^T at batch 1, 8.
    {"linear-b1:1x784xT512", NNF_NO_TRANS, NNF_TRANS, 1, 512, 784},
    {"linear-b8:8x784xT512", NNF_NO_TRANS, NNF_TRANS, 8, 512, 784},
    {"32^3", NNF_NO_TRANS, NNF_NO_TRANS, 32, 32, 32},
    // The big MLP's step (bench_train_step): forward x @ W1^T, weight gradient g^T @ x.
    {"mlp-fwd:4096x784xT512", NNF_NO_TRANS, NNF_TRANS, 4096, 512, 784},
    {"mlp-wgrad:T512x4096x784", NNF_TRANS, NNF_NO_TRANS, 512, 784, 4096},
    // The chapter's 50 -> 1 layer backward: input gradient y.g @ w (depth 1, an outer
    // product) and the bias gradient ones @ y.g (one element; Lin restarts it every 32).
    {"outer:200x1x50", NNF_NO_TRANS, NNF_NO_TRANS, 200, 50, 1},
    {"dot:1x200x1", NNF_NO_TRANS, NNF_NO_TRANS, 1, 1, 200},
    // The chapter's Linear, lin(x, w, b) = x @ w + b with w stored in x out, at batch 8.
    {"linear-b8-NN:8x784x512", NNF_NO_TRANS, NNF_NO_TRANS, 8, 512, 784},
    // A training minibatch through the 784 -> 512 Linear, w stored out x in and in x out
    // (the chapter's): few rows against a large B, taken column block by column block
    // (sgemm_paths.c, nnf__sgemm_b_by_columns). Both are 2-thread rows of scripts/main.sh.
    {"linear-b64:64x784xT512", NNF_NO_TRANS, NNF_TRANS, 64, 512, 784},
    {"linear-b64-NN:64x784x512", NNF_NO_TRANS, NNF_NO_TRANS, 64, 512, 784},
};
inline constexpr int n_shapes = sizeof shapes / sizeof shapes[0];

// Operands for one shape, stored as the transposes say, filled in [-1, 1).
struct operands {
    floats a, b, c;
    size_t lda, ldb, ldc;
    explicit operands(const shape &s)
    {
        size_t ra = s.ta == NNF_NO_TRANS ? s.m : s.k, ca = s.ta == NNF_NO_TRANS ? s.k : s.m;
        size_t rb = s.tb == NNF_NO_TRANS ? s.k : s.n, cb = s.tb == NNF_NO_TRANS ? s.n : s.k;
        lda = ca;
        ldb = cb;
        ldc = s.n;
        a.resize(ra * ca);
        b.resize(rb * cb);
        c.assign((size_t)s.m * s.n, 0.0f);
        uint64_t x = 0x243F6A8885A308D3ull;
        for (auto *v : {&a, &b})
            for (float &f : *v) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                f = (float)((x >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
            }
    }
};

inline nnf_status run_nnf(const shape &s, operands &o)
{
    return nnf_sgemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb,
                     0.0f, o.c.data(), o.ldc);
}

inline gemm_args args_of(const shape &s, const operands &o, float *c)
{
    return {s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), (int)o.lda,
            o.b.data(), (int)o.ldb, 0.0f, c, (int)o.ldc};
}

}  // namespace nnf_bench::sgemm_rows

#endif
