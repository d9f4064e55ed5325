# ThreadSanitizer stages for scripts/test.sh, which sources this file and runs
#     stage "ThreadSanitizer (threading tests)" tsan
#     stage "ThreadSanitizer sees a planted race" tsan_planted_race
# Both use one clang-14 -fsanitize=thread build: the first runs the threading tests (the
# pool, the thread API, the same bits at 1-16 threads, sgemm) and must be clean, with no
# suppressions; the second runs test_threads with the race planted in that build turned
# on (NNF_FUZZ_PLANT=race, src/core/plant.h: a plain int written by every participant of
# a job, src/runtime/pool.c) and it must be reported, so a clean first stage means
# something. The plant is compiled in (-DNNF_FUZZ_PLANT) but off in the first stage:
# one TSan build of the library instead of two. OpenMP in the tests comes from LLVM's libomp here; only the
# threading tests run, on scalar and AVX2 kernels (~1-2 minutes on 2 cores).

# Uses setup() and $jobs from scripts/test.sh when they exist.
if ! declare -f setup >/dev/null; then
    setup() {
        local dir=$1; shift
        if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
        else meson setup "$dir" "$@"; fi
    }
fi
tsan_tests=(tests/test_threads tests/test_threads_bits tests/test_sgemm tests/test_pool_lend)
# Not suppressions for nnf: libomp (the tests' own OpenMP regions) is not instrumented,
# and test_fork starts threads in a child of a threaded process, which TSan refuses by
# default.
tsan_options=ignore_noninstrumented_modules=1:die_after_fork=0:second_deadlock_stack=1

# clang 14 does not define FP_FAST_FMA under -mfma, and sleef.h declares its FMA
# functions only when it is defined (docs: FACTS.md); the scalar FMA kernels need them.
tsan_build() {
    CC=clang-14 CXX=clang++-14 setup build/tsan -Dtests=enabled -Dbench=disabled \
        -Dexamples=disabled -Db_sanitize=thread -Db_lundef=false \
        -Dbuildtype=debugoptimized "-Dc_args=-DFP_FAST_FMA -DNNF_FUZZ_PLANT"
    ninja -C build/tsan -j"${jobs:-$(nproc)}" "${tsan_tests[@]}"
}

tsan() {
    tsan_build
    local t
    for t in "${tsan_tests[@]}"; do
        echo "--- $t"
        TSAN_OPTIONS=$tsan_options:halt_on_error=1 NNF_TEST_ISAS=scalar,avx2 \
            CMOCKA_MESSAGE_OUTPUT=stdout "build/tsan/$t" || return 1
    done
}

tsan_planted_race() {
    tsan_build
    local log; log=$(mktemp)
    TSAN_OPTIONS=$tsan_options:halt_on_error=0 NNF_TEST_ISAS=scalar CMOCKA_MESSAGE_OUTPUT=stdout \
        NNF_FUZZ_PLANT=race build/tsan/tests/test_threads >"$log" 2>&1 || true
    if grep -q "WARNING: ThreadSanitizer: data race" "$log" && grep -q "participate" "$log"; then
        echo "the planted race was reported"
        rm -f "$log"
    else
        echo "ThreadSanitizer did not report the planted race:"; tail -20 "$log"; rm -f "$log"
        return 1
    fi
}

# pkg-config --cflags must carry only -I (a -fopenmp or -pthread there would change how
# the user's own code compiles). PKG_CONFIG_PATH must point at the installed nnf.pc.
pkgconfig_cflags_only_include() {
    local flags; flags=$(pkg-config --cflags nnf)
    local f
    for f in $flags; do
        [[ $f == -I* ]] || { echo "pkg-config --cflags nnf has $f"; return 1; }
    done
}
