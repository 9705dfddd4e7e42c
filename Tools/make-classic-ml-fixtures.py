#!/usr/bin/env python3
"""Makes the classic-ML model suite: scikit-learn, LightGBM and XGBoost models trained on tables
that ship with scikit-learn, converted to ONNX by skl2onnx and onnxmltools, plus small graphs
written with onnx.helper for the ai.onnx.ml operators no converter emits (CategoryMapper,
FeatureVectorizer, CastMap).

Each model is written in the layout of ONNX's backend node tests, so the same runner takes them:
  OUT/test_<name>/model.onnx
  OUT/test_<name>/test_data_set_0/input_<i>.pb, output_<i>.pb
The expected outputs are onnxruntime's on the same file and inputs (held-out rows of the table).

usage: Tools/make-classic-ml-fixtures.py [OUT_DIR]     (default .cache/models/classic-ml)
Needs: numpy onnx onnxruntime scikit-learn skl2onnx onnxmltools lightgbm xgboost-cpu
(Tools/install-dependencies.sh --test-oracles). Idempotent: a model already written is kept.
"""
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from node_test_layout import write_node_test

SEED = 0


def tables():
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
    from sklearn.model_selection import train_test_split

    def split(loader):
        x, y = loader(return_X_y=True)
        return train_test_split(x.astype(np.float32), y, test_size=0.2, random_state=SEED)

    return {"iris": split(load_iris), "wine": split(load_wine), "breast_cancer": split(load_breast_cancer),
            "diabetes": split(load_diabetes)}


def sklearn_models(data):
    """(name, fitted estimator, test rows, converter options) per scikit-learn model."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Binarizer, MaxAbsScaler, MinMaxScaler, Normalizer, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC, SVR

    iris_x, iris_test, iris_y, _ = data["iris"]
    wine_x, wine_test, wine_y, _ = data["wine"]
    cancer_x, cancer_test, cancer_y, _ = data["breast_cancer"]
    diabetes_x, diabetes_test, diabetes_y, _ = data["diabetes"]
    # Wine with 10 % of its values missing, for the imputer.
    rng = np.random.default_rng(SEED)
    holed_x, holed_test = wine_x.copy(), wine_test.copy()
    holed_x[rng.random(holed_x.shape) < 0.1] = np.nan
    holed_test[rng.random(holed_test.shape) < 0.1] = np.nan
    # Integer categories for the one-hot encoder: each iris feature cut into 4 bins.
    binned_x = np.digitize(iris_x, [2, 4, 6]).astype(np.int64)
    binned_test = np.digitize(iris_test, [2, 4, 6]).astype(np.int64)

    no_zipmap = {"zipmap": False}
    return [
        ("logistic-regression-iris", LogisticRegression(max_iter=500).fit(iris_x, iris_y), iris_test, no_zipmap),
        ("logistic-regression-binary-breast-cancer",
         make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(cancer_x, cancer_y), cancer_test, no_zipmap),
        ("linear-regression-diabetes", LinearRegression().fit(diabetes_x, diabetes_y), diabetes_test, None),
        ("gradient-boosting-breast-cancer",
         make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=SEED))
         .fit(cancer_x, cancer_y), cancer_test, no_zipmap),
        ("gradient-boosting-iris", GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=SEED)
         .fit(iris_x, iris_y), iris_test, no_zipmap),
        ("random-forest-wine", RandomForestClassifier(n_estimators=15, max_depth=5, random_state=SEED)
         .fit(wine_x, wine_y), wine_test, no_zipmap),
        ("random-forest-regressor-diabetes", RandomForestRegressor(n_estimators=15, max_depth=6, random_state=SEED)
         .fit(diabetes_x, diabetes_y), diabetes_test, None),
        ("svc-iris", make_pipeline(StandardScaler(), SVC(probability=True, random_state=SEED)).fit(iris_x, iris_y),
         iris_test, no_zipmap),
        ("svc-linear-binary-breast-cancer", make_pipeline(StandardScaler(), SVC(kernel="linear")).fit(cancer_x, cancer_y),
         cancer_test, no_zipmap),
        ("svr-diabetes", make_pipeline(StandardScaler(), SVR(C=50)).fit(diabetes_x, diabetes_y), diabetes_test, None),
        ("imputer-minmax-normalizer-wine",
         make_pipeline(SimpleImputer(), MinMaxScaler(), Normalizer(), LogisticRegression(max_iter=500))
         .fit(holed_x, wine_y), holed_test, no_zipmap),
        ("binarizer-maxabs-iris", make_pipeline(MaxAbsScaler(), Binarizer(threshold=0.5), LogisticRegression(max_iter=500))
         .fit(iris_x, iris_y), iris_test, no_zipmap),
        ("one-hot-iris", make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=500))
         .fit(binned_x, iris_y), binned_test, no_zipmap),
        ("logistic-regression-zipmap-iris", LogisticRegression(max_iter=500).fit(iris_x, iris_y), iris_test, {}),
    ]


def encoder_models():
    """scikit-learn's DictVectorizer (a map input) and LabelEncoder (strings), through skl2onnx."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DictionaryType, FloatTensorType, StringTensorType
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.preprocessing import LabelEncoder

    readings = [{"temperature": 21.5, "humidity": 40.0}, {"pressure": 1013.0, "temperature": 19.0}, {"vibration": 0.3}]
    vectorizer = DictVectorizer(sparse=False).fit(readings)
    vectorizer_model = convert_sklearn(vectorizer, initial_types=[("input", DictionaryType(StringTensorType([1]), FloatTensorType([1])))],
                                       target_opset={"": 17, "ai.onnx.ml": 1})
    cities = np.array(["paris", "tokyo", "lima", "oslo", "paris"])
    encoder = LabelEncoder().fit(cities)
    encoder_model = convert_sklearn(encoder, initial_types=[("input", StringTensorType([None]))], target_opset={"": 17, "ai.onnx.ml": 2})
    return [
        ("dict-vectorizer", vectorizer_model, [{"humidity": 55.0, "temperature": 23.5, "wind": 3.0}]),
        ("label-encoder-strings", encoder_model, [np.array(["oslo", "lima", "rome", "paris"], dtype=object)]),
    ]


