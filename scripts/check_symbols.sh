#!/usr/bin/env bash
# check_symbols.sh LIBNNF_SO CC [ARGS...]   (ARGS: the -I that find <nnf/nnf.h>)
# Fails unless libnnf.so exports exactly the public API: every defined dynamic symbol
# (besides the linker's own) starts with nnf_ and not with the internal nnf__, and every
# function the public headers declare is among them (a declaration without NNF_API
# would be hidden by -fvisibility=hidden and fail only when someone links libnnf.so).
set -euo pipefail
lib=$1
cc=("${@:2}")
# Prefer the target's nm (cross builds); any nm can read the dynamic symbol table.
nm=nm
case $(file -bL "$lib" 2>/dev/null || true) in
    *aarch64*) command -v aarch64-linux-gnu-nm >/dev/null && nm=aarch64-linux-gnu-nm ;;
esac
exported=$("$nm" -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
[ -n "$exported" ] || { echo "check_symbols: no dynamic symbols in $lib"; exit 1; }

status=0
# The linker's own: the classic end markers, and the __start_/__stop_ bounds of the
# coverage sections that -fsanitize=fuzzer-no-link adds (test.sh's clang stage).
foreign=$(grep -Ev '^(nnf_[A-Za-z0-9][A-Za-z0-9_]*|_init|_fini|_edata|_end|__bss_start|__(start|stop)___sancov_[a-z]+)$' \
          <<<"$exported" || true)
if [ -n "$foreign" ]; then
    echo "check_symbols: $lib exports symbols outside the public API:"
    sed 's/^/  /' <<<"$foreign"
    status=1
fi
# Declarations after the preprocessor (no comments, no macros): nnf_name followed by "("
# but not by "(*" (a function pointer returning nnf_status).
declared=$(echo '#include <nnf/nnf.h>' | "${cc[@]}" -E -P -x c - | grep -oE '\bnnf_[a-z0-9_]+ *\([^*]' |
           sed 's/ *(.*//' | sort -u)
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$missing" ]; then
    echo "check_symbols: declared in nnf/nnf.h but not exported (NNF_API missing?):"
    sed 's/^/  /' <<<"$missing"
    status=1
fi
echo "check_symbols: $(wc -l <<<"$exported") symbols exported, $(wc -l <<<"$declared") declared"
exit $status
