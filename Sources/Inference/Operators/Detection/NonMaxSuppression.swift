/// NonMaxSuppression (opsets 10, 11): for each batch and class, boxes taken in falling score order
/// (ties: the lower index first), each kept unless its IoU with a box already kept for that class
/// exceeds iou_threshold, until max_output_boxes_per_class are kept. Boxes whose score is not above
/// score_threshold (when given) never compete. Output: int64 [selected, 3] rows of (batch, class, box).
struct NonMaxSuppression: SingleOutputOperator {
    /// Boxes as [x_center, y_center, width, height] rather than two corners [y1, x1, y2, x2].
    private let centerPointBox: Bool

    init(_ context: OperatorContext) throws {
        let format = try context.attributes.int("center_point_box", default: 0)
        guard format == 0 || format == 1 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "center_point_box",
                                                  reason: "must be 0 or 1, got \(format)")
        }
        centerPointBox = format == 1
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let boxes = try inputs.required(0), scores = try inputs.required(1)
        guard boxes.shape.count == 3, boxes.shape[2] == 4, scores.shape.count == 3,
              scores.shape[0] == boxes.shape[0], scores.shape[2] == boxes.shape[1] else {
            throw InferenceError.invalidOperand("boxes \(boxes.shape) must be [batches, boxes, 4] and scores \(scores.shape) [batches, classes, boxes]")
        }
        // An empty or absent operand means its default (no boxes kept, threshold 0, no score threshold).
        func scalar(_ index: Int) -> Tensor? { inputs.optional(index).flatMap { $0.count > 0 ? $0 : nil } }
        let limit = max(0, scalar(2)?.int64(at: 0) ?? 0)
        let iouThreshold = scalar(3)?.float(at: 0) ?? 0
        let scoreThreshold = scalar(4)?.float(at: 0)
        let (batches, classes, boxCount) = (scores.shape[0], scores.shape[1], scores.shape[2])
        let corners = try boxes.floatOperand("boxes"), scoreValues = try scores.floatOperand("scores")

        var selected: [Int64] = []
        for batch in 0..<batches {
            let batchBoxes = (0..<boxCount).map { Box(corners, at: (batch * boxCount + $0) * 4, centered: centerPointBox) }
            for classIndex in 0..<classes {
                let start = (batch * classes + classIndex) * boxCount
                let classScores = Array(scoreValues[start..<(start + boxCount)])
                let candidates = (0..<boxCount).filter { box in scoreThreshold.map { classScores[box] > $0 } ?? true }
                    .sorted { classScores[$0] > classScores[$1] || (classScores[$0] == classScores[$1] && $0 < $1) }
                var kept: [Int] = []
                for candidate in candidates where kept.count < limit {
                    if kept.allSatisfy({ !batchBoxes[candidate].overlaps(batchBoxes[$0], beyond: iouThreshold) }) {
                        kept.append(candidate)
                        selected += [Int64(batch), Int64(classIndex), Int64(candidate)]
                    }
                }
            }
        }
        return Tensor(shape: [selected.count / 3, 3], int64s: selected)
    }
}

/// An axis-aligned box by its extent on each axis.
private struct Box {
    let xMin: Float, xMax: Float, yMin: Float, yMax: Float

    /// values[start...] is [x_center, y_center, width, height] when `centered`, else two opposite
    /// corners [y1, x1, y2, x2] in either order.
    init(_ values: [Float], at start: Int, centered: Bool) {
        let (a, b, c, d) = (values[start], values[start + 1], values[start + 2], values[start + 3])
        if centered {
            (xMin, xMax) = (a - c / 2, a + c / 2)
            (yMin, yMax) = (b - d / 2, b + d / 2)
        } else {
            (yMin, yMax) = (min(a, c), max(a, c))
            (xMin, xMax) = (min(b, d), max(b, d))
        }
    }

    var area: Float { (xMax - xMin) * (yMax - yMin) }

    /// True when the intersection over union exceeds `threshold`; boxes without area never do.
    func overlaps(_ other: Box, beyond threshold: Float) -> Bool {
        let width = min(xMax, other.xMax) - max(xMin, other.xMin), height = min(yMax, other.yMax) - max(yMin, other.yMin)
        guard width > 0, height > 0, area > 0, other.area > 0 else { return false }
        let intersection = width * height, union = area + other.area - intersection
        return union > 0 && intersection / union > threshold
    }
}
