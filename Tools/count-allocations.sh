#!/usr/bin/env bash
# Heap allocations per inference run of our engine, measured with heaptrack: `quantfleet bench` runs
# the model once and then three times (no warm-up); the difference of the two totals, halved, is what
# one more run allocates (load, packing and the first run's one-time caches cancel out).
#
# usage: Tools/count-allocations.sh MODEL.onnx DATA.npz [BATCH]
#        QUANTFLEET_BIN=path/to/quantfleet (default .build-release/release/quantfleet)
# Needs heaptrack (apt-get install heaptrack).
set -euo pipefail
MODEL="$1" DATA="$2" BATCH="${3:-1}"
QUANTFLEET="${QUANTFLEET_BIN:-.build-release/release/quantfleet}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

allocations() {
    heaptrack -o "$WORK/runs$1" "$QUANTFLEET" bench "$MODEL" --data "$DATA" --batch "$BATCH" \
        --warmup 0 --iterations "$1" >/dev/null 2>&1
    heaptrack_print -f "$WORK"/runs"$1".* 2>/dev/null | awk '/^calls to allocation functions:/ { print $5 }'
}
# A failing run (a bad path, a model that does not load) stops here with its own error.
"$QUANTFLEET" bench "$MODEL" --data "$DATA" --batch "$BATCH" --warmup 0 --iterations 1 >/dev/null
one="$(allocations 1)" three="$(allocations 3)"
echo "$MODEL batch $BATCH: $(( (three - one) / 2 )) heap allocations per run ($one for load + 1 run, $three for load + 3 runs)"
