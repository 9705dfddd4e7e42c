#!/usr/bin/env python3
"""Ours against onnxruntime's quantizers on the fixture models, as a markdown table.

For each model: FP32, our int8-dynamic / int8-static (each calibration method) / int4-weight, and
onnxruntime's quantize_dynamic and quantize_static (defaults: QDQ, MinMax, per-tensor weights; and
once more with per_channel=True, since ours is per-channel by default) on the same calibration
rows, all run by onnxruntime on the same held-out rows. Models and measures:
  - Fashion-MNIST MLP (1,000 calibration rows from traffic.npz; held out: the other 69,000 images of
    Debian's Fashion-MNIST, train and test): top-1 agreement with FP32, accuracy on the test images,
    and the mean KL divergence of the class probabilities from FP32's. 5,000 rows could not tell
    apart quantizers 0.2 points of agreement apart (a 95 % interval of about +-0.24 points).
  - diabetes regression MLP: R^2 of the predictions against FP32's, and against the truth.
  - all-MiniLM-L6-v2 (.cache/models; calibration: the first 32 of minilm-calibration.npz's 128
    texts, held out: the 128 texts of minilm-test.npz, 128 tokens each): cosine of each text's
    sentence_embedding with FP32's, mean and minimum.
  - PP-OCRv4 text detector (.cache/models; calibration: the 12 images of ocr-det-calibration.npz,
    held out: the 8 of ocr-det-images.npz): cosine of each image's probability map with FP32's, and
    the IoU of its text mask (probability > 0.3, rapidocr's threshold) with FP32's, mean over the
    images (and the minimum IoU).
A row whose quantizer changed no node says so instead of measuring an FP32 copy.

usage: Tools/quantization-benchmark.py [QUANTFLEET_BINARY [MODEL_NAME_PART]]   (default .build/debug/quantfleet;
       pass .build-release/release/quantfleet: our calibration runs MiniLM and the detector in our
       engine, which a debug build makes slow; MODEL_NAME_PART, e.g. MiniLM, measures only matching models)
Runs Tools/make-model-fixtures.py first (idempotent: about 1 s when .cache/models is complete).
Takes about 3 minutes on this project's 2-core machine with the release binary.
Needs: pip install numpy onnx onnxruntime (and the fixture script's prerequisites:
Tools/install-dependencies.sh --test-oracles)
"""
import gzip
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.path.join(ROOT, ".cache/models")
METHODS = ["minmax", "percentile", "entropy", "mse"]
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
MINILM_CALIBRATION_ROWS = 32  # of 128; our calibration and onnxruntime's see the same 32 texts
TEXT_THRESHOLD = 0.3  # rapidocr's det threshold on the probability map


class Rows(CalibrationDataReader):
    """Feeds onnxruntime's calibrator `batch` rows at a time of every input array."""

    def __init__(self, arrays, batch=100):
        count = len(next(iter(arrays.values())))
        self.batches = iter([{name: rows[start:start + batch] for name, rows in arrays.items()}
                             for start in range(0, count, batch)])

    def get_next(self):
        return next(self.batches, None)


def run(model, feeds):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def prepare_detector(model, scratch):
    """What a user does before onnxruntime's quantizers will handle the PP-OCRv4 detector.

    As shipped it is opset 12 with every weight in a Constant node, not an initializer. Straight
    into quantize_static, the weights are calibrated and quantized as activations (the file grows to
    5.0 MB; map cosine 0.87). onnxruntime's documented preparation, quant_pre_process, folds the
    Constants into initializers, but its symbolic shape inference stops with "Incomplete symbolic
    shape inference", so it runs with skip_symbolic_shape=True (onnx's shape inference instead).
    per_channel=True at opset 12 writes a DequantizeLinear with an `axis` attribute (opset 13) that
    onnxruntime then refuses to load, so the model goes to opset 13 first (onnx.version_converter).
    All three onnxruntime rows of the detector use this prepared file; ours takes the original.
    """
    upgraded = os.path.join(scratch, "ocr-det-opset13.onnx")
    onnx.save(version_converter.convert_version(onnx.load(model), 13), upgraded)
    prepared = os.path.join(scratch, "ocr-det-prepared.onnx")
    # quant_pre_process leaves temporary files in the working directory: keep them in the scratch one.
    here = os.getcwd()
    os.chdir(scratch)
    try:
        quant_pre_process(upgraded, prepared, skip_symbolic_shape=True)
    finally:
        os.chdir(here)
    return prepared


