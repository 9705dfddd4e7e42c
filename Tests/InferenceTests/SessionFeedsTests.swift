import Foundation
import Inference
import XCTest

/// How `quantfleet run` and `bench` turn an .npz file's arrays into a session's feeds.
final class SessionFeedsTests: XCTestCase {
    func testFeedsTakeArraysByInputNameAndIgnoreTheRest() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        let pixels = Tensor(shape: [2, 784], floats: Array(repeating: 0.5, count: 2 * 784))
        let feeds = try session.feeds(from: ["pixels": pixels, "label": Tensor(shape: [2], int64s: [1, 2])])
        XCTAssertEqual(Array(feeds.keys), ["pixels"])
        XCTAssertEqual(try session.run(feeds)["probabilities"]?.shape, [2, 10])
    }

    func testAMissingArrayIsNamedWithWhatTheDataHolds() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        XCTAssertThrowsError(try session.feeds(from: ["input": Tensor(shape: [1], floats: [0])])) { error in
            XCTAssertEqual("\(error)", "the data has no array named 'pixels' for that model input (it holds: input)")
        }
    }

    func testLeadingRowsTakesTheFirstRowsAndRejectsTooMany() throws {
        let tensor = Tensor(shape: [3, 2], int64s: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try tensor.leadingRows(2), Tensor(shape: [2, 2], int64s: [1, 2, 3, 4]))
        XCTAssertThrowsError(try tensor.leadingRows(4))
    }

    func testOperatorCountsCountPlannedNodes() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        XCTAssertEqual(session.operatorCounts["MatMul"], 3)
        XCTAssertEqual(session.operatorCounts["Relu"], 2)
    }
}