def converted_sklearn(name, estimator, rows, options):
    from skl2onnx import to_onnx

    kwargs = {"target_opset": {"": 17, "ai.onnx.ml": 3}}
    if options is not None:
        kwargs["options"] = {id(estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator): options}
    model = to_onnx(estimator, rows[:1], **kwargs)
    return model, [rows]


def boosted_models(data):
    """LightGBM and XGBoost through onnxmltools."""
    import lightgbm
    import onnxmltools
    import xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    cancer_x, cancer_test, cancer_y, _ = data["breast_cancer"]
    iris_x, iris_test, iris_y, _ = data["iris"]
    diabetes_x, diabetes_test, diabetes_y, _ = data["diabetes"]
    models = []
    classifier = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=15, random_state=SEED, verbose=-1).fit(cancer_x, cancer_y)
    models.append(("lightgbm-breast-cancer", onnxmltools.convert_lightgbm(
        classifier, initial_types=[("input", FloatTensorType([None, cancer_x.shape[1]]))], zipmap=False, target_opset=15),
        [cancer_test]))
    multiclass = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, random_state=SEED, verbose=-1).fit(iris_x, iris_y)
    models.append(("lightgbm-iris", onnxmltools.convert_lightgbm(
        multiclass, initial_types=[("input", FloatTensorType([None, iris_x.shape[1]]))], zipmap=False, target_opset=15),
        [iris_test]))
    regressor = xgboost.XGBRegressor(n_estimators=30, max_depth=4, random_state=SEED).fit(diabetes_x, diabetes_y)
    models.append(("xgboost-regressor-diabetes", onnxmltools.convert_xgboost(
        regressor, initial_types=[("input", FloatTensorType([None, diabetes_x.shape[1]]))], target_opset=15),
        [diabetes_test]))
    booster = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=SEED).fit(iris_x, iris_y)
    models.append(("xgboost-classifier-iris", onnxmltools.convert_xgboost(
        booster, initial_types=[("input", FloatTensorType([None, iris_x.shape[1]]))], target_opset=15),
        [iris_test]))
    return models


