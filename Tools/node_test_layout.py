"""Writes a model, its inputs and onnxruntime's outputs in the layout of ONNX's backend node tests,
which the engine's node-test runner reads (the model-suite fixture scripts share it):
  OUT/test_<name>/model.onnx
  OUT/test_<name>/test_data_set_0/input_<i>.pb, output_<i>.pb
"""
import os

import numpy as np
import onnxruntime
from onnx import numpy_helper


def tensor_proto(value, name):
    return numpy_helper.from_array(np.asarray(value), name=name)


def write_node_test(out, name, model, inputs, options=None, proto=tensor_proto):
    """Runs `model` on `inputs` (fed in the graph's input order) in onnxruntime with `options` and
    writes the test; `proto(value, name)` serializes an input or output. Returns onnxruntime's
    outputs, or None when the test is already written (it is kept)."""
    directory = os.path.join(out, "test_" + name)
    if os.path.exists(os.path.join(directory, "test_data_set_0", "output_0.pb")):
        return None
    model_bytes = model.SerializeToString()
    session = onnxruntime.InferenceSession(model_bytes, options or onnxruntime.SessionOptions(), providers=["CPUExecutionProvider"])
    feeds = {info.name: value for info, value in zip(session.get_inputs(), inputs)}
    outputs = session.run(None, feeds)
    data = os.path.join(directory, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(directory, "model.onnx"), "wb") as file:
        file.write(model_bytes)
    for index, (info, value) in enumerate(zip(session.get_inputs(), inputs)):
        with open(os.path.join(data, f"input_{index}.pb"), "wb") as file:
            file.write(proto(value, info.name).SerializeToString())
    for index, (info, value) in enumerate(zip(session.get_outputs(), outputs)):
        with open(os.path.join(data, f"output_{index}.pb"), "wb") as file:
            file.write(proto(value, info.name).SerializeToString())
    return outputs
