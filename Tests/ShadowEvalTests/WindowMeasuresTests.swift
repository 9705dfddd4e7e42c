import XCTest

@testable import ShadowEval

/// The measures beside the decision counts: margin flips, top-5 overlap, nearest neighbours, sketches.
final class WindowMeasuresTests: XCTestCase {
    func testClassificationCountsMarginFlipsAndSharedTopFiveClasses() {
        var aggregator = WindowAggregator()
        let reference: [Float] = [0.5, 0.3, 0.1, 0.05, 0.03, 0.02]
        aggregator.add(reference: reference, candidate: reference, label: nil, referenceLatencyMicros: 10, candidateLatencyMicros: 5, at: 1)
        // Runner-up overtakes the top class, and class 5 enters the top five in place of class 4.
        aggregator.add(reference: reference, candidate: [0.3, 0.5, 0.1, 0.05, 0.01, 0.04], label: nil,
                       referenceLatencyMicros: 10, candidateLatencyMicros: 5, at: 2)
        let window = aggregator.seal()
        XCTAssertEqual(window.marginFlips, 1)
        XCTAssertEqual(window.topFiveSharedClasses, 5 + 4)
        XCTAssertEqual(window.neighbours, AgreementCounts(), "no neighbours for classification")
        XCTAssertEqual(window.sketches.referenceLatencyMicros.count, 2)
    }

    func testEmbeddingsCheckNearestNeighboursWithinTheWindow() {
        var aggregator = WindowAggregator(taskKind: .embedding(EmbeddingFloor(minimumCosine: 0.5)))
        let vectors: [[Float]] = [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.2]]
        // The candidate moves vector 1 next to vector 2: vectors 1 and 2 change their nearest neighbour.
        let candidates: [[Float]] = [[1, 0, 0], [0.1, 0.9, 0], [0, 1, 0], [0, 0.9, 0.2]]
        for (reference, candidate) in zip(vectors, candidates) {
            aggregator.add(reference: reference, candidate: candidate, label: nil, referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 1)
        }
        let window = aggregator.seal()
        XCTAssertEqual(window.neighbours.samples, 4)
        XCTAssertEqual(window.neighbours.agreements, 2)
        XCTAssertEqual(aggregator.seal().neighbours, AgreementCounts(), "sealing starts a fresh window")
    }

    func testMeasuresMergeAcrossWindows() {
        var first = WindowMeasures(marginFlips: 1, topFiveSharedClasses: 9, neighbours: AgreementCounts(samples: 4, agreements: 2))
        var sketches = WindowSketches()
        sketches.referenceLatencyMicros.record(100)
        first.merge(WindowMeasures(marginFlips: 2, sketches: sketches))
        XCTAssertEqual(first.marginFlips, 3)
        XCTAssertEqual(first.topFiveSharedClasses, 9)
        XCTAssertEqual(first.sketches?.referenceLatencyMicros.count, 1)
    }
}
