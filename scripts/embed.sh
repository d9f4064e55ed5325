#!/usr/bin/env bash
# Installs nnf into a temporary prefix and builds tests/embed/embed.c against it as an
# outside program would, in four ways, then runs each:
#   pkg-config nnf         libnnf.so, found at run time through an rpath
#   pkg-config nnf-static  libnnf.a
#   CMake nnf::nnf         libnnf.so (find_package(nnf <version>), CMAKE_PREFIX_PATH)
#   CMake, NNF_USE_STATIC_LIBS=ON   libnnf.a
# and once more with CMake after the installed tree has been moved (the package finds
# its files relative to itself). Each program must load libnnf.so exactly when it should.
# Where nnf was built with MPI, an MPI program (tests/embed/dist) is built on libnnf_dist
# with pkg-config nnf-dist and CMake's nnf::nnf_dist, and run on 2 ranks.
#
# Usage: scripts/embed.sh [BUILD_DIR]   (default build/install); scripts/test.sh's
# `embed` stage runs it. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/install}
jobs=$(nproc)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix" "$prefix.moved"' EXIT

opts=(--prefix="$prefix" -Dtests=disabled -Dbench=disabled -Dexamples=disabled)
if [ -f "$build/build.ninja" ]; then meson setup --reconfigure "$build" "${opts[@]}" >/dev/null
else meson setup "$build" "${opts[@]}" >/dev/null; fi
ninja -C "$build" -j"$jobs" >/dev/null
meson install -C "$build" --quiet >/dev/null
pcdir=$(dirname "$(find "$prefix" -name nnf.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir nnf)
version=$(pkg-config --modversion nnf)
echo "embed: nnf $version installed in $prefix (libdir ${libdir#"$prefix"/})"

out=$build/embed
rm -rf "$out"
mkdir -p "$out"

quiet() {  # quiet LOG COMMAND...: the command's output goes to LOG, shown if it fails
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then cat "$log"; echo "embed: FAILED: $*"; return 1; fi
}

run() {  # run NAME EXE shared|static
    local name=$1 exe=$2 kind=$3 loads=0
    readelf -d "$exe" | grep -q 'NEEDED.*\[libnnf\.so' && loads=1
    if [ "$kind" = shared ] && [ $loads = 0 ]; then
        echo "embed: FAILED: $name does not load libnnf.so"; return 1
    fi
    if [ "$kind" = static ] && [ $loads = 1 ]; then
        echo "embed: FAILED: $name loads libnnf.so instead of linking libnnf.a"; return 1
    fi
    printf 'embed: %-22s ' "$name"
    "$exe"
}

warn=(-Wall -Wextra -Werror)
# shellcheck disable=SC2046
quiet "$out/pc-shared.log" cc -std=c11 "${warn[@]}" -o "$out/pc-shared" tests/embed/embed.c \
    $(pkg-config --cflags --libs nnf) -Wl,-rpath,"$libdir"
run "pkg-config nnf" "$out/pc-shared" shared
# shellcheck disable=SC2046
quiet "$out/pc-static.log" cc -std=c11 "${warn[@]}" -o "$out/pc-static" tests/embed/embed.c \
    $(pkg-config --cflags --libs nnf-static)
run "pkg-config nnf-static" "$out/pc-static" static

cmake_build() {  # cmake_build DIR PREFIX STATIC(ON|OFF)
    quiet "$1.log" cmake -S tests/embed -B "$1" -DCMAKE_PREFIX_PATH="$2" \
        -DNNF_EXPECT_VERSION="$version" -DNNF_USE_STATIC_LIBS="$3" \
        -DCMAKE_C_FLAGS="${warn[*]}"
    quiet "$1.build.log" cmake --build "$1" -j "$jobs"
}
cmake_build "$out/cmake-shared" "$prefix" OFF
run "cmake nnf::nnf" "$out/cmake-shared/embed" shared
cmake_build "$out/cmake-static" "$prefix" ON
run "cmake nnf::nnf static" "$out/cmake-static/embed" static

# libnnf_dist, where nnf was built with MPI: an MPI program through pkg-config nnf-dist
# and through CMake's nnf::nnf_dist, each run on 2 ranks.
if [ -f "$libdir/libnnf_dist.a" ]; then
    mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
    # shellcheck disable=SC2046
    quiet "$out/pc-dist.log" cc -std=c11 "${warn[@]}" -o "$out/pc-dist" \
        tests/embed/dist/embed_dist.c $(pkg-config --cflags --libs nnf-dist)
    printf 'embed: %-22s ' "pkg-config nnf-dist"
    "${mpi[@]}" "$out/pc-dist"
    quiet "$out/cmake-dist.log" cmake -S tests/embed/dist -B "$out/cmake-dist" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="${warn[*]}"
    quiet "$out/cmake-dist.build.log" cmake --build "$out/cmake-dist" -j "$jobs"
    printf 'embed: %-22s ' "cmake nnf::nnf_dist"
    "${mpi[@]}" "$out/cmake-dist/embed_dist"
fi

mv "$prefix" "$prefix.moved"
cmake_build "$out/cmake-moved" "$prefix.moved" OFF
run "cmake, tree moved" "$out/cmake-moved/embed" shared

