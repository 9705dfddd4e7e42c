#!/usr/bin/env python3
"""Makes two small models that take strings, for serving BYTES tensors over the Open Inference Protocol.

words-reference.onnx maps each word of `text` ([N, 1] STRING) to a number (cat 1, dog 2, bird 3, any
other 0) as `score` ([N, 1] FLOAT) and echoes the words as `echo` ([N, 1] STRING).
words-candidate.onnx is the same with bird mapped to 4, so that the two are different models.

usage: Tools/make-string-models.py OUT_DIR   (needs: pip install onnx)
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def words(bird: int) -> onnx.ModelProto:
    nodes = [
        helper.make_node("CategoryMapper", ["text"], ["code"], domain="ai.onnx.ml",
                         cats_strings=["cat", "dog", "bird"], cats_int64s=[1, 2, bird], default_int64=0),
        helper.make_node("Cast", ["code"], ["score"], to=TensorProto.FLOAT),
        helper.make_node("Identity", ["text"], ["echo"]),
    ]
    graph = helper.make_graph(
        nodes, "words", [helper.make_tensor_value_info("text", TensorProto.STRING, [None, 1])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1]),
         helper.make_tensor_value_info("echo", TensorProto.STRING, [None, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    onnx.checker.check_model(model)
    return model


if len(sys.argv) != 2:
    sys.exit(__doc__)
os.makedirs(sys.argv[1], exist_ok=True)
onnx.save(words(3), os.path.join(sys.argv[1], "words-reference.onnx"))
onnx.save(words(4), os.path.join(sys.argv[1], "words-candidate.onnx"))
