#!/usr/bin/env bash
# Sets everything up and runs every test nnf has:
#   1. native release build: every test case once per ISA this CPU supports
#      (scalar, AVX2, AVX-512 here), examples included;
#   2. aarch64 cross build: the same tests on scalar and NEON under qemu-aarch64;
#   3. ASan + UBSan build of the whole suite;
#   4. valgrind (memcheck) over the suite with NNF_ISA=avx2 (valgrind cannot decode AVX-512);
#   5. install into a temporary prefix and build an outside program against it with
#      pkg-config and with CMake, shared and static, as an embedding user would.
# Ends with one line "N passed, N failed" over all of it; exits non-zero on any failure.
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
has avx2 fma f16c && native_isas+=,avx2
has avx2 fma f16c avx512f avx512dq avx512bw avx512vl && native_isas+=,avx512

stage() {  # stage NAME COMMAND...: run, remember failures, keep going
    local name=$1; shift
    echo; echo "=== $name"
    if "$@"; then echo "=== $name: ok"; else echo "=== $name: FAILED"; failed_stages+=("$name"); fi
}

native() {
    setup build/native -Dtests=enabled -Dexamples=enabled
    ninja -C build/native -j"$jobs"
    NNF_TEST_REQUIRE_ISAS=$native_isas meson test -C build/native --print-errorlogs --num-processes 1
}
arm() {
    setup build/arm --cross-file cross/aarch64-linux-gnu.ini -Dtests=enabled -Dexamples=enabled
    ninja -C build/arm -j"$jobs"
    NNF_TEST_REQUIRE_ISAS=scalar,neon meson test -C build/arm --print-errorlogs \
        --timeout-multiplier 10 --num-processes 2
}
sanitizers() {
    setup build/asan -Dtests=enabled -Dexamples=enabled -Dbench=disabled \
        -Db_sanitize=address,undefined -Dbuildtype=debugoptimized
    ninja -C build/asan -j"$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    NNF_TEST_REQUIRE_ISAS=$native_isas meson test -C build/asan --print-errorlogs \
        --timeout-multiplier 4 --num-processes 1 --no-suite examples
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

stage "native tests ($native_isas)" native
stage "aarch64 tests under qemu (scalar,neon)" arm
stage "ASan+UBSan tests" sanitizers
stage "valgrind memcheck (NNF_ISA=avx2)" memcheck
stage "install + embedding (pkg-config, CMake; shared, static)" embed

# One closing line over every meson test run above.
/usr/bin/python3 - build/native build/arm build/asan <<'PY'
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for d in sys.argv[1:]:
    for base in ("testlog.json", "memchecklog.json"):
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
