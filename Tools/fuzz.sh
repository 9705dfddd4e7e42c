#!/usr/bin/env bash
# Fuzzes parsers with libFuzzer and AddressSanitizer for SECONDS each:
#   Tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   Tools/fuzz.sh all SECONDS             (every target in turn; what CI runs, for 20 s each)
# TARGET is a folder of Fuzz/: frames, onnx, npz, oip, configuration, certificates, admin. Each
# target builds in .build-fuzz/TARGET, apart from the normal build. A run starts from
# Fuzz/corpus/TARGET (seeds and the inputs that once crashed), keeps what it finds in
# .build-fuzz/corpus/TARGET, and writes any crash, leak or timeout to .build-fuzz/findings/TARGET/;
# the script exits non-zero on one.
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
    # A scratch path per target: built one after another in one scratch path, the later products
    # lost their coverage instrumentation in part or whole (SwiftPM 6.3 here: fuzz-onnx built after
    # fuzz-npz and fuzz-frames had 3,460 counters, against 97,018 built alone). Builds in scratch
    # paths of their own have come out blind too, now and then, for no cause found yet
    # (docs/fuzzing.md); a blind run still catches crashes, so it is reported, not failed.
    local build=".build-fuzz/$target"
    swift build --sanitize=fuzzer --sanitize=address --product "fuzz-$target" --scratch-path "$build"
    mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
    local log=".build-fuzz/findings/$target.log" status=0
    # -rss_limit_mb: an input must not make a parser take unbounded memory; -timeout: nor hang it.
    "$build/debug/fuzz-$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/findings/$target/" "$@" 2>&1 | tee "$log" || status=$?
    if grep -q "Is the code instrumented for coverage" "$log"; then
        echo "WARNING: fuzz-$target ran blind: no input reached a coverage counter of its build (docs/fuzzing.md)" >&2
        blind+=("$target")
    fi
    return "$status"
}

blind=()
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
if [ ${#blind[@]} -gt 0 ]; then
    echo "WARNING: fuzz targets that ran blind (no coverage, crashes still caught): ${blind[*]}" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that found a crash, leak or timeout: ${failed[*]} (inputs in .build-fuzz/findings/)" >&2
    exit 1
fi
echo "every fuzz target ran $seconds s with no crash, leak or timeout: $targets"
