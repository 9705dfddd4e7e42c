#!/usr/bin/env bash
# Heap allocations and bytes allocated per inference run of our engine, measured with heaptrack:
# `quantfleet bench` runs the model twice and then four times (no warm-up); the difference of the two
# totals, halved, is what one more run allocates (load, packing, the first run's one-time caches, and
# the run arena's plan, made after the first run and filled by the second, cancel out).
#
# usage: Tools/count-allocations.sh MODEL.onnx DATA.npz [BATCH]
#        QUANTFLEET_BIN=path/to/quantfleet (default .build-release/release/quantfleet)
# Needs heaptrack (apt-get install heaptrack).
set -euo pipefail
MODEL="$1" DATA="$2" BATCH="${3:-1}"
QUANTFLEET="${QUANTFLEET_BIN:-.build-release/release/quantfleet}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

totals() {  # "CALLS BYTES" for load plus $1 runs; bytes from heaptrack's histogram of allocation sizes
    heaptrack -o "$WORK/runs$1" "$QUANTFLEET" bench "$MODEL" --data "$DATA" --batch "$BATCH" \
        --warmup 0 --iterations "$1" >/dev/null 2>&1
    local calls
    calls="$(heaptrack_print -f "$WORK"/runs"$1".* --print-histogram "$WORK/sizes$1" 2>/dev/null \
        | awk '/^calls to allocation functions:/ { print $5 }')"
    echo "$calls $(awk '{ bytes += $1 * $2 } END { printf "%.0f", bytes }' "$WORK/sizes$1")"
}
# A failing run (a bad path, a model that does not load) stops here with its own error.
"$QUANTFLEET" bench "$MODEL" --data "$DATA" --batch "$BATCH" --warmup 0 --iterations 1 >/dev/null
read -r two two_bytes <<<"$(totals 2)"
read -r four four_bytes <<<"$(totals 4)"
per_run_bytes=$(( (four_bytes - two_bytes) / 2 ))
echo "$MODEL batch $BATCH: $(( (four - two) / 2 )) heap allocations, $(( per_run_bytes / 1000 )) kB per run" \
    "($two allocations of $(( two_bytes / 1000 )) kB for load + 2 runs; $four of $(( four_bytes / 1000 )) kB for load + 4 runs)"
