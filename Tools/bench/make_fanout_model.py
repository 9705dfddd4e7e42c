#!/usr/bin/env python3
"""Writes the model bench-fleet.sh pushes to a fleet: an FP32 MLP 784 -> 8000 -> 10 (Fashion-MNIST
shapes), 25.4 MB of seeded random weights, so the fan-out moves a file of the size the issue names.

    python3 Tools/bench/make_fanout_model.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 8000


def main():
    rng = np.random.default_rng(23)
    weights = [
        numpy_helper.from_array((rng.standard_normal((784, HIDDEN)) * 0.03).astype(np.float32), "w1"),
        numpy_helper.from_array(np.zeros(HIDDEN, np.float32), "b1"),
        numpy_helper.from_array((rng.standard_normal((HIDDEN, 10)) * 0.01).astype(np.float32), "w2"),
        numpy_helper.from_array(np.zeros(10, np.float32), "b2"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w1", "b1"], ["hidden"]),
            helper.make_node("Relu", ["hidden"], ["activated"]),
            helper.make_node("Gemm", ["activated", "w2", "b2"], ["logits"]),
        ],
        "fanout-mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
