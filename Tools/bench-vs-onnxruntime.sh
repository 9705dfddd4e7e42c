#!/usr/bin/env bash
# Our engine against onnxruntime on the same ONNX files, inputs and thread count:
#   - the Fashion-MNIST MLP in FP32 and int8-dynamic, batch 1 and 32;
#   - all-MiniLM-L6-v2 at sequence 128 (minilm-test.npz) in FP32 and int8-dynamic, batch 1 and 32;
#   - the PP-OCRv4 text detector at [N, 3, 320, 448] (ocr-det-images.npz, tiled to 32) in FP32 and int8-static
#     (calibrated on the first 4 images of ocr-det-calibration.npz, method minmax), batch 1 and 32.
# Every INT8 file is made here by `quantfleet quantize`. Prints each median latency, the ratio
# ours / onnxruntime (below 1.0: we are faster), the warm-up and measured runs of each row and our
# kernel path, then per model and batch the INT8 speed-up over FP32 (FP32 ms / INT8 ms) for our
# engine and for onnxruntime. Last comes the model zoo's table (Tools/bench_zoo.py): every zoo
# model in FP32 and INT8 at batch 1 and 8, with the median and worst ratio against their goals.
# MiniLM and the detector run fewer iterations (batch 1: 3 warm-up + 30; batch 32: 1 + 5) than the
# MLP (10 + 100): one of their runs takes 0.02-0.1 s at batch 1 and 0.5-3 s at batch 32 here.
#
# usage: Tools/bench-vs-onnxruntime.sh [THREADS]      (default 1; passed to both engines)
#        QUANTFLEET_BIN=.build-release/release/quantfleet Tools/bench-vs-onnxruntime.sh
# Builds a release quantfleet in .build-release (its own scratch path, so the debug .build is
# untouched), unless QUANTFLEET_BIN names an already-built binary: then nothing is built.
# Runs Tools/make-model-fixtures.py and Tools/make-zoo-fixtures.py first (idempotent: seconds when
# .cache/models is complete).
# Needs python3 with numpy and onnxruntime, plus the fixture script's prerequisites
# (Tools/install-dependencies.sh --test-oracles).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-1}"
SCRATCH=.build-release
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ -n "${QUANTFLEET_BIN:-}" ]]; then
    QUANTFLEET="$QUANTFLEET_BIN"
    echo "using $QUANTFLEET (QUANTFLEET_BIN; not building)" >&2
else
    swift build -c release --scratch-path "$SCRATCH" >&2
    QUANTFLEET="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/quantfleet"
fi
python3 Tools/make-model-fixtures.py >&2
MODELS=.cache/models

MLP_FP32=Fixtures/fashion-mnist/mlp-fp32.onnx
MLP_INT8="$WORK/mlp-int8-dynamic.onnx"
"$QUANTFLEET" quantize "$MLP_FP32" -o "$MLP_INT8" --scheme int8-dynamic >/dev/null
MINILM_FP32="$MODELS/minilm-fp32.onnx"
MINILM_INT8="$WORK/minilm-int8-dynamic.onnx"
"$QUANTFLEET" quantize "$MINILM_FP32" -o "$MINILM_INT8" --scheme int8-dynamic >/dev/null
# The fixture's traffic is uint8 pixels under "input"; the model takes float32 "pixels".
# The detector is calibrated on 4 of the 12 calibration images; its batch of 32 is its 8 test
# images four times over.
python3 - "$WORK/pixels.npz" "$WORK/ocr-det-calibration-4.npz" "$WORK/ocr-det-images-32.npz" <<'PY'
import sys
import numpy as np
images = np.load("Fixtures/fashion-mnist/traffic.npz")["input"][:32]
np.savez(sys.argv[1], pixels=images.astype(np.float32))
np.savez(sys.argv[2], x=np.load(".cache/models/ocr-det-calibration.npz")["x"][:4])
np.savez(sys.argv[3], x=np.tile(np.load(".cache/models/ocr-det-images.npz")["x"], (4, 1, 1, 1)))
PY
DET_FP32="$MODELS/ocr-det-fp32.onnx"
DET_INT8="$WORK/ocr-det-int8-static.onnx"
"$QUANTFLEET" quantize "$DET_FP32" -o "$DET_INT8" --scheme int8-static \
    --calibration "$WORK/ocr-det-calibration-4.npz" >/dev/null 2>&1

field() { python3 -c "import json, sys; print(json.load(sys.stdin)[\"$1\"])"; }

declare -A OURS THEIRS
printf '%-13s %5s %7s %6s %12s %12s %8s  %s\n' model batch threads runs "ours (ms)" "ort (ms)" ratio kernel
# model label, FP32 file, INT8 file, inputs, batches, then per batch "warmup/iterations"
for spec in \
    "mlp|int8-dynamic|$MLP_FP32|$MLP_INT8|$WORK/pixels.npz|1:10/100 32:10/100" \
    "minilm|int8-dynamic|$MINILM_FP32|$MINILM_INT8|$MODELS/minilm-test.npz|1:3/30 32:1/5" \
    "ocr-det|int8-static|$DET_FP32|$DET_INT8|$WORK/ocr-det-images-32.npz|1:3/30 32:1/5"; do
    IFS='|' read -r label scheme fp32 int8 data runs <<<"$spec"
    for entry in "fp32:$fp32" "int8:$int8"; do
        precision="${entry%%:*}" model="${entry#*:}"
        for run in $runs; do
            batch="${run%%:*}" counts="${run#*:}"
            warmup="${counts%%/*}" iterations="${counts#*/}"
            ours_json="$("$QUANTFLEET" bench "$model" --data "$data" --batch "$batch" --threads "$THREADS" \
                --warmup "$warmup" --iterations "$iterations" --json)"
            ours="$(field median_ms <<<"$ours_json")"
            kernel="$(field kernel_path <<<"$ours_json")"
            theirs="$(python3 Tools/ort_bench.py "$model" "$data" --batch "$batch" --threads "$THREADS" \
                --warmup "$warmup" --iterations "$iterations" | field median_ms)"
            OURS[$label/$precision/$batch]="$ours" THEIRS[$label/$precision/$batch]="$theirs"
            ratio="$(python3 -c "print(f'{$ours / $theirs:.2f}')")"
            printf '%-13s %5s %7s %6s %12.4f %12.4f %8s  %s\n' "$label-$precision" "$batch" "$THREADS" \
                "$warmup+$iterations" "$ours" "$theirs" "$ratio" "$kernel"
        done
    done
done

echo
echo "INT8 speed-up over FP32 (FP32 ms / INT8 ms; above 1.0: INT8 is faster)"
printf '%-8s %-13s %5s %10s %10s\n' model int8 batch ours ort
for spec in "mlp|int8-dynamic|1 32" "minilm|int8-dynamic|1 32" "ocr-det|int8-static|1 32"; do
    IFS='|' read -r label scheme batches <<<"$spec"
    for batch in $batches; do
        printf '%-8s %-13s %5s %9sx %9sx\n' "$label" "$scheme" "$batch" \
            "$(python3 -c "print(f'{${OURS[$label/fp32/$batch]} / ${OURS[$label/int8/$batch]}:.2f}')")" \
            "$(python3 -c "print(f'{${THEIRS[$label/fp32/$batch]} / ${THEIRS[$label/int8/$batch]}:.2f}')")"
    done
done

echo
echo "Model zoo (Tools/make-zoo-fixtures.py), $THREADS thread(s)"
python3 Tools/make-zoo-fixtures.py >&2
python3 Tools/bench_zoo.py "$QUANTFLEET" --threads "$THREADS"
