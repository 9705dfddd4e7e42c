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
    # fuzz-npz and fuzz-frames had 3,460 counters, against 97,018 built alone), which leaves
    # libFuzzer blind.
    local build=".build-fuzz/$target"
    swift build --sanitize=fuzzer --sanitize=address --product "fuzz-$target" --scratch-path "$build"
    local counters
    counters=$("$build/debug/fuzz-$target" -runs=0 2>&1 | sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' | head -1)
    if [ "${counters:-0}" -lt 20000 ]; then
        echo "fuzz-$target has ${counters:-no} coverage counters: the build is not instrumented; remove $build and build again" >&2
        return 1
    fi
    mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
    # -rss_limit_mb: an input must not make a parser take unbounded memory; -timeout: nor hang it.
    "$build/debug/fuzz-$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/findings/$target/" "$@"
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
    echo "fuzz targets that found a crash, leak or timeout: ${failed[*]} (inputs in .build-fuzz/findings/)" >&2
    exit 1
fi
echo "every fuzz target ran $seconds s with no crash, leak or timeout: $targets"
