#!/bin/sh
# train_fashion_mnist and `mpirun -np N train_fashion_mnist --dist` must print the same
# epoch lines and final accuracy (the time column aside): the micro-batch rule makes the
# ranks' data-parallel step the single process's step, bit for bit.
#     check_dist.sh PROGRAM MPIRUN [train_fashion_mnist options]
set -eu
prog=$1
mpirun=$2
shift 2
results() {
    awk '/^ +[0-9]+ +[0-9.]+ +[0-9.]+% +[0-9.]+%/ { print $1, $2, $3, $4 }
         /^Test accuracy/ { print $1, $2, $3 }'
}
want=$("$prog" "$@" | results)
[ -n "$want" ] || { echo "no epoch lines from $prog $*"; exit 1; }
for np in 2 3; do
    got=$("$mpirun" --allow-run-as-root --oversubscribe -np "$np" "$prog" --dist "$@" | results)
    if [ "$got" != "$want" ]; then
        printf 'mpirun -np %s ... --dist printed\n%s\ninstead of\n%s\n' "$np" "$got" "$want"
        exit 1
    fi
done
printf '1, 2 and 3 ranks:\n%s\n' "$want"
