#!/usr/bin/env python3
"""Makes the com.microsoft operator suite: files that onnxruntime's own tools write (a small CNN
quantized by quantize_static in QOperator format, MatMuls through MatMulNBitsQuantizer, an LSTM
through quantize_dynamic, a BERT-style layer through the transformer optimizer), plus small graphs
written with onnx.helper for each operator and its attribute and optional-input variants.

Each model is written in the layout of ONNX's backend node tests, so the same runner takes them:
  OUT/test_<name>/model.onnx
  OUT/test_<name>/test_data_set_0/input_<i>.pb, output_<i>.pb
The expected outputs are onnxruntime's on the same file and inputs, with graph optimizations off so
that onnxruntime runs the operators the file holds.

usage: Tools/make-microsoft-op-fixtures.py [OUT_DIR]     (default .cache/models/com-microsoft)
Needs: numpy onnx onnxruntime onnx-ir (Tools/install-dependencies.sh --test-oracles). Deterministic
(fixed seeds) and idempotent: a model already written is kept.
"""
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from node_test_layout import write_node_test

SEED = 0
OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]


def ms_model(nodes, inputs, outputs, initializers=()):
    """A graph of com.microsoft nodes; inputs and outputs are (name, element type, shape)."""
    graph = helper.make_graph(
        nodes, "com-microsoft",
        [helper.make_tensor_value_info(name, kind, shape) for name, kind, shape in inputs],
        [helper.make_tensor_value_info(name, kind, shape) for name, kind, shape in outputs],
        [numpy_helper.from_array(np.asarray(value), name) for name, value in initializers])
    return helper.make_model(graph, opset_imports=OPSETS)


def node(op_type, inputs, outputs, **attributes):
    return helper.make_node(op_type, inputs, outputs, domain="com.microsoft", **attributes)


def levels(rng, kind, shape):
    return rng.integers(0, 256, size=shape).astype(np.uint8) if kind == np.uint8 else rng.integers(-128, 128, size=shape).astype(np.int8)


def weight_levels(rng, kind, shape):
    """Weights for a product with uint8 activations: int8 ones in 7 bits (-64..63), as onnxruntime's
    quantizers write them with reduce_range. On x86 without VNNI, onnxruntime's u8 x s8 kernels add
    each pair of byte products in int16 with saturation, which full-range int8 weights overflow; the
    engine's products are exact."""
    return levels(rng, kind, shape) if kind == np.uint8 else rng.integers(-64, 64, size=shape).astype(np.int8)


def onnx_type(kind):
    return TensorProto.UINT8 if kind == np.uint8 else TensorProto.INT8


def qlinear_binary_models(rng):
    models = []
    for op_type in ["QLinearAdd", "QLinearMul"]:
        for kind, a_shape, b_shape, tag in [
            (np.uint8, [2, 3, 4, 5], [2, 3, 4, 5], "uint8"),
            (np.int8, [2, 3, 4, 5], [1, 3, 1, 1], "int8-broadcast-channels"),
            (np.uint8, [1], [3, 37], "uint8-scalar-a"),
            (np.int8, [4, 1, 6], [5, 1], "int8-broadcast-both"),
        ]:
            t = onnx_type(kind)
            parameters = [("a_scale", np.float32(rng.uniform(0.01, 0.1))), ("a_zero", levels(rng, kind, [])),
                          ("b_scale", np.float32(rng.uniform(0.01, 0.1))), ("b_zero", levels(rng, kind, [])),
                          ("c_scale", np.float32(rng.uniform(0.02, 0.2))), ("c_zero", levels(rng, kind, []))]
            model = ms_model([node(op_type, ["a", "a_scale", "a_zero", "b", "b_scale", "b_zero", "c_scale", "c_zero"], ["c"])],
                             [("a", t, a_shape), ("b", t, b_shape)], [("c", t, None)], parameters)
            models.append((f"{op_type.lower()}-{tag}", model, [levels(rng, kind, a_shape), levels(rng, kind, b_shape)]))
    # Scales and zero points fed at run, C's zero point omitted (0). (onnxruntime's type inference
    # refuses A's or B's omitted.)
    model = ms_model([node("QLinearAdd", ["a", "a_scale", "a_zero", "b", "b_scale", "b_zero", "c_scale"], ["c"])],
                     [("a", TensorProto.UINT8, [3, 8]), ("a_scale", TensorProto.FLOAT, []), ("a_zero", TensorProto.UINT8, []),
                      ("b", TensorProto.UINT8, [3, 8]), ("b_scale", TensorProto.FLOAT, []), ("b_zero", TensorProto.UINT8, []),
                      ("c_scale", TensorProto.FLOAT, [])], [("c", TensorProto.UINT8, None)])
    models.append(("qlinearadd-uint8-runtime-parameters", model,
                   [levels(rng, np.uint8, [3, 8]), np.float32(0.05), np.uint8(3), levels(rng, np.uint8, [3, 8]), np.float32(0.03),
                    np.uint8(200), np.float32(0.04)]))
    return models


