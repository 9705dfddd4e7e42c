import Foundation
import XCTest

@testable import ShadowEval

final class WindowAggregateTests: XCTestCase {
    private struct Sample {
        var reference: [Float]
        var candidate: [Float]
        var label: Int?
        var referenceLatency: Int
        var candidateLatency: Int
        var millis: Int64
    }

    /// Random 4-class outputs where the candidate is a perturbed reference, about half labelled.
    private func samples(_ count: Int, seed: UInt64) -> [Sample] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let reference = (0..<4).map { _ in Float.random(in: 0..<1, using: &generator) }
            let candidate = reference.map { $0 + Float.random(in: -0.2..<0.2, using: &generator) }
            let label = Bool.random(using: &generator) ? Int.random(in: 0..<4, using: &generator) : nil
            return Sample(
                reference: reference, candidate: candidate, label: label,
                referenceLatency: Int.random(in: 0..<20_000, using: &generator),
                candidateLatency: Int.random(in: 1..<9_000, using: &generator),
                millis: 1_000 + Int64(index) * 7)
        }
    }

    private func aggregate(_ samples: some Sequence<Sample>) -> WindowAggregate {
        var aggregator = WindowAggregator()
        for sample in samples {
            aggregator.add(
                reference: sample.reference, candidate: sample.candidate, label: sample.label,
                referenceLatencyMicros: sample.referenceLatency, candidateLatencyMicros: sample.candidateLatency,
                at: sample.millis)
        }
        return aggregator.seal()
    }

    func testManyWindowsMergedEqualOneBigWindow() {
        let all = samples(3_000, seed: 1)
        let whole = aggregate(all)
        var generator = SeededGenerator(seed: 2)
        // Windows of random sizes, as agents with different traffic would seal them.
        var windows: [WindowAggregate] = []
        var start = 0
        while start < all.count {
            let end = min(all.count, start + Int.random(in: 1...250, using: &generator))
            windows.append(aggregate(all[start..<end]))
            start = end
        }
        XCTAssertEqual(WindowAggregate.merged(windows), whole)
        // Commutative: any order of arrival.
        XCTAssertEqual(WindowAggregate.merged(windows.shuffled(using: &generator)), whole)
        // Associative: merge in pairs, then the pairs, as a coordinator rolling hours into days would.
        let pairs = stride(from: 0, to: windows.count, by: 2).map { WindowAggregate.merged(windows[$0..<min($0 + 2, windows.count)]) }
        XCTAssertEqual(WindowAggregate.merged(pairs.reversed()), whole)
        // The empty aggregate is the identity.
        XCTAssertEqual(WindowAggregate.merged([WindowAggregate(), whole, WindowAggregate()]), whole)
    }

    func testCountsAndSlicesAddUp() {
        let all = samples(1_000, seed: 3)
        let whole = aggregate(all)
        XCTAssertEqual(whole.count, 1_000)
        XCTAssertEqual(whole.labels.total, all.filter { $0.label != nil }.count)
        XCTAssertEqual(whole.labelsByClass.values.map(\.total).reduce(0, +), whole.labels.total)
        XCTAssertEqual(whole.agreementByReferenceClass.values.map(\.samples).reduce(0, +), whole.count)
        XCTAssertEqual(whole.referenceLatencyMicros.count, 1_000)
        XCTAssertEqual(whole.startedAtMillis, 1_000)
        XCTAssertEqual(whole.endedAtMillis, 1_000 + 999 * 7)
        let summary = whole.summary
        XCTAssertEqual(summary.referenceOnlyCorrect, whole.labels.onlyReferenceRight)
        XCTAssertEqual(summary.referenceCorrect, whole.labels.bothRight + whole.labels.onlyReferenceRight)
        XCTAssertEqual(summary.referenceLatencyMicrosSum, all.map(\.referenceLatency).reduce(0, +))
    }

    func testPairedOutcomesCells() {
        var outcomes = PairedOutcomes()
        outcomes.record(referenceRight: true, candidateRight: true)
        outcomes.record(referenceRight: true, candidateRight: false)
        outcomes.record(referenceRight: false, candidateRight: true)
        outcomes.record(referenceRight: false, candidateRight: false)
        outcomes.record(referenceRight: true, candidateRight: false)
        XCTAssertEqual(outcomes, PairedOutcomes(bothRight: 1, onlyReferenceRight: 2, onlyCandidateRight: 1, bothWrong: 1))
        XCTAssertEqual(outcomes.referenceRight, 3)
        XCTAssertEqual(outcomes.candidateRight, 2)
    }

    func testHistogramQuantilesAreWithinTheRelativeAccuracy() {
        var histogram = LogHistogram()
        let values = (1...10_000).map { Double($0) * 0.37 }
        values.forEach { histogram.record($0) }
        for quantile in [0.0, 0.01, 0.5, 0.9, 0.99, 1.0] {
            let exact = values[Int((quantile * Double(values.count - 1)).rounded(.down))]
            let estimate = try! XCTUnwrap(histogram.quantile(quantile))
            XCTAssertEqual(estimate, exact, accuracy: exact * LogHistogram.relativeAccuracy, "q = \(quantile)")
        }
    }

    func testHistogramKeepsZerosAndNaNApart() {
        var histogram = LogHistogram()
        XCTAssertNil(histogram.quantile(0.5))
        histogram.record(0)
        histogram.record(.nan)
        histogram.record(5)
        XCTAssertEqual(histogram.count, 3)
        XCTAssertEqual(histogram.quantile(0), 0)
        XCTAssertEqual(histogram.quantile(1)!, 5, accuracy: 0.05)
    }

    func testAggregateRoundTripsThroughJSON() throws {
        let whole = aggregate(samples(50, seed: 4))
        XCTAssertEqual(try JSONDecoder().decode(WindowAggregate.self, from: JSONEncoder().encode(whole)), whole)
    }
}
