#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer and AddressSanitizer for SECONDS:
#   Tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
# TARGET is a folder of Fuzz/: frames, onnx, npz, oip, configuration, certificates, admin. The build
# goes to .build-fuzz, apart from the normal one. The run starts from Fuzz/corpus/TARGET (seeds and
# the inputs that once crashed), keeps what it finds in .build-fuzz/corpus/TARGET, and writes any
# crash, leak or timeout to .build-fuzz/findings/TARGET/; it exits non-zero on one.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=$(for main in Fuzz/*/main.swift; do basename "$(dirname "$main")"; done | tr '\n' ' ')
if [ $# -lt 2 ] || [ ! -f "Fuzz/$1/main.swift" ]; then
    echo "usage: Tools/fuzz.sh TARGET SECONDS [libFuzzer options...]; targets: $targets" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2
swift build --sanitize=fuzzer --sanitize=address --product "fuzz-$target" --scratch-path .build-fuzz
mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
# -rss_limit_mb: an input must not make a parser take unbounded memory; -timeout: nor hang it.
exec ".build-fuzz/debug/fuzz-$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix=".build-fuzz/findings/$target/" "$@"
