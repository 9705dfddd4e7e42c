#!/usr/bin/env python3
"""Writes the committed seed corpora of the libFuzzer targets: Fuzz/corpus/TARGET/seed-*.

usage: Tools/make-fuzz-seeds.py

Each seed is a small valid input of the parser it feeds (frames from protoc's text encoding of
fleet.proto messages, ONNX models from onnx.helper, .npz from numpy, the shipped YAML files, a CA
certificate and CRL from openssl, admin API bodies, infer requests), so the fuzzer starts past the first checks.
Inputs the fuzzer once crashed on live beside them as crash-* files, kept as regression inputs; the
ones written by hand to reproduce a fault found by reading a parser are written here too.
Needs protoc (protobuf-compiler), openssl, numpy and onnx.
"""
import io
import pathlib
import shutil
import struct
import subprocess
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = pathlib.Path(__file__).resolve().parent.parent
CORPUS = REPO / "Fuzz" / "corpus"


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data)


def npy(header: str, payload: bytes = b"") -> bytes:
    """An .npy member with `header` as its dict, padded as numpy pads it."""
    text = header.encode()
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload


def stored_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            # A fixed time, so the file is the same at every run.
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def npz_faults() -> None:
    """Inputs that reproduce faults found by reading the NPZ parser (FuzzRegressionTests names their errors)."""
    folder = CORPUS / "npz"
    # Sizes whose product passes Int.max.
    (folder / "crash-shape-overflow").write_bytes(stored_zip({"x.npy": npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", b"\0" * 16)}))
    # 10^12 zero-width strings in 0 bytes.
    (folder / "crash-string-width-zero").write_bytes(stored_zip({"x.npy": npy(
        "{'descr': '<U0', 'fortran_order': False, 'shape': (1000000000000,), }")}))
    # An end record that says zip64, and a locator pointing near Int64.max.
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0, 0xFFFFFFFF, 0)
    locator = struct.pack("<IIQI", 0x07064B50, 0, 0x7FFFFFFFFFFFFFF0, 1)
    (folder / "crash-zip64-record-offset-overflow").write_bytes(b"PK" + b"\0" * 60 + locator + end)


def envelope(text: str) -> bytes:
    """A length-prefixed frame of one Envelope given in protobuf text format."""
    body = subprocess.run(
        ["protoc", "--proto_path", str(REPO / "Protocols"), "--encode=quantfleet.v1.Envelope", "quantfleet/v1/fleet.proto"],
        input=text.encode(), capture_output=True, check=True).stdout
    return struct.pack(">I", len(body)) + body


def frames() -> None:
    hello = envelope('hello { protocol_versions: 1 capabilities: "model-chunks" agent_version: "0.9" kernel_path: "avx2" '
                     'labels { key: "site" value: "line-3" } }')
    window = envelope('shadow_window { assignment_id: "a-1" sequence: 4 count: 100 top1_agreements: 97 labelled: 20 '
                      'reference_correct: 18 candidate_correct: 17 reference_only_correct: 2 candidate_only_correct: 1 '
                      'kernel_path: "avx2" classes { } sketches: "{}" }')
    assignment = envelope('assignment { assignment_id: "a-1" model_name: "m" sampling_rate: 0.5 window_size: 100 '
                          'reference { sha256: "00" } candidate { sha256: "11" } version: 3 expires_at_ms: 1900000000000 '
                          'signed { assignment: "\\001\\002" signature: "xx" key_id: "k" } }')
    write("frames", "hello", hello)
    write("frames", "window", window)
    write("frames", "assignment", assignment)
    write("frames", "heartbeat-chunk", envelope("heartbeat { }") + envelope('model_chunk { sha256: "00" offset: 0 data: "abc" }'))
    write("frames", "conversation", hello + window + window + envelope("heartbeat { }"))


def onnx_models() -> None:
    def model(nodes, inputs, outputs, initializers, opset=17):
        graph = helper.make_graph(nodes, "seed", inputs, outputs, initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()

    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weights = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    write("onnx", "conv-relu", model([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                                      helper.make_node("Relu", ["c"], ["y"])], [x], [y], [weights]))
    scale = numpy_helper.from_array(np.array(0.05, np.float32), "s")
    zero = numpy_helper.from_array(np.array(128, np.uint8), "z")
    write("onnx", "qdq-transpose", model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                                          helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
                                          helper.make_node("Transpose", ["d"], ["t"], perm=[0, 2, 3, 1]),
                                          helper.make_node("QuantizeLinear", ["t", "s", "z"], ["tq"]),
                                          helper.make_node("DequantizeLinear", ["tq", "s", "z"], ["y"])],
                                         [x], [y], [scale, zero]))
    m = helper.make_tensor_value_info("m", TensorProto.FLOAT, [2, 4])
    b = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "b")
    shape = numpy_helper.from_array(np.array([3, 2], np.int64), "shape")
    write("onnx", "gemm-reshape-softmax", model([helper.make_node("Gemm", ["m", "b"], ["g"]),
                                                 helper.make_node("Reshape", ["g", "shape"], ["r"]),
                                                 helper.make_node("Softmax", ["r"], ["y"], axis=-1)], [m], [y], [b, shape]))


