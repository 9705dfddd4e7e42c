#!/usr/bin/env python3
"""Makes a small synthetic detector with the output layout of ddddocr's common_det.onnx, for rollouts.

ddddocr's detector is a YOLOX head exported without its decoding step: [1, N, 5 + C] rows of grid
offsets, log sizes, objectness and class scores (after Sigmoid) over strides 8, 16 and 32. This
detector writes the same layout for a 32 x 32 input (N = 16 + 4 + 1 = 21 anchors) and two classes,
from a feature vector that holds each anchor's pre-activation head outputs: the reference maps
features to rows unchanged (MatMul by identity, Sigmoid on the scores), so the traffic decides
exactly which objects each image holds. The damaged candidate swaps the two classes and shifts
every box by most of a cell: each of its detections is a different class in a different place.

usage: Tools/make-detector-fixture.py OUT_DIR   (needs: pip install numpy onnx)
Writes detector-fp32.onnx, detector-damaged.onnx and traffic.npz (`features` float32 [600, 147]).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CLASSES = 2
ANCHORS = 21  # 4 x 4 cells at stride 8, 2 x 2 at 16, 1 x 1 at 32
ROW = 5 + CLASSES
IMAGES = 600


def detector(box_weight: np.ndarray, score_weight: np.ndarray, box_bias: np.ndarray) -> onnx.ModelProto:
    """features [B, ANCHORS * ROW] -> output [B, ANCHORS, ROW]: box rows as given, scores through Sigmoid."""
    initializers = [
        numpy_helper.from_array(box_weight.astype(np.float32), "box_weight"),
        numpy_helper.from_array(box_bias.astype(np.float32), "box_bias"),
        numpy_helper.from_array(score_weight.astype(np.float32), "score_weight"),
        numpy_helper.from_array(np.array([-1, ANCHORS, 4], dtype=np.int64), "box_shape"),
        numpy_helper.from_array(np.array([-1, ANCHORS, 1 + CLASSES], dtype=np.int64), "score_shape"),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "box_weight"], ["box_product"]),
        helper.make_node("Add", ["box_product", "box_bias"], ["box_flat"]),
        helper.make_node("Reshape", ["box_flat", "box_shape"], ["boxes"]),
        helper.make_node("MatMul", ["features", "score_weight"], ["score_logits_flat"]),
        helper.make_node("Reshape", ["score_logits_flat", "score_shape"], ["score_logits"]),
        helper.make_node("Sigmoid", ["score_logits"], ["scores"]),
        helper.make_node("Concat", ["boxes", "scores"], ["output"], axis=2),
    ]
    graph = helper.make_graph(
        nodes, "synthetic_yolox_detector",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, ANCHORS * ROW])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, ANCHORS, ROW])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make-detector-fixture")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def selection(columns: list[int]) -> np.ndarray:
    """[ANCHORS * ROW, ANCHORS * len(columns)]: picks `columns` of every anchor's row, in that order."""
    weight = np.zeros((ANCHORS * ROW, ANCHORS * len(columns)), dtype=np.float32)
    for anchor in range(ANCHORS):
        for out, column in enumerate(columns):
            weight[anchor * ROW + column, anchor * len(columns) + out] = 1
    return weight


def traffic(rng: np.random.Generator) -> np.ndarray:
    """Images of one to three objects in distinct stride-8 cells (so no two overlap enough for NMS to
    choose between them), sometimes with a large object on the stride-32 anchor; the rest background."""
    features = np.zeros((IMAGES, ANCHORS, ROW), dtype=np.float32)
    features[:, :, 0:2] = rng.uniform(0.3, 0.7, (IMAGES, ANCHORS, 2))
    features[:, :, 2:4] = rng.uniform(np.log(0.5), np.log(0.9), (IMAGES, ANCHORS, 2))
    features[:, :, 4] = -6  # objectness 0.0025: background
    features[:, :, 5:] = rng.normal(0, 1, (IMAGES, ANCHORS, CLASSES))
    for image in range(IMAGES):
        objects = list(rng.choice(16, size=rng.integers(1, 4), replace=False))
        if rng.random() < 0.3:
            objects.append(20)
        for anchor in objects:
            features[image, anchor, 4] = 4  # objectness 0.98
            features[image, anchor, 5:] = -4
            features[image, anchor, 5 + rng.integers(CLASSES)] = 4  # one class at 0.98
    return features.reshape(IMAGES, ANCHORS * ROW)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    box_columns, score_columns = [0, 1, 2, 3], [4] + [5 + c for c in range(CLASSES)]
    onnx.save(detector(selection(box_columns), selection(score_columns), np.zeros(ANCHORS * 4)),
              os.path.join(out, "detector-fp32.onnx"))
    swapped = [4] + [5 + c for c in reversed(range(CLASSES))]
    shift = np.tile(np.array([0.8, 0.8, 0, 0], dtype=np.float32), ANCHORS)  # 80 % of a cell right and down
    onnx.save(detector(selection(box_columns), selection(swapped), shift), os.path.join(out, "detector-damaged.onnx"))
    np.savez(os.path.join(out, "traffic.npz"), features=traffic(np.random.default_rng(7)))
    print(f"synthetic YOLOX detector: {ANCHORS} anchors x {ROW} ({CLASSES} classes), {IMAGES} images of traffic in {out}")


if __name__ == "__main__":
    main()
