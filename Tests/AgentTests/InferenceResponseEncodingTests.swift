import Foundation
import Inference
import XCTest

@testable import Agent

/// Infer answers as tritonclient reads them: JSON alone, or a JSON header whose binary outputs give
/// `binary_data_size`, its length in `Inference-Header-Content-Length`, then their bytes in order.
final class InferenceResponseEncodingTests: XCTestCase {
    private let probabilities = Tensor(shape: [1, 2], floats: [0.25, 0.75])
    private let label = Tensor(shape: [1], int64s: [1])

    func testBinaryOutputsFollowTheHeaderAndJSONOutputsStayInIt() throws {
        let encoded = try InferenceResponseEncoding(
            modelName: "m", modelVersion: "v", id: "7",
            outputs: [("probabilities", probabilities, true), ("label", label, false), ("words", Tensor(shape: [2], strings: ["ab", ""]), true)])

        XCTAssertEqual(encoded.headerLength, encoded.json.count)
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded.json) as? [String: Any])
        XCTAssertEqual(header["model_name"] as? String, "m")
        XCTAssertEqual(header["id"] as? String, "7")
        let outputs = try XCTUnwrap(header["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["datatype"] as? String }, ["FP32", "INT64", "BYTES"])
        XCTAssertEqual(outputs.map { ($0["parameters"] as? [String: Int])?["binary_data_size"] }, [8, nil, 10])
        XCTAssertNil(outputs[0]["data"], "a binary output has no JSON data")
        XCTAssertEqual(outputs[1]["data"] as? [Int], [1])

        let floatBytes = ([0.25, 0.75] as [Float]).withUnsafeBytes { Data($0) }
        XCTAssertEqual(encoded.binary, floatBytes + Data([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0]))
    }

    func testAnAnswerWithoutBinaryOutputsIsPlainJSON() throws {
        let encoded = try InferenceResponseEncoding(
            modelName: "m", modelVersion: "v", id: nil, outputs: [("probabilities", probabilities, false), ("label", label, false)])
        XCTAssertNil(encoded.headerLength)
        XCTAssertTrue(encoded.binary.isEmpty)
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded.json) as? [String: Any])
        let outputs = try XCTUnwrap(header["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs[0]["data"] as? [Double], [0.25, 0.75])
        XCTAssertNil(outputs[0]["parameters"])
    }

    /// Types OIP has no name for travel in the type their datatype names, at its width.
    func testSubByteOutputsTravelAsTheirDatatypesWidth() throws {
        let int4 = try Tensor(shape: [3], int64s: [-8, 7, 1]).converted(to: .int4)
        let encoded = try InferenceResponseEncoding(modelName: "m", modelVersion: "v", id: nil, outputs: [("codes", int4, true)])
        XCTAssertEqual(encoded.binary, Data([0xF8, 7, 1]))
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded.json) as? [String: Any])
        XCTAssertEqual((header["outputs"] as? [[String: Any]])?.first?["datatype"] as? String, "INT8")
    }

    func testBytesRoundTripThroughTheBinaryLayout() throws {
        let strings = ["", "ünïcode", String(repeating: "x", count: 300)]
        let bytes = BinaryTensorData.bytes(of: Tensor(shape: [3], strings: strings))
        let decoded = try BinaryTensorData.tensor(named: "s", shape: [3], type: .string, datatype: "BYTES", bytes: bytes)
        XCTAssertEqual(decoded.strings, strings)
    }
}
