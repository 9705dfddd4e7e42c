#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime and writes every output to an .npz: the tests' oracle.

usage: Tools/ort_oracle.py MODEL IN.npz OUT.npz
IN.npz holds one array per model input, named like the input. Needs: pip install numpy onnxruntime.
"""
import sys

import numpy as np
import onnxruntime as ort


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    model, inputs, outputs = sys.argv[1:]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = dict(np.load(inputs))
    names = [output.name for output in session.get_outputs()]
    np.savez(outputs, **dict(zip(names, session.run(names, feeds))))


if __name__ == "__main__":
    main()
