import Foundation
@testable import Inference
import XCTest

/// The random generators, checked by shape, type and distribution (their node tests cannot match
/// stored values), and by repeatability under a seed.
final class RandomGeneratorTests: XCTestCase {
    private func session(_ opType: String, inputs: [TensorInfo] = [], floats: [String: Float] = [:], ints: [String: Int64] = [:],
                         shape: [Int64]? = nil, output: TensorInfo) throws -> InferenceSession {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 22]
        builder.inputs = inputs
        builder.outputs = [output]
        builder.addNode(opType, name: "random", inputs: inputs.map(\.name), outputs: [output.name],
                        intAttributes: ints, intListAttributes: shape.map { ["shape": $0] } ?? [:], floatAttributes: floats)
        return try InferenceSession(modelData: builder.serialized())
    }

    func testRandomUniformFillsItsRangeEvenlyAndRepeatsUnderASeed() throws {
        let output = TensorInfo(name: "y", elementType: .float32, shape: [100, 100])
        let model = try session("RandomUniform", floats: ["low": -2, "high": 6, "seed": 7], shape: [100, 100], output: output)
        let first = try XCTUnwrap(model.run([:])["y"]), second = try XCTUnwrap(model.run([:])["y"])
        XCTAssertEqual(first.shape, [100, 100])
        XCTAssertTrue(first.floats.allSatisfy { (-2..<6).contains($0) })
        XCTAssertEqual(first.floats.reduce(0, +) / 10_000, 2, accuracy: 0.1, "the mean of uniform [-2, 6)")
        XCTAssertEqual(Double(first.floats.filter { $0 < 2 }.count), 5_000, accuracy: 200, "half below the midpoint")
        let again = try session("RandomUniform", floats: ["low": -2, "high": 6, "seed": 7], shape: [100, 100], output: output)
        XCTAssertEqual(try again.run([:])["y"], first, "the same seed draws the same values")
        XCTAssertNotEqual(second, first, "each run draws anew")
    }

    func testRandomNormalLikeHasTheInputsShapeMeanAndSpread() throws {
        let input = TensorInfo(name: "x", elementType: .float64, shape: [50, 200])
        let model = try session("RandomNormalLike", inputs: [input], floats: ["mean": 3, "scale": 0.5],
                                output: TensorInfo(name: "y", elementType: .float64, shape: [50, 200]))
        let y = try XCTUnwrap(model.run(["x": try Tensor(shape: [50, 200], floats: Array(repeating: 0, count: 10_000)).converted(to: .float64)])["y"])
        XCTAssertEqual(y.elementType, .float64)
        let values = y.floats, mean = values.reduce(0, +) / 10_000
        let deviation = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 10_000).squareRoot()
        XCTAssertEqual(mean, 3, accuracy: 0.03)
        XCTAssertEqual(deviation, 0.5, accuracy: 0.02)
    }

    func testBernoulliDrawsOnesAtTheGivenProbabilities() throws {
        let input = TensorInfo(name: "p", elementType: .float32, shape: [2, 5_000])
        let model = try session("Bernoulli", inputs: [input], ints: ["dtype": 7], output: TensorInfo(name: "y", elementType: .int64, shape: [2, 5_000]))
        let probabilities = Array(repeating: Float(0.1), count: 5_000) + Array(repeating: 0.9, count: 5_000)
        let y = try XCTUnwrap(model.run(["p": Tensor(shape: [2, 5_000], floats: probabilities)])["y"]).int64s
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(Double(y[..<5_000].reduce(0, +)), 500, accuracy: 80)
        XCTAssertEqual(Double(y[5_000...].reduce(0, +)), 4_500, accuracy: 80)
    }

    func testMultinomialSamplesClassesByTheirProbabilities() throws {
        let input = TensorInfo(name: "logits", elementType: .float32, shape: [1, 3])
        let model = try session("Multinomial", inputs: [input], ints: ["sample_size": 6_000, "dtype": 7],
                                output: TensorInfo(name: "y", elementType: .int64, shape: [1, 6_000]))
        let y = try XCTUnwrap(model.run(["logits": Tensor(shape: [1, 3], floats: [log(1), log(2), log(3)])])["y"]).int64s
        XCTAssertEqual(y.count, 6_000)
        for (index, expected) in [1_000.0, 2_000, 3_000].enumerated() {
            XCTAssertEqual(Double(y.filter { $0 == index }.count), expected, accuracy: 150, "class \(index)")
        }
    }

    func testALikeGeneratorOverAConstantIsNotFoldedIntoOneDraw() throws {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 22]
        builder.initializers = ["zeros": Tensor(shape: [64], floats: Array(repeating: 0, count: 64))]
        builder.outputs = [TensorInfo(name: "y", elementType: .float32, shape: [64])]
        builder.addNode("RandomUniformLike", name: "random", inputs: ["zeros"], outputs: ["y"])
        let model = try InferenceSession(modelData: builder.serialized())
        XCTAssertNotEqual(try model.run([:])["y"], try model.run([:])["y"])
    }
}
