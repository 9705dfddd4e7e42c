#!/usr/bin/env python3
"""Makes Fixtures/diabetes/: a regression MLP on scikit-learn's bundled diabetes data, as ONNX.

The model takes the raw, unscaled features (age in years, sex as 1/2, blood pressure in mm Hg...),
standardises them inside the graph (Sub, Div) and runs a 10-32-1 ReLU MLP: the shape of model
on which per-tensor quantization of the input scaling destroys accuracy. The graph is written
with onnx.helper (not skl2onnx) so it uses only standard ops: Sub, Div, MatMul, Add, Relu.

usage: Tools/make-diabetes-fixture.py [OUT_DIR]   (needs: pip install numpy onnx scikit-learn)
Writes mlp-fp32.onnx, calibration.npz (the 331 training rows) and test.npz (111 held-out rows),
each .npz holding `features` float32 [N, 10] and `target` float32 [N].
"""
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler


def main() -> None:
    warnings.filterwarnings("ignore")  # the optimiser's convergence warning: the held-out R^2 is what matters
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Fixtures", "diabetes")
    os.makedirs(out, exist_ok=True)
    features, target = load_diabetes(return_X_y=True, scaled=False)
    features, target = features.astype(np.float32), target.astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(features, target, test_size=0.25, random_state=42)

    scaler = StandardScaler().fit(train_x)
    mlp = MLPRegressor(hidden_layer_sizes=(32,), max_iter=3000, learning_rate_init=0.001, alpha=1.0, random_state=0)
    mlp.fit(scaler.transform(train_x), train_y)
    r2 = r2_score(test_y, mlp.predict(scaler.transform(test_x)))

    initializers = [
        numpy_helper.from_array(scaler.mean_.astype(np.float32), "feature_mean"),
        numpy_helper.from_array(scaler.scale_.astype(np.float32), "feature_scale"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "feature_mean"], ["centred"], name="centre_features"),
        helper.make_node("Div", ["centred", "feature_scale"], ["standardised"], name="scale_features"),
    ]
    activations = "standardised"
    layers = len(mlp.coefs_)
    for index, (weight, bias) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        initializers += [numpy_helper.from_array(weight.astype(np.float32), f"weight{index}"),
                         numpy_helper.from_array(bias.astype(np.float32), f"bias{index}")]
        last = index == layers - 1
        nodes += [helper.make_node("MatMul", [activations, f"weight{index}"], [f"product{index}"], name=f"MatMul{index}"),
                  helper.make_node("Add", [f"product{index}", f"bias{index}"],
                                   ["prediction" if last else f"affine{index}"], name=f"Add{index}")]
        if not last:
            nodes.append(helper.make_node("Relu", [f"affine{index}"], [f"hidden{index}"], name=f"Relu{index}"))
            activations = f"hidden{index}"
    graph = helper.make_graph(
        nodes, "diabetes_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 10])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make-diabetes-fixture")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "mlp-fp32.onnx"))
    np.savez(os.path.join(out, "calibration.npz"), features=train_x, target=train_y)
    np.savez(os.path.join(out, "test.npz"), features=test_x, target=test_y)
    print(f"diabetes MLP 10-32-1: held-out R^2 {r2:.4f} on {len(test_y)} rows")


if __name__ == "__main__":
    main()