def qlinear_lookup_models(rng):
    models = []
    for op_type, attributes in [("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.1})]:
        for kind in [np.uint8, np.int8]:
            t = onnx_type(kind)
            # Every level once, so the whole table is compared.
            x = np.arange(256, dtype=np.uint8).view(kind).reshape(4, 64)
            parameters = [("x_scale", np.float32(0.0625)), ("x_zero", np.array(128 if kind == np.uint8 else 0, kind)),
                          ("y_scale", np.float32(1 / 256 if op_type == "QLinearSigmoid" else 0.05)),
                          ("y_zero", np.array(0 if kind == np.uint8 else -128 if op_type == "QLinearSigmoid" else 10, kind))]
            model = ms_model([node(op_type, ["x", "x_scale", "x_zero", "y_scale", "y_zero"], ["y"], **attributes)],
                             [("x", t, [4, 64])], [("y", t, None)], parameters)
            models.append((f"{op_type.lower()}-{'uint8' if kind == np.uint8 else 'int8'}", model, [x]))
    # Scales fed at run (the table is built per run) and the zero points omitted.
    model = ms_model([node("QLinearLeakyRelu", ["x", "x_scale", "", "y_scale", ""], ["y"])],
                     [("x", TensorProto.UINT8, [2, 128]), ("x_scale", TensorProto.FLOAT, []), ("y_scale", TensorProto.FLOAT, [])],
                     [("y", TensorProto.UINT8, None)])
    models.append(("qlinearleakyrelu-runtime-scales", model,
                   [np.arange(256, dtype=np.uint8).reshape(2, 128), np.float32(0.03), np.float32(0.017)]))
    # int8 levels with both zero points omitted: the table's type is X's.
    model = ms_model([node("QLinearSigmoid", ["x", "x_scale", "", "y_scale", ""], ["y"])],
                     [("x", TensorProto.INT8, [256])], [("y", TensorProto.INT8, None)], [("x_scale", np.float32(0.05)), ("y_scale", np.float32(0.004))])
    models.append(("qlinearsigmoid-int8-no-zero-points", model, [np.arange(256, dtype=np.uint8).view(np.int8)]))
    return models


def qlinear_concat_models(rng):
    models = []
    for kind, axis, shapes in [(np.uint8, 1, [[2, 3, 4], [2, 5, 4], [2, 1, 4]]), (np.int8, -1, [[3, 2], [3, 7]])]:
        t = onnx_type(kind)
        inputs, names, parameters = [], ["y_scale", "y_zero"], [("y_scale", np.float32(0.05)), ("y_zero", levels(rng, kind, []))]
        for index, shape in enumerate(shapes):
            # The first input is quantized like Y (copied); the others are requantized.
            scale = np.float32(0.05) if index == 0 else np.float32(rng.uniform(0.01, 0.2))
            zero = parameters[1][1] if index == 0 else levels(rng, kind, [])
            parameters += [(f"s{index}", scale), (f"z{index}", zero)]
            names += [f"x{index}", f"s{index}", f"z{index}"]
            inputs.append((f"x{index}", t, shape))
        model = ms_model([node("QLinearConcat", names, ["y"], axis=axis)], inputs, [("y", t, None)], parameters)
        models.append((f"qlinearconcat-{'uint8' if kind == np.uint8 else 'int8'}", model, [levels(rng, kind, s) for _, _, s in inputs]))
    return models


def qlinear_pool_models(rng):
    models = []
    pools = [
        ("qlinearglobalaveragepool-uint8", "QLinearGlobalAveragePool", np.uint8, [2, 3, 5, 7], {}),
        ("qlinearglobalaveragepool-int8", "QLinearGlobalAveragePool", np.int8, [1, 4, 6, 6], {}),
        ("qlinearglobalaveragepool-channels-last", "QLinearGlobalAveragePool", np.uint8, [2, 5, 5, 3], {"channels_last": 1}),
        ("qlinearaveragepool-uint8-pads-strides", "QLinearAveragePool", np.uint8, [1, 3, 9, 9],
         {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ("qlinearaveragepool-int8-count-include-pad", "QLinearAveragePool", np.int8, [2, 2, 7, 6],
         {"kernel_shape": [3, 2], "pads": [1, 0, 1, 1], "count_include_pad": 1}),
        ("qlinearaveragepool-ceil-mode", "QLinearAveragePool", np.uint8, [1, 2, 8, 8], {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
        ("qlinearaveragepool-same-upper-1d", "QLinearAveragePool", np.int8, [2, 3, 11], {"kernel_shape": [4], "auto_pad": "SAME_UPPER"}),
        ("qlinearaveragepool-channels-last", "QLinearAveragePool", np.uint8, [1, 6, 6, 4], {"kernel_shape": [2, 2], "channels_last": 1}),
        ("qlinearaveragepool-whole-image", "QLinearAveragePool", np.uint8, [2, 3, 4, 4], {"kernel_shape": [4, 4]}),
    ]
    for name, op_type, kind, shape, attributes in pools:
        t = onnx_type(kind)
        parameters = [("x_scale", np.float32(rng.uniform(0.01, 0.1))), ("x_zero", levels(rng, kind, [])),
                      ("y_scale", np.float32(rng.uniform(0.01, 0.1))), ("y_zero", levels(rng, kind, []))]
        model = ms_model([node(op_type, ["x", "x_scale", "x_zero", "y_scale", "y_zero"], ["y"], **attributes)],
                         [("x", t, shape)], [("y", t, None)], parameters)
        models.append((name, model, [levels(rng, kind, shape)]))
    return models


def qgemm_models(rng):
    models = []
    variants = [
        ("qgemm-uint8-int8-bias-quantized", np.uint8, np.int8, False, False, 1.0, "per-tensor", [6], True),
        ("qgemm-int8-transb-per-column-float", np.int8, np.int8, False, True, 1.0, "per-column", None, False),
        ("qgemm-uint8-uint8-transa-alpha", np.uint8, np.uint8, True, False, 0.5, "per-tensor", [5, 6], True),
        ("qgemm-uint8-int8-row-bias-float", np.uint8, np.int8, False, False, 2.0, "per-column", [5, 1], False),
    ]
    m, k, n = 5, 7, 6
    for name, a_kind, b_kind, trans_a, trans_b, alpha, granularity, bias_shape, quantized in variants:
        a_shape = [k, m] if trans_a else [m, k]
        b_shape = [n, k] if trans_b else [k, n]
        columns = n if granularity == "per-column" else 1
        b_scale = rng.uniform(0.005, 0.02, size=[columns] if columns > 1 else []).astype(np.float32)
        b_zero = levels(rng, b_kind, [columns] if columns > 1 else []) if b_kind == np.uint8 else np.zeros([columns] if columns > 1 else [], np.int8)
        parameters = [("a_scale", np.float32(0.03)), ("a_zero", levels(rng, a_kind, [])), ("b", weight_levels(rng, b_kind, b_shape)),
                      ("b_scale", b_scale), ("b_zero", b_zero)]
        names = ["a", "a_scale", "a_zero", "b", "b_scale", "b_zero"]
        if bias_shape:
            parameters.append(("c", rng.integers(-2000, 2000, size=bias_shape).astype(np.int32)))
            names.append("c")
        elif quantized:
            names.append("")
        if quantized:
            parameters += [("y_scale", np.float32(0.25)), ("y_zero", levels(rng, a_kind, []))]
            names += ["y_scale", "y_zero"]
        output = onnx_type(a_kind) if quantized else TensorProto.FLOAT
        model = ms_model([node("QGemm", names, ["y"], transA=int(trans_a), transB=int(trans_b), alpha=alpha)],
                         [("a", onnx_type(a_kind), a_shape)], [("y", output, None)], parameters)
        models.append((name, model, [levels(rng, a_kind, a_shape)]))
    return models


def pack_nbits(rng, k, n, bits, block_size):
    """Random levels of B' [K, N] packed as MatMulNBits' B [N, k_blocks, blob], and packed zero points."""
    blocks = (k + block_size - 1) // block_size
    top = (1 << bits) - 1
    levels_kn = rng.integers(0, top + 1, size=(blocks * block_size, n)).astype(np.uint8)
    zeros = rng.integers(0, top + 1, size=(n, blocks)).astype(np.uint8)
    if bits == 4:
        column_major = levels_kn.T.reshape(n, blocks, block_size)
        packed = (column_major[:, :, 0::2] | (column_major[:, :, 1::2] << 4)).astype(np.uint8)
        padded = np.concatenate([zeros, np.zeros((n, blocks % 2), np.uint8)], axis=1)
        packed_zeros = (padded[:, 0::2] | (padded[:, 1::2] << 4)).astype(np.uint8)
    else:
        packed = levels_kn.T.reshape(n, blocks, block_size).copy()
        packed_zeros = zeros
    return packed, packed_zeros, zeros


def matmul_nbits_models(rng):
    models = []
    variants = [
        ("matmulnbits-4bit-zero-points", 64, 24, 4, 32, "packed", False, [2, 5, 64]),
        ("matmulnbits-4bit-default-zero-point-bias", 40, 17, 4, 16, None, True, [3, 40]),
        ("matmulnbits-8bit-zero-points", 48, 10, 8, 16, "packed", False, [4, 48]),
        ("matmulnbits-4bit-float-zero-points", 64, 8, 4, 32, "float", True, [2, 64]),
    ]
    for name, k, n, bits, block_size, zero_points, bias, a_shape in variants:
        blocks = (k + block_size - 1) // block_size
        packed, packed_zeros, zeros = pack_nbits(rng, k, n, bits, block_size)
        scales = rng.uniform(0.01, 0.05, size=(n, blocks)).astype(np.float32)
        parameters = [("b", packed), ("scales", scales)]
        names = ["a", "b", "scales"]
        if zero_points == "packed":
            parameters.append(("zero_points", packed_zeros))
            names.append("zero_points")
        elif zero_points == "float":
            parameters.append(("zero_points", zeros.astype(np.float32) + 0.5))
            names.append("zero_points")
        elif bias:
            names.append("")
        if bias:
            parameters.append(("bias", rng.standard_normal(n).astype(np.float32)))
            names += ["", "bias"]
        model = ms_model([node("MatMulNBits", names, ["y"], K=k, N=n, bits=bits, block_size=block_size)],
                         [("a", TensorProto.FLOAT, a_shape)], [("y", TensorProto.FLOAT, None)], parameters)
        models.append((name, model, [rng.standard_normal(a_shape).astype(np.float32)]))
    return models


def dynamic_quantize_lstm_models(rng):
    models = []
    sequence, batch, inputs, hidden = 5, 3, 6, 4
    for name, direction, kind, per_channel, extras in [
        ("dynamicquantizelstm-int8-per-channel", "forward", np.int8, True, False),
        ("dynamicquantizelstm-uint8-bidirectional-states", "bidirectional", np.uint8, False, True),
    ]:
        directions = 2 if direction == "bidirectional" else 1
        shape = [directions, 4 * hidden] if per_channel else [directions]
        w = weight_levels(rng, kind, [directions, inputs, 4 * hidden])
        r = weight_levels(rng, kind, [directions, hidden, 4 * hidden])
        zero = np.zeros(shape, kind) if kind == np.int8 else np.full(shape, 120, kind)
        parameters = [("w", w), ("r", r), ("b", rng.standard_normal([directions, 8 * hidden]).astype(np.float32) * 0.1),
                      ("w_scale", rng.uniform(0.005, 0.02, size=shape).astype(np.float32)), ("w_zero", zero),
                      ("r_scale", rng.uniform(0.005, 0.02, size=shape).astype(np.float32)), ("r_zero", zero)]
        feeds = [("x", TensorProto.FLOAT, [sequence, batch, inputs])]
        values = [rng.standard_normal([sequence, batch, inputs]).astype(np.float32)]
        names = ["x", "w", "r", "b", "", "", "", ""]
        if extras:
            feeds += [("h0", TensorProto.FLOAT, [directions, batch, hidden]), ("c0", TensorProto.FLOAT, [directions, batch, hidden])]
            values += [rng.standard_normal([directions, batch, hidden]).astype(np.float32) * 0.5 for _ in range(2)]
            parameters.append(("p", rng.standard_normal([directions, 3 * hidden]).astype(np.float32) * 0.1))
            names[5:8] = ["h0", "c0", "p"]
        model = ms_model([node("DynamicQuantizeLSTM", names + ["w_scale", "w_zero", "r_scale", "r_zero"], ["y", "y_h", "y_c"],
                               hidden_size=hidden, direction=direction)],
                         feeds, [("y", TensorProto.FLOAT, None), ("y_h", TensorProto.FLOAT, None), ("y_c", TensorProto.FLOAT, None)], parameters)
        models.append((name, model, values))
    return models


def fused_matmul_models(rng):
    models = []
    for name, a_shape, b_shape, attributes, constant_b in [
        ("fusedmatmul-transb-alpha", [2, 3, 4, 8], [2, 3, 5, 8], {"transB": 1, "alpha": 0.125}, False),
        ("fusedmatmul-transa-broadcast", [2, 1, 6, 4], [3, 6, 5], {"transA": 1}, False),
        ("fusedmatmul-transbatcha", [4, 2, 3, 5], [2, 3, 5, 6], {"transBatchA": 1}, False),
        ("fusedmatmul-transbatchb-transb", [2, 3, 4, 5], [6, 2, 3, 5], {"transBatchB": 1, "transB": 1}, False),
        ("fusedmatmul-constant-b-transb", [3, 7, 8], [10, 8], {"transB": 1, "alpha": 2.0}, True),
    ]:
        b = rng.standard_normal(b_shape).astype(np.float32)
        feeds = [("a", TensorProto.FLOAT, a_shape)] + ([] if constant_b else [("b", TensorProto.FLOAT, b_shape)])
        model = ms_model([node("FusedMatMul", ["a", "b"], ["y"], **attributes)], feeds, [("y", TensorProto.FLOAT, None)],
                         [("b", b)] if constant_b else [])
        values = [rng.standard_normal(a_shape).astype(np.float32)] + ([] if constant_b else [b])
        models.append((name, model, values))
    return models


def activation_models(rng):
    x = (rng.standard_normal([2, 3, 16]) * 3).astype(np.float32)
    bias = rng.standard_normal([16]).astype(np.float32)
    models = []
    for name, op_type, with_bias, attributes in [
        ("gelu", "Gelu", False, {}), ("biasgelu", "BiasGelu", True, {}), ("fastgelu", "FastGelu", False, {}),
        ("fastgelu-bias", "FastGelu", True, {}), ("quickgelu", "QuickGelu", False, {}), ("quickgelu-alpha", "QuickGelu", False, {"alpha": 1.0}),
    ]:
        feeds = [("x", TensorProto.FLOAT, [2, 3, 16])] + ([("bias", TensorProto.FLOAT, [16])] if with_bias else [])
        model = ms_model([node(op_type, [f[0] for f in feeds], ["y"], **attributes)], feeds, [("y", TensorProto.FLOAT, None)])
        models.append((name, model, [x] + ([bias] if with_bias else [])))
    return models


def fused_conv_models(rng):
    """FusedConv with each activation, with Z (added before the activation), grouped and depthwise."""
    x = rng.standard_normal([1, 4, 9, 9]).astype(np.float32)
    models = []
    for name, activation, parameters, group, filters, with_z in [
        ("fusedconv-relu", "Relu", [], 1, 6, False), ("fusedconv-clip", "Clip", [0.0, 6.0], 1, 6, False),
        ("fusedconv-leakyrelu", "LeakyRelu", [0.1], 1, 6, False), ("fusedconv-sigmoid", "Sigmoid", [], 1, 6, False),
        ("fusedconv-tanh", "Tanh", [], 1, 6, False), ("fusedconv-hardsigmoid", "HardSigmoid", [0.2, 0.5], 1, 6, False),
        ("fusedconv-relu-z", "Relu", [], 1, 6, True), ("fusedconv-grouped", "Relu", [], 2, 6, True),
        ("fusedconv-depthwise", "Clip", [0.0, 6.0], 4, 4, True),
    ]:
        w = (rng.standard_normal([filters, 4 // group, 3, 3]) * 0.4).astype(np.float32)
        b = (rng.standard_normal([filters]) * 0.3).astype(np.float32)
        attributes = {"activation": activation, "pads": [1, 1, 1, 1], "group": group}
        if parameters:
            attributes["activation_params"] = parameters
        feeds = [("x", TensorProto.FLOAT, [1, 4, 9, 9])] + ([("z", TensorProto.FLOAT, [1, filters, 9, 9])] if with_z else [])
        inputs = ["x", "w", "b"] + (["z"] if with_z else [])
        model = ms_model([node("FusedConv", inputs, ["y"], **attributes)], feeds, [("y", TensorProto.FLOAT, None)], [("w", w), ("b", b)])
        values = [x] + ([rng.standard_normal([1, filters, 9, 9]).astype(np.float32)] if with_z else [])
        models.append((name, model, values))
    return models


def onnxruntime_fused_conv_models(rng):
    """The small CNN as onnxruntime's extended graph optimizations write it: Conv -> Relu and
    Conv -> Add -> Relu become FusedConv (the second with Z)."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["sum"]),
        helper.make_node("Relu", ["sum"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Clip", ["c3", "low", "high"], ["y"]),
    ]
    initializers = [float_initializer(rng, "w1", [8, 3, 3, 3]), float_initializer(rng, "b1", [8], 0.1),
                    float_initializer(rng, "w2", [8, 8, 3, 3], 0.15), float_initializer(rng, "b2", [8], 0.1),
                    float_initializer(rng, "w3", [8, 1, 3, 3]), float_initializer(rng, "b3", [8], 0.1),
                    numpy_helper.from_array(np.array(0, np.float32), "low"), numpy_helper.from_array(np.array(6, np.float32), "high")]
    graph = helper.make_graph(nodes, "fused-conv-cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with tempfile.TemporaryDirectory() as scratch:
        target = os.path.join(scratch, "optimized.onnx")
        session_options = onnxruntime.SessionOptions()
        session_options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        session_options.optimized_model_filepath = target
        onnxruntime.InferenceSession(model.SerializeToString(), session_options, providers=["CPUExecutionProvider"])
        optimized = onnx.load(target)
    assert any(n.op_type == "FusedConv" for n in optimized.graph.node), "onnxruntime wrote no FusedConv"
    return [("onnxruntime-fused-conv-cnn", optimized, [rng.standard_normal([1, 3, 16, 16]).astype(np.float32)])]


def skip_layer_norm_models(rng):
    hidden = 12
    values = {"input": rng.standard_normal([2, 3, hidden]).astype(np.float32), "skip": rng.standard_normal([3, hidden]).astype(np.float32),
              "gamma": rng.uniform(0.5, 1.5, hidden).astype(np.float32), "beta": rng.standard_normal(hidden).astype(np.float32),
              "bias": rng.standard_normal(hidden).astype(np.float32)}
    full = ms_model([node("SkipLayerNormalization", ["input", "skip", "gamma", "beta", "bias"], ["y", "mean", "inv_std_var", "sum"], epsilon=1e-5)],
                    [(name, TensorProto.FLOAT, list(values[name].shape)) for name in ["input", "skip", "gamma", "beta", "bias"]],
                    [(name, TensorProto.FLOAT, None) for name in ["y", "mean", "inv_std_var", "sum"]])
    same_shape_skip = rng.standard_normal([2, 3, hidden]).astype(np.float32)
    minimal = ms_model([node("SkipLayerNormalization", ["input", "skip", "gamma"], ["y"])],
                       [("input", TensorProto.FLOAT, [2, 3, hidden]), ("skip", TensorProto.FLOAT, [2, 3, hidden])],
                       [("y", TensorProto.FLOAT, None)], [("gamma", values["gamma"])])
    return [("skiplayernormalization-all-inputs-outputs", full, [values[name] for name in ["input", "skip", "gamma", "beta", "bias"]]),
            ("skiplayernormalization-minimal", minimal, [values["input"], same_shape_skip])]


# ---- Files onnxruntime's tools write -------------------------------------------------------------


def float_initializer(rng, name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def tiny_cnn(rng):
    """Conv, Add, Mul, Concat, AveragePool, GlobalAveragePool, Sigmoid, LeakyRelu and Gemm."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c1"], ["r1"], alpha=0.1),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["residual"]),
        helper.make_node("Sigmoid", ["residual"], ["gate"]),
        helper.make_node("Mul", ["residual", "gate"], ["gated"]),
        helper.make_node("Conv", ["x", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["gated", "c3"], ["joined"], axis=1),
        helper.make_node("AveragePool", ["joined"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["pooled"], ["global"]),
        helper.make_node("Flatten", ["global"], ["flat"]),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["logits"], transB=1),
    ]
    initializers = [float_initializer(rng, "w1", [8, 3, 3, 3]), float_initializer(rng, "b1", [8], 0.1),
                    float_initializer(rng, "w2", [8, 8, 3, 3], 0.15), float_initializer(rng, "b2", [8], 0.1),
                    float_initializer(rng, "w3", [4, 3, 3, 3]), float_initializer(rng, "b3", [4], 0.1),
                    float_initializer(rng, "wf", [10, 12]), float_initializer(rng, "bf", [10], 0.1)]
    graph = helper.make_graph(nodes, "tiny-cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def quantized_cnn_models(rng):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            calibration = np.random.default_rng(SEED + 1)
            self.batches = iter([{"x": calibration.standard_normal([1, 3, 16, 16]).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.batches, None)

    float_model = tiny_cnn(rng)
    models = []
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "float.onnx")
        onnx.save(float_model, source)
        for name, activations, weights in [("quantize-static-qoperator-cnn-uint8", QuantType.QUInt8, QuantType.QInt8),
                                           ("quantize-static-qoperator-cnn-int8", QuantType.QInt8, QuantType.QInt8)]:
            target = os.path.join(scratch, name + ".onnx")
            # reduce_range: 7-bit weights (see weight_levels) where the activations are uint8.
            quantize_static(source, target, Reader(), quant_format=QuantFormat.QOperator, activation_type=activations,
                            weight_type=weights, reduce_range=activations == QuantType.QUInt8,
                            extra_options={"ForceQuantizeNoInputCheck": True})
            models.append((name, onnx.load(target), [rng.standard_normal([1, 3, 16, 16]).astype(np.float32)]))
    return models


def matmul_model(rng, k, hidden, n):
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, n])],
                              [float_initializer(rng, "w1", [k, hidden], 0.1), float_initializer(rng, "w2", [hidden, n], 0.1)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def matmul_nbits_quantizer_models(rng):
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    models = []
    for name, block_size, symmetric in [("matmulnbitsquantizer-block32", 32, False), ("matmulnbitsquantizer-block16-symmetric", 16, True)]:
        quantizer = MatMulNBitsQuantizer(matmul_model(rng, 64, 96, 40), block_size=block_size, is_symmetric=symmetric)
        quantizer.process()
        models.append((name, quantizer.model.model, [rng.standard_normal([2, 3, 64]).astype(np.float32)]))
    return models


def lstm_model(rng):
    sequence, batch, inputs, hidden = 6, 2, 5, 8
    initializers = [float_initializer(rng, "w", [1, 4 * hidden, inputs]), float_initializer(rng, "r", [1, 4 * hidden, hidden]),
                    float_initializer(rng, "b", [1, 8 * hidden], 0.1)]
    graph = helper.make_graph([helper.make_node("LSTM", ["x", "w", "r", "b"], ["y", "y_h", "y_c"], hidden_size=hidden)], "lstm",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [sequence, batch, inputs])],
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in ["y", "y_h", "y_c"]], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), [sequence, batch, inputs]


def quantize_dynamic_lstm_models(rng):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model, shape = lstm_model(rng)
    with tempfile.TemporaryDirectory() as scratch:
        source, target = os.path.join(scratch, "lstm.onnx"), os.path.join(scratch, "lstm-quantized.onnx")
        onnx.save(model, source)
        # reduce_range: 7-bit weights (see weight_levels), the activations being quantized to uint8.
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["LSTM"], reduce_range=True)
        return [("quantize-dynamic-lstm", onnx.load(target), [rng.standard_normal(shape).astype(np.float32)])]


def bert_layer(rng, hidden=32, heads=4, ffn=64, sequence=8):
    """Two BERT-style encoder layers written out op by op, the second with tanh GELU."""
    head = hidden // heads
    nodes, initializers = [], []

    def weight(name, shape, scale=0.1):
        initializers.append(float_initializer(rng, name, shape, scale))
        return name

    def constant(name, value):
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def add(op_type, inputs, output, **attributes):
        nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output

    split_shape = constant("split_shape", np.array([0, 0, heads, head], np.int64))
    merge_shape = constant("merge_shape", np.array([0, 0, hidden], np.int64))
    current = "x"
    for layer in range(2):
        p = f"l{layer}_"

        def projection(source, name):
            return add("Add", [add("MatMul", [source, weight(p + name + "_w", [hidden, hidden])], p + name + "_mm"),
                               weight(p + name + "_b", [hidden], 0.02)], p + name)

        def heads_of(source, name, order):
            return add("Transpose", [add("Reshape", [source, split_shape], p + name + "_split")], p + name + "_heads", perm=order)

        q = heads_of(projection(current, "q"), "q", [0, 2, 1, 3])
        k = heads_of(projection(current, "k"), "k", [0, 2, 3, 1])
        v = heads_of(projection(current, "v"), "v", [0, 2, 1, 3])
        scores = add("Div", [add("MatMul", [q, k], p + "qk"), constant(p + "scale", np.float32(np.sqrt(head)))], p + "scores")
        context = add("MatMul", [add("Softmax", [scores], p + "probs", axis=-1), v], p + "context")
        merged = add("Reshape", [add("Transpose", [context], p + "context_t", perm=[0, 2, 1, 3]), merge_shape], p + "merged")
        attention = projection(merged, "o")
        normed = add("LayerNormalization", [add("Add", [attention, current], p + "residual1"), weight(p + "ln1_g", [hidden], 1.0),
                                            weight(p + "ln1_b", [hidden], 0.1)], p + "ln1", epsilon=1e-12, axis=-1)
        up = add("Add", [add("MatMul", [normed, weight(p + "up_w", [hidden, ffn])], p + "up_mm"), weight(p + "up_b", [ffn], 0.02)], p + "up")
        if layer == 0:
            erf = add("Erf", [add("Div", [up, constant(p + "sqrt2", np.float32(np.sqrt(2)))], p + "gelu_div")], p + "gelu_erf")
            gelu = add("Mul", [add("Mul", [up, add("Add", [erf, constant(p + "one", np.float32(1))], p + "gelu_add")], p + "gelu_mul"),
                              constant(p + "half", np.float32(0.5))], p + "gelu")
        else:
            cube = add("Pow", [up, constant(p + "three", np.float32(3))], p + "cube")
            inner = add("Add", [up, add("Mul", [cube, constant(p + "c", np.float32(0.044715))], p + "cube_c")], p + "inner")
            tanh = add("Tanh", [add("Mul", [inner, constant(p + "s", np.float32(np.sqrt(2 / np.pi)))], p + "scaled")], p + "tanh")
            gelu = add("Mul", [add("Mul", [up, constant(p + "half", np.float32(0.5))], p + "half_x"),
                               add("Add", [tanh, constant(p + "one", np.float32(1))], p + "one_plus")], p + "gelu")
        down = add("Add", [add("MatMul", [gelu, weight(p + "down_w", [ffn, hidden])], p + "down_mm"), weight(p + "down_b", [hidden], 0.02)],
                   p + "down")
        current = add("LayerNormalization", [add("Add", [down, normed], p + "residual2"), weight(p + "ln2_g", [hidden], 1.0),
                                             weight(p + "ln2_b", [hidden], 0.1)], p + "out", epsilon=1e-12, axis=-1)
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(nodes, "bert-layers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, sequence, hidden])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, sequence, hidden])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), [1, sequence, hidden]


def transformer_optimizer_models(rng):
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    model, shape = bert_layer(rng)
    options = FusionOptions("bert")
    # No Attention: its fusion would hide the MatMuls that onnxruntime turns into FusedMatMul.
    options.enable_attention = False
    with tempfile.TemporaryDirectory() as scratch:
        source, target = os.path.join(scratch, "bert.onnx"), os.path.join(scratch, "bert-optimized.onnx")
        onnx.save(model, source)
        fused = optimize_model(source, model_type="bert", num_heads=4, hidden_size=32, optimization_options=options, opt_level=0)
        # Then onnxruntime's own extended graph optimizations, which optimize_model's opt_level=2 runs
        # (there it imports torch, which is not installed): they write the FusedMatMul.
        session_options = onnxruntime.SessionOptions()
        session_options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        session_options.optimized_model_filepath = target
        onnxruntime.InferenceSession(fused.model.SerializeToString(), session_options, providers=["CPUExecutionProvider"])
        return [("optimize-model-bert-layers", onnx.load(target), [rng.standard_normal(shape).astype(np.float32)])]


def write(out, name, model, inputs):
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    outputs = write_node_test(out, name, model, [np.asarray(value) for value in inputs], options)
    if outputs is not None:
        operators = sorted({n.op_type for n in model.graph.node if n.domain == "com.microsoft"})
        print(f"{name}: {len(outputs)} output(s); com.microsoft: {', '.join(operators)}")


def main():
    warnings.filterwarnings("ignore")
    # The quantizers' advice to pre-process the model first, on every run.
    logging.disable(logging.WARNING)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".cache", "models", "com-microsoft")
    os.makedirs(out, exist_ok=True)
    # One generator per group, so that adding a model to one group leaves the others' data as it was.
    groups = [qlinear_binary_models, qlinear_lookup_models, qlinear_concat_models, qlinear_pool_models, qgemm_models,
              matmul_nbits_models, dynamic_quantize_lstm_models, fused_matmul_models, activation_models, skip_layer_norm_models,
              quantized_cnn_models, matmul_nbits_quantizer_models, quantize_dynamic_lstm_models, transformer_optimizer_models,
              fused_conv_models, onnxruntime_fused_conv_models]
    for index, group in enumerate(groups):
        for name, model, inputs in group(np.random.default_rng(SEED + 100 * index)):
            write(out, name, model, inputs)


if __name__ == "__main__":
    main()
