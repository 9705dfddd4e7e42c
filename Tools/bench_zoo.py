#!/usr/bin/env python3
"""The model zoo's table for Tools/bench-vs-onnxruntime.sh: every zoo model (Tools/make-zoo-fixtures.py)
in FP32 and INT8 at batch 1 and 8, our engine (`quantfleet bench --json`) against onnxruntime
(Tools/ort_bench.py) on the same file, inputs and thread count.

INT8 is our int8-static file (calibrated on the model's calibration.npz, --between-ops passed to the
quantizer: exact by default, all for what onnxruntime's quantizer quantizes) where the scheme applies,
the file itself for a model that comes quantized (ddddocr-rec-int8), and nothing for tree ensembles.
Batch 8 is the test rows repeated; files that fix their batch at 1 run batch 1 only. Each row runs
about --seconds of measured iterations (at least 3, at most 100) after one or more warm-up runs,
the same counts for both engines.

Prints the table, then the median and worst ratio (ours / onnxruntime; below 1.0 we are faster)
against the goals: median at most 1.0, none above 1.5.

usage: Tools/bench_zoo.py QUANTFLEET_BIN [--threads N] [--seconds S] [--zoo DIR] [--between-ops exact|all|none] [--models A,B]
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent


def run_json(command: list) -> dict:
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def iterations_for(milliseconds: float, seconds: float) -> tuple:
    measured = int(min(100, max(3, seconds * 1000 / max(milliseconds, 1e-3))))
    return max(1, min(10, measured // 10)), measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("quantfleet")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--zoo", default=str(REPO / ".cache" / "models" / "zoo"))
    parser.add_argument("--between-ops", choices=["exact", "all", "none"], default="exact")
    parser.add_argument("--models", help="comma-separated zoo names to measure (default: all)")
    args = parser.parse_args()
    zoo = pathlib.Path(args.zoo)
    models = json.loads((zoo / "zoo.json").read_text())["models"]
    if args.models:
        wanted = args.models.split(",")
        unknown = set(wanted) - {model["name"] for model in models}
        if unknown:
            parser.error(f"not in the zoo: {', '.join(sorted(unknown))}")
        models = [model for model in models if model["name"] in wanted]
    work = pathlib.Path(tempfile.mkdtemp())

    print(f"{'model':28s} {'precision':>13s} {'batch':>5s} {'runs':>6s} {'ours (ms)':>11s} {'ort (ms)':>11s} {'ratio':>6s}")
    ratios = {}
    for model in models:
        folder = zoo / model["name"]
        files = [("fp32", folder / "model.onnx")]
        if "int8-static" in model["schemes"]:
            int8 = work / f"{model['name']}-int8-static.onnx"
            subprocess.run([args.quantfleet, "quantize", str(folder / "model.onnx"), "-o", str(int8), "--scheme", "int8-static",
                            "--calibration", str(folder / "calibration.npz"), "--between-ops", args.between_ops],
                           check=True, capture_output=True)
            files.append(("int8-static", int8))
        elif model["name"].endswith("-int8"):
            files = [("int8 (as shipped)", folder / "model.onnx")]
        with np.load(folder / "inputs.npz") as arrays:
            batches = {1: {k: arrays[k][:1] for k in arrays.files}}
            if model["batch8"]:
                batches[8] = {k: np.resize(arrays[k], (8,) + arrays[k].shape[1:]) for k in arrays.files}
        for batch, feeds in batches.items():
            data = work / f"{model['name']}-{batch}.npz"
            np.savez(data, **feeds)
            for precision, file in files:
                common = ["--batch", str(batch), "--threads", str(args.threads)]
                probe = run_json([args.quantfleet, "bench", str(file), "--data", str(data), *common, "--warmup", "1", "--iterations", "1", "--json"])
                warmup, iterations = iterations_for(probe["median_ms"], args.seconds)
                counts = ["--warmup", str(warmup), "--iterations", str(iterations)]
                ours = run_json([args.quantfleet, "bench", str(file), "--data", str(data), *common, *counts, "--json"])["median_ms"]
                theirs = run_json([sys.executable, str(REPO / "Tools" / "ort_bench.py"), str(file), str(data), *common, *counts])["median_ms"]
                ratio = ours / theirs
                ratios[(model["name"], precision, batch)] = ratio
                print(f"{model['name']:28s} {precision:>13s} {batch:5d} {warmup:>2d}+{iterations:<3d} {ours:11.3f} {theirs:11.3f} {ratio:6.2f}",
                      flush=True)

    values = sorted(ratios.values())
    worst = max(ratios, key=ratios.get)
    median = statistics.median(values)
    print(f"\n{len(values)} rows: median ratio {median:.2f} (goal <= 1.00: {'met' if median <= 1.0 else 'missed'}), "
          f"worst {ratios[worst]:.2f} ({' '.join(map(str, worst))}; goal <= 1.50: {'met' if ratios[worst] <= 1.5 else 'missed'})")
    above = [f"{' '.join(map(str, key))} {ratio:.2f}" for key, ratio in sorted(ratios.items(), key=lambda kv: -kv[1]) if ratio > 1.5]
    if above:
        print("above 1.5: " + "; ".join(above))


if __name__ == "__main__":
    main()
