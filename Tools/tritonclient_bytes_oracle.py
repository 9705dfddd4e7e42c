#!/usr/bin/env python3
"""Sends BYTES tensors with the real tritonclient[http] to an agent serving Tools/make-string-models.py's
words-reference.onnx: strings in as binary tensor data (tritonclient's default) and as JSON, and a
string output back as binary and as JSON.

usage: tritonclient_bytes_oracle.py HOST:PORT MODEL_NAME
Prints one line per check passed; exits 1 naming the first that failed.
"""
import sys

import numpy as np
import tritonclient.http as httpclient

from oracle_check import check

url, model_name = sys.argv[1:3]
client = httpclient.InferenceServerClient(url)

metadata = client.get_model_metadata(model_name)
check(metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1, 1]}]
      and {"name": "echo", "datatype": "BYTES", "shape": [-1, 1]} in metadata["outputs"], f"string tensors are BYTES: {metadata}")

words = np.array([["cat"], ["fish"], ["bird"], ["ünïcode"], [""]], dtype=np.object_)
for binary_input in (True, False):
    for binary_output in (True, False):
        text = httpclient.InferInput("text", list(words.shape), "BYTES").set_data_from_numpy(words, binary_data=binary_input)
        outputs = [httpclient.InferRequestedOutput(name, binary_data=binary_output) for name in ("score", "echo")]
        result = client.infer(model_name, [text], outputs=outputs)
        what = f"BYTES input {'binary' if binary_input else 'JSON'}, outputs {'binary' if binary_output else 'JSON'}"
        echo = result.as_numpy("echo")
        # tritonclient gives binary BYTES back as bytes, JSON ones as str.
        echoed = [value.decode() if isinstance(value, bytes) else value for value in echo.flatten()]
        check(echoed == [word for (word,) in words] and echo.shape == (5, 1), f"{what}: the words come back, {echoed}")
        check(result.as_numpy("score").flatten().tolist() == [1, 0, 3, 0, 0], f"{what}: the words are mapped")
