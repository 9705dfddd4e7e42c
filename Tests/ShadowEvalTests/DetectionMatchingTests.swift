import XCTest

@testable import ShadowEval

final class DetectionMatchingTests: XCTestCase {
    private func box(_ x1: Float, _ y1: Float, _ x2: Float, _ y2: Float, score: Float = 0.9, class classIndex: Int = 0) -> DetectedBox {
        DetectedBox(x1: x1, y1: y1, x2: x2, y2: y2, score: score, classIndex: classIndex)
    }

    private let rule = DetectionMatching(boxFormat: .xyxyScoreClass, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: nil)

    func testIntersectionOverUnion() {
        XCTAssertEqual(box(0, 0, 10, 10).intersectionOverUnion(box(5, 0, 15, 10)), 1.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(box(0, 0, 10, 10).intersectionOverUnion(box(0, 0, 10, 10)), 1)
        XCTAssertEqual(box(0, 0, 10, 10).intersectionOverUnion(box(20, 20, 30, 30)), 0)
        XCTAssertEqual(box(0, 0, 0, 0).intersectionOverUnion(box(0, 0, 0, 0)), 0, "no area, no overlap")
    }

    func testBoxesPairedAtTheIoUThresholdAreNotMaterial() {
        let reference = [box(0, 0, 10, 10), box(50, 50, 80, 90, class: 2)]
        let nudged = [box(51, 50, 81, 90, score: 0.7, class: 2), box(0.5, 0, 10.5, 10)]
        XCTAssertFalse(rule.isMateriallyDifferent(reference: reference, candidate: nudged), "order and score do not matter")
        XCTAssertTrue(
            rule.isMateriallyDifferent(reference: [box(0, 0, 10, 10)], candidate: [box(5, 0, 15, 10)]),
            "IoU 1/3 is below 0.5")
        XCTAssertFalse(rule.isMateriallyDifferent(reference: [], candidate: []), "nothing found by either")
    }

    func testAClassMismatchIsMaterialEvenWhenTheBoxesCoincide() {
        XCTAssertTrue(rule.isMateriallyDifferent(reference: [box(0, 0, 10, 10, class: 1)], candidate: [box(0, 0, 10, 10, class: 3)]))
    }

    func testAnUnmatchedBoxOnEitherSideIsMaterial() {
        let one = [box(0, 0, 10, 10)]
        let two = one + [box(40, 40, 60, 60)]
        XCTAssertTrue(rule.isMateriallyDifferent(reference: one, candidate: two), "the candidate invents an object")
        XCTAssertTrue(rule.isMateriallyDifferent(reference: two, candidate: one), "the candidate misses an object")
        XCTAssertTrue(rule.isMateriallyDifferent(reference: one, candidate: []))
        // Same count, but one candidate box sits where no reference box is.
        XCTAssertTrue(rule.isMateriallyDifferent(reference: two, candidate: [box(0, 0, 10, 10), box(100, 100, 120, 120)]))
    }

    /// The first reference box overlaps both candidates best with the first; pairing it greedily
    /// would leave the second reference box, which only fits the first candidate, alone.
    func testPairingFindsTheAssignmentAGreedyPassWouldMiss() {
        let reference = [box(0, 0, 10, 10), box(2, 0, 12, 10)]
        let candidate = [box(1, 0, 11, 10), box(-2, 0, 8, 10)]
        XCTAssertGreaterThan(reference[0].intersectionOverUnion(candidate[0]), reference[0].intersectionOverUnion(candidate[1]))
        XCTAssertLessThan(reference[1].intersectionOverUnion(candidate[1]), 0.5)
        XCTAssertFalse(rule.isMateriallyDifferent(reference: reference, candidate: candidate))
    }

    func testNonMaximumSuppressionKeepsTheBestBoxPerClass() {
        let boxes = [
            box(0, 0, 10, 10, score: 0.6), box(1, 1, 11, 11, score: 0.9), box(1, 1, 11, 11, score: 0.8, class: 1),
            box(30, 30, 40, 40, score: 0.5),
        ]
        let kept = NonMaximumSuppression.suppress(boxes, maximumIoU: 0.45)
        XCTAssertEqual(kept, [boxes[1], boxes[2], boxes[3]], "the overlapped 0.6 box of class 0 goes; class 1 stays")
        XCTAssertEqual(NonMaximumSuppression.suppress(boxes, maximumIoU: 0.99).count, 4, "nothing overlaps that much")
    }

    func testYOLORowsAreScoredThresholdedAndSuppressed() throws {
        let yolo = DetectionMatching(boxFormat: .yolo, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: 0.45)
        // cx, cy, w, h, objectness, two class scores.
        let rows: [Float] = [
            10, 10, 8, 8, 0.9, 0.2, 0.8,  // class 1, score 0.72
            11, 10, 8, 8, 0.8, 0.1, 0.7,  // the same object, lower score: suppressed
            50, 50, 20, 10, 0.5, 0.9, 0.1,  // class 0, score 0.45
            80, 80, 4, 4, 0.9, 0.2, 0.2,  // score 0.18: below the threshold
        ]
        let boxes = try yolo.detections(in: rows[...], width: 7)
        XCTAssertEqual(boxes.count, 2)
        XCTAssertEqual(boxes[0].classIndex, 1)
        XCTAssertEqual(boxes[0].score, 0.72, accuracy: 1e-6)
        XCTAssertEqual([boxes[0].x1, boxes[0].y1, boxes[0].x2, boxes[0].y2], [6, 6, 14, 14])
        XCTAssertEqual([boxes[1].x1, boxes[1].y1, boxes[1].x2, boxes[1].y2, Float(boxes[1].classIndex)], [40, 45, 60, 55, 0])
    }

    /// 21 anchors: a 4 x 4 grid at stride 8, 2 x 2 at 16, 1 x 1 at 32 (a 32-pixel square input).
    func testYOLOXOffsetsAreDecodedOnTheirGrid() throws {
        let yolox = DetectionMatching(boxFormat: .yolox, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: 0.45)
        var rows = [Float](repeating: 0, count: 21 * 6)
        rows.replaceSubrange(0..<6, with: [0.5, 0.5, 0, 0, 1, 1])  // stride 8, cell (0, 0)
        rows.replaceSubrange((19 * 6)..<(20 * 6), with: [0.5, 0.5, log(2), 0, 1, 1])  // stride 16, cell (1, 1)
        let boxes = try yolox.detections(in: rows[...], width: 6)
        XCTAssertEqual(boxes.map { [$0.x1, $0.y1, $0.x2, $0.y2] }, [[0, 0, 8, 8], [8, 16, 40, 32]])
        XCTAssertThrowsError(try yolox.detections(in: rows.dropLast(6), width: 6)) {
            XCTAssertEqual($0 as? SampleLayoutError, .notAYOLOXGrid(anchors: 20))
        }
    }

    func testDetectionSamplesAreEachImagesBoxes() throws {
        let kind = TaskKind.detection(rule)
        let boxes: [Float] = [0, 0, 10, 10, 0.9, 1, 5, 5, 8, 8, 0.1, 0]  // the second scores below 0.25
        XCTAssertEqual(try kind.samples(of: boxes, shape: [2, 6]), [Array(boxes[0..<6])], "[N, 6]: one image")
        XCTAssertEqual(try kind.samples(of: boxes, shape: [2, 1, 6]).count, 2, "[B, N, 6]: one sample per image")
        XCTAssertThrowsError(try kind.samples(of: boxes, shape: [2, 2, 3])) {
            XCTAssertEqual($0 as? SampleLayoutError, .boxRowWidth(format: "xyxy-score-class", shape: [2, 2, 3], expected: "6"))
        }
        XCTAssertThrowsError(try kind.samples(of: boxes, shape: [12]))
        // Models with their own NMS return as many boxes as they found: the two sides may differ in length.
        let paired = try kind.pairedSamples(reference: (boxes, [1, 2, 6]), candidate: ([], [1, 0, 6]))
        XCTAssertEqual(paired.count, 1)
        XCTAssertTrue(kind.isMateriallyDifferent(reference: paired[0].reference, candidate: paired[0].candidate))
        XCTAssertThrowsError(try kind.pairedSamples(reference: (boxes, [2, 1, 6]), candidate: (boxes, [1, 2, 6]))) {
            XCTAssertEqual($0 as? SampleLayoutError, .batchesDiffer(reference: 2, candidate: 1))
        }
    }

    /// Detection has no classes to slice by and no probability vector to take a KL divergence of.
    func testTheAggregatorCountsUnmatchedImagesAsDisagreements() throws {
        var aggregator = WindowAggregator(taskKind: .detection(rule))
        let image: [Float] = [0, 0, 10, 10, 0.9, 1]
        aggregator.add(reference: image, candidate: image, label: 1, referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 1)
        aggregator.add(reference: image, candidate: [], label: nil, referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 2)
        let window = aggregator.seal()
        XCTAssertEqual(window.agreement, AgreementCounts(samples: 2, agreements: 1))
        XCTAssertEqual(window.labels.total, 0)
        XCTAssertEqual(window.klDivergenceSumUnits, 0)
    }
}
