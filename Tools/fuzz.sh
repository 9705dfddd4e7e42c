#!/usr/bin/env bash
# Fuzzes parsers with libFuzzer and AddressSanitizer for SECONDS each:
#   Tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   Tools/fuzz.sh all SECONDS             (every target in turn; what CI runs, for 20 s each)
# TARGET is a folder of Fuzz/: frames, onnx, npz, oip, configuration, certificates, admin. They
# build in .build-fuzz/build, apart from the normal build. A run starts from
# Fuzz/corpus/TARGET (seeds and the inputs that once crashed), keeps what it finds in
# .build-fuzz/corpus/TARGET, and writes any crash, leak or timeout to .build-fuzz/findings/TARGET/;
# the script exits non-zero on one, and on a run that reached no coverage counter.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=$(for main in Fuzz/*/main.swift; do basename "$(dirname "$main")"; done | tr '\n' ' ')
if [ $# -lt 2 ] || { [ "$1" != all ] && [ ! -f "Fuzz/$1/main.swift" ]; }; then
    echo "usage: Tools/fuzz.sh TARGET|all SECONDS [libFuzzer options...]; targets: $targets" >&2
    exit 2
fi
selected=$1 seconds=$2
shift 2

fuzz() {
    local target=$1
    shift
    # swiftc honours only the last -sanitize= flag, and SwiftPM 6.3 passes its sanitizers in no
    # fixed order, so by chance a build had AddressSanitizer and no coverage in Swift code
    # (libFuzzer ran blind) or coverage and no AddressSanitizer. The trailing combined flag gives
    # Swift code both; --sanitize= gives them to C code and the link.
    swift build --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
        --product "fuzz-$target" --scratch-path .build-fuzz/build
    mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
    local log=".build-fuzz/findings/$target.log" status=0
    # -rss_limit_mb: an input must not make a parser take unbounded memory; -timeout: nor hang it.
    ".build-fuzz/build/debug/fuzz-$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/findings/$target/" "$@" 2>&1 | tee "$log" || status=$?
    if grep -q "Is the code instrumented for coverage" "$log"; then
        echo "fuzz-$target ran blind: no input reached a coverage counter of its build" >&2
        return 1
    fi
    return "$status"
}

if [ "$selected" != all ]; then
    fuzz "$selected" "$@"
    exit
fi
# A fixed seed unless one is given: the same run on every machine as fast as this one, so a red CI
# run replays here with the same command.
case " $* " in *" -seed="*) ;; *) set -- -seed=1 "$@" ;; esac
failed=()
for target in $targets; do
    echo "== fuzz-$target, $seconds s"
    fuzz "$target" "$@" || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that found a crash, leak or timeout, or ran blind: ${failed[*]} (inputs in .build-fuzz/findings/)" >&2
    exit 1
fi
echo "every fuzz target ran $seconds s with no crash, leak or timeout: $targets"
