#!/usr/bin/env bash
# Our engine against onnxruntime on the same ONNX files, inputs and thread count, batch 1 and 32:
# the Fashion-MNIST MLP in FP32 and its int8-dynamic version (made here by `quantfleet quantize`).
# Prints each latency and the ratio ours / onnxruntime (below 1.0: we are faster).
#
# usage: Tools/bench-vs-onnxruntime.sh [THREADS]      (default 1)
# Builds a release quantfleet in .build-release (its own scratch path, so the debug .build is untouched).
# Needs python3 with numpy and onnxruntime (Tools/install-dependencies.sh --test-oracles).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-1}"
SCRATCH=.build-release
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

swift build -c release --scratch-path "$SCRATCH" >&2
QUANTFLEET="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/quantfleet"

FP32=Fixtures/fashion-mnist/mlp-fp32.onnx
INT8="$WORK/mlp-int8-dynamic.onnx"
"$QUANTFLEET" quantize "$FP32" -o "$INT8" --scheme int8-dynamic >/dev/null
# The fixture's traffic is uint8 pixels under "input"; the model takes float32 "pixels".
python3 - "$WORK/pixels.npz" <<'PY'
import sys
import numpy as np
images = np.load("Fixtures/fashion-mnist/traffic.npz")["input"][:32]
np.savez(sys.argv[1], pixels=images.astype(np.float32))
PY

median() { python3 -c 'import json, sys; print(json.load(sys.stdin)["median_ms"])'; }

printf '%-10s %5s %7s %12s %12s %8s  %s\n' model batch threads "ours (ms)" "ort (ms)" ratio kernel
for entry in "fp32:$FP32" "int8:$INT8"; do
    name="${entry%%:*}" model="${entry#*:}"
    for batch in 1 32; do
        ours_json="$("$QUANTFLEET" bench "$model" --data "$WORK/pixels.npz" --batch "$batch" --threads "$THREADS" --json)"
        ours="$(median <<<"$ours_json")"
        kernel="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["kernel_path"])' <<<"$ours_json")"
        theirs="$(python3 Tools/ort_bench.py "$model" "$WORK/pixels.npz" --batch "$batch" --threads "$THREADS" | median)"
        ratio="$(python3 -c "print(f'{$ours / $theirs:.2f}')")"
        printf '%-10s %5s %7s %12.4f %12.4f %8s  %s\n' "mlp-$name" "$batch" "$THREADS" "$ours" "$theirs" "$ratio" "$kernel"
    done
done
