import Foundation
import Inference
import Quantization
import ONNXRuntimeOracle
import ShadowEval
import XCTest

final class ModelQuantizerTests: XCTestCase {
    func testInt8DynamicQuantizesEveryMatMulPerChannel() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("int8.onnx")
        let report = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: output, scheme: .int8Dynamic)
        XCTAssertEqual(report.quantizedNodes, ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(report.skippedNodes, [])
        XCTAssertFalse(report.widenedFromFloat16)
        XCTAssertLessThan(report.bytesAfter, report.bytesBefore / 3)

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertFalse(model.graph.node.contains { $0.opType == "MatMul" })
        let zeroPoints = model.graph.initializer.first { $0.name == "MatMul_weight_zero_point" }
        let zeroPoint = try Tensor(onnxTensor: try XCTUnwrap(zeroPoints))
        XCTAssertEqual(zeroPoint.elementType, .int8)
        XCTAssertEqual(zeroPoint.shape, [256])
        XCTAssertTrue(zeroPoint.int64s.allSatisfy { $0 == 0 })
    }

    func testFP16ModelIsWidenedThenQuantizedAndRunsInOnnxruntime() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("int8-from-fp16.onnx")
        let report = try ModelQuantizer.quantize(modelAt: TestSupport.fp16Model, to: output, scheme: .int8Dynamic)
        XCTAssertTrue(report.widenedFromFloat16)
        XCTAssertEqual(report.quantizedNodes.count, 3)

        let pixels = try TestSupport.trafficPixels(rows: 200)
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(["pixels": pixels])["label"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["label"])
        let agreement = zip(ours.int64s, theirs.int64s).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / 200, 0.995)
    }

    func testUnreadableInputNamesThePath() {
        let missing = URL(fileURLWithPath: "/nonexistent/in.onnx")
        XCTAssertThrowsError(try ModelQuantizer.quantize(modelAt: missing, to: missing, scheme: .int8Dynamic)) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/in.onnx"))
        }
    }

    /// A MatMul whose input carries an additive -10000 mask stays float in int8-static (one uint8
    /// step of that range is about 40, larger than every ordinary value); its unmasked sibling is
    /// quantized.
    func testInt8StaticKeepsAMatMulOverAMaskedInputInFloat() throws {
        let reason = try reasonToKeepFloat(addedToInput: (0..<8).map { $0 < 6 ? 0 : -10000 })
        XCTAssert(reason.contains("a mask?"), reason)
    }

    /// A MatMul whose input is an offset feature (1000 plus values within ±1) stays float: the range
    /// stretched to zero makes one uint8 step about 4, so every value would round to the same level.
    func testInt8StaticKeepsAMatMulOverANearlyConstantInputInFloat() throws {
        let reason = try reasonToKeepFloat(addedToInput: Array(repeating: 1000, count: 8))
        XCTAssert(reason.contains("less than one uint8 step"), reason)
    }

    /// Quantizes X [16, 8] -> Add(X, `added`) -> MatMul "over_added", beside Relu(X) -> MatMul
    /// "plain", int8-static on random rows in ±1; checks that only "plain" is quantized and returns
    /// why "over_added" stayed float.
    private func reasonToKeepFloat(addedToInput added: [Float]) throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (rows, width) = (16, added.count)
        var generator = SeededGenerator(seed: 7)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "added": Tensor(shape: [width], floats: added),
            "W1": Tensor(shape: [width, width], floats: random(width * width)),
            "W2": Tensor(shape: [width, width], floats: random(width * width)),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, width])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, width])]
        builder.addNode("Add", name: "add", inputs: ["X", "added"], outputs: ["A"])
        builder.addNode("MatMul", name: "over_added", inputs: ["A", "W1"], outputs: ["H"])
        builder.addNode("Relu", name: "relu", inputs: ["X"], outputs: ["R"])
        builder.addNode("MatMul", name: "plain", inputs: ["R", "W2"], outputs: ["P"])
        builder.addNode("Add", name: "sum", inputs: ["H", "P"], outputs: ["S"])
        builder.addNode("Softmax", name: "softmax", inputs: ["S"], outputs: ["Y"])
        let model = directory.appendingPathComponent("model.onnx"), calibration = directory.appendingPathComponent("calibration.npz")
        try builder.serialized().write(to: model)
        try NPZ.write(["X": Tensor(shape: [rows, width], floats: random(rows * width))], to: calibration)

        let report = try ModelQuantizer.quantize(
            modelAt: model, to: directory.appendingPathComponent("int8.onnx"),
            options: QuantizationOptions(scheme: .int8Static, calibration: calibration))
        XCTAssertEqual(report.quantizedNodes, ["plain"], "\(report.skippedNodes)")
        return try XCTUnwrap(report.skippedNodes.first { $0.name == "over_added" }).reason
    }

    /// int4-weight needs opset 21: an opset-12 model's ReduceMean, Unsqueeze and Squeeze get their
    /// `axes` attributes turned into inputs, and the result computes what the original did (its
    /// weights are exact in int4, so any difference would be the upgrade's).
    func testInt4WeightRaisesAnOpset12ModelRewritingAxesAttributes() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (rows, depth, width) = (6, 64, 8)
        var generator = SeededGenerator(seed: 5)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 12]
        // Integers in -7...7 with a 7 in every block of 32 along K: int4 holds them exactly.
        builder.initializers = ["W": Tensor(shape: [depth, width], floats: (0..<depth * width).map { Float($0 % 15 - 7) })]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, depth])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, width])]
        builder.addNode("ReduceMean", name: "mean", inputs: ["X"], outputs: ["M"], intListAttributes: ["axes": [1]])
        builder.addNode("Sub", name: "centre", inputs: ["X", "M"], outputs: ["C"])
        builder.addNode("Unsqueeze", name: "lift", inputs: ["C"], outputs: ["U"], intListAttributes: ["axes": [0]])
        builder.addNode("Squeeze", name: "drop", inputs: ["U"], outputs: ["D"], intListAttributes: ["axes": [0]])
        builder.addNode("MatMul", name: "project", inputs: ["D", "W"], outputs: ["P"])
        builder.addNode("Softmax", name: "softmax", inputs: ["P"], outputs: ["Y"], intAttributes: ["axis": -1])
        let original = directory.appendingPathComponent("opset12.onnx"), output = directory.appendingPathComponent("int4.onnx")
        try builder.serialized().write(to: original)

        let report = try ModelQuantizer.quantize(modelAt: original, to: output, options: QuantizationOptions(scheme: .int4Weight))
        XCTAssertEqual(report.quantizedNodes, ["project"])
        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertEqual(model.opsetImport.first { $0.domain.isEmpty }?.version, 21)
        for node in model.graph.node where ["ReduceMean", "Unsqueeze", "Squeeze"].contains(node.opType) {
            XCTAssertEqual(node.input.count, 2, node.name)
            XCTAssertFalse(node.attribute.contains { $0.name == "axes" }, node.name)
        }
        let feeds = ["X": Tensor(shape: [rows, depth], floats: random(rows * depth))]
        let expected = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: original, feeds: feeds)["Y"]).floats
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(feeds)["Y"]).floats
        XCTAssertEqual(ours.count, expected.count)
        XCTAssertLessThan(zip(expected, ours).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        // onnxruntime fuses the blocked MatMul into MatMulNBits, which quantizes A to int8 by default.
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: feeds)["Y"]).floats
        XCTAssertLessThan(zip(expected, theirs).map { abs($0 - $1) }.max() ?? 1, 0.01)
    }

    /// Before opset 13 Softmax flattened its input to 2-D at `axis` (default 1): raising the opset
    /// rewrites it as Flatten, Softmax along the last axis and Reshape back, so the quantized model
    /// computes what the original did (onnxruntime on the original is the reference).
    func testOpsetRaiseKeepsWhatAFlatteningSoftmaxComputed() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 12]
        // Integers in -7...7 with a 7 in every block of 32 along K: int4 holds them exactly.
        builder.initializers = ["W": Tensor(shape: [32, 4], floats: (0..<128).map { Float($0 % 15 - 7) })]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, 3, 32])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, 3, 4]),
                           TensorInfo(name: "Z", elementType: .float32, shape: [nil, 3, 4])]
        builder.addNode("MatMul", name: "project", inputs: ["X", "W"], outputs: ["P"])
        builder.addNode("Softmax", name: "scores", inputs: ["P"], outputs: ["Y"])
        builder.addNode("LogSoftmax", name: "log_scores", inputs: ["P"], outputs: ["Z"], intAttributes: ["axis": 2])
        let original = directory.appendingPathComponent("opset12.onnx"), output = directory.appendingPathComponent("int4.onnx")
        try builder.serialized().write(to: original)
        _ = try ModelQuantizer.quantize(modelAt: original, to: output, options: QuantizationOptions(scheme: .int4Weight))
        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertEqual(model.graph.node.filter { $0.opType == "Flatten" }.count, 2)
        var generator = SeededGenerator(seed: 9)
        let feeds = ["X": Tensor(shape: [2, 3, 32], floats: (0..<192).map { _ in Float.random(in: -0.2...0.2, using: &generator) })]
        let expected = try ONNXRuntimeOracle.outputs(model: original, feeds: feeds)
        let ours = try InferenceSession(contentsOf: output).run(feeds)
        for name in ["Y", "Z"] {
            let want = try XCTUnwrap(expected[name]).floats, got = try XCTUnwrap(ours[name])
            XCTAssertEqual(got.shape, [2, 3, 4], name)
            XCTAssertLessThan(zip(want, got.floats).map { abs($0 - $1) }.max() ?? 1, 1e-5, name)
        }
    }

    /// An opset-9 export raised to 21 for int4-weight: the attributes that became inputs at 10, 11
    /// and 12 (Slice's starts/ends/axes, TopK's k, Pad's pads and value, Clip's max alone, Dropout's
    /// ratio) move into inputs and Scatter becomes ScatterElements; the quantized file computes what
    /// the original did in onnxruntime, in both engines.
    func testAnOpset9ExportIsRaisedRewritingWhatChangedForm() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 9]
        builder.initializers = [
            "W": Tensor(shape: [32, 8], floats: (0..<256).map { Float($0 % 15 - 7) }),
            "positions": Tensor(shape: [2, 1], int64s: [0, 3]), "updates": Tensor(shape: [2, 1], floats: [5, -5]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [2, 30])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [2, 3]), TensorInfo(name: "I", elementType: .int64, shape: [2, 3])]
        builder.addNode("Pad", name: "pad", inputs: ["X"], outputs: ["P"], intListAttributes: ["pads": [0, 1, 0, 1]], floatAttributes: ["value": 0.5])
        builder.addNode("Clip", name: "clip", inputs: ["P"], outputs: ["C"], floatAttributes: ["max": 0.8])
        builder.addNode("Dropout", name: "dropout", inputs: ["C"], outputs: ["D"], floatAttributes: ["ratio": 0.3])
        builder.addNode("MatMul", name: "project", inputs: ["D", "W"], outputs: ["M"])
        builder.addNode("Scatter", name: "scatter", inputs: ["M", "positions", "updates"], outputs: ["S"], intAttributes: ["axis": 1])
        builder.addNode("Slice", name: "slice", inputs: ["S"], outputs: ["L"], intListAttributes: ["starts": [1], "ends": [7], "axes": [1]])
        builder.addNode("TopK", name: "top", inputs: ["L"], outputs: ["Y", "I"], intAttributes: ["k": 3])
        let original = directory.appendingPathComponent("opset9.onnx"), output = directory.appendingPathComponent("int4.onnx")
        try builder.serialized().write(to: original)

        _ = try ModelQuantizer.quantize(modelAt: original, to: output, options: QuantizationOptions(scheme: .int4Weight))
        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        let inputs = Dictionary(uniqueKeysWithValues: model.graph.node.map { ($0.opType, $0.input.count) })
        XCTAssertEqual(inputs["Pad"], 3)
        XCTAssertEqual(inputs["Clip"], 3, "min absent (empty name), max third")
        XCTAssertEqual(model.graph.node.first { $0.opType == "Clip" }?.input[1], "")
        XCTAssertEqual(inputs["Dropout"], 2)
        XCTAssertEqual(inputs["Slice"], 4)
        XCTAssertEqual(inputs["TopK"], 2)
        XCTAssertNotNil(inputs["ScatterElements"])
        XCTAssertNil(inputs["Scatter"])
        XCTAssertTrue(model.graph.node.allSatisfy { $0.opType == "DequantizeLinear" || $0.attribute.isEmpty || $0.opType == "ScatterElements" || $0.opType == "MatMul" },
                      "no attribute left that moved: \(model.graph.node.filter { !$0.attribute.isEmpty }.map(\.opType))")

        var generator = SeededGenerator(seed: 3)
        let feeds = ["X": Tensor(shape: [2, 30], floats: (0..<60).map { _ in Float.random(in: -1...1, using: &generator) })]
        let expected = try ONNXRuntimeOracle.outputs(model: original, feeds: feeds)
        // The weights are exact in int4, so ours differs only by float rounding; onnxruntime's
        // MatMulNBits also rounds the activations to int8.
        for (engine, outputs, tolerance) in [("ours", try InferenceSession(contentsOf: output).run(feeds), Float(1e-5)),
                                             ("onnxruntime", try ONNXRuntimeOracle.outputs(model: output, feeds: feeds), 0.01)] {
            XCTAssertEqual(outputs["I"]?.int64s, expected["I"]?.int64s, engine)
            let (got, want) = (try XCTUnwrap(outputs["Y"]).floats, try XCTUnwrap(expected["Y"]).floats)
            let scale = want.map(abs).max() ?? 1
            XCTAssertLessThan(zip(got, want).map { abs($0 - $1) }.max() ?? 1, tolerance * scale, engine)
        }
    }

    /// Upsample (removed at 10) cannot be raised: the quantizer says which node and why.
    func testAnUpsampleStopsTheOpsetRaiseNamingTheNode() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 9]
        builder.initializers = ["W": Tensor(shape: [4, 4], floats: (0..<16).map(Float.init)),
                                "scales": Tensor(shape: [2], floats: [1, 2])]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [2, 4])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [2, 8])]
        builder.addNode("MatMul", name: "project", inputs: ["X", "W"], outputs: ["M"])
        builder.addNode("Upsample", name: "widen", inputs: ["M", "scales"], outputs: ["Y"])
        let original = directory.appendingPathComponent("opset9.onnx")
        try builder.serialized().write(to: original)
        XCTAssertThrowsError(try ModelQuantizer.quantize(
            modelAt: original, to: directory.appendingPathComponent("out.onnx"), options: QuantizationOptions(scheme: .int4Weight))) { error in
            XCTAssert("\(error)".contains("Upsample ('widen') changed meaning at opset 10"), "\(error)")
        }
    }

    /// A weight an exporter computes from constants (here ConstantOfShape, then a Transpose) is folded
    /// into an initializer first, so its MatMul is quantized, not left in float.
    func testWeightsComputedFromConstantsAreFoldedAndQuantized() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var builder = ONNXModelBuilder()
        builder.initializers = ["shape": Tensor(shape: [2], int64s: [8, 16])]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, 16])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, 8])]
        builder.addNode("ConstantOfShape", name: "fill", inputs: ["shape"], outputs: ["W_t"])
        builder.addNode("Transpose", name: "flip", inputs: ["W_t"], outputs: ["W"])
        builder.addNode("MatMul", name: "project", inputs: ["X", "W"], outputs: ["P"])
        builder.addNode("Relu", name: "rectify", inputs: ["P"], outputs: ["Y"])
        let original = directory.appendingPathComponent("computed.onnx"), output = directory.appendingPathComponent("int8.onnx")
        try builder.serialized().write(to: original)
        let report = try ModelQuantizer.quantize(modelAt: original, to: output, options: QuantizationOptions(scheme: .int8Dynamic))
        XCTAssertEqual(report.quantizedNodes, ["project"], "\(report.skippedNodes)")
        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertFalse(model.graph.node.contains { ["ConstantOfShape", "Transpose"].contains($0.opType) })
    }

    /// Quantizing a quantized model would compound its error: it is refused, naming what gave it away.
    func testAnAlreadyQuantizedModelIsRefusedWithTheReason() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let once = directory.appendingPathComponent("once.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: once, options: QuantizationOptions(scheme: .int8Dynamic))
        XCTAssertThrowsError(try ModelQuantizer.quantize(
            modelAt: once, to: directory.appendingPathComponent("twice.onnx"), options: QuantizationOptions(scheme: .int8Dynamic))) { error in
            XCTAssertEqual(error as? QuantizationError, .alreadyQuantized(operators: ["DynamicQuantizeLinear", "MatMulInteger"]))
        }
    }
}