def npz() -> None:
    for name, arrays in [("floats", {"x": np.arange(12, dtype=np.float32).reshape(3, 4)}),
                         ("mixed", {"ids": np.array([[1, 2]], np.int64), "mask": np.array([True, False]),
                                    "f16": np.ones((2, 2), np.float16), "fortran": np.asfortranarray(np.eye(3))})]:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write("npz", name, buffer.getvalue())


def configuration() -> None:
    for name in ["policy", "coordinator", "agent"]:
        write("configuration", name, (REPO / "Config" / f"{name}.yaml").read_bytes())


def certificates() -> None:
    with tempfile.TemporaryDirectory() as folder:
        def openssl(*arguments):
            subprocess.run(["openssl", *arguments], cwd=folder, check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-days", "3650", "-subj", "/CN=seed-ca")
        pathlib.Path(folder, "index.txt").write_text("")
        pathlib.Path(folder, "crlnumber").write_text("01\n")
        pathlib.Path(folder, "ca.cnf").write_text(
            "[ca]\ndefault_ca=seed\n[seed]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\n"
            "default_crl_days=30\n")
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem")
        openssl("crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der")
        certificate = pathlib.Path(folder, "ca.pem").read_bytes()
        write("certificates", "certificate-crl-pem", certificate + pathlib.Path(folder, "crl.pem").read_bytes())
        write("certificates", "certificate-crl-der", certificate + pathlib.Path(folder, "crl.der").read_bytes())
        write("certificates", "certificate-key", certificate + pathlib.Path(folder, "ca.key").read_bytes())


def admin() -> None:
    write("admin", "create", b'{"modelName": "m", "reference": "00", "candidate": "11", "target": {"site": "a"}, '
                             b'"stages": [5, 25, 100], "samplingRate": 0.5, "windowSize": 100, "windowMaxAgeMs": 1000}')
    write("admin", "create-bad-stages", b'{"modelName": "m", "reference": "00", "candidate": "11", "stages": [50, 25]}')
    write("admin", "action", b'{"reason": "canary looks good", "force": true}')


def oip() -> None:
    """Infer requests: the first byte is 0 for a JSON body, else the JSON header's length."""
    pixels = b'{"id": "r-1", "inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "FP32", "data": [0.5, 1, 2, 3]}]}'
    write("oip", "json", b"\0" + pixels)
    write("oip", "json-nested-texts", b"\0" + b'{"inputs": [{"name": "texts", "shape": [2], "datatype": "BYTES", '
                                      b'"data": [["a"], ["b"]]}], "outputs": [{"name": "y", "parameters": {"binary_data": true}}]}')
    header = b'{"inputs": [{"name": "image", "shape": [1, 3, 8, 8], "datatype": "UINT8", "parameters": {"binary_data_size": 192}}]}'
    write("oip", "binary", bytes([len(header)]) + header + bytes(range(192)))


if __name__ == "__main__":
    for target in ["frames", "onnx", "npz", "configuration", "certificates", "admin", "oip"]:
        for seed in (CORPUS / target).glob("seed-*"):
            seed.unlink()
    frames()
    onnx_models()
    npz()
    npz_faults()
    configuration()
    certificates()
    admin()
    oip()
    print("\n".join(sorted(str(p.relative_to(REPO)) for p in CORPUS.rglob("seed-*"))))