def read_idx(path):
    with gzip.open(path) as file:
        data = file.read()
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * axis:8 + 4 * axis], "big") for axis in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def fashion_mnist_held_out(calibration):
    """Every Fashion-MNIST image but the calibration ones, with labels (-1 for training images,
    which the model learnt from: they count toward agreement and KL, not accuracy)."""
    images = np.concatenate([read_idx(os.path.join(FASHION_MNIST, f"{part}-images-idx3-ubyte.gz")).reshape(-1, 784)
                             for part in ("train", "t10k")])
    test_labels = read_idx(os.path.join(FASHION_MNIST, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    labels = np.concatenate([np.full(len(images) - len(test_labels), -1), test_labels])
    seen = {row.tobytes() for row in calibration}
    keep = np.array([row.tobytes() not in seen for row in images])
    return images[keep].astype(np.float32), labels[keep]


def fixtures():
    traffic = np.load(os.path.join(ROOT, "Fixtures/fashion-mnist/traffic.npz"))
    calibration = traffic["input"][:1000]
    pixels, labels = fashion_mnist_held_out(calibration)
    yield dict(name="Fashion-MNIST MLP", model=os.path.join(ROOT, "Fixtures/fashion-mnist/mlp-fp32.onnx"),
               calibration={"pixels": calibration.astype(np.float32)}, test={"pixels": pixels}, truth=labels,
               output=1, task="top1")
    calibration = np.load(os.path.join(ROOT, "Fixtures/diabetes/calibration.npz"))
    test = np.load(os.path.join(ROOT, "Fixtures/diabetes/test.npz"))
    yield dict(name="diabetes MLP", model=os.path.join(ROOT, "Fixtures/diabetes/mlp-fp32.onnx"),
               calibration={"features": calibration["features"]}, test={"features": test["features"]},
               truth=test["target"], output=0, task="r2")
    calibration = np.load(os.path.join(MODELS, "minilm-calibration.npz"))
    test = np.load(os.path.join(MODELS, "minilm-test.npz"))
    yield dict(name="all-MiniLM-L6-v2", model=os.path.join(MODELS, "minilm-fp32.onnx"),
               calibration={name: calibration[name][:MINILM_CALIBRATION_ROWS] for name in calibration.files},
               test={name: test[name] for name in test.files}, output=1, task="embedding", calibration_batch=8)
    yield dict(name="PP-OCRv4 text detector", model=os.path.join(MODELS, "ocr-det-fp32.onnx"),
               calibration={"x": np.load(os.path.join(MODELS, "ocr-det-calibration.npz"))["x"]},
               test={"x": np.load(os.path.join(MODELS, "ocr-det-images.npz"))["x"]}, output=0, task="text-map",
               calibration_batch=4, prepare=prepare_detector)


def cosines(reference, output):
    reference, output = reference.reshape(len(reference), -1), output.reshape(len(output), -1)
    return np.sum(reference * output, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(output, axis=1))


def score(fixture, model, reference):
    output = run(model, fixture["test"])[fixture["output"]]
    if fixture["task"] == "r2":
        def r2(target, prediction):
            return 1 - np.sum((target - prediction) ** 2) / np.sum((target - target.mean()) ** 2)
        prediction = output.reshape(-1)
        to_truth = f"R^2 to truth {r2(fixture['truth'], prediction):.4f}"
        if reference is None:
            return to_truth, output
        # How faithfully the quantized model reproduces FP32's predictions: the issue's measure.
        return f"R^2 to FP32 {r2(reference.reshape(-1), prediction):.5f}, {to_truth}", output
    if fixture["task"] == "embedding":
        if reference is None:
            return "reference (cosine 1)", output
        cosine = cosines(reference, output)
        return f"cosine mean {cosine.mean():.4f}, min {cosine.min():.4f}", output
    if fixture["task"] == "text-map":
        text = output.reshape(len(output), -1) > TEXT_THRESHOLD
        if reference is None:
            return f"reference; {text.mean() * 100:.2f} % of pixels > {TEXT_THRESHOLD}", output
        reference_text = reference.reshape(len(reference), -1) > TEXT_THRESHOLD
        iou = np.sum(text & reference_text, axis=1) / np.maximum(np.sum(text | reference_text, axis=1), 1)
        return (f"map cosine mean {cosines(reference, output).mean():.4f}; "
                f"mask IoU@{TEXT_THRESHOLD} mean {iou.mean():.4f}, min {iou.min():.4f}"), output
    top1 = output.argmax(axis=1)
    truth = fixture["truth"]
    labelled = truth >= 0
    accuracy = f"accuracy {np.mean(top1[labelled] == truth[labelled]) * 100:.2f} %"
    if reference is None:
        return accuracy, output
    agreement = np.mean(top1 == reference.argmax(axis=1)) * 100
    floor = 1e-12  # probabilities of exactly 0 would make the divergence infinite
    divergence = np.sum(reference * (np.log(np.maximum(reference, floor)) - np.log(np.maximum(output, floor))), axis=1).mean()
    return f"agreement {agreement:.3f} %, KL {divergence:.2e}, {accuracy}", output


def quantize_ours(binary, model, output, arguments, scratch):
    """Runs `quantfleet quantize`; returns a note for the row, or None.

    When the scheme needs a newer opset, the error says to convert with onnx.version_converter:
    a user would, so the model is converted to the opset it names and quantized again.
    """
    command = [binary, "quantize", model, "-o", output, *arguments]
    done = subprocess.run(command, capture_output=True, text=True)
    note = None
    needed = re.search(r"needs opset (\d+)", done.stderr)
    if done.returncode != 0 and needed and "version_converter" in done.stderr:
        opset = int(needed.group(1))
        converted = os.path.join(scratch, f"opset{opset}.onnx")
        if not os.path.exists(converted):
            onnx.save(version_converter.convert_version(onnx.load(model), opset), converted)
        done = subprocess.run([binary, "quantize", converted, "-o", output, *arguments], capture_output=True, text=True)
        note = f"model converted to opset {opset} first"
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    if re.search(r"^quantized: 0 node\(s\)", done.stdout, re.MULTILINE):
        reasons = sorted({line.split("): ", 1)[1] for line in done.stdout.splitlines()
                          if line.startswith("in float:") and "): " in line})
        return "no node quantized" + (f" ({'; '.join(reasons)})" if reasons else "") + ": not measured"
    return note


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/quantfleet")
    only = sys.argv[2].lower() if len(sys.argv) > 2 else ""
    subprocess.run([sys.executable, os.path.join(ROOT, "Tools/make-model-fixtures.py")], check=True,
                   stdout=sys.stderr)
    ort.set_default_logger_severity(3)  # onnxruntime's warnings about the detector's unused Constants
    print("| model | quantizer | result on held-out rows | bytes | vs FP32 |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for fixture in fixtures():
            if only not in fixture["name"].lower():
                continue
            calibration = os.path.join(scratch, "calibration.npz")
            np.savez(calibration, **fixture["calibration"])
            size = os.path.getsize(fixture["model"])
            result, reference = score(fixture, fixture["model"], None)
            print(f"| {fixture['name']} | FP32 | {result} | {size} | 1.00x |", flush=True)

            candidates = [("ours int8-dynamic", ["--scheme", "int8-dynamic"])]
            candidates += [(f"ours int8-static {method}", ["--scheme", "int8-static", "--calibration", calibration, "--method", method])
                           for method in METHODS]
            candidates += [(f"ours int4-weight block {block}", ["--scheme", "int4-weight", "--block-size", str(block)]) for block in (32, 128)]
            for label, arguments in candidates:
                output = os.path.join(scratch, "ours.onnx")
                note = quantize_ours(binary, fixture["model"], output, arguments, scratch)
                if note and note.startswith("no node quantized"):
                    print(f"| {fixture['name']} | {label} | {note} | {os.path.getsize(output)} | - |", flush=True)
                    continue
                result, _ = score(fixture, output, reference)
                result += f" ({note})" if note else ""
                print(f"| {fixture['name']} | {label} | {result} | {os.path.getsize(output)} | {size / os.path.getsize(output):.2f}x |", flush=True)

            source = fixture["prepare"](fixture["model"], scratch) if "prepare" in fixture else fixture["model"]
            batch = fixture.get("calibration_batch", 100)
            theirs = os.path.join(scratch, "ort-dynamic.onnx")
            quantize_dynamic(source, theirs, weight_type=QuantType.QInt8)
            result, _ = score(fixture, theirs, reference)
            print(f"| {fixture['name']} | onnxruntime quantize_dynamic | {result} | {os.path.getsize(theirs)} | {size / os.path.getsize(theirs):.2f}x |", flush=True)
            for label, per_channel in (("onnxruntime quantize_static", False), ("onnxruntime quantize_static per_channel", True)):
                theirs = os.path.join(scratch, "ort-static.onnx")
                quantize_static(source, theirs, Rows(fixture["calibration"], batch), per_channel=per_channel)
                result, _ = score(fixture, theirs, reference)
                print(f"| {fixture['name']} | {label} | {result} | {os.path.getsize(theirs)} | {size / os.path.getsize(theirs):.2f}x |", flush=True)
    print()
    print(f"MiniLM calibration: the first {MINILM_CALIBRATION_ROWS} texts of minilm-calibration.npz for both tools. "
          "Detector: onnxruntime's quantizers take the model converted to opset 13 and run through "
          "quant_pre_process(skip_symbolic_shape=True) (see prepare_detector); ours takes the file as shipped.")


if __name__ == "__main__":
    main()
