import Foundation
import Inference
import XCTest

/// Every input that once crashed the `onnx` or `npz` fuzz target (kept as `Fuzz/corpus/TARGET/crash-*`)
/// loads or is refused with an error, in the ordinary test run too: a crash would end the test
/// process.
final class FuzzRegressionTests: XCTestCase {
    private func crashInputs(_ target: String) throws -> [URL] {
        let folder = TestSupport.packageRoot.appendingPathComponent("Fuzz/corpus/\(target)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("crash-") }
    }

    func testONNXInputsThatOnceCrashedLoadOrAreRefused() throws {
        let inputs = try crashInputs("onnx")
        XCTAssertFalse(inputs.isEmpty)
        for input in inputs {
            _ = try? InferenceSession(modelData: Data(contentsOf: input))
        }
    }

    func testAReshapeToMoreElementsThanAnIntCountsIsRefusedByName() throws {
        let input = TestSupport.packageRoot.appendingPathComponent("Fuzz/corpus/onnx/crash-reshape-size-overflow")
        XCTAssertThrowsError(try InferenceSession(modelData: Data(contentsOf: input))) { error in
            XCTAssertTrue("\(error)".contains("multiply past \(Int.max) elements"), "\(error)")
        }
    }

    func testNPZInputsThatOnceCrashedAreRefusedByName() throws {
        // What each input's error must say: the fault it names.
        let expected = [
            "crash-local-offset-overflow": "no local header",
            "crash-zip64-record-offset-overflow": "zip64 end-of-central-directory record is missing",
            "crash-shape-overflow": "shape [4294967296, 4294967296, 16] holds more elements than its 16 bytes",
            "crash-string-width-zero": "shape [1000000000000] holds more elements than its 0 bytes",
        ]
        let inputs = try crashInputs("npz")
        XCTAssertEqual(Set(inputs.map(\.lastPathComponent)), Set(expected.keys), "a new crash input needs its expected error here")
        for input in inputs {
            XCTAssertThrowsError(try NPZ.read(Data(contentsOf: input)), input.lastPathComponent) { error in
                XCTAssertTrue("\(error)".contains(expected[input.lastPathComponent] ?? "?"), "\(input.lastPathComponent): \(error)")
            }
        }
    }
}
