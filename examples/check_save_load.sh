#!/usr/bin/env bash
# The test of train_fashion_mnist --save / --load (meson test --suite examples): train
# briefly and save, then load into a fresh model and only evaluate. The loaded weights
# are the trained ones bit for bit, so the test accuracy and the first predictions must
# be the same, to the last digit.
#     check_save_load.sh TRAIN_FASHION_MNIST [training options...]
set -euo pipefail
# Under a cross build meson names the emulator that runs the program (qemu-aarch64 -L /).
read -r -a wrapper <<< "${MESON_EXE_WRAPPER:-}"
exe=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
summary() { grep -E -o '^Test accuracy [0-9.]+%|^The first test images:.*'; }
trained=$("${wrapper[@]}" "$exe" "$@" --quiet --save "$dir/w.npz" | summary)
loaded=$("${wrapper[@]}" "$exe" "$@" --quiet --load "$dir/w.npz" --epochs 0 | summary)
printf 'trained and saved:\n%s\nloaded:\n%s\n' "$trained" "$loaded"
[ -n "$trained" ] && [ "$trained" = "$loaded" ]
