#!/usr/bin/env python3
"""Make QuantFleet's Fashion-MNIST fixtures from real data.

Reads the images that Debian's dataset-fashion-mnist installs, trains a scikit-learn
MLPClassifier on the 60k training images, exports it with skl2onnx as FP32 and converts that to
FP16 (onnxconverter-common), and writes a slice of the 10k test images with their labels as the
replay traffic. The model takes raw pixel values (0-255) as float32 and scales them itself, so
the traffic file stays uint8 and small.

Outputs (committed, so the demo needs no Python):
  Fixtures/fashion-mnist/mlp-fp32.onnx   Fixtures/fashion-mnist/mlp-fp16.onnx
  Fixtures/fashion-mnist/traffic.npz     (input: uint8 [N, 784], label: int64 [N])
  Fixtures/fashion-mnist/README.md       accuracies measured by onnxruntime

Needs: apt-get install dataset-fashion-mnist; pip install numpy scikit-learn skl2onnx onnx
onnxruntime onnxconverter-common.
"""
import argparse
import gzip
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxconverter_common import float16
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.neural_network import MLPClassifier

DATASET = pathlib.Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def with_pixel_scaling(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace skl2onnx's leading float->float Cast by `pixels * (1/255)`, so the graph accepts
    raw 0-255 pixel values (and the FP16 converter sees no identity Cast to keep in float)."""
    graph = model.graph
    first = graph.node[0]
    assert first.op_type == "Cast" and first.input[0] == graph.input[0].name, "unexpected skl2onnx graph head"
    graph.initializer.append(helper.make_tensor("pixel_scale", TensorProto.FLOAT, [], [1.0 / 255.0]))
    scale = helper.make_node("Mul", ["pixels", "pixel_scale"], list(first.output), name="scale_pixels")
    graph.node.remove(first)
    graph.node.insert(0, scale)
    graph.input[0].name = "pixels"
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Fixtures/fashion-mnist")
    parser.add_argument("--traffic", type=int, default=6000, help="test images written as replay traffic")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    x_train = read_idx(DATASET / "train-images-idx3-ubyte.gz").reshape(-1, 784)
    y_train = read_idx(DATASET / "train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = read_idx(DATASET / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    y_test = read_idx(DATASET / "t10k-labels-idx1-ubyte.gz").astype(np.int64)

    clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=args.epochs, random_state=7,
                        early_stopping=True, n_iter_no_change=4)
    clf.fit(x_train.astype(np.float32) / 255.0, y_train)

    fp32 = convert_sklearn(clf, initial_types=[("input", FloatTensorType([None, 784]))],
                           options={id(clf): {"zipmap": False}}, target_opset={"": 13, "ai.onnx.ml": 1})
    fp32 = with_pixel_scaling(fp32)
    fp16 = float16.convert_float_to_float16(fp32, keep_io_types=True)
    for model in (fp32, fp16):
        model.producer_name = "quantfleet-fixtures"
        onnx.checker.check_model(model)
    onnx.save(fp32, out / "mlp-fp32.onnx")
    onnx.save(fp16, out / "mlp-fp16.onnx")

    rng = np.random.default_rng(11)
    pick = np.sort(rng.choice(len(x_test), size=args.traffic, replace=False))
    np.savez(out / "traffic.npz", input=x_test[pick], label=y_test[pick])

    lines = ["# Fashion-MNIST fixtures", "",
             "Made by `python3 Tools/make-fixtures.py` from Debian's dataset-fashion-mnist.", "",
             f"MLPClassifier(hidden_layer_sizes=(256, 128)), {clf.n_iter_} epochs. "
             f"Input `pixels`: float32 [N, 784], raw 0-255. Outputs `label` (int64) and "
             f"`probabilities` (float32 [N, 10]). Classes: {', '.join(CLASSES)}.", "",
             f"traffic.npz: {args.traffic} test images (uint8 `input` [N, 784]) and `label` (int64).", "",
             "| model | onnxruntime accuracy on traffic.npz |", "|---|---|"]
    for name in ("mlp-fp32.onnx", "mlp-fp16.onnx"):
        session = ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        labels = session.run(["label"], {"pixels": x_test[pick].astype(np.float32)})[0]
        lines.append(f"| {name} | {np.mean(labels == y_test[pick]):.4f} |")
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
