import Foundation
import XCTest

@testable import ShadowEval

final class WindowAggregatorTests: XCTestCase {
    /// One ratio per request, whatever its batch size; a latency under the clock's microsecond counts
    /// as 1 us. The ratios travel in the sketches, and sketches written before them still decode.
    func testLatencyRatiosAreOnePerRequest() throws {
        var aggregator = WindowAggregator()
        for _ in 0..<8 {
            aggregator.add(reference: [0.9, 0.1], candidate: [0.8, 0.2], label: nil,
                           referenceLatencyMicros: 100, candidateLatencyMicros: 50, at: 1_000)
        }
        aggregator.addRequestLatencies(referenceMicros: 800, candidateMicros: 400)
        aggregator.addRequestLatencies(referenceMicros: 0, candidateMicros: 3)
        let sketches = aggregator.seal().sketches
        XCTAssertEqual(sketches.latencyRatios.count, 2)
        XCTAssertEqual(sketches.latencyRatios.quantile(0)!, 0.5, accuracy: 0.01)
        XCTAssertEqual(sketches.latencyRatios.quantile(1)!, 3, accuracy: 0.03)

        let decoded = try JSONDecoder().decode(WindowSketches.self, from: JSONEncoder().encode(sketches))
        XCTAssertEqual(decoded, sketches)
        var older = try JSONSerialization.jsonObject(with: JSONEncoder().encode(sketches)) as! [String: Any]
        older["latency-ratio"] = nil
        let fromOlderAgent = try JSONDecoder().decode(WindowSketches.self, from: JSONSerialization.data(withJSONObject: older))
        XCTAssertEqual(fromOlderAgent.latencyRatios, LogHistogram())
        XCTAssertEqual(fromOlderAgent.candidateLatencyMicros, sketches.candidateLatencyMicros)
    }

    func testAccumulatesPairedSamplesAndLabels() {
        var aggregator = WindowAggregator()
        XCTAssertTrue(aggregator.isEmpty)
        // Agree, both right.
        aggregator.add(reference: [0.9, 0.1], candidate: [0.8, 0.2], label: 0,
                       referenceLatencyMicros: 100, candidateLatencyMicros: 40, at: 2_000)
        // Disagree, only the reference right.
        aggregator.add(reference: [0.2, 0.8], candidate: [0.6, 0.4], label: 1,
                       referenceLatencyMicros: 110, candidateLatencyMicros: 50, at: 1_000)
        // Disagree, only the candidate right.
        aggregator.add(reference: [0.7, 0.3], candidate: [0.4, 0.6], label: 1,
                       referenceLatencyMicros: 90, candidateLatencyMicros: 45, at: 3_000)
        // Unlabelled agreement.
        aggregator.add(reference: [0.1, 0.9], candidate: [0.1, 0.9], label: nil,
                       referenceLatencyMicros: 100, candidateLatencyMicros: 40, at: 2_500)
        aggregator.recordDrop()
        XCTAssertEqual(aggregator.count, 4)

        let summary = aggregator.seal().summary
        XCTAssertEqual(summary.count, 4)
        XCTAssertEqual(summary.top1Agreements, 2)
        XCTAssertEqual(summary.labelled, 3)
        XCTAssertEqual(summary.referenceCorrect, 2)
        XCTAssertEqual(summary.candidateCorrect, 2)
        XCTAssertEqual(summary.referenceOnlyCorrect, 1)
        XCTAssertEqual(summary.candidateOnlyCorrect, 1)
        XCTAssertEqual(summary.referenceLatencyMicrosSum, 400)
        XCTAssertEqual(summary.candidateLatencyMicrosSum, 175)
        XCTAssertEqual(summary.shadowDrops, 1)
        XCTAssertEqual(summary.startedAtMillis, 1_000)
        XCTAssertEqual(summary.endedAtMillis, 3_000)
        XCTAssertEqual(summary.maxAbsDiff, 0.4, accuracy: 1e-6)
        XCTAssertGreaterThan(summary.klDivergenceSum, 0)
    }

    func testSealResets() {
        var aggregator = WindowAggregator()
        aggregator.add(reference: [1, 0], candidate: [0, 1], label: nil,
                       referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 5)
        _ = aggregator.seal()
        XCTAssertTrue(aggregator.isEmpty)
        XCTAssertEqual(aggregator.count, 0)
        XCTAssertEqual(aggregator.seal(), WindowAggregate())
    }

    func testDropsAloneMakeAWindowNonEmpty() {
        var aggregator = WindowAggregator()
        aggregator.recordDrop()
        XCTAssertFalse(aggregator.isEmpty)
        XCTAssertEqual(aggregator.count, 0)
        XCTAssertEqual(aggregator.seal().shadowDrops, 1)
    }

    func testEvidenceTotalsAddWindows() {
        var totals = EvidenceTotals()
        totals.append(WindowSummary(count: 10, top1Agreements: 8, labelled: 4, referenceCorrect: 3, candidateCorrect: 2,
                                 referenceOnlyCorrect: 1))
        totals.append(WindowSummary(count: 5, top1Agreements: 5, labelled: 1, candidateCorrect: 1, candidateOnlyCorrect: 1))
        XCTAssertEqual(totals.bets.disagreement.countsByValue, [13, 2], "agreements, then disagreements")
        XCTAssertEqual(totals.bets.pairedDifference.countsByValue, [1, 3, 1], "candidate alone right, alike, reference alone right")
        var counts = totals
        counts.bets = EvidenceTotals.Bets()
        XCTAssertEqual(
            counts,
            EvidenceTotals(windows: 2, samples: 15, disagreements: 2, labelled: 5, referenceCorrect: 3,
                           candidateCorrect: 3, referenceOnlyCorrect: 1, candidateOnlyCorrect: 1))
    }

    func testSummaryRoundTripsThroughJSON() throws {
        let summary = WindowSummary(count: 3, top1Agreements: 2, klDivergenceSum: 0.25, maxAbsDiff: 0.5,
                                    shadowDrops: 1, startedAtMillis: 10, endedAtMillis: 20)
        let decoded = try JSONDecoder().decode(WindowSummary.self, from: JSONEncoder().encode(summary))
        XCTAssertEqual(decoded, summary)
    }
}
