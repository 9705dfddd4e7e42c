import Inference
import XCTest

/// `quantfleet bench --profile`: the time of every node, gathered per operator type.
final class OperatorProfileTests: XCTestCase {
    func testEveryNodeIsTimedUnderItsTypeAndTheResultsAreUnchanged() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        let feeds = ["pixels": try TestSupport.trafficPixels(rows: 4)]
        var profile = OperatorProfile()
        let profiled = try session.run(feeds, profile: &profile)
        _ = try session.run(feeds, profile: &profile)

        XCTAssertEqual(profiled["probabilities"], try session.run(feeds)["probabilities"])
        let entries = profile.entries
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: entries.map { ($0.opType, $0.nodes) }), session.operatorCounts,
                       "each node counted once under its type, however many runs")
        XCTAssert(entries.allSatisfy { $0.total > .zero })
        XCTAssertEqual(entries.map(\.total), entries.map(\.total).sorted(by: >), "the most expensive type first")
    }
}
