// The libraries nnf is measured against, every one called the same way. A benchmark
// (bench_sgemm, bench_train_step, bench_contention) uses only this header; which peers
// exist is decided when bench/ is configured (each one optional, see meson.build).
//
//   peer         library and call                             threads set by
//   openblas     OpenBLAS cblas_sgemm                         openblas_set_num_threads
//   blis         BLIS bli_sgemm_ex (its native API; where     bli_thread_set_num_threads
//                BLIS does not know the CPU, with the
//                contexts of its best configurations:
//                blis_choose in peers.cc)
//   onednn       oneDNN dnnl_sgemm (row-major, like nnf)      omp_set_num_threads (shared
//                                                             with nnf: one libgomp)
//   onednn_ip    oneDNN inner product with its weights in     omp_set_num_threads
//                format_tag::any, created and packed once:
//                the peer for a prepacked x @ W^T (A not
//                transposed, alpha 1, beta 0)
//   libxsmm      libxsmm_sgemm (column-major: called with     runs on the calling thread;
//                the operands swapped); it JITs a kernel     beyond its JIT kernels the
//                where B is not transposed and m n k <=      BLAS's call
//                64^3, else calls the BLAS sgemm_ it is
//                linked with (peers_info names which)
//   c            plain C loops (i, p, j order)                one thread
//
// Use:
//
//     int main(int argc, char **argv)
//     {
//         nnf_bench::peers_init(argc, argv);   // first thing: may re-exec the binary
//         benchmark::Initialize(&argc, argv);
//         ...
//     }
//
//     nnf_bench::gemm_args g{NNF_NO_TRANS, NNF_TRANS, m, n, k, 1.0f, a, lda, b, ldb,
//                            0.0f, c, ldc};          // row-major, as nnf_sgemm takes it
//     for (nnf_bench::peer p : nnf_bench::all_peers) {
//         std::string why;
//         auto run = nnf_bench::peer_prepare(p, g, &why);  // null, and why: not here
//         if (run) run->call();                  // C = alpha op(A) op(B) + beta C
//     }
//     nnf_bench::peer_sgemm(nnf_bench::peer::onednn, g);  // one call, nothing prepared
//
// peers_init makes every peer use its best kernels for this CPU whatever the
// environment says (OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, so the binary
// re-executes itself with the value set: the environment of this kind of machine sets
// OPENBLAS_CORETYPE=Haswell, which halves OpenBLAS's speed on an AVX-512 CPU), prints
// which kernels each peer uses, and adds the same lines to Google Benchmark's JSON
// context. `--peers_info` prints them and exits.
#ifndef NNF_BENCH_PEERS_H
#define NNF_BENCH_PEERS_H

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "nnf/nnf.h"
}

namespace nnf_bench {

enum class peer { openblas, blis, onednn, onednn_ip, libxsmm, c };
constexpr peer all_peers[] = {peer::openblas, peer::blis,    peer::onednn,
                              peer::onednn_ip, peer::libxsmm, peer::c};

// A row-major product C = alpha op(A) op(B) + beta C, as nnf_sgemm takes it: op(A) is
// m x k, op(B) k x n, leading dimensions in elements.
struct gemm_args {
    nnf_trans ta, tb;
    int m, n, k;
    float alpha;
    const float *a;
    int lda;
    const float *b;
    int ldb;
    float beta;
    float *c;
    int ldc;
};

// Re-executes the binary (once) if a variable that steers a peer's choice of kernels is
// not what this CPU's best kernels need, then initialises the peers and records their
// kernels (stderr and the JSON context). With `--peers_info` in argv: prints those lines
// as "key: value" on stdout and exits.
void peers_init(int argc, char **argv);

// "openblas", "blis", ... as in the table above.
const char *peer_name(peer p);

// True if the peer was found when bench/ was configured and answered at start.
bool peer_available(peer p);

// The peer's thread count from now on (see the table for what else that changes).
void peer_set_threads(peer p, int threads);

// One product through the peer, nothing prepared. False if the peer is not available,
// is a prepared-only peer (onednn_ip) or failed.
bool peer_sgemm(peer p, const gemm_args &g);

// A product made ready to run many times on the same pointers (g's a, b and c): for
// onednn_ip op(B) is packed here, so later changes to B are not seen.
struct prepared {
    virtual ~prepared() = default;
    virtual bool call() = 0;        // C = alpha op(A) op(B) + beta C; false: failed
    double pack_seconds = 0;        // packing op(B) (median of 5), 0 if nothing is packed
    std::string kernel;             // the implementation chosen for this product, if known
};

// Null (with the reason in *why) if the peer is not available or cannot compute this
// product (onednn_ip: A transposed, alpha != 1 or beta != 0; c: products above 128^3,
// where plain loops take seconds).
std::unique_ptr<prepared> peer_prepare(peer p, const gemm_args &g, std::string *why);

// Every library to one thread (nnf through nnf_set_num_threads, every peer) and nnf to
// its widest ISA, for rows that compare them; returns that ISA.
nnf_isa one_thread_widest_isa();

// Times g through the peer in state's loop (prepared first); skips the row with the
// reason if the peer cannot run it. False if skipped.
bool time_peer(benchmark::State &state, peer p, const gemm_args &g);

// Whether `got` is a correct C for g (beta 0) given nnf's `ref`: every element within
// 2.5 gamma_k (|alpha| |op(A)| |op(B)|)_ij of it (gamma_k = k u / (1 - k u), u = 2^-24),
// the bound any summation order meets, so a transposed operand, a wrong leading
// dimension or reduced precision shows and rounding never does. *why says where not.
bool gemm_agrees(const gemm_args &g, const float *ref, const float *got, std::string *why);

// What each peer runs on this machine, as (key, value): library versions, OpenBLAS's
// core type and how it was chosen, BLIS's configuration, oneDNN's ISA, libxsmm's target
// and BLAS, the variables peers_init changed.
const std::vector<std::pair<std::string, std::string>> &peers_info();

}  // namespace nnf_bench

#endif
