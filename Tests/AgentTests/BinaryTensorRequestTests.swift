import Foundation
import Inference
import XCTest

@testable import Agent

/// The binary tensor data extension's request side, as tritonclient sends it: a JSON header of
/// `Inference-Header-Content-Length` bytes, then each binary input's bytes in order.
final class BinaryTensorRequestTests: XCTestCase {
    private let pixels = TensorInfo(name: "pixels", elementType: .float32, shape: [nil, 3])
    private let words = TensorInfo(name: "words", elementType: .string, shape: [nil])

    func testBinaryInputsFollowTheHeaderInOrderBesideJSONInputs() throws {
        let floats: [Float] = [0.5, -1, 3.25]
        let strings = BinaryTensorData.bytes(of: Tensor(shape: [2], strings: ["oslo", "lima"]))
        let (body, headerLength) = binaryBody(
            inputs: [
                ["name": "pixels", "shape": [1, 3], "datatype": "FP32", "parameters": ["binary_data_size": 12]],
                ["name": "json", "shape": [1], "datatype": "INT64", "data": [7]],
                ["name": "words", "shape": [2], "datatype": "BYTES", "parameters": ["binary_data_size": strings.count]],
            ],
            parameters: ["label": 4],
            bytes: floats.withUnsafeBytes { Data($0) } + strings)

        let request = try BinaryTensorRequest.parse(body, headerLength: String(headerLength))

        XCTAssertEqual(request.parameters?["label"]?.integers, [4])
        XCTAssertEqual(try request.inputs[0].tensor(for: pixels).floats, floats)
        XCTAssertEqual(try request.inputs[2].tensor(for: words).strings, ["oslo", "lima"])
        guard case .numbers(let values)? = request.inputs[1].data, values == [7] else { return XCTFail("the JSON input keeps its data") }
    }

    func testMalformedBodiesAreRefusedNamingTheProblem() throws {
        let input: [String: Any] = ["name": "pixels", "shape": [1, 3], "datatype": "FP32", "parameters": ["binary_data_size": 12]]
        let (body, headerLength) = binaryBody(inputs: [input], bytes: Data(count: 12))
        assertRefused(body, headerLength: "\(body.count + 1)", saying: "Inference-Header-Content-Length is \(body.count + 1) bytes, past the end of the \(body.count)-byte body")
        assertRefused(body, headerLength: "twelve", saying: "Inference-Header-Content-Length 'twelve' is not a byte count")
        assertRefused(body + Data(count: 4), headerLength: "\(headerLength)", saying: "4 bytes follow the JSON header and the inputs' binary_data_size bytes")
        assertRefused(body.dropLast(2), headerLength: "\(headerLength)", saying: "input 'pixels': binary_data_size 12 runs past the body, which has 10 bytes left for it")
        assertRefused(body, headerLength: "\(headerLength - 1)", saying: "the body is not an OIP infer request: not valid JSON")

        var both = input
        both["data"] = [1, 2, 3]
        let (bothBody, bothLength) = binaryBody(inputs: [both], bytes: Data(count: 12))
        assertRefused(bothBody, headerLength: "\(bothLength)", saying: "input 'pixels' has both JSON data and binary_data_size")
    }

    func testTensorsThatDoNotFitTheirBytesOrTheModelAreRefused() throws {
        func refusal(_ input: [String: Any], bytes: Data, for info: TensorInfo) throws -> String {
            let (body, headerLength) = binaryBody(inputs: [input], bytes: bytes)
            let request = try BinaryTensorRequest.parse(body, headerLength: String(headerLength))
            do {
                _ = try request.inputs[0].tensor(for: info)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(
            try refusal(["name": "pixels", "shape": [1, 3], "datatype": "FP32", "parameters": ["binary_data_size": 8]], bytes: Data(count: 8), for: pixels),
            "input 'pixels': binary_data_size 8 does not fit shape [1, 3] of FP32, which takes 12 bytes")
        XCTAssertEqual(
            try refusal(["name": "pixels", "shape": [1, 3], "datatype": "FP8", "parameters": ["binary_data_size": 3]], bytes: Data(count: 3), for: pixels),
            "input 'pixels': unknown datatype 'FP8'")
        XCTAssertEqual(
            try refusal(["name": "pixels", "shape": [1, 3], "datatype": "BYTES", "parameters": ["binary_data_size": 0]], bytes: Data(), for: pixels),
            "input 'pixels': datatype BYTES does not match the model's FP32")
        XCTAssertEqual(
            try refusal(["name": "words", "shape": [1], "datatype": "BYTES", "parameters": ["binary_data_size": 6]],
                        bytes: Data([9, 0, 0, 0, 0x61, 0x62]), for: words),
            "input 'words': BYTES element 0 says 9 bytes, only 2 remain")
        XCTAssertEqual(
            try refusal(["name": "words", "shape": [2], "datatype": "BYTES", "parameters": ["binary_data_size": 5]],
                        bytes: Data([1, 0, 0, 0, 0x61]), for: words),
            "input 'words': shape [2] needs 2 BYTES elements, the binary data holds 1")
        XCTAssertEqual(
            try refusal(["name": "words", "shape": [1], "datatype": "BYTES", "parameters": ["binary_data_size": 5]],
                        bytes: Data([1, 0, 0, 0, 0xFF]), for: words),
            "input 'words': BYTES element 0 is not UTF-8, and the engine's strings are text")
    }

    func testBinaryInputsConvertToTheModelsTypeAsJSONDo() throws {
        let (body, headerLength) = binaryBody(
            inputs: [["name": "pixels", "shape": [1, 3], "datatype": "UINT8", "parameters": ["binary_data_size": 3]]],
            bytes: Data([0, 128, 255]))
        let request = try BinaryTensorRequest.parse(body, headerLength: String(headerLength))
        let tensor = try request.inputs[0].tensor(for: pixels)
        XCTAssertEqual(tensor.elementType, .float32)
        XCTAssertEqual(tensor.floats, [0, 128, 255])
    }

    func testBinaryDataSizeWithoutTheHeaderIsNamed() throws {
        let json = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "pixels", "shape": [1, 3], "datatype": "FP32", "parameters": ["binary_data_size": 12]]],
        ])
        let request = try InferenceRequestBody(json: json)
        XCTAssertThrowsError(try request.inputs[0].tensor(for: pixels)) { error in
            XCTAssertEqual("\(error)", "input 'pixels' gives binary_data_size but the request has no Inference-Header-Content-Length header")
        }
    }

    func testJSONStringsFeedStringInputs() throws {
        let json = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "words", "shape": [2], "datatype": "BYTES", "data": ["rome", "paris"]]],
        ])
        let request = try InferenceRequestBody(json: json)
        XCTAssertEqual(try request.inputs[0].tensor(for: words).strings, ["rome", "paris"])
    }

    /// The JSON header (with `inputs` and `parameters`) followed by `bytes`, and the header's length.
    private func binaryBody(inputs: [[String: Any]], parameters: [String: Any]? = nil, bytes: Data) -> (Data, Int) {
        var request: [String: Any] = ["inputs": inputs]
        request["parameters"] = parameters
        let header = try! JSONSerialization.data(withJSONObject: request)
        return (header + bytes, header.count)
    }

    private func assertRefused(_ body: Data, headerLength: String, saying message: String, line: UInt = #line) {
        XCTAssertThrowsError(try BinaryTensorRequest.parse(body, headerLength: headerLength), line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "\(error) should say \(message)", line: line)
        }
    }
}
