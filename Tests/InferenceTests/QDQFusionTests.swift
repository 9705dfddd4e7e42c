import Foundation
@testable import Inference
import ONNXRuntimeOracle
import Quantization
import ShadowEval
import XCTest

/// A QDQ Gemm (weights transposed, per-channel int8, a bias) and a QDQ Conv load as integer
/// operators reading the quantized activation, with no DequantizeLinear left for their weights,
/// and give onnxruntime's results on the same file.
final class QDQFusionTests: XCTestCase {
    func testQDQGemmAndConvRunAsIntegerOperatorsLikeOnnxruntime() throws {
        let (batch, channels, size, filters, features) = (2, 3, 6, 4, 5)
        var generator = SeededGenerator(seed: 11)
        func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in Float.random(in: range, using: &generator) } }
        func int8s(_ count: Int) -> [Int8] { (0..<count).map { _ in Int8.random(in: -127...127, using: &generator) } }
        let convolutionOutputs = filters * (size - 2) * (size - 2)

        var builder = ONNXModelBuilder()
        builder.initializers = [
            "x_scale": Tensor(shape: [], floats: [0.02]), "x_zero": Tensor(shape: [], uint8s: [118]),
            "cw": Tensor(shape: [filters, channels, 3, 3], int8s: int8s(filters * channels * 9)),
            "cw_scale": Tensor(shape: [filters], floats: random(filters, 0.001...0.01)),
            "cw_zero": Tensor(shape: [filters], int8s: Array(repeating: 0, count: filters)),
            "cb": Tensor(shape: [filters], floats: random(filters, -1...1)),
            "h_scale": Tensor(shape: [], floats: [0.05]), "h_zero": Tensor(shape: [], uint8s: [3]),
            "gw": Tensor(shape: [features, convolutionOutputs], int8s: int8s(features * convolutionOutputs)),
            "gw_scale": Tensor(shape: [features], floats: random(features, 0.001...0.01)),
            "gw_zero": Tensor(shape: [features], int8s: Array(repeating: 0, count: features)),
            "gb": Tensor(shape: [features], floats: random(features, -1...1)),
            "flat": Tensor(shape: [2], int64s: [0, -1]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, features])]
        builder.addNode("QuantizeLinear", name: "qx", inputs: ["X", "x_scale", "x_zero"], outputs: ["Xq"])
        builder.addNode("DequantizeLinear", name: "dqx", inputs: ["Xq", "x_scale", "x_zero"], outputs: ["Xd"])
        builder.addNode("DequantizeLinear", name: "dqcw", inputs: ["cw", "cw_scale", "cw_zero"], outputs: ["CW"], intAttributes: ["axis": 0])
        builder.addNode("Conv", name: "conv", inputs: ["Xd", "CW", "cb"], outputs: ["C"])
        builder.addNode("Relu", name: "relu", inputs: ["C"], outputs: ["R"])
        builder.addNode("Reshape", name: "flatten", inputs: ["R", "flat"], outputs: ["H"])
        builder.addNode("QuantizeLinear", name: "qh", inputs: ["H", "h_scale", "h_zero"], outputs: ["Hq"])
        builder.addNode("DequantizeLinear", name: "dqh", inputs: ["Hq", "h_scale", "h_zero"], outputs: ["Hd"])
        builder.addNode("DequantizeLinear", name: "dqgw", inputs: ["gw", "gw_scale", "gw_zero"], outputs: ["GW"], intAttributes: ["axis": 0])
        builder.addNode("Gemm", name: "gemm", inputs: ["Hd", "GW", "gb"], outputs: ["Y"], intAttributes: ["transB": 1])
        let model = try builder.serialized()

        let session = try InferenceSession(modelData: model)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "DequantizeLinear" }, [], "every weight and activation is read quantized")
        XCTAssert(operators.contains("ConvIntegerToFloat") && operators.contains("MatMulIntegerToFloat"), "\(operators)")

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("qdq.onnx")
        try model.write(to: file)
        let x = Tensor(shape: [batch, channels, size, size], floats: random(batch * channels * size * size, -2...2))
        let ours = try XCTUnwrap(session.run(["X": x])["Y"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])["Y"])
        XCTAssertEqual(ours.shape, [batch, features])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(ours, theirs), 1e-4)
    }

    /// A channel shuffle and a MaxPool, each wrapped in DequantizeLinear -> op -> QuantizeLinear of
    /// the tensor's own scale, as the quantizer writes ShuffleNet, run on the uint8 values: no
    /// round trip through float is left but the last, and the output has onnxruntime's bits. A
    /// QuantizeLinear to another scale is a real requantization and stays.
    func testDataMovementBetweenLikeQuantizationsRunsOnTheQuantizedValues() throws {
        let (groups, perGroup, size) = (2, 3, 4)
        let channels = groups * perGroup
        var generator = SeededGenerator(seed: 5)
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "s": Tensor(shape: [], floats: [0.03]), "z": Tensor(shape: [], uint8s: [121]),
            "other_s": Tensor(shape: [], floats: [0.05]), "other_z": Tensor(shape: [], uint8s: [100]),
            "grouped": Tensor(shape: [5], int64s: [0, Int64(groups), Int64(perGroup), Int64(size), Int64(size)]),
            "flat": Tensor(shape: [4], int64s: [0, Int64(channels), Int64(size), Int64(size)]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, channels, size / 2, size / 2])]
        /// DequantizeLinear(`input`) -> `opType` -> QuantizeLinear to `scale`, `zero`.
        func wrapped(_ opType: String, _ input: String, _ output: String, operands: [String] = [], scale: String = "s", zero: String = "z",
                     ints: [String: Int64] = [:], intLists: [String: [Int64]] = [:]) {
            builder.addNode("DequantizeLinear", name: "dq_\(output)", inputs: [input, "s", "z"], outputs: ["\(output)_d"])
            builder.addNode(opType, name: output, inputs: ["\(output)_d"] + operands, outputs: ["\(output)_f"],
                            intAttributes: ints, intListAttributes: intLists)
            builder.addNode("QuantizeLinear", name: "q_\(output)", inputs: ["\(output)_f", scale, zero], outputs: [output])
        }
        builder.addNode("QuantizeLinear", name: "qx", inputs: ["X", "s", "z"], outputs: ["Xq"])
        wrapped("Reshape", "Xq", "grouped_q", operands: ["grouped"])
        wrapped("Transpose", "grouped_q", "shuffled_q", intLists: ["perm": [0, 2, 1, 3, 4]])
        wrapped("Reshape", "shuffled_q", "flat_q", operands: ["flat"])
        wrapped("MaxPool", "flat_q", "pooled_q", scale: "other_s", zero: "other_z", intLists: ["kernel_shape": [2, 2], "strides": [2, 2]])
        builder.addNode("DequantizeLinear", name: "dqy", inputs: ["pooled_q", "other_s", "other_z"], outputs: ["Y"])
        let model = try builder.serialized()

        let session = try InferenceSession(modelData: model)
        XCTAssertEqual(session.plan.steps.map(\.opType),
                       ["QuantizeLinear", "Reshape", "Transpose", "Reshape", "DequantizeLinear", "MaxPool", "QuantizeLinear", "DequantizeLinear"])

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("shuffle.onnx")
        try model.write(to: file)
        let x = Tensor(shape: [2, channels, size, size], floats: (0..<(2 * channels * size * size)).map { _ in Float.random(in: -4...4, using: &generator) })
        let ours = try XCTUnwrap(session.run(["X": x])["Y"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])["Y"])
        XCTAssertEqual(ours.shape, theirs.shape)
        XCTAssertEqual(ours.floats, theirs.floats)
    }

    /// A QDQ convolution whose output is quantized again at once runs as one ConvIntegerToQuantized
    /// writing uint8 (two images, per-channel weights, a bias, padding), with the same levels as the
    /// convolution and the QuantizeLinear apart (the float output kept as a graph output keeps them
    /// apart), and onnxruntime's to within one where a product lands on a rounding tie in one engine
    /// and not the other. (The weights stay within 7 bits: onnxruntime's AVX2 u8s8 product saturates
    /// pairs of products in int16 beyond that.)
    func testConvolutionQuantizedAgainWritesTheLevelsOfTheTwoStepsApart() throws {
        let (channels, size, filters) = (3, 7, 5)
        var generator = SeededGenerator(seed: 8)
        func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in Float.random(in: range, using: &generator) } }
        func model(keepingFloatOutput: Bool) throws -> Data {
            var generator = SeededGenerator(seed: 9)
            var builder = ONNXModelBuilder()
            builder.initializers = [
                "x_scale": Tensor(shape: [], floats: [0.02]), "x_zero": Tensor(shape: [], uint8s: [118]),
                "w": Tensor(shape: [filters, channels, 3, 3], int8s: (0..<(filters * channels * 9)).map { _ in Int8.random(in: -63...63, using: &generator) }),
                "w_scale": Tensor(shape: [filters], floats: (0..<filters).map { _ in Float.random(in: 0.002...0.02, using: &generator) }),
                "w_zero": Tensor(shape: [filters], int8s: Array(repeating: 0, count: filters)),
                "b": Tensor(shape: [filters], floats: (0..<filters).map { _ in Float.random(in: -1...1, using: &generator) }),
                "y_scale": Tensor(shape: [], floats: [0.04]), "y_zero": Tensor(shape: [], uint8s: [100]),
            ]
            builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
            builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, filters, size, size])]
                + (keepingFloatOutput ? [TensorInfo(name: "C", elementType: .float32, shape: [nil, filters, size, size])] : [])
            builder.addNode("QuantizeLinear", name: "qx", inputs: ["X", "x_scale", "x_zero"], outputs: ["Xq"])
            builder.addNode("DequantizeLinear", name: "dqx", inputs: ["Xq", "x_scale", "x_zero"], outputs: ["Xd"])
            builder.addNode("DequantizeLinear", name: "dqw", inputs: ["w", "w_scale", "w_zero"], outputs: ["W"], intAttributes: ["axis": 0])
            builder.addNode("Conv", name: "conv", inputs: ["Xd", "W", "b"], outputs: ["C"], intListAttributes: ["pads": [1, 1, 1, 1]])
            builder.addNode("QuantizeLinear", name: "qc", inputs: ["C", "y_scale", "y_zero"], outputs: ["Cq"])
            builder.addNode("DequantizeLinear", name: "dqc", inputs: ["Cq", "y_scale", "y_zero"], outputs: ["Y"])
            return try builder.serialized()
        }
        let fused = try InferenceSession(modelData: try model(keepingFloatOutput: false))
        let apart = try InferenceSession(modelData: try model(keepingFloatOutput: true))
        XCTAssertEqual(fused.plan.steps.map(\.opType), ["QuantizeLinear", "ConvIntegerToQuantized", "DequantizeLinear"])
        XCTAssertEqual(apart.plan.steps.map(\.opType), ["QuantizeLinear", "ConvIntegerToFloat", "QuantizeLinear", "DequantizeLinear"])

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("conv-requantized.onnx")
        try model(keepingFloatOutput: false).write(to: file)
        let x = Tensor(shape: [2, channels, size, size], floats: random(2 * channels * size * size, -2...2))
        let ours = try XCTUnwrap(fused.run(["X": x])["Y"])
        XCTAssertEqual(ours.floats, try XCTUnwrap(apart.run(["X": x])["Y"]).floats)
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])["Y"])
        XCTAssertEqual(ours.shape, theirs.shape)
        XCTAssertLessThanOrEqual(zip(ours.floats, theirs.floats).map { abs($0 - $1) / 0.04 }.max() ?? 0, 1.001)
    }

    /// An int8 embedding table with one scale per row: lookups gather int8 rows and dequantize only
    /// them (negative indices count from the end), as onnxruntime's DequantizeLinear + Gather does.
    func testGatherFromADequantizedTableDequantizesOnlyTheGatheredRows() throws {
        let (rows, width) = (50, 8)
        var generator = SeededGenerator(seed: 3)
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "table": Tensor(shape: [rows, width], int8s: (0..<(rows * width)).map { _ in Int8.random(in: -127...127, using: &generator) }),
            "scale": Tensor(shape: [rows], floats: (0..<rows).map { _ in Float.random(in: 0.001...0.1, using: &generator) }),
            "zero": Tensor(shape: [rows], int8s: Array(repeating: 0, count: rows)),
        ]
        builder.inputs = [TensorInfo(name: "ids", elementType: .int64, shape: [nil, nil])]
        builder.outputs = [TensorInfo(name: "E", elementType: .float32, shape: [nil, nil, width])]
        builder.addNode("DequantizeLinear", name: "dq", inputs: ["table", "scale", "zero"], outputs: ["T"], intAttributes: ["axis": 0])
        builder.addNode("Gather", name: "lookup", inputs: ["T", "ids"], outputs: ["E"])
        let model = try builder.serialized()
        let session = try InferenceSession(modelData: model)
        XCTAssertEqual(session.plan.steps.map(\.opType), ["GatherDequantized"])

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gather.onnx")
        try model.write(to: file)
        let ids = Tensor(shape: [2, 3], int64s: [0, 49, 7, -1, 3, 3])
        XCTAssertEqual(try session.run(["ids": ids])["E"], try ONNXRuntimeOracle.outputs(model: file, feeds: ["ids": ids])["E"])
    }

    /// A MatMul by an int4 or uint4 weight dequantized in blocks along K (the last block ragged)
    /// runs as MatMulBlockDequantized over several column strips and matches the product computed
    /// in Double; its DequantizeLinear, also a graph output here, matches onnxruntime's exactly.
    func testBlockwiseInt4MatMulRunsFusedAndMatchesTheDequantizedProduct() throws {
        let (rows, depth, columns, block) = (3, 4100, 40, 32)
        let blocks = (depth + block - 1) / block
        var generator = SeededGenerator(seed: 21)
        let a = (0..<(rows * depth)).map { _ in Float.random(in: -1...1, using: &generator) }
        let scales = (0..<(blocks * columns)).map { _ in Float.random(in: 0.01...0.1, using: &generator) }
        for signed in [true, false] {
            let levels = (0..<(depth * columns)).map { _ in Int.random(in: signed ? -8...7 : 0...15, using: &generator) }
            let zeros = (0..<(blocks * columns)).map { _ in signed ? 0 : Int.random(in: 0...15, using: &generator) }
            func storage(_ values: [Int]) -> TensorStorage {
                signed ? .int4(values.map { Int8($0) }) : .uint4(values.map { UInt8($0) })
            }
            var builder = ONNXModelBuilder()
            builder.opsets = ["": 21]
            builder.initializers = [
                "w": Tensor(shape: [depth, columns], storage: storage(levels)),
                "scale": Tensor(shape: [blocks, columns], floats: scales),
                "zero": Tensor(shape: [blocks, columns], storage: storage(zeros)),
            ]
            builder.inputs = [TensorInfo(name: "A", elementType: .float32, shape: [nil, depth])]
            builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, columns]),
                               TensorInfo(name: "W", elementType: .float32, shape: [depth, columns])]
            builder.addNode("DequantizeLinear", name: "dq", inputs: ["w", "scale", "zero"], outputs: ["W"],
                            intAttributes: ["axis": 0, "block_size": Int64(block)])
            builder.addNode("MatMul", name: "project", inputs: ["A", "W"], outputs: ["Y"])
            let model = try builder.serialized()
            let session = try InferenceSession(modelData: model)
            XCTAssert(session.plan.steps.map(\.opType).contains("MatMulBlockDequantized"), "\(session.plan.steps.map(\.opType))")

            let outputs = try session.run(["A": Tensor(shape: [rows, depth], floats: a)])
            let product = try XCTUnwrap(outputs["Y"]).floats
            for row in 0..<rows {
                for column in 0..<columns {
                    let expected = (0..<depth).reduce(0.0) { sum, k in
                        let parameter = (k / block) * columns + column
                        let weight = Double(levels[k * columns + column] - zeros[parameter]) * Double(scales[parameter])
                        return sum + Double(a[row * depth + k]) * weight
                    }
                    XCTAssertEqual(Double(product[row * columns + column]), expected, accuracy: 1e-4 * max(1, abs(expected)))
                }
            }

            let directory = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("int4.onnx")
            try model.write(to: file)
            let theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: ["A": Tensor(shape: [rows, depth], floats: a)])
            XCTAssertEqual(outputs["W"], theirs["W"], signed ? "int4" : "uint4")
        }
    }

    /// quantize_dynamic's MatMulInteger -> Cast -> Mul(activation scale x weight scale) -> Add(bias)
    /// runs as one MatMulIntegerToFloat, with the same result as the unfused graph in onnxruntime.
    func testDynamicQuantizedMatMulsRunAsMatMulIntegerToFloat() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("int8-dynamic.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: output, scheme: .int8Dynamic)
        let session = try InferenceSession(contentsOf: output)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "MatMulIntegerToFloat" }.count, 3, "\(operators)")
        XCTAssertFalse(operators.contains("MatMulInteger"), "\(operators)")
        XCTAssertEqual(operators.filter { $0 == "Cast" }.count, 1, "only the label's Cast is left: \(operators)")
        XCTAssertFalse(operators.contains("Add"), "each layer's bias Add runs inside its product: \(operators)")

        let pixels = try TestSupport.trafficPixels(rows: 64)
        let ours = try XCTUnwrap(session.run(["pixels": pixels])["probabilities"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["probabilities"])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(ours, theirs), 1e-5)
    }

    /// quantize_dynamic's ConvInteger (uint8 weights) -> Add(its bias, quantized at run time by the
    /// activation scale and reshaped to [1, M, 1, 1]) -> Cast -> Mul(activation scale x weight scale)
    /// runs as one ConvIntegerToFloat that adds the int32 bias to its accumulators, and so does a
    /// ConvInteger -> Cast -> Mul without a bias; onnxruntime's unfused graph gives the same floats.
    func testDynamicQuantizedConvolutionsRunAsConvIntegerToFloat() throws {
        let (channels, size, filters) = (3, 9, 5)
        var generator = SeededGenerator(seed: 23)
        func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in Float.random(in: range, using: &generator) } }
        func uint8s(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "w": Tensor(shape: [filters, channels, 3, 3], uint8s: uint8s(filters * channels * 9)),
            "w_scale": Tensor(shape: [], floats: [0.003]), "w_zero": Tensor(shape: [], uint8s: [121]),
            "v": Tensor(shape: [filters, channels, 1, 1], uint8s: uint8s(filters * channels)),
            "v_scale": Tensor(shape: [], floats: [0.007]), "v_zero": Tensor(shape: [], uint8s: [97]),
            "bias": Tensor(shape: [filters], floats: random(filters, -2...2)),
            "bias_shape": Tensor(shape: [4], int64s: [1, -1, 1, 1]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, filters, 5, 5]),
                           TensorInfo(name: "Z", elementType: .float32, shape: [nil, filters, size, size])]
        builder.addNode("DynamicQuantizeLinear", name: "dql", inputs: ["X"], outputs: ["Xq", "x_scale", "x_zero"])
        builder.addNode("Mul", name: "bias_scale", inputs: ["x_scale", "w_scale"], outputs: ["b_scale"])
        builder.addNode("Div", name: "bias_div", inputs: ["bias", "b_scale"], outputs: ["b_levels"])
        builder.addNode("Floor", name: "bias_floor", inputs: ["b_levels"], outputs: ["b_floor"])
        builder.addNode("Cast", name: "bias_cast", inputs: ["b_floor"], outputs: ["bq"], intAttributes: ["to": 6])
        builder.addNode("Reshape", name: "bias_reshape", inputs: ["bq", "bias_shape"], outputs: ["bq4"])
        builder.addNode("ConvInteger", name: "conv", inputs: ["Xq", "w", "x_zero", "w_zero"], outputs: ["acc"],
                        intListAttributes: ["pads": [1, 1, 1, 1], "strides": [2, 2]])
        builder.addNode("Add", name: "bias_add", inputs: ["acc", "bq4"], outputs: ["acc_biased"])
        builder.addNode("Cast", name: "conv_cast", inputs: ["acc_biased"], outputs: ["acc_float"], intAttributes: ["to": 1])
        builder.addNode("Mul", name: "conv_scale", inputs: ["x_scale", "w_scale"], outputs: ["y_scale"])
        builder.addNode("Mul", name: "conv_scaled", inputs: ["acc_float", "y_scale"], outputs: ["Y"])
        builder.addNode("ConvInteger", name: "pointwise", inputs: ["Xq", "v", "x_zero", "v_zero"], outputs: ["pacc"])
        builder.addNode("Cast", name: "pointwise_cast", inputs: ["pacc"], outputs: ["pacc_float"], intAttributes: ["to": 1])
        builder.addNode("Mul", name: "pointwise_scale", inputs: ["v_scale", "x_scale"], outputs: ["z_scale"])
        builder.addNode("Mul", name: "pointwise_scaled", inputs: ["z_scale", "pacc_float"], outputs: ["Z"])
        let model = try builder.serialized()
        let session = try InferenceSession(modelData: model)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "ConvIntegerToFloat" }.count, 2, "\(operators)")
        XCTAssertFalse(operators.contains("ConvInteger") || operators.contains("Add"), "\(operators)")
        XCTAssertEqual(operators.filter { $0 == "Cast" }.count, 1, "only the bias's Cast to int32 is left: \(operators)")

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("int8-dynamic-conv.onnx")
        try model.write(to: file)
        let x = Tensor(shape: [2, channels, size, size], floats: random(2 * channels * size * size, -3...3))
        let ours = try session.run(["X": x])
        let theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])
        for name in ["Y", "Z"] {
            let (mine, reference) = (try XCTUnwrap(ours[name]), try XCTUnwrap(theirs[name]))
            XCTAssertEqual(mine.shape, reference.shape, name)
            XCTAssertEqual(mine.floats, reference.floats, "\(name): the same int32 sums, converted and scaled alike")
        }
    }

    /// A BatchNormalization behind a QDQ Conv folds into the fused ConvIntegerToFloat's weight scales
    /// and bias at load (the weights are not constants until fusion), and the result still matches
    /// onnxruntime's.
    func testBatchNormalizationBehindAQDQConvFoldsIntoItsScales() throws {
        let (channels, size, filters) = (3, 7, 4)
        var generator = SeededGenerator(seed: 17)
        func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in Float.random(in: range, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "x_scale": Tensor(shape: [], floats: [0.02]), "x_zero": Tensor(shape: [], uint8s: [120]),
            "w": Tensor(shape: [filters, channels, 3, 3], int8s: (0..<(filters * channels * 9)).map { _ in Int8.random(in: -127...127, using: &generator) }),
            "w_scale": Tensor(shape: [], floats: [0.004]), "w_zero": Tensor(shape: [], int8s: [0]),
            "gamma": Tensor(shape: [filters], floats: random(filters, -2...2)), "beta": Tensor(shape: [filters], floats: random(filters, -1...1)),
            "mean": Tensor(shape: [filters], floats: random(filters, -1...1)), "variance": Tensor(shape: [filters], floats: random(filters, 0.5...2)),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, filters, size - 2, size - 2])]
        builder.addNode("QuantizeLinear", name: "qx", inputs: ["X", "x_scale", "x_zero"], outputs: ["Xq"])
        builder.addNode("DequantizeLinear", name: "dqx", inputs: ["Xq", "x_scale", "x_zero"], outputs: ["Xd"])
        builder.addNode("DequantizeLinear", name: "dqw", inputs: ["w", "w_scale", "w_zero"], outputs: ["W"])
        builder.addNode("Conv", name: "conv", inputs: ["Xd", "W"], outputs: ["C"])
        builder.addNode("BatchNormalization", name: "bn", inputs: ["C", "gamma", "beta", "mean", "variance"], outputs: ["Y"])
        let model = try builder.serialized()
        let session = try InferenceSession(modelData: model)
        XCTAssertEqual(session.plan.steps.map(\.opType), ["QuantizeLinear", "ConvIntegerToFloat"])

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("qdq-bn.onnx")
        try model.write(to: file)
        let x = Tensor(shape: [2, channels, size, size], floats: random(2 * channels * size * size, -2...2))
        let ours = try XCTUnwrap(session.run(["X": x])["Y"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])["Y"])
        XCTAssertEqual(ours.shape, theirs.shape)
        XCTAssertLessThan(zip(ours.floats, theirs.floats).map { abs($0 - $1) }.max() ?? 1, 1e-4)
    }
}
