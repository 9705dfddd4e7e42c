#!/usr/bin/env python3
"""Ours against onnxruntime's quantizers on the fixture models, as a markdown table.

For each model: FP32, our int8-dynamic / int8-static (each calibration method) / int4-weight, and
onnxruntime's quantize_dynamic and quantize_static (defaults: QDQ, MinMax) on the same calibration
rows, all run by onnxruntime on the same held-out rows. Classifiers report top-1 agreement with
FP32 and accuracy; the regression model reports R^2.

usage: Tools/quantization-benchmark.py [QUANTFLEET_BINARY]   (default .build/debug/quantfleet)
Needs: pip install numpy onnx onnxruntime
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_dynamic, quantize_static

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
METHODS = ["minmax", "percentile", "entropy", "mse"]


class Rows(CalibrationDataReader):
    def __init__(self, name, rows, batch=100):
        self.batches = iter([{name: rows[start:start + batch]} for start in range(0, len(rows), batch)])

    def get_next(self):
        return next(self.batches, None)


def run(model, feeds):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def fixtures():
    traffic = np.load(os.path.join(ROOT, "Fixtures/fashion-mnist/traffic.npz"))
    pixels, labels = traffic["input"].astype(np.float32), traffic["label"]
    yield dict(name="Fashion-MNIST MLP", model=os.path.join(ROOT, "Fixtures/fashion-mnist/mlp-fp32.onnx"),
               input="pixels", calibration=pixels[:1000], test=pixels[1000:], truth=labels[1000:], output=1, task="top1")
    calibration = np.load(os.path.join(ROOT, "Fixtures/diabetes/calibration.npz"))
    test = np.load(os.path.join(ROOT, "Fixtures/diabetes/test.npz"))
    yield dict(name="diabetes MLP", model=os.path.join(ROOT, "Fixtures/diabetes/mlp-fp32.onnx"), input="features",
               calibration=calibration["features"], test=test["features"], truth=test["target"], output=0, task="r2")


def score(fixture, model, reference):
    output = run(model, {fixture["input"]: fixture["test"]})[fixture["output"]]
    truth = fixture["truth"]
    if fixture["task"] == "r2":
        prediction = output.reshape(-1)
        r2 = 1 - np.sum((truth - prediction) ** 2) / np.sum((truth - truth.mean()) ** 2)
        return f"R^2 {r2:.4f}", output
    top1 = output.argmax(axis=1)
    agreement = "" if reference is None else f"agreement {np.mean(top1 == reference.argmax(axis=1)) * 100:.2f} %, "
    return f"{agreement}accuracy {np.mean(top1 == truth) * 100:.2f} %", output


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/quantfleet")
    print("| model | quantizer | result on held-out rows | bytes | vs FP32 |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for fixture in fixtures():
            calibration = os.path.join(scratch, "calibration.npz")
            np.savez(calibration, **{fixture["input"]: fixture["calibration"]})
            size = os.path.getsize(fixture["model"])
            result, reference = score(fixture, fixture["model"], None)
            print(f"| {fixture['name']} | FP32 | {result} | {size} | 1.00x |")

            candidates = [("ours int8-dynamic", ["--scheme", "int8-dynamic"])]
            candidates += [(f"ours int8-static {method}", ["--scheme", "int8-static", "--calibration", calibration, "--method", method])
                           for method in METHODS]
            candidates += [(f"ours int4-weight block {block}", ["--scheme", "int4-weight", "--block-size", str(block)]) for block in (32, 128)]
            for label, arguments in candidates:
                output = os.path.join(scratch, "ours.onnx")
                subprocess.run([binary, "quantize", fixture["model"], "-o", output, *arguments], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                result, _ = score(fixture, output, reference)
                print(f"| {fixture['name']} | {label} | {result} | {os.path.getsize(output)} | {size / os.path.getsize(output):.2f}x |")

            theirs = os.path.join(scratch, "ort-dynamic.onnx")
            quantize_dynamic(fixture["model"], theirs, weight_type=QuantType.QInt8)
            result, _ = score(fixture, theirs, reference)
            print(f"| {fixture['name']} | onnxruntime quantize_dynamic | {result} | {os.path.getsize(theirs)} | {size / os.path.getsize(theirs):.2f}x |")
            theirs = os.path.join(scratch, "ort-static.onnx")
            quantize_static(fixture["model"], theirs, Rows(fixture["input"], fixture["calibration"]))
            result, _ = score(fixture, theirs, reference)
            print(f"| {fixture['name']} | onnxruntime quantize_static | {result} | {os.path.getsize(theirs)} | {size / os.path.getsize(theirs):.2f}x |")


if __name__ == "__main__":
    main()
