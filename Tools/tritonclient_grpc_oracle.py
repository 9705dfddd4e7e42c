#!/usr/bin/env python3
"""Drives a running QuantFleet agent's Open Inference Protocol gRPC service with the real
tritonclient[grpc] at its default settings: server and model metadata, liveness and readiness,
infer (tritonclient sends raw_input_contents), the outputs asked for, the request id, labels as a
request parameter, and refusals with their gRPC status. Answers are held against onnxruntime on the
agent's reference model.

usage: tritonclient_grpc_oracle.py HOST:GRPC_PORT MODEL_NAME REFERENCE.onnx TRAFFIC.npz LABELLED_COUNT
Prints one line per check passed; exits 1 naming the first that failed.
"""
import sys

import numpy as np
import onnxruntime
import tritonclient.grpc as grpcclient

from oracle_check import check, refusal

url, model_name, reference_path, traffic_path, labelled_count = sys.argv[1:6]
client = grpcclient.InferenceServerClient(url)

check(client.is_server_live(), "is_server_live")
check(client.is_server_ready(), "is_server_ready")
server = client.get_server_metadata(as_json=True)
check(server["name"] == "quantfleet-agent" and "binary_tensor_data" in server["extensions"], f"get_server_metadata: {server}")
model = client.get_model_metadata(model_name, as_json=True)
version = model["versions"][0]
check(model["inputs"][0] == {"name": "pixels", "datatype": "FP32", "shape": ["-1", "784"]}, f"get_model_metadata: {model}")
check(client.get_model_metadata(model_name, version, as_json=True) == model, "get_model_metadata of the served version")
check(client.is_model_ready(model_name) and client.is_model_ready(model_name, version), "is_model_ready, with and without version")
check(not client.is_model_ready("other") and not client.is_model_ready(model_name, "1"), "is_model_ready is false for what is not served")

traffic = np.load(traffic_path)
images = traffic["input"][:8].astype(np.float32)
reference = onnxruntime.InferenceSession(reference_path)
expected = dict(zip([o.name for o in reference.get_outputs()], reference.run(None, {"pixels": images})))


def infer(outputs=None, **options):
    pixels = grpcclient.InferInput("pixels", list(images.shape), "FP32")
    pixels.set_data_from_numpy(images)
    return client.infer(model_name, [pixels], outputs=outputs, **options)


answer = infer()
np.testing.assert_allclose(answer.as_numpy("probabilities"), expected["probabilities"], atol=2e-3)
check(np.array_equal(answer.as_numpy("label"), expected["label"]), "defaults: every output, matching onnxruntime")
check(answer.get_response().id != "", "an answer without a request id gets one (for a label sent later)")

only = infer(outputs=[grpcclient.InferRequestedOutput("label")])
check([o.name for o in only.get_response().outputs] == ["label"], "only the requested output")

versioned = infer(model_version=version, request_id="g-1")
check(versioned.get_response().id == "g-1" and versioned.get_response().model_version == version,
      "infer of the served version echoes the id and version")

for index in range(int(labelled_count)):
    one = grpcclient.InferInput("pixels", [1, 784], "FP32")
    one.set_data_from_numpy(traffic["input"][index:index + 1].astype(np.float32))
    client.infer(model_name, [one], parameters={"label": int(traffic["label"][index])})
check(True, f"{labelled_count} requests with labels as a request parameter")


first = grpcclient.InferInput("pixels", [1, 784], "FP32").set_data_from_numpy(images[:1])
status, message = refusal(lambda: client.infer("other", [first]))
check(status == "StatusCode.NOT_FOUND" and "unknown model 'other'" in message, f"unknown model refused: {status} {message}")
narrow = grpcclient.InferInput("pixels", [1, 10], "FP32").set_data_from_numpy(np.zeros((1, 10), np.float32))
status, message = refusal(lambda: client.infer(model_name, [narrow]))
check(status == "StatusCode.INVALID_ARGUMENT" and "does not fit the model's [?, 784]" in message, f"bad shape refused: {status} {message}")
status, message = refusal(lambda: client.get_model_metadata(model_name, "1"))
check(status == "StatusCode.NOT_FOUND" and "has no version '1'" in message, f"unknown version refused: {status} {message}")
words = grpcclient.InferInput("pixels", [1, 784], "BYTES").set_data_from_numpy(np.full((1, 784), b"0", dtype=np.object_))
status, message = refusal(lambda: client.infer(model_name, [words]))
check(status == "StatusCode.INVALID_ARGUMENT" and "datatype BYTES does not match the model's FP32" in message,
      f"BYTES for an FP32 input refused: {status} {message}")
