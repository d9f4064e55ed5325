#!/usr/bin/env bash
# Sets everything up and runs nnf's main job:
#   1. nnf-info: version, ISAs compiled in / supported / active, threads;
#   2. benchmarks with the peers in the same run (bench/peers.h: OpenBLAS, BLIS, oneDNN,
#      libxsmm, plain C; PyTorch and numpy in their own processes). The Google Benchmark
#      JSON of every run, the raw console output (raw.log) and plots (scripts/bench_plot.py)
#      go to bench/results/<date>-<cpu>/; the job prints one table (scripts/bench_table.py,
#      also written there as table.md), and instructions per call of the small products
#      (bench_instructions: instructions.md);
#   3. training an MLP on Fashion-MNIST (cross-entropy, then the chapter's MSE).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [ -f build/main/build.ninja ]; then meson setup --reconfigure build/main -Dbench=enabled -Dexamples=enabled >/dev/null
else meson setup build/main -Dbench=enabled -Dexamples=enabled; fi
ninja -C build/main

echo; echo "=== nnf-info"
build/main/tools/nnf-info

cpuinfo() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2 | tr -cs 'A-Za-z0-9' '-' | sed 's/^-//; s/-$//'; }
results=bench/results/$(date +%Y-%m-%d-%H%M)-$(cpuinfo 'model name' | tr 'A-Z' 'a-z')-f$(cpuinfo 'cpu family')m$(cpuinfo 'model[[:space:]]*:')
mkdir -p "$results"
log=$results/raw.log
: >"$log"
echo; echo "=== Benchmarks: JSON, raw output and plots in $results"
echo "before: $(cut -d' ' -f1-3 /proc/loadavg)" >"$results/load.txt"

b=build/main/bench
# Every bench binary gives its peers their best kernels for this CPU itself, whatever the
# environment says (peers_init in bench/peers.cc). PyTorch and numpy load OpenBLAS too:
# they get the core type the binaries chose.
core=$($b/bench_sgemm --peers_info | sed -n 's/.*(OPENBLAS_CORETYPE=\([A-Za-z0-9]*\)).*/\1/p')
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
[ -n "$core" ] && export OPENBLAS_CORETYPE=$core
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

run() {  # run NAME BINARY ARGS...: JSON to NAME.json, console output to raw.log
    local name=$1; shift
    echo "--- $name: $*" >>"$log"
    "$@" --benchmark_out="$results/$name.json" --benchmark_out_format=json >>"$log" 2>&1
}
# One thread, every library taking turns in the same rounds (bench/compare.h;
# NNF_BENCH_ROUNDS rounds, 11 unless set).
run sgemm $b/bench_sgemm --benchmark_filter='^(machine|sgemm/)'
run train_step $b/bench_train_step --benchmark_filter='^train_step/'
# Two threads at 1024^3, 2048^3 and a 64-row Linear, x @ W^T and x @ W (shapes 13, 14,
# 25 and 26 of bench_sgemm.cc), one library per process: an idle OpenMP team or OpenBLAS pool keeps
# spinning for a while after a call, and on a 2-core machine it would take a core from
# another library's next call.
two=(--benchmark_repetitions=3 --benchmark_min_time=0.2)
OMP_NUM_THREADS=2 run sgemm_2t_nnf $b/bench_sgemm \
    --benchmark_filter='BM_nnf/[12]/(1[34]|2[56])/2' "${two[@]}"
for p in 0 1 2; do   # openblas, blis, onednn: the order of peers.h
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
        run sgemm_2t_peer$p $b/bench_sgemm --benchmark_filter="BM_peer/$p/(1[34]|2[56])/2" "${two[@]}"
done
# The rest: repetitions interleaved at random, so a slow spell lands on every row alike.
five=(--benchmark_repetitions=5 --benchmark_enable_random_interleaving=true --benchmark_min_time=0.05)
run matmul $b/bench_matmul "${five[@]}"
run eltwise $b/bench_eltwise "${five[@]}" \
    --benchmark_filter='BM_(add|relu)/isa:[0-9]/threads:1/|BM_stream_(copy|triad)/threads:1|BM_c_(add|relu)/threads:1'
run reduce $b/bench_reduce "${five[@]}" --benchmark_filter='BM_(sum|stream_read|chapter|normalize)'
{
    echo "--- PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') and numpy, 1 thread"
    /usr/bin/python3 scripts/peers_train_step.py --json "$results/pytorch_train_step.json"
    /usr/bin/python3 scripts/peers_eltwise.py
    /usr/bin/python3 scripts/peers_reduce.py
} >>"$log" 2>&1
echo "after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/load.txt"
# Instructions per call of the small products (exact, so after the timed runs, not beside
# them). Where ptrace is not allowed (some containers), the job goes on without them.
$b/bench_instructions >"$results/instructions.md" 2>>"$log" ||
    echo "Instructions per call: not counted (bench_instructions failed: $log)" >"$results/instructions.md"

echo
/usr/bin/python3 scripts/bench_table.py "$results"
/usr/bin/python3 scripts/bench_plot.py "$results"
echo; sed -n '/^Instructions per call/,$p' "$results/instructions.md"
echo "(PyTorch and numpy on the elementwise and reduction rows: $log)"

echo; echo "=== Training on Fashion-MNIST"
OMP_NUM_THREADS=$(nproc) build/main/examples/train_fashion_mnist --loss both
