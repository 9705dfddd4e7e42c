import CQuantKernels
import Foundation
@testable import Inference
import ONNXRuntimeOracle
import ShadowEval
import XCTest

/// The integer operators against float reference computations.
final class IntegerOperatorTests: XCTestCase {
    func testDynamicQuantizeLinearMatchesTheONNXExample() {
        // The example in the ONNX operator documentation.
        let x: [Float] = [0, 2, -3, -2.5, 1.34, 0.5]
        let parameters = DynamicQuantizeLinear.parameters(for: x)
        XCTAssertEqual(parameters.scale, 0.019_607_843, accuracy: 1e-9)
        XCTAssertEqual(parameters.zeroPoint, 153)
        XCTAssertEqual(DynamicQuantizeLinear.quantize(x, with: parameters), [153, 255, 0, 26, 221, 179])
    }

    func testDynamicQuantizeLinearRoundTripsWithinHalfAStep() {
        var generator = SeededGenerator(seed: 7)
        let x = (0..<1000).map { _ in Float.random(in: -3...5, using: &generator) }
        let parameters = DynamicQuantizeLinear.parameters(for: x)
        let quantized = DynamicQuantizeLinear.quantize(x, with: parameters)
        for (value, level) in zip(x, quantized) {
            let restored = (Float(level) - Float(parameters.zeroPoint)) * parameters.scale
            XCTAssertEqual(restored, value, accuracy: parameters.scale * 0.5 + 1e-6)
        }
    }

    func testMatMulIntegerMatchesFloatReferenceWithPerColumnZeroPoints() throws {
        let (rows, depth, columns) = (5, 19, 11)
        var generator = SeededGenerator(seed: 3)
        let a = (0..<(rows * depth)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let b = (0..<(depth * columns)).map { _ in Int8.random(in: -127...127, using: &generator) }
        let bZero = (0..<columns).map { _ in Int8.random(in: -3...3, using: &generator) }
        let aZero: UInt8 = 131

        var builder = ONNXModelBuilder()
        builder.initializers = [
            "B": Tensor(shape: [depth, columns], int8s: b),
            "a_zero": Tensor(shape: [], uint8s: [aZero]),
            "b_zero": Tensor(shape: [columns], int8s: bZero),
        ]
        builder.inputs = [TensorInfo(name: "A", elementType: .uint8, shape: [nil, depth])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .int32, shape: [nil, columns])]
        builder.addNode("MatMulInteger", name: "mmi", inputs: ["A", "B", "a_zero", "b_zero"], outputs: ["Y"])
        let session = try InferenceSession(modelData: builder.serialized())
        let y = try XCTUnwrap(session.run(["A": Tensor(shape: [rows, depth], uint8s: a)])["Y"])

        XCTAssertEqual(y.elementType, .int32)
        XCTAssertEqual(y.shape, [rows, columns])
        let reference: [Float] = (0..<(rows * columns)).map { index in
            let row = index / columns, column = index % columns
            return (0..<depth).reduce(Float(0)) { sum, inner in
                sum + (Float(a[row * depth + inner]) - Float(aZero)) * (Float(b[inner * columns + column]) - Float(bZero[column]))
            }
        }
        XCTAssertEqual(y.floats, reference)
    }

