import XCTest

@testable import ShadowEval

final class TaskKindTests: XCTestCase {
    func testClassificationMeasures() {
        let reference: [Float] = [0.5, 0.3, 0.15, 0.05]
        let candidate: [Float] = [0.35, 0.4, 0.2, 0.05]
        XCTAssertEqual(OutputComparison.topK(reference, k: 2), [0, 1])
        XCTAssertEqual(OutputComparison.topK([1, .nan, 3], k: 3), [2, 0, 1])
        XCTAssertEqual(OutputComparison.topKOverlap(reference: reference, candidate: candidate, k: 2), 1)
        XCTAssertEqual(OutputComparison.topKOverlap(reference: reference, candidate: [0, 0, 1, 2], k: 2), 0)
        XCTAssertEqual(
            OutputComparison.referenceTopProbabilityShift(reference: reference, candidate: candidate), 0.15, accuracy: 1e-6)
        XCTAssertTrue(OutputComparison.isMarginFlip(reference: reference, candidate: candidate))
        XCTAssertFalse(OutputComparison.isMarginFlip(reference: reference, candidate: reference))
    }

    func testClassificationIsMaterialOnTopOneOrAConfiguredShift() {
        let reference: [Float] = [0.6, 0.3, 0.1]
        let shifted: [Float] = [0.45, 0.35, 0.2]
        XCTAssertFalse(TaskKind.topOneClassification.isMateriallyDifferent(reference: reference, candidate: shifted))
        XCTAssertTrue(TaskKind.topOneClassification.isMateriallyDifferent(reference: reference, candidate: [0.3, 0.6, 0.1]))
        let strict = TaskKind.classification(ClassificationDifference(maximumProbabilityShift: 0.1))
        XCTAssertTrue(strict.isMateriallyDifferent(reference: reference, candidate: shifted))
        XCTAssertFalse(strict.isMateriallyDifferent(reference: reference, candidate: [0.55, 0.35, 0.1]))
    }

    func testRegressionToleranceIsAbsolutePlusRelative() {
        let kind = TaskKind.regression(RegressionTolerance(absolute: 0.01, relative: 0.05))
        XCTAssertFalse(kind.isMateriallyDifferent(reference: [0, 100], candidate: [0.009, 104.9]))
        XCTAssertTrue(kind.isMateriallyDifferent(reference: [0, 100], candidate: [0.02, 100]))
        XCTAssertTrue(kind.isMateriallyDifferent(reference: [0, 100], candidate: [0, 105.2]))
        XCTAssertTrue(kind.isMateriallyDifferent(reference: [1], candidate: [.nan]))
        XCTAssertEqual(OutputComparison.maxRelativeDifference(reference: [2, -4], candidate: [2.2, -4]), 0.1, accuracy: 1e-6)
    }

    func testEmbeddingFloorOnCosine() {
        let kind = TaskKind.embedding(EmbeddingFloor(minimumCosine: 0.99))
        XCTAssertFalse(kind.isMateriallyDifferent(reference: [1, 0, 0], candidate: [2, 0.05, 0]))
        XCTAssertTrue(kind.isMateriallyDifferent(reference: [1, 0, 0], candidate: [1, 1, 0]))
        XCTAssertEqual(OutputComparison.cosineSimilarity([0, 0], [0, 0]), 1)
        XCTAssertEqual(OutputComparison.cosineSimilarity([1, 0], [0, 0]), 0)
    }

    /// For regression the aggregator counts tolerance exceedances as disagreements and ignores labels.
    func testAggregatorCountsMaterialDifferencesOfItsTaskKind() {
        var aggregator = WindowAggregator(taskKind: .regression(RegressionTolerance(absolute: 0.1, relative: 0)))
        aggregator.add(reference: [1, 2], candidate: [1.05, 2], label: 0,
                       referenceLatencyMicros: 10, candidateLatencyMicros: 5, at: 1)
        aggregator.add(reference: [1, 2], candidate: [1, 2.5], label: nil,
                       referenceLatencyMicros: 10, candidateLatencyMicros: 5, at: 2)
        let window = aggregator.seal()
        XCTAssertEqual(window.agreement, AgreementCounts(samples: 2, agreements: 1))
        XCTAssertEqual(window.labels.total, 0)
        XCTAssertTrue(window.agreementByReferenceClass.isEmpty)
    }

    func testTaskKindRoundTripsThroughJSON() throws {
        for kind in [
            TaskKind.topOneClassification, .regression(RegressionTolerance(absolute: 0.5, relative: 0.01)),
            .embedding(EmbeddingFloor(minimumCosine: 0.95)),
        ] {
            XCTAssertEqual(try JSONDecoder().decode(TaskKind.self, from: JSONEncoder().encode(kind)), kind)
        }
    }
}
