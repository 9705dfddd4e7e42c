#!/usr/bin/env bash
# Fuzzes parsers with libFuzzer and AddressSanitizer for SECONDS each:
#   Tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   Tools/fuzz.sh all SECONDS             (every target in turn; what CI runs, for 20 s each)
# TARGET is a folder of Fuzz/: frames, onnx, npz, oip, configuration, certificates, admin. The build
# goes to .build-fuzz, apart from the normal one. A run starts from Fuzz/corpus/TARGET (seeds and
# the inputs that once crashed), keeps what it finds in .build-fuzz/corpus/TARGET, and writes any
# crash, leak or timeout to .build-fuzz/findings/TARGET/; the script exits non-zero on one.
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
    swift build --sanitize=fuzzer --sanitize=address --product "fuzz-$target" --scratch-path .build-fuzz
    mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
    # -rss_limit_mb: an input must not make a parser take unbounded memory; -timeout: nor hang it.
    ".build-fuzz/debug/fuzz-$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/findings/$target/" "$@"
}

if [ "$selected" != all ]; then
    fuzz "$selected" "$@"
    exit
fi
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