    /// A batched B (both operands inputs) with more rows per matrix than one tile holds: every
    /// tile must multiply by its own matrix's B.
    func testBatchedMatMulIntegerOverSeveralTilesPerMatrix() throws {
        let (matrices, rows, depth, columns) = (3, 40_000, 3, 2)  // 2 columns: tiles of 32,768 rows
        var generator = SeededGenerator(seed: 5)
        let a = (0..<(matrices * rows * depth)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let b = (0..<(matrices * depth * columns)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "A", elementType: .uint8, shape: [matrices, rows, depth]),
                          TensorInfo(name: "B", elementType: .uint8, shape: [matrices, depth, columns])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .int32, shape: [matrices, rows, columns])]
        builder.addNode("MatMulInteger", name: "mmi", inputs: ["A", "B"], outputs: ["Y"])
        let session = try InferenceSession(modelData: builder.serialized())
        let y = try XCTUnwrap(session.run(["A": Tensor(shape: [matrices, rows, depth], uint8s: a),
                                           "B": Tensor(shape: [matrices, depth, columns], uint8s: b)])["Y"])
        XCTAssertEqual(y.shape, [matrices, rows, columns])
        let reference: [Int64] = (0..<(matrices * rows * columns)).map { index in
            let (matrix, row, column) = (index / (rows * columns), index / columns % rows, index % columns)
            return (0..<depth).reduce(Int64(0)) { sum, inner in
                sum + Int64(a[(matrix * rows + row) * depth + inner]) * Int64(b[(matrix * depth + inner) * columns + column])
            }
        }
        XCTAssertEqual(y.elementType, .int32)
        let products = y.int64s
        XCTAssertEqual(products.count, reference.count)
        let wrong = products.indices.first { products[$0] != reference[$0] }
        XCTAssertNil(wrong, "product \(wrong ?? 0) (matrix \((wrong ?? 0) / (rows * columns))) is \(wrong.map { products[$0] } ?? 0), not \(wrong.map { reference[$0] } ?? 0)")
    }

    func testQuantizedMatMulSubgraphApproximatesFloatMatMul() throws {
        let (rows, depth, columns) = (4, 64, 8)
        var generator = SeededGenerator(seed: 5)
        let x = (0..<(rows * depth)).map { _ in Float.random(in: -1...1, using: &generator) }
        let w = (0..<(depth * columns)).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
        let scale: Float = 0.5 / 127
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "W": Tensor(shape: [depth, columns], int8s: w.map { Int8(($0 / scale).rounded()) }),
            "W_scale": Tensor(shape: [columns], floats: Array(repeating: scale, count: columns)),
            "W_zero": Tensor(shape: [columns], int8s: Array(repeating: 0, count: columns)),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, depth])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, columns])]
        builder.addNode("DynamicQuantizeLinear", name: "q", inputs: ["X"], outputs: ["Xq", "Xs", "Xz"])
        builder.addNode("MatMulInteger", name: "mmi", inputs: ["Xq", "W", "Xz", "W_zero"], outputs: ["P"])
        builder.addNode("Cast", name: "cast", inputs: ["P"], outputs: ["Pf"], intAttributes: ["to": 1])
        builder.addNode("Mul", name: "scales", inputs: ["Xs", "W_scale"], outputs: ["S"])
        builder.addNode("Mul", name: "rescale", inputs: ["Pf", "S"], outputs: ["Y"])
        let session = try InferenceSession(modelData: builder.serialized())
        let y = try XCTUnwrap(session.run(["X": Tensor(shape: [rows, depth], floats: x)])["Y"]).floats
        for index in 0..<(rows * columns) {
            let row = index / columns, column = index % columns
            let exact = (0..<depth).reduce(Float(0)) { $0 + x[row * depth + $1] * w[$1 * columns + column] }
            XCTAssertEqual(y[index], exact, accuracy: 0.05)
        }
    }

    /// A grouped, padded, strided 3x3 ConvInteger and a 1x1 one over a batch of three, exact to
    /// onnxruntime's int32 (the batch runs image by image, the 3x3 windows through im2col and the
    /// byte transpose, the 1x1 through the transpose alone).
    func testGroupedAndPointwiseConvIntegerMatchOnnxruntimeOverABatch() throws {
        var generator = SeededGenerator(seed: 5)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) } }
        let (batch, channels, size, filters) = (3, 4, 9, 6)
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "w": Tensor(shape: [filters, channels / 2, 3, 3], uint8s: bytes(filters * channels / 2 * 9)),
            "w_zero": Tensor(shape: [], uint8s: [131]),
            "p": Tensor(shape: [filters, channels, 1, 1], uint8s: bytes(filters * channels)),
            "x_zero": Tensor(shape: [], uint8s: [7]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .uint8, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "G", elementType: .int32, shape: [nil, filters, 5, 5]),
                           TensorInfo(name: "P", elementType: .int32, shape: [nil, filters, size, size])]
        builder.addNode("ConvInteger", name: "grouped", inputs: ["X", "w", "x_zero", "w_zero"], outputs: ["G"],
                        intAttributes: ["group": 2], intListAttributes: ["pads": [1, 1, 1, 1], "strides": [2, 2]])
        builder.addNode("ConvInteger", name: "pointwise", inputs: ["X", "p", "x_zero"], outputs: ["P"])
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("conv-integer.onnx")
        try builder.serialized().write(to: file)

        let x = Tensor(shape: [batch, channels, size, size], uint8s: bytes(batch * channels * size * size))
        let ours = try InferenceSession(contentsOf: file).run(["X": x])
        let theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])
        for name in ["G", "P"] {
            let (mine, reference) = (try XCTUnwrap(ours[name]), try XCTUnwrap(theirs[name]))
            XCTAssertEqual(mine.shape, reference.shape, name)
            XCTAssertEqual(mine.int64s, reference.int64s, name)
        }
        XCTAssertEqual(ours["G"]?.shape, [batch, filters, 5, 5])
    }
}