def ml_graph(nodes, inputs, outputs, ml_opset=3):
    graph = helper.make_graph(nodes, "classic-ml", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", ml_opset)])


def handwritten_models():
    """Graphs of the ai.onnx.ml operators that no converter above emits."""
    strings = np.array(["cat", "dog", "bird", "fish", "dog"], dtype=object)
    integers = np.array([[3, 1, 7, 2]], dtype=np.int64)
    category_to_int = ml_graph(
        [helper.make_node("CategoryMapper", ["x"], ["y"], domain="ai.onnx.ml",
                          cats_strings=["cat", "dog", "bird"], cats_int64s=[1, 2, 3], default_int64=-1)],
        [helper.make_tensor_value_info("x", TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [None])], ml_opset=1)
    int_to_category = ml_graph(
        [helper.make_node("CategoryMapper", ["x"], ["y"], domain="ai.onnx.ml",
                          cats_strings=["one", "two", "three"], cats_int64s=[1, 2, 3], default_string="other")],
        [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.STRING, [1, 4])], ml_opset=1)
    left = np.arange(6, dtype=np.float32).reshape(2, 3)
    right = np.array([[10, 11], [12, 13]], dtype=np.float32)
    feature_vectorizer = ml_graph(
        [helper.make_node("FeatureVectorizer", ["a", "b"], ["y"], domain="ai.onnx.ml", inputdimensions=[3, 2])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 3]), helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])], ml_opset=1)
    imputer_ints = ml_graph(
        [helper.make_node("Imputer", ["x"], ["y"], domain="ai.onnx.ml", imputed_value_int64s=[0, 5, 9],
                          replaced_value_int64=-1)],
        [helper.make_tensor_value_info("x", TensorProto.INT64, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [None, 3])], ml_opset=1)
    cast_map = ml_graph(
        [helper.make_node("CastMap", ["x"], ["y"], domain="ai.onnx.ml", cast_to="TO_FLOAT", map_form="SPARSE", max_map=6)],
        [helper.make_value_info("x", helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], ml_opset=1)
    label_encoder_tensors = ml_graph(
        [helper.make_node("LabelEncoder", ["x"], ["y"], domain="ai.onnx.ml",
                          keys_tensor=numpy_helper.from_array(np.array([1.5, np.nan, -2.0], dtype=np.float64)),
                          values_tensor=numpy_helper.from_array(np.array([10, 20, 30], dtype=np.int64)),
                          default_tensor=numpy_helper.from_array(np.array([-7], dtype=np.int64)))],
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [None])], ml_opset=4)
    return [
        ("cast-map-sparse", cast_map, [{4: 2.5, 0: 1.0, 2: -3.0, 9: 7.0}]),
        ("label-encoder-double-to-int64", label_encoder_tensors, [np.array([np.nan, 1.5, 3.0, -2.0], dtype=np.float64)]),
        ("category-mapper-strings", category_to_int, [strings]),
        ("category-mapper-integers", int_to_category, [integers]),
        ("feature-vectorizer", feature_vectorizer, [left, right]),
        ("imputer-int64", imputer_ints, [np.array([[-1, 2, 3], [4, -1, -1]], dtype=np.int64)]),
    ]


def write(out, name, model, inputs):
    outputs = write_node_test(out, name, model, inputs, proto=proto)
    if outputs is not None:
        print(f"{name}: {len(outputs)} output(s)")


def proto(value, name):
    """A tensor, a map (DictVectorizer's and CastMap's input), or (ZipMap's output) a sequence of maps."""
    if isinstance(value, dict):
        return map_proto(value, name)
    if isinstance(value, list):
        sequence = onnx.SequenceProto(name=name, elem_type=onnx.SequenceProto.MAP)
        sequence.map_values.extend(map_proto(item, "") for item in value)
        return sequence
    return numpy_helper.from_array(np.asarray(value), name=name)


def map_proto(mapping, name):
    """A MapProto: int64 or string keys, and the values as a sequence of scalar tensors."""
    keys = list(mapping)
    proto = onnx.MapProto(name=name)
    if isinstance(keys[0], str):
        proto.key_type = TensorProto.STRING
        proto.string_keys.extend(key.encode() for key in keys)
    else:
        proto.key_type = TensorProto.INT64
        proto.keys.extend(int(key) for key in keys)
    proto.values.elem_type = onnx.SequenceProto.TENSOR
    # The ai.onnx.ml maps hold float (not double) values: Python's floats are written as float32.
    proto.values.tensor_values.extend(
        numpy_helper.from_array(np.array(mapping[key], dtype=np.float32 if isinstance(mapping[key], float) else None)) for key in keys)
    return proto


def main():
    warnings.filterwarnings("ignore")
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".cache", "models", "classic-ml")
    os.makedirs(out, exist_ok=True)
    data = tables()
    for name, estimator, rows, options in sklearn_models(data):
        model, inputs = converted_sklearn(name, estimator, rows, options)
        write(out, name, model, inputs)
    for name, model, inputs in boosted_models(data) + encoder_models() + handwritten_models():
        write(out, name, model, inputs)


if __name__ == "__main__":
    main()
