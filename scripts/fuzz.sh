# The libFuzzer targets of fuzz/ (issue 10), for scripts/test.sh (which sources this
# file) and by hand:
#     bash scripts/fuzz.sh ci BUILD [SECONDS]        each target: its corpus, then SECONDS
#                                                   (30) of fuzzing with -seed=1; any
#                                                   finding fails
#     bash scripts/fuzz.sh planted BUILD [SECONDS]   each target finds its planted bug
#                                                   (src/core/plant.h) within SECONDS (30)
#     bash scripts/fuzz.sh campaign BUILD SECONDS [TARGET...]
#                                                   longer runs at nice 19, random seeds
# BUILD is a meson build configured with CC=clang-14 -Dfuzz=enabled and c_args holding
# -fsanitize=fuzzer-no-link (scripts/test.sh's clang stage makes build/clang). Findings
# are written to BUILD/fuzz-findings/<target>-crash-<sha1>; reproduce one with
#     BUILD/fuzz/fuzz_<target> BUILD/fuzz-findings/<target>-crash-<sha1>
# New inputs go to BUILD/fuzz-work/<target>, never into the committed corpus: a finding
# that is fixed is added to fuzz/corpus/<target>/ by hand, with a test in tests/.

fuzz_targets=(einsum views broadcast sgemm idx model npz)

fuzz_env() {
    # UBSan must stop at the first report for libFuzzer to keep the input.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$@"
}

# fuzz_one BUILD TARGET SECONDS SEED [BINARY_SUFFIX]: fuzz from the corpus; 0 if nothing found.
fuzz_one() {
    local build=$1 t=$2 secs=$3 seed=$4 suffix=${5:-}
    local work=$build/fuzz-work/$t$suffix findings=$build/fuzz-findings
    mkdir -p "$work" "$findings"
    fuzz_env "$build/fuzz/fuzz_$t$suffix" -seed="$seed" -max_total_time="$secs" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/$t$suffix-" \
        "$work" "fuzz/corpus/$t" 2>&1
}

# Replays the corpus (every seed and past finding) and fuzzes each target for SECONDS.
fuzz_ci() {
    local build=$1 secs=${2:-30} t log failed=()
    log=$(mktemp)
    for t in "${fuzz_targets[@]}"; do
        if fuzz_one "$build" "$t" "$secs" 1 >"$log"; then
            echo "fuzz_$t: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" |
                             grep -o '[0-9]*$') runs in ${secs} s (-seed=1), no finding"
        else
            echo "fuzz_$t: FINDING"; grep -E 'ERROR|fuzz property|SUMMARY|Test unit written' "$log" |
                head -8
            failed+=("$t")
        fi
    done
    rm -f "$log"
    [ ${#failed[@]} -eq 0 ] || { echo "fuzz targets with findings: ${failed[*]}"; return 1; }
}

# Each target, on the library with its planted bug, must report a finding within SECONDS
# (-seed=1, so the proof repeats), and that input must pass on the real library: the
# finding is the plant, not a real bug found first.
fuzz_planted() {
    local build=$1 secs=${2:-30} t log failed=()
    log=$(mktemp)
    for t in "${fuzz_targets[@]}"; do
        rm -rf "$build/fuzz-work/${t}_planted"
        rm -f "$build/fuzz-findings/${t}_planted-"*
        local start=$SECONDS
        if NNF_FUZZ_PLANT=$t fuzz_one "$build" "$t" "$secs" 1 _planted >"$log"; then
            echo "fuzz_$t: the planted bug was NOT found in $secs s"; failed+=("$t"); continue
        fi
        local found; found=$(ls "$build/fuzz-findings/${t}_planted-"* 2>/dev/null | head -1)
        local why; why=$(grep -m1 -E 'fuzz property broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log")
        if [ -z "$found" ]; then
            echo "fuzz_$t: the planted run failed without a finding:"; tail -5 "$log"
            failed+=("$t")
        elif ! fuzz_env "$build/fuzz/fuzz_$t" "$found" >"$log" 2>&1; then
            echo "fuzz_$t: its finding also fails on the real library (a real bug):"
            grep -m3 -E 'ERROR|fuzz property' "$log"; failed+=("$t")
        else
            echo "fuzz_$t: planted bug found in $((SECONDS - start)) s: ${why:0:150}"
        fi
    done
    rm -f "$log"
    [ ${#failed[@]} -eq 0 ] || { echo "targets that missed their plant: ${failed[*]}"; return 1; }
}

fuzz_campaign() {
    local build=$1 secs=$2; shift 2
    local targets=("$@") t
    [ ${#targets[@]} -gt 0 ] || targets=("${fuzz_targets[@]}")
    for t in "${targets[@]}"; do
        echo "=== fuzz_$t for $secs s"
        nice -n 19 bash -c "$(declare -f fuzz_env fuzz_one); fuzz_one '$build' '$t' '$secs' \
            $RANDOM" | grep -E 'stat::number_of_executed_units|ERROR|fuzz property|Test unit written|SUMMARY'
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cd "$(dirname "$0")/.."
    cmd=$1; shift
    case $cmd in
        ci) fuzz_ci "$@" ;;
        planted) fuzz_planted "$@" ;;
        campaign) fuzz_campaign "$@" ;;
        *) echo "usage: $0 ci|planted|campaign BUILD [SECONDS] [TARGET...]"; exit 2 ;;
    esac
fi
