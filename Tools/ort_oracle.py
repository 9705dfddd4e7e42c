#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime and writes every output to an .npz: the tests' oracle.

usage: Tools/ort_oracle.py MODEL IN.npz OUT.npz [--node-by-node]
IN.npz holds one array per model input, named like the input. --node-by-node turns onnxruntime's graph
optimizations off, so each node runs as the ONNX specification defines it: a QDQ file's QuantizeLinear
and DequantizeLinear round where the file says, instead of inside fused integer kernels.
Needs: pip install numpy onnxruntime.
"""
import sys

import numpy as np
import onnxruntime as ort


def main() -> None:
    if len(sys.argv) not in (4, 5) or sys.argv[4:] not in ([], ["--node-by-node"]):
        sys.exit(__doc__)
    model, inputs, outputs = sys.argv[1:4]
    options = ort.SessionOptions()
    if sys.argv[4:]:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    feeds = dict(np.load(inputs))
    names = [output.name for output in session.get_outputs()]
    np.savez(outputs, **dict(zip(names, session.run(names, feeds))))


if __name__ == "__main__":
    main()
