#!/bin/sh
# One process against 2 ranks (1 thread each) on bench_dist, the runs interleaved so that
# a change in the machine's load hits both alike: for each batch, `rounds` pairs, then the
# median ms/step of each side and the 2-rank speed-up (README, "Beyond one machine").
#
#     bench/bench_dist.sh build/native/bench/bench_dist [rounds (3)] [batches ("128 512 1024")]
#
# On a shared machine, run it under `nice -n -10` (as root) so that the two ranks wait
# less for a core; the load average is printed before and after.
set -eu
exe=$1
rounds=${2:-3}
batches=${3:-128 512 1024}
mpirun="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && mpirun="$mpirun --allow-run-as-root"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
uptime
for b in $batches; do
    for r in $(seq "$rounds"); do
        NNF_NUM_THREADS=1 "$exe" --batch "$b" --steps 80 | sed 's/^/one: /' | tee -a "$out"
        NNF_NUM_THREADS=1 $mpirun -np 2 "$exe" --dist --batch "$b" --steps 80 |
            sed 's/^/two: /' | tee -a "$out"
    done
done
uptime
awk '{ for (i = 1; i < NF; i++) { if ($i == "batch") b = $(i + 1) + 0
                                   if ($i == "ms/step") ms = $(i - 1) + 0 }
       k = ++n[$1, b]; t[$1, b, k] = ms; seen[b] = 1 }
     function median(side, b,   k, i, j, x, a) {
         k = n[side, b]
         for (i = 1; i <= k; i++) a[i] = t[side, b, i]
         for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
         return a[int((k + 1) / 2)]
     }
     END { for (b in seen) printf "batch %d: one process %.3f ms/step, 2 ranks %.3f: %.2fx\n",
                                  b, median("one:", b), median("two:", b),
                                  median("one:", b) / median("two:", b) }' "$out" | sort -n -k2
