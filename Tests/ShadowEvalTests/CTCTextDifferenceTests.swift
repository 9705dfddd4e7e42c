import XCTest

@testable import ShadowEval

final class CTCTextDifferenceTests: XCTestCase {
    /// Scores, time-major, that make `path` the best class at each step of `classes`.
    private func scores(_ path: [Int], classes: Int) -> [Float] {
        path.flatMap { best in (0..<classes).map { $0 == best ? 0.9 : 0.05 } }
    }

    func testGreedyDecodingCollapsesRepeatsAndDropsBlanks() {
        let rule = CTCTextDifference()
        XCTAssertEqual(rule.decode(scores([1, 1, 0, 1, 2, 2, 0], classes: 3), classes: 3), [1, 1, 2], "a blank separates two 1s")
        XCTAssertEqual(rule.decode(scores([0, 0, 0], classes: 3), classes: 3), [], "all blank: empty text")
        XCTAssertEqual(rule.decode([], classes: 3), [])
    }

    func testTheBlankIndexIsConfigurable() {
        let lastIsBlank = CTCTextDifference(blankIndex: 2)
        XCTAssertEqual(lastIsBlank.decode(scores([1, 1, 0, 2, 1, 2, 2], classes: 3), classes: 3), [1, 0, 1])
    }

    func testCharacterErrorRate() {
        XCTAssertEqual(CTCTextDifference.editDistance([1, 2, 3, 4], [1, 3, 4, 5]), 2)
        XCTAssertEqual(CTCTextDifference.characterErrorRate(reference: [1, 2, 3, 4], candidate: [1, 2, 4]), 0.25)
        XCTAssertEqual(CTCTextDifference.characterErrorRate(reference: [], candidate: []), 0)
        XCTAssertEqual(CTCTextDifference.characterErrorRate(reference: [], candidate: [7]), .infinity)
    }

    func testTextsDifferMateriallyOnAnyChangeOrAboveTheErrorRate() {
        let exact = CTCTextDifference()
        XCTAssertFalse(exact.isMateriallyDifferent(reference: [1, 2, 3, 4], candidate: [1, 2, 3, 4]))
        XCTAssertTrue(exact.isMateriallyDifferent(reference: [1, 2, 3, 4], candidate: [1, 2, 4]))
        let lenient = CTCTextDifference(maximumCharacterErrorRate: 0.3)
        XCTAssertFalse(lenient.isMateriallyDifferent(reference: [1, 2, 3, 4], candidate: [1, 2, 4]), "1 error in 4 is 0.25")
        XCTAssertTrue(lenient.isMateriallyDifferent(reference: [1, 2, 3, 4], candidate: [1, 4]), "2 in 4 is 0.5")
        XCTAssertTrue(lenient.isMateriallyDifferent(reference: [], candidate: [1]), "text where the reference read none")
    }

    func testSequenceLayouts() throws {
        let path = [1, 0, 2, 2]
        let batchFirst = scores(path, classes: 3)
        let kind = TaskKind.ctc(CTCTextDifference())
        XCTAssertEqual(try kind.samples(of: batchFirst, shape: [1, 4, 3]), [[1, 2]], "[1, T, C] reads batch-first")
        XCTAssertEqual(try kind.samples(of: batchFirst, shape: [4, 1, 3]), [[1, 2]], "[T, 1, C] reads time-first")
        XCTAssertEqual(try kind.samples(of: batchFirst, shape: [4, 3]), [[1, 2]], "[T, C]: one sequence")

        // Two sequences interleaved step by step: [T, B, C].
        let other = [2, 2, 1, 0]
        let interleaved = zip(path, other).flatMap { scores([$0, $1], classes: 3) }
        XCTAssertThrowsError(try kind.samples(of: interleaved, shape: [4, 2, 3])) {
            XCTAssertEqual($0 as? SampleLayoutError, .ambiguousSequenceLayout(shape: [4, 2, 3]))
        }
        let timeFirst = TaskKind.ctc(CTCTextDifference(sequenceLayout: .timeFirst))
        XCTAssertEqual(try timeFirst.samples(of: interleaved, shape: [4, 2, 3]), [[1, 2], [2, 1]])
        let stated = TaskKind.ctc(CTCTextDifference(sequenceLayout: .batchFirst))
        XCTAssertEqual(try stated.samples(of: batchFirst + scores(other, classes: 3), shape: [2, 4, 3]), [[1, 2], [2, 1]])
    }

    func testABlankOutsideTheClassesIsALayoutError() {
        let kind = TaskKind.ctc(CTCTextDifference(blankIndex: 3))
        XCTAssertThrowsError(try kind.samples(of: scores([1], classes: 3), shape: [1, 1, 3])) {
            XCTAssertEqual($0 as? SampleLayoutError, .blankOutsideClasses(blankIndex: 3, classes: 3))
        }
    }

    /// Decoded texts differ in length; the aggregator compares them and takes no value measures.
    func testTheAggregatorCountsDifferentTexts() throws {
        let kind = TaskKind.ctc(CTCTextDifference())
        var aggregator = WindowAggregator(taskKind: kind)
        for (candidatePath, at) in [([1, 0, 2, 2], Int64(1)), ([1, 1, 1, 1], 2)] {
            let pair = try XCTUnwrap(kind.pairedSamples(
                reference: (scores([1, 0, 2, 2], classes: 3), [1, 4, 3]), candidate: (scores(candidatePath, classes: 3), [1, 4, 3])
            ).first)
            aggregator.add(reference: pair.reference, candidate: pair.candidate, label: nil,
                           referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: at)
        }
        XCTAssertEqual(aggregator.seal().agreement, AgreementCounts(samples: 2, agreements: 1))
    }
}
