import Foundation
import XCTest

@testable import Agent

/// Which outputs an infer request gets and whether each is binary, as the binary tensor data
/// extension and tritonclient's defaults use `binary_data` and `binary_data_output`.
final class OutputSelectionTests: XCTestCase {
    private let outputs = ["label", "probabilities"]

    func testEveryOutputAsJSONUnlessBinaryIsTheDefault() throws {
        XCTAssertEqual(try selection([:]).binary, ["label": false, "probabilities": false])
        XCTAssertEqual(try selection(["parameters": ["binary_data_output": true]]).binary, ["label": true, "probabilities": true])
    }

    func testEachRequestedOutputSaysHowItTravels() throws {
        let chosen = try selection([
            "parameters": ["binary_data_output": true],
            "outputs": [["name": "probabilities", "parameters": ["binary_data": false]], ["name": "label"]],
        ])
        XCTAssertEqual(chosen.binary, ["probabilities": false, "label": true])
        XCTAssertEqual(try selection(["outputs": [["name": "label", "parameters": ["binary_data": true]]]]).binary, ["label": true])
    }

    func testUnknownOutputsAndUnservedExtensionsAreRefused() {
        XCTAssertThrowsError(try selection(["outputs": [["name": "logits"]]])) {
            XCTAssertEqual("\($0)", "unknown output 'logits'; the model gives [\"label\", \"probabilities\"]")
        }
        XCTAssertThrowsError(try selection(["outputs": [["name": "label", "parameters": ["classification": 3]]]])) {
            XCTAssertEqual("\($0)", "output 'label': the classification extension is not supported")
        }
        XCTAssertThrowsError(try selection(["outputs": [["name": "label", "parameters": ["shared_memory_region": "r"]]]])) {
            XCTAssertEqual("\($0)", "output 'label': the shared memory extension is not supported")
        }
    }

    private func selection(_ request: [String: Any]) throws -> OutputSelection {
        var request = request
        request["inputs"] = [[String: Any]]()
        return try OutputSelection(InferenceRequestBody(json: JSONSerialization.data(withJSONObject: request)), outputs: outputs)
    }
}
