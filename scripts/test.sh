#!/usr/bin/env bash
# Sets everything up and runs every test nnf has:
#   1. native release build: every test case once per ISA this CPU supports
#      (scalar, scalar_fma, AVX2, AVX-512 here) and on the dummy ISA "test"
#      (-Dtest_isa=true), examples included;
#   2. aarch64 cross build: the same tests on scalar and NEON under qemu-aarch64;
#   3. one clang-14 build with ASan + UBSan and libFuzzer's coverage (-Werror as
#      everywhere): the whole unit suite, then the fuzz targets (their corpus and 30 s
#      each with a fixed seed; any finding fails), then each target finding the bug
#      planted for it (scripts/fuzz.sh);
#   4. ThreadSanitizer over the threading tests, and a planted race it must report
#      (scripts/tsan.sh);
#   5. valgrind (memcheck) over the suite with NNF_ISA=avx2 (valgrind cannot decode AVX-512);
#   6. install into a temporary prefix and build an outside program against it with
#      pkg-config and with CMake, shared and static, as an embedding user would.
# Each stage prints its wall time and a table of them comes at the end, then one line
# "N passed, N failed, N skipped" over every meson test; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
failed_stages=()

setup() {  # setup DIR ARGS...: configure once, reconfigure afterwards
    local dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
    else meson setup "$dir" "$@"; fi
}

# Which ISAs must run natively: what the kernel reports in /proc/cpuinfo, checked
# independently of nnf's own detection.
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
native_isas=scalar
has avx fma && native_isas+=,scalar_fma
has avx2 fma f16c && native_isas+=,avx2
has avx2 fma f16c avx512f avx512dq avx512bw avx512vl && native_isas+=,avx512

source scripts/fuzz.sh
source scripts/tsan.sh

stage_table=()
minutes() { printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); }
stage() {  # stage NAME COMMAND...: run, remember failures and wall time, keep going
    local name=$1 start=$SECONDS result=ok; shift
    echo; echo "=== $name"
    "$@" || result=FAILED
    local secs=$((SECONDS - start))
    echo "--- wall time: $(minutes $secs)"
    echo "=== $name: $result"
    [ $result = ok ] || failed_stages+=("$name")
    stage_table+=("$(printf '  %-50s %9s  %s' "$name" "$(minutes $secs)" $result)")
}

native() {
    # test_isa: the dummy ISA runs every cross-ISA test here, the cheapest full-suite build.
    setup build/native -Dtests=enabled -Dexamples=enabled -Dtest_isa=true
    ninja -C build/native -j"$jobs"
    NNF_TEST_REQUIRE_ISAS=$native_isas,test meson test -C build/native --print-errorlogs --num-processes 1
}
arm() {
    setup build/arm --cross-file cross/aarch64-linux-gnu.ini -Dtests=enabled -Dexamples=enabled
    ninja -C build/arm -j"$jobs"
    NNF_TEST_REQUIRE_ISAS=scalar,neon meson test -C build/arm --print-errorlogs \
        --timeout-multiplier 10 --num-processes 2
}
# clang 14 does not define FP_FAST_FMA under -mfma, and sleef.h declares its FMA
# functions only when it is defined (FACTS.md; issue 10, item 8).
clang_build() {
    CC=clang-14 CXX=clang++-14 setup build/clang -Dtests=enabled -Dexamples=disabled \
        -Dbench=disabled -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized "-Dc_args=-DFP_FAST_FMA -fsanitize=fuzzer-no-link"
    ninja -C build/clang -j"$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    LSAN_OPTIONS=use_tls=0:suppressions=$PWD/tests/lsan_glibc.supp \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    NNF_TEST_REQUIRE_ISAS=$native_isas meson test -C build/clang --print-errorlogs \
        --timeout-multiplier 4 --num-processes 1 --suite unit
}
memcheck() {
    # Reuses the native build; AVX-512 is left out because valgrind cannot decode it.
    NNF_ISA=avx2 NNF_TEST_ISAS=scalar,avx2 meson test -C build/native --print-errorlogs --num-processes 2 \
        --timeout-multiplier 20 --suite unit --logbase memchecklog \
        --wrapper 'valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite -q'
}
embed() {
    bash scripts/embed.sh build/install
}

stage "native tests ($native_isas,test)" native
stage "aarch64 tests under qemu (scalar,neon)" arm
stage "clang-14 ASan+UBSan tests ($native_isas)" clang_build
stage "fuzz targets: corpus + 30 s each (-seed=1)" fuzz_ci build/clang 30
stage "fuzz targets find their planted bugs" fuzz_planted build/clang 30
stage "ThreadSanitizer (threading tests)" tsan
stage "ThreadSanitizer sees a planted race" tsan_planted_race
stage "valgrind memcheck (NNF_ISA=avx2)" memcheck
stage "install + embedding (pkg-config, CMake; shared, static)" embed

echo; echo "stage times (wall, $(nproc) CPUs):"
printf '%s\n' "${stage_table[@]}"
echo "  total: $(minutes $SECONDS)"

# One closing line over every meson test run above.
/usr/bin/python3 - build/native build/arm build/clang <<'PY'
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for d in sys.argv[1:]:
    for base in ("testlog.json", "memchecklog-valgrind.json"):  # --logbase + wrapper name
        log = os.path.join(d, "meson-logs", base)
        if not os.path.exists(log):
            continue
        for line in open(log):
            r = json.loads(line)["result"]
            key = "passed" if r in ("OK", "EXPECTEDFAIL") else "skipped" if r == "SKIP" else "failed"
            counts[key] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
if [ ${#failed_stages[@]} -ne 0 ]; then
    echo "failed stages: ${failed_stages[*]}"
    exit 1
fi
