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
        let inputs = try crashInputs("npz")
        XCTAssertFalse(inputs.isEmpty)
        for input in inputs {
            XCTAssertThrowsError(try NPZ.read(Data(contentsOf: input)), input.lastPathComponent) { error in
                XCTAssertTrue("\(error)".contains("no local header"), "\(error)")
            }
        }
    }
}
