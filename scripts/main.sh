#!/usr/bin/env bash
# Sets everything up and runs nnf's main job:
#   1. nnf-info: version, ISAs compiled in / supported / active, threads;
#   2. a per-ISA benchmark summary with peers in the same run (OpenBLAS, BLIS, plain C,
#      PyTorch 1.13 and numpy), medians of repeated runs;
#   3. training an MLP on Fashion-MNIST (cross-entropy, then the chapter's MSE).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [ -f build/main/build.ninja ]; then meson setup --reconfigure build/main -Dbench=enabled -Dexamples=enabled >/dev/null
else meson setup build/main -Dbench=enabled -Dexamples=enabled; fi
ninja -C build/main

echo; echo "=== nnf-info"
build/main/tools/nnf-info

echo; echo "=== Benchmarks: 1 thread, medians of 5 runs, peers in the same binary"
# OpenBLAS 0.3.21 does not know newer Intel cores and falls back to SSE3 ("Prescott")
# kernels there; a fair peer gets its AVX-512 kernels (what it picks on Skylake-X and Zen 4).
if grep -qw avx512f /proc/cpuinfo && [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Repetitions are interleaved at random: on a shared machine a slow spell then lands on
# every row alike instead of on whichever ran during it.
bench() {  # bench NAME FILTER
    echo "--- bench_$1"
    build/main/bench/bench_"$1" --benchmark_filter="$2" --benchmark_repetitions=5 \
        --benchmark_enable_random_interleaving=true \
        --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true \
        --benchmark_min_time=0.05 2>/dev/null | grep -E '_median' | sed 's/_median//'
}
bench peak '.'
bench sgemm 'BM_(nnf/[12]|openblas|blis)/[0-9]+/1$'
bench sgemm 'BM_paired'   # nnf against OpenBLAS call by call: the steadiest ratio
# Two threads on the large squares, one library per process: an idle OpenMP team (nnf)
# or OpenBLAS pool keeps spinning for a while after a call, and on a 2-core machine it
# would take a core from the other library's next call.
OMP_NUM_THREADS=2 bench sgemm 'BM_nnf/[12]/1[34]/[12]'
OPENBLAS_NUM_THREADS=2 bench sgemm 'BM_openblas/1[34]/[12]'
bench matmul '.'
bench eltwise 'BM_(add|relu)/isa:[0-9]/threads:1/|BM_stream_(copy|triad)/threads:1|BM_c_(add|relu)/threads:1'
bench reduce 'BM_(sum|stream_read|chapter|normalize)'
bench train_step '.'

echo; echo "=== Peers: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') and numpy on the same machine, 1 thread"
for s in scripts/peers_*.py; do echo "--- $s"; /usr/bin/python3 "$s"; done

echo; echo "=== Training on Fashion-MNIST"
OMP_NUM_THREADS=$(nproc) build/main/examples/train_fashion_mnist --loss both
