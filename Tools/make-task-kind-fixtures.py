#!/usr/bin/env python3
"""Makes small synthetic models with the output layouts of the task kinds' real models, for rollouts.

detector: ddddocr's common_det.onnx is a YOLOX head exported without its decoding step: [1, N, 5 + C]
rows of grid offsets, log sizes, objectness and class scores (after Sigmoid) over strides 8, 16 and
32. This detector writes the same layout for a 32 x 32 input (N = 16 + 4 + 1 = 21 anchors) and two
classes, from a feature vector holding each anchor's pre-activation head outputs: the reference maps
features to rows unchanged (MatMul by identity, Sigmoid on the scores), so the traffic decides exactly
which objects each image holds. The damaged candidate swaps the two classes and shifts every box by
most of a cell: each of its detections is a different class in a different place.

recogniser: ddddocr's common.onnx writes [T, 1, C]: time first, one score per class at each step,
class 0 the CTC blank. This one does the same for T = 12 steps and C = 8 classes, from a feature
vector holding each step's class logits: MatMul by identity, then [B, T, C] -> [T, B, C] and a Softmax
over the classes, so the traffic decides exactly which text each sample reads. The damaged candidate
swaps classes 1 and 2, and 3 and 4: most texts read differently.

usage: Tools/make-task-kind-fixtures.py detector|recogniser OUT_DIR   (needs: pip install numpy onnx)
Writes KIND-fp32.onnx, KIND-damaged.onnx and traffic.npz (`features` float32, 600 rows).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SAMPLES = 600

OBJECT_CLASSES = 2
ANCHORS = 21  # 4 x 4 cells at stride 8, 2 x 2 at 16, 1 x 1 at 32
ROW = 5 + OBJECT_CLASSES

STEPS = 12
CHARACTER_CLASSES = 8  # class 0 is the blank


def model(nodes: list, initializers: list, features: int, output: str, output_shape: list) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "synthetic_" + output,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, features])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)],
        initializers)
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make-task-kind-fixtures")
    made.ir_version = 8
    onnx.checker.check_model(made)
    return made


def selection(groups: int, width: int, columns: list[int]) -> np.ndarray:
    """[groups * width, groups * len(columns)]: picks `columns` of every group of `width` features, in that order."""
    weight = np.zeros((groups * width, groups * len(columns)), dtype=np.float32)
    for group in range(groups):
        for out, column in enumerate(columns):
            weight[group * width + column, group * len(columns) + out] = 1
    return weight


def detector(score_columns: list[int], box_shift: np.ndarray) -> onnx.ModelProto:
    """features [B, ANCHORS * ROW] -> output [B, ANCHORS, ROW]: box rows as given (plus `box_shift`),
    objectness and class scores (picked by `score_columns`) through Sigmoid."""
    initializers = [
        numpy_helper.from_array(selection(ANCHORS, ROW, [0, 1, 2, 3]), "box_weight"),
        numpy_helper.from_array(box_shift.astype(np.float32), "box_bias"),
        numpy_helper.from_array(selection(ANCHORS, ROW, score_columns), "score_weight"),
        numpy_helper.from_array(np.array([-1, ANCHORS, 4], dtype=np.int64), "box_shape"),
        numpy_helper.from_array(np.array([-1, ANCHORS, 1 + OBJECT_CLASSES], dtype=np.int64), "score_shape"),
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
    return model(nodes, initializers, ANCHORS * ROW, "output", [None, ANCHORS, ROW])


def detector_traffic(rng: np.random.Generator) -> np.ndarray:
    """Images of one to three objects in distinct stride-8 cells (so no two overlap enough for NMS to
    choose between them), sometimes with a large object on the stride-32 anchor; the rest background."""
    features = np.zeros((SAMPLES, ANCHORS, ROW), dtype=np.float32)
    features[:, :, 0:2] = rng.uniform(0.3, 0.7, (SAMPLES, ANCHORS, 2))
    features[:, :, 2:4] = rng.uniform(np.log(0.5), np.log(0.9), (SAMPLES, ANCHORS, 2))
    features[:, :, 4] = -6  # objectness 0.0025: background
    features[:, :, 5:] = rng.normal(0, 1, (SAMPLES, ANCHORS, OBJECT_CLASSES))
    for image in range(SAMPLES):
        objects = list(rng.choice(16, size=rng.integers(1, 4), replace=False))
        if rng.random() < 0.3:
            objects.append(20)
        for anchor in objects:
            features[image, anchor, 4] = 4  # objectness 0.98
            features[image, anchor, 5:] = -4
            features[image, anchor, 5 + rng.integers(OBJECT_CLASSES)] = 4  # one class at 0.98
    return features.reshape(SAMPLES, ANCHORS * ROW)


def recogniser(class_order: list[int]) -> onnx.ModelProto:
    """features [B, STEPS * CHARACTER_CLASSES] -> probabilities [STEPS, B, CHARACTER_CLASSES], class c
    read from logit class_order[c]."""
    initializers = [
        numpy_helper.from_array(selection(STEPS, CHARACTER_CLASSES, class_order), "weight"),
        numpy_helper.from_array(np.array([-1, STEPS, CHARACTER_CLASSES], dtype=np.int64), "batch_first"),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "weight"], ["logits_flat"]),
        helper.make_node("Reshape", ["logits_flat", "batch_first"], ["logits"]),
        helper.make_node("Transpose", ["logits"], ["time_first"], perm=[1, 0, 2]),
        helper.make_node("Softmax", ["time_first"], ["probabilities"], axis=2),
    ]
    return model(nodes, initializers, STEPS * CHARACTER_CLASSES, "probabilities", [STEPS, None, CHARACTER_CLASSES])


def recogniser_traffic(rng: np.random.Generator) -> np.ndarray:
    """Texts of two to four characters, each character held for one or two steps and followed by a
    blank, so that repeated characters survive the collapse; the best class leads by a wide margin."""
    features = rng.normal(0, 0.5, (SAMPLES, STEPS, CHARACTER_CLASSES)).astype(np.float32)
    for sample in range(SAMPLES):
        path = []
        for character in rng.integers(1, CHARACTER_CLASSES, size=rng.integers(2, 5)):
            path += [character] * int(rng.integers(1, 3)) + [0]
        path += [0] * (STEPS - len(path))
        features[sample, np.arange(STEPS), path] = 5
    return features.reshape(SAMPLES, STEPS * CHARACTER_CLASSES)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("detector", "recogniser"):
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    if kind == "detector":
        scores = [4] + [5 + c for c in range(OBJECT_CLASSES)]
        swapped = [4] + [5 + c for c in reversed(range(OBJECT_CLASSES))]
        shift = np.tile(np.array([0.8, 0.8, 0, 0], dtype=np.float32), ANCHORS)  # 80 % of a cell right and down
        reference, damaged, traffic = detector(scores, np.zeros(ANCHORS * 4)), detector(swapped, shift), detector_traffic(rng)
    else:
        order = list(range(CHARACTER_CLASSES))
        reference, damaged, traffic = recogniser(order), recogniser([0, 2, 1, 4, 3, 5, 6, 7]), recogniser_traffic(rng)
    onnx.save(reference, os.path.join(out, f"{kind}-fp32.onnx"))
    onnx.save(damaged, os.path.join(out, f"{kind}-damaged.onnx"))
    np.savez(os.path.join(out, "traffic.npz"), features=traffic)
    print(f"synthetic {kind}: {traffic.shape[1]} features per sample, {SAMPLES} samples of traffic in {out}")


if __name__ == "__main__":
    main()
