#!/usr/bin/env python3
"""Drives a running QuantFleet agent with the real tritonclient[http] at its default settings, as an
Open Inference Protocol user would: server and model metadata, health, infer with binary tensor data
(tritonclient's default) and with JSON, outputs asked for as binary and as JSON, labels as a request
parameter, and refusals. Answers are held against onnxruntime on the agent's reference model.

usage: tritonclient_oracle.py HOST:PORT MODEL_NAME REFERENCE.onnx TRAFFIC.npz LABELLED_COUNT
Prints one line per check passed; exits 1 naming the first that failed.
"""
import sys

import numpy as np
import onnxruntime
import tritonclient.http as httpclient

from oracle_check import check, refusal

url, model_name, reference_path, traffic_path, labelled_count = sys.argv[1:6]
client = httpclient.InferenceServerClient(url)

check(client.is_server_live(), "is_server_live")
check(client.is_server_ready(), "is_server_ready")
server = client.get_server_metadata()
check(server["name"] == "quantfleet-agent" and "binary_tensor_data" in server["extensions"],
      f"get_server_metadata names the binary_tensor_data extension: {server}")
model = client.get_model_metadata(model_name)
version = model["versions"][0]
check(model["inputs"][0] == {"name": "pixels", "datatype": "FP32", "shape": [-1, 784]}, f"get_model_metadata: {model}")
check(client.get_model_metadata(model_name, version) == model, "get_model_metadata of the served version")
check(client.is_model_ready(model_name) and client.is_model_ready(model_name, version), "is_model_ready, with and without version")

traffic = np.load(traffic_path)
images = traffic["input"][:8].astype(np.float32)
reference = onnxruntime.InferenceSession(reference_path)
expected = dict(zip([o.name for o in reference.get_outputs()], reference.run(None, {"pixels": images})))


def infer(binary_input=True, outputs=None, **options):
    pixels = httpclient.InferInput("pixels", list(images.shape), "FP32")
    pixels.set_data_from_numpy(images, binary_data=binary_input)
    return client.infer(model_name, [pixels], outputs=outputs, **options)


def travelled_as_binary(result, name):
    output = next(o for o in result.get_response()["outputs"] if o["name"] == name)
    return "binary_data_size" in output.get("parameters", {})


def answers_match(result, what):
    np.testing.assert_allclose(result.as_numpy("probabilities"), expected["probabilities"], atol=2e-3, err_msg=what)
    check(np.array_equal(result.as_numpy("label"), expected["label"]), f"{what}: labels match onnxruntime")


default = infer()
check(travelled_as_binary(default, "probabilities") and travelled_as_binary(default, "label"),
      "defaults: binary input, every output binary (binary_data_output)")
answers_match(default, "defaults")

as_json = infer(False, outputs=[httpclient.InferRequestedOutput(name, binary_data=False) for name in ("probabilities", "label")])
check(not travelled_as_binary(as_json, "probabilities") and not travelled_as_binary(as_json, "label"),
      "binary_data=False: JSON input and outputs")
check(np.array_equal(as_json.as_numpy("probabilities"), default.as_numpy("probabilities")), "JSON and binary answers are the same floats")

mixed = infer(outputs=[httpclient.InferRequestedOutput("probabilities"), httpclient.InferRequestedOutput("label", binary_data=False)])
check(travelled_as_binary(mixed, "probabilities") and not travelled_as_binary(mixed, "label"), "outputs asked for one binary, one JSON")
answers_match(mixed, "mixed outputs")

only = infer(outputs=[httpclient.InferRequestedOutput("label")])
check([o["name"] for o in only.get_response()["outputs"]] == ["label"], "only the requested output")

versioned = infer(model_version=version, request_id="v-1")
check(versioned.get_response()["id"] == "v-1" and versioned.get_response()["model_version"] == version,
      "infer under /versions/{version} echoes the id and version")

for index in range(int(labelled_count)):
    one = httpclient.InferInput("pixels", [1, 784], "FP32")
    one.set_data_from_numpy(traffic["input"][index:index + 1].astype(np.float32))
    client.infer(model_name, [one], parameters={"label": int(traffic["label"][index])})
check(True, f"{labelled_count} binary requests with labels as a request parameter")


status, message = refusal(lambda: client.infer("other", [httpclient.InferInput("pixels", [1, 784], "FP32")
                                                         .set_data_from_numpy(images[:1])]))
check(status == "404" and "unknown model 'other'" in message, f"unknown model refused: {status} {message}")
narrow = httpclient.InferInput("pixels", [1, 10], "FP32").set_data_from_numpy(np.zeros((1, 10), np.float32))
status, message = refusal(lambda: client.infer(model_name, [narrow]))
check(status == "400" and "does not fit the model's [?, 784]" in message, f"bad shape refused: {status} {message}")
status, message = refusal(lambda: client.get_model_metadata(model_name, "1"))
check(status == "404" and "has no version '1'" in message, f"unknown version refused: {status} {message}")
words = httpclient.InferInput("pixels", [1, 784], "BYTES").set_data_from_numpy(np.full((1, 784), b"0", dtype=np.object_))
status, message = refusal(lambda: client.infer(model_name, [words]))
check(status == "400" and "datatype BYTES does not match the model's FP32" in message, f"BYTES for an FP32 input refused: {status} {message}")
