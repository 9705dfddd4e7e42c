/// Object detection: each model's output is cut into boxes (decoded from the layout stated at
/// registration, thresholded by score, and suppressed when the model leaves NMS to its caller); a
/// sample is materially different when its boxes cannot all be paired, one candidate box per
/// reference box, each pair of the same class and overlapping by at least `minimumIoU`. A box on
/// either side without a partner is a missed or an invented object.
public struct DetectionMatching: Sendable, Equatable, Codable {
    /// How a model writes its boxes: one row of `width` floats per box, rows along the output's
    /// second-to-last axis.
    public enum BoxFormat: String, Sendable, Equatable, Codable, CaseIterable {
        /// Raw YOLO predictions, [N, 5 + C]: centre x, centre y, width, height, objectness and one
        /// score per class, in input pixels; a box's score is objectness x its best class score.
        case yolo
        /// YOLOX predictions exported without their decoding step (as ddddocr's common_det.onnx):
        /// rows as `yolo`, but centres are offsets within grid cells and sizes are logarithms, over
        /// strides 8, 16 and 32 of a square input (so N = 21 g² for the coarsest grid's side g).
        case yolox
        /// Boxes the model has already decoded and suppressed, [N, 6]: x1, y1, x2, y2, score, class.
        case xyxyScoreClass = "xyxy-score-class"
    }

    public var boxFormat: BoxFormat
    public var minimumIoU: Double
    /// Boxes scoring below this are not detections.
    public var minimumScore: Double
    /// Non-maximum suppression's overlap threshold; nil when the model's own NMS is trusted.
    public var nmsIoU: Double?

    public init(boxFormat: BoxFormat, minimumIoU: Double, minimumScore: Double, nmsIoU: Double?) {
        precondition(minimumIoU > 0 && minimumIoU <= 1, "minimumIoU must be in (0, 1], got \(minimumIoU)")
        precondition((0...1).contains(minimumScore), "minimumScore must be in [0, 1], got \(minimumScore)")
        if let nmsIoU { precondition(nmsIoU > 0 && nmsIoU <= 1, "nmsIoU must be in (0, 1], got \(nmsIoU)") }
        self.boxFormat = boxFormat
        self.minimumIoU = minimumIoU
        self.minimumScore = minimumScore
        self.nmsIoU = nmsIoU
    }

    /// Refuses an output whose rows cannot be boxes of this format.
    func checkRowWidth(_ width: Int, of shape: [Int]) throws(SampleLayoutError) {
        if boxFormat == .xyxyScoreClass {
            guard width == DetectedBox.rowWidth else {
                throw .boxRowWidth(format: boxFormat.rawValue, shape: shape, expected: "\(DetectedBox.rowWidth)")
            }
        } else if width < 6 {
            throw .boxRowWidth(format: boxFormat.rawValue, shape: shape, expected: "5 + classes (at least 6)")
        }
    }

    /// The detections in one sample's output: `values` holds its boxes' rows, `width` floats each.
    func detections(in values: ArraySlice<Float>, width: Int) throws(SampleLayoutError) -> [DetectedBox] {
        let rows = values.count / width
        var boxes: [DetectedBox] = []
        switch boxFormat {
        case .xyxyScoreClass:
            for row in 0..<rows {
                let start = values.startIndex + row * width
                let box = DetectedBox(row: values[start..<(start + width)])
                if Double(box.score) >= minimumScore { boxes.append(box) }
            }
        case .yolo, .yolox:
            let grid = boxFormat == .yolox ? try YOLOXGrid(anchors: rows) : nil
            for row in 0..<rows {
                let start = values.startIndex + row * width
                let classScores = values[(start + 5)..<(start + width)]
                let best = OutputComparison.top1(classScores)
                let score = values[start + 4] * classScores[classScores.startIndex + best]
                guard Double(score) >= minimumScore else { continue }
                var (centreX, centreY, boxWidth, boxHeight) = (values[start], values[start + 1], values[start + 2], values[start + 3])
                if let grid { (centreX, centreY, boxWidth, boxHeight) = grid.decode(anchor: row, centreX, centreY, boxWidth, boxHeight) }
                boxes.append(DetectedBox(
                    x1: centreX - boxWidth / 2, y1: centreY - boxHeight / 2, x2: centreX + boxWidth / 2,
                    y2: centreY + boxHeight / 2, score: score, classIndex: best))
            }
        }
        guard let nmsIoU else { return boxes }
        return NonMaximumSuppression.suppress(boxes, maximumIoU: nmsIoU)
    }

    /// Materially different unless every reference box pairs with its own candidate box of the same
    /// class at IoU >= `minimumIoU` (a perfect bipartite matching: a greedy pass could pair a box
    /// with the wrong one of two close neighbours and report a difference that is not there).
    public func isMateriallyDifferent(reference: [DetectedBox], candidate: [DetectedBox]) -> Bool {
        guard reference.count == candidate.count else { return true }
        let partners = reference.map { box in
            candidate.indices.filter {
                candidate[$0].classIndex == box.classIndex && box.intersectionOverUnion(candidate[$0]) >= minimumIoU
            }
        }
        var referenceOfCandidate = [Int?](repeating: nil, count: candidate.count)
        // Kuhn's augmenting paths: place `box`, moving earlier placements to other partners if need be.
        func place(_ box: Int, visited: inout [Bool]) -> Bool {
            for partner in partners[box] where !visited[partner] {
                visited[partner] = true
                if let holder = referenceOfCandidate[partner], !place(holder, visited: &visited) { continue }
                referenceOfCandidate[partner] = box
                return true
            }
            return false
        }
        for box in reference.indices {
            var visited = [Bool](repeating: false, count: candidate.count)
            if !place(box, visited: &visited) { return true }
        }
        return false
    }
}
