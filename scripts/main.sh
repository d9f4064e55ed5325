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

echo; echo "=== Benchmarks (1 thread unless the row says otherwise; medians of 5)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
bench() {  # bench NAME FILTER
    build/main/bench/bench_"$1" --benchmark_filter="$2" --benchmark_repetitions=5 \
        --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true \
        --benchmark_min_time=0.05 2>&1 | grep -E '_median|^Benchmark|^-+$' || true
}
bench sgemm 'square/.*/512|chapter'
bench eltwise 'add'
bench reduce 'chapter'
bench train_step '.'

echo; echo "=== Peers: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') and numpy, same machine, 1 thread"
for s in scripts/peers_*.py; do /usr/bin/python3 "$s" --quick; done

echo; echo "=== Training on Fashion-MNIST"
build/main/examples/train_fashion_mnist
