import Foundation
import XCTest

@testable import Inference

/// The agent's noise floor runs its reference twice, on two float kernel paths. The second session
/// is planned from the first one's graph: it answers exactly as the model loaded afresh on that path
/// would, and holds no second copy of the constants (MiniLM's pair: 341 -> 255 MiB resident).
final class SessionOnAnotherPathTests: XCTestCase {
    func testItAnswersAsALoadedOneAndSharesTheConstants() throws {
        let pixels = try TestSupport.trafficPixels(rows: 32)
        let reference = try InferenceSession(contentsOf: TestSupport.fp32Model)
        let elsewhere = try reference.onFloatKernelPath("scalar")
        let loaded = try InferenceSession(contentsOf: TestSupport.fp32Model, floatKernelPath: "scalar")
        XCTAssertEqual(
            try XCTUnwrap(elsewhere.run(["pixels": pixels])["probabilities"]).floats,
            try XCTUnwrap(loaded.run(["pixels": pixels])["probabilities"]).floats)

        func addresses(_ session: InferenceSession) -> [UnsafeRawPointer?] {
            session.plan.initialValues.map { value in
                guard case .float32(let floats)? = value?.storage else { return nil }
                return floats.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
            }
        }
        let shared = addresses(reference)
        XCTAssertGreaterThan(shared.compactMap { $0 }.count, 0, "the model has float constants")
        XCTAssertEqual(addresses(elsewhere), shared, "the same buffers, not copies")
        XCTAssertNotEqual(addresses(loaded), shared, "a model loaded afresh has its own")

        XCTAssertThrowsError(try reference.onFloatKernelPath("vnni")) {
            XCTAssertTrue("\($0)".hasPrefix("kernel path 'vnni' cannot run on this CPU"), "\($0)")
        }
    }
}
