#!/usr/bin/env python3
"""onnxruntime on ONNX's backend node tests: how many load and how many match, with the same
tolerance the engine is held to (rtol 1e-3, atol 1e-7; exact for non-float types).

Usage: onnxruntime_node_tests.py NODE_TEST_DIR [--list]  -> JSON {version, total, loaded, passed}
--list also prints each test's outcome on stderr."""
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort


def read_value(path, type_proto):
    """A tensor, sequence or optional as onnx's own backend runner reads it."""
    with open(path, "rb") as f:
        data = f.read()
    kind = type_proto.WhichOneof("value")
    if kind == "sequence_type":
        proto = onnx.SequenceProto()
        proto.ParseFromString(data)
        return numpy_helper.to_list(proto)
    if kind == "optional_type":
        proto = onnx.OptionalProto()
        proto.ParseFromString(data)
        return numpy_helper.to_optional(proto)
    proto = onnx.TensorProto()
    proto.ParseFromString(data)
    return numpy_helper.to_array(proto)


def close(actual, expected):
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(close(a, e) for a, e in zip(actual, expected))
    if expected is None:
        return actual is None
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        return False
    if expected.dtype.kind in "fc":
        return np.allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=1e-3, atol=1e-7, equal_nan=True)
    if expected.dtype.kind == "V":  # float8 and other extension types: compare the bits
        return actual.tobytes() == expected.tobytes()
    return np.array_equal(actual, expected)


def outcome(directory):
    model = onnx.load(os.path.join(directory, "model.onnx"))
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception:
        return "not loaded"
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    for data_set in sorted(glob.glob(os.path.join(directory, "test_data_set_*"))):
        try:
            feeds = {i.name: read_value(os.path.join(data_set, f"input_{n}.pb"), i.type) for n, i in enumerate(inputs)
                     if os.path.exists(os.path.join(data_set, f"input_{n}.pb"))}
            results = session.run(None, feeds)
        except Exception:
            return "failed"
        for n, (output, actual) in enumerate(zip(model.graph.output, results)):
            expected = read_value(os.path.join(data_set, f"output_{n}.pb"), output.type)
            if not close(actual, expected):
                return "failed"
    return "passed"


def main():
    root = sys.argv[1]
    tests = sorted(d for d in os.listdir(root) if d.startswith("test_"))
    loaded = passed = 0
    for name in tests:
        result = outcome(os.path.join(root, name))
        loaded += result != "not loaded"
        passed += result == "passed"
        if "--list" in sys.argv:
            print(f"{name} {result}", file=sys.stderr)
    print(json.dumps({"version": ort.__version__, "total": len(tests), "loaded": loaded, "passed": passed}))


if __name__ == "__main__":
    main()
