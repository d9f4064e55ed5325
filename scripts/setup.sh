#!/usr/bin/env bash
# Installs everything nnf needs on Debian 12, as root: the native toolchain and
# libraries, the peers used by benchmarks and golden data, the Fashion-MNIST data, and
# the aarch64 cross toolchain + arm64 multiarch libraries whose tests run under qemu.
# Idempotent: returns at once when everything is already installed.
set -euo pipefail

native=(gcc g++ meson ninja-build pkg-config cmake python3
        libsleef-dev libcmocka-dev libbenchmark-dev zlib1g-dev
        libopenblas-dev libblis-dev libdnnl-dev libxsmm-dev python3-numpy python3-torch
        python3-matplotlib libopenmpi-dev openmpi-bin
        dataset-fashion-mnist valgrind clang-14 libclang-rt-14-dev)
cross=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
       libc6:arm64 libgomp1:arm64 libsleef-dev:arm64 libcmocka-dev:arm64 zlib1g-dev:arm64)

missing=()
for p in "${native[@]}" "${cross[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
