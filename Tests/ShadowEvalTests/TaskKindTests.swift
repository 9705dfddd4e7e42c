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
            .detection(DetectionMatching(boxFormat: .yolox, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: 0.45)),
            .detection(DetectionMatching(boxFormat: .xyxyScoreClass, minimumIoU: 0.7, minimumScore: 0, nmsIoU: nil)),
            .ctc(CTCTextDifference(blankIndex: 0, maximumCharacterErrorRate: 0.1, sequenceLayout: .timeFirst)),
        ] {
            XCTAssertEqual(try JSONDecoder().decode(TaskKind.self, from: JSONEncoder().encode(kind)), kind)
        }
    }

    func testRegistrationReadsEachKindsParametersWithDefaults() throws {
        XCTAssertEqual(try TaskKind(name: "classification"), .topOneClassification)
        XCTAssertEqual(
            try TaskKind(name: "detection", parameters: ["box-format": "yolo"]),
            .detection(DetectionMatching(boxFormat: .yolo, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: 0.45)))
        XCTAssertEqual(
            try TaskKind(name: "detection", parameters: ["box-format": "xyxy-score-class", "min-iou": "0.7", "min-score": "0"]),
            .detection(DetectionMatching(boxFormat: .xyxyScoreClass, minimumIoU: 0.7, minimumScore: 0, nmsIoU: nil)),
            "decoded boxes keep the model's own NMS unless nms-iou is given")
        XCTAssertEqual(try TaskKind(name: "ctc"), .ctc(CTCTextDifference(blankIndex: 0, maximumCharacterErrorRate: nil, sequenceLayout: .auto)))
        XCTAssertEqual(
            try TaskKind(name: "ctc", parameters: ["blank-index": "6624", "max-character-error-rate": "0.1", "sequence-layout": "batch-first"]),
            .ctc(CTCTextDifference(blankIndex: 6624, maximumCharacterErrorRate: 0.1, sequenceLayout: .batchFirst)))
        XCTAssertFalse(try TaskKind(name: "detection", parameters: ["box-format": "yolo"]).hasClasses)
        XCTAssertFalse(try TaskKind(name: "ctc").hasClasses)
    }

    func testRegistrationRefusesBadParametersByName() {
        let refusals: [(String, [String: String], TaskKind.RegistrationError)] = [
            ("segmentation", [:], .unknownKind("segmentation")),
            ("detection", [:], .missingParameter(kind: "detection", expected: "box-format (yolo, yolox, xyxy-score-class)")),
            ("detection", ["box-format": "ssd"], .invalidParameter(name: "box-format", value: "ssd", expected: "one of yolo, yolox, xyxy-score-class")),
            ("detection", ["box-format": "yolo", "min-iou": "0"], .invalidParameter(name: "min-iou", value: "0", expected: "in (0, 1]")),
            ("detection", ["box-format": "yolo", "min-iou": "half"], .invalidParameter(name: "min-iou", value: "half", expected: "in (0, 1]")),
            ("detection", ["box-format": "yolo", "nms-iou": "1.5"], .invalidParameter(name: "nms-iou", value: "1.5", expected: "in (0, 1]")),
            ("detection", ["box-format": "yolo", "min-score": "nan"], .invalidParameter(name: "min-score", value: "nan", expected: "in [0, 1]")),
            ("ctc", ["blank-index": "-1"], .invalidParameter(name: "blank-index", value: "-1", expected: "a whole number, not negative")),
            ("ctc", ["blank-index": "1.5"], .invalidParameter(name: "blank-index", value: "1.5", expected: "a whole number, not negative")),
            ("ctc", ["max-character-error-rate": "1"],
             .invalidParameter(name: "max-character-error-rate", value: "1", expected: "a fraction in [0, 1)")),
            ("ctc", ["sequence-layout": "sideways"],
             .invalidParameter(name: "sequence-layout", value: "sideways", expected: "one of auto, batch-first, time-first")),
            ("ctc", ["min-iou": "0.5"], .inapplicableParameter(name: "min-iou", kind: "ctc")),
            ("regression", ["absolute-tolerance": "0.1", "min-iuo": "0.5"], .unknownParameter("min-iuo")),
            ("embedding", [:], .missingParameter(kind: "embedding", expected: "min-cosine")),
        ]
        for (name, parameters, expected) in refusals {
            XCTAssertThrowsError(try TaskKind(name: name, parameters: parameters), "\(name) \(parameters)") {
                XCTAssertEqual($0 as? TaskKind.RegistrationError, expected)
            }
        }
        XCTAssertEqual(
            TaskKind.RegistrationError.inapplicableParameter(name: "min-iou", kind: "ctc").description,
            "min-iou is not a parameter of task ctc (it takes blank-index, max-character-error-rate, sequence-layout)")
        XCTAssertEqual(
            TaskKind.RegistrationError.unknownKind("segmentation").description,
            "unknown task 'segmentation': use classification, regression, embedding, detection, ctc")
    }

    func testSummariesSayWhatIsMaterial() throws {
        XCTAssertEqual(
            try TaskKind(name: "detection", parameters: ["box-format": "yolox"]).summary,
            "detection (yolox boxes scoring at least 0.25, NMS above IoU 0.45): a box of either model without a same-class partner at IoU >= 0.5")
        XCTAssertEqual(
            try TaskKind(name: "ctc", parameters: ["max-character-error-rate": "0.1"]).summary,
            "ctc (greedy, blank 0, auto layout): character error rate above 0.1")
    }
}