/// The int8 kernels sum products exactly in int32 only up to a depth (CQuantKernels.h): past it a
/// model is refused at load, naming the limit, instead of overflowing (undefined behaviour in C).
final class IntegerDepthLimitTests: XCTestCase {
    private func matMulInteger(depth: Int, weightZeroPoint: Int8?) throws -> Data {
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "a", elementType: .uint8, shape: [1, depth])]
        builder.outputs = [TensorInfo(name: "y", elementType: .int32, shape: [1, 1])]
        builder.initializers["b"] = Tensor(shape: [depth, 1], int8s: Array(repeating: 1, count: depth))
        builder.initializers["a_zero"] = Tensor(shape: [], uint8s: [0])
        var inputs = ["a", "b", "a_zero"]
        if let weightZeroPoint {
            builder.initializers["b_zero"] = Tensor(shape: [], int8s: [weightZeroPoint])
            inputs.append("b_zero")
        }
        builder.addNode("MatMulInteger", name: "product", inputs: inputs, outputs: ["y"])
        return try builder.serialized()
    }

    func testDepthsUpToTheLimitsLoadAndPastThemAreRefusedAtLoad() throws {
        XCTAssertNoThrow(try InferenceSession(modelData: matMulInteger(depth: Int(QF_MAX_DEPTH), weightZeroPoint: nil)))
        XCTAssertThrowsError(try InferenceSession(modelData: matMulInteger(depth: Int(QF_MAX_DEPTH) + 1, weightZeroPoint: nil))) { error in
            XCTAssertTrue("\(error)".contains("depth 65794; the int8 kernels sum at most 65793 products exactly"), "\(error)")
        }
        XCTAssertNoThrow(try InferenceSession(modelData: matMulInteger(depth: Int(QF_MAX_DEPTH_WITH_ZERO_POINTS), weightZeroPoint: 3)))
        XCTAssertThrowsError(try InferenceSession(modelData: matMulInteger(depth: Int(QF_MAX_DEPTH_WITH_ZERO_POINTS) + 1, weightZeroPoint: 3))) { error in
            XCTAssertTrue("\(error)".contains("with weight zero points the int8 kernels sum at most 32896 products"), "\(error)")
        }
        // A zero zero point is no zero point: the larger limit holds.
        XCTAssertNoThrow(try InferenceSession(modelData: matMulInteger(depth: Int(QF_MAX_DEPTH_WITH_ZERO_POINTS) + 1, weightZeroPoint: 0)))
    }

    func testAProductAtTheLimitIsExact() throws {
        let depth = Int(QF_MAX_DEPTH_WITH_ZERO_POINTS)
        let session = try InferenceSession(modelData: matMulInteger(depth: depth, weightZeroPoint: -128))
        let y = try session.run(["a": Tensor(shape: [1, depth], uint8s: Array(repeating: 255, count: depth))])["y"]
        // (255 - 0) x (1 - (-128)) per product.
        XCTAssertEqual(y, Tensor(shape: [1, 1], int32s: [Int32(depth * 255 * 129)]))
    }
}
