/// A model output that cannot be cut into its task kind's samples: the registration and the model
/// disagree, so the request is not compared (the agent logs why).
public enum SampleLayoutError: Error, Equatable, CustomStringConvertible {
    case unexpectedRank(kind: String, shape: [Int], expected: String)
    case boxRowWidth(format: String, shape: [Int], expected: String)
    case notAYOLOXGrid(anchors: Int)
    case ambiguousSequenceLayout(shape: [Int])
    case blankOutsideClasses(blankIndex: Int, classes: Int)
    case shapesDiffer(reference: [Int], candidate: [Int])
    case batchesDiffer(reference: Int, candidate: Int)

    public var description: String {
        switch self {
        case .unexpectedRank(let kind, let shape, let expected): "a \(kind) output of shape \(shape) is not \(expected)"
        case .boxRowWidth(let format, let shape, let expected):
            "box format \(format) needs rows of \(expected) floats, but the output's shape is \(shape)"
        case .notAYOLOXGrid(let anchors):
            "\(anchors) anchors are not a YOLOX grid over a square input at strides 8, 16, 32 (21 g² anchors)"
        case .ambiguousSequenceLayout(let shape):
            "neither axis of the batched output \(shape) is 1: register the model with sequence-layout batch-first or time-first"
        case .blankOutsideClasses(let blankIndex, let classes): "blank index \(blankIndex) is outside the output's \(classes) classes"
        case .shapesDiffer(let reference, let candidate): "the reference's output is \(reference), the candidate's \(candidate)"
        case .batchesDiffer(let reference, let candidate):
            "the reference's output holds \(reference) samples, the candidate's \(candidate)"
        }
    }
}

extension TaskKind {
    /// Cuts one model output (`values`, row-major in `shape`) into the samples this kind compares:
    /// classification, regression and embedding take each row of the first axis as it is; detection
    /// takes each image's detections, as rows of x1, y1, x2, y2, score, class; CTC takes each
    /// sequence's greedily decoded text, as class indices.
    public func samples(of values: [Float], shape: [Int]) throws(SampleLayoutError) -> [[Float]] {
        switch self {
        case .classification, .regression, .embedding:
            let rows = max(1, shape.first ?? 1)
            let width = values.count / rows
            return (0..<rows).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
        case .detection(let rule):
            guard shape.count == 2 || shape.count == 3, let width = shape.last else {
                throw .unexpectedRank(kind: "detection", shape: shape, expected: "[boxes, row] or [batch, boxes, row]")
            }
            try rule.checkRowWidth(width, of: shape)
            let images = shape.count == 3 ? shape[0] : 1
            let perImage = images == 0 ? 0 : values.count / images
            return try (0..<images).map { (image) throws(SampleLayoutError) in
                DetectedBox.rows(try rule.detections(in: values[(image * perImage)..<((image + 1) * perImage)], width: width))
            }
        case .ctc(let rule):
            let (sequences, timeFirst) = try Self.sequenceAxes(shape, layout: rule.sequenceLayout)
            let classes = shape.last ?? 0
            guard rule.blankIndex < classes else { throw .blankOutsideClasses(blankIndex: rule.blankIndex, classes: classes) }
            let steps = sequences == 0 ? 0 : values.count / (sequences * classes)
            return (0..<sequences).map { sequence in
                var scores: [Float] = []
                scores.reserveCapacity(steps * classes)
                for step in 0..<steps {
                    let row = timeFirst ? step * sequences + sequence : sequence * steps + step
                    scores += values[(row * classes)..<((row + 1) * classes)]
                }
                return rule.decode(scores, classes: classes).map(Float.init)
            }
        }
    }

    /// The samples of one request under both models, paired in order.
    public func pairedSamples(
        reference: (values: [Float], shape: [Int]), candidate: (values: [Float], shape: [Int])
    ) throws(SampleLayoutError) -> [(reference: [Float], candidate: [Float])] {
        // Value measures compare element by element; decoded boxes and texts may differ in length.
        if comparesOutputValues, reference.shape != candidate.shape {
            throw .shapesDiffer(reference: reference.shape, candidate: candidate.shape)
        }
        let referenceSamples = try samples(of: reference.values, shape: reference.shape)
        let candidateSamples = try samples(of: candidate.values, shape: candidate.shape)
        guard referenceSamples.count == candidateSamples.count else {
            throw .batchesDiffer(reference: referenceSamples.count, candidate: candidateSamples.count)
        }
        return Array(zip(referenceSamples, candidateSamples)).map { (reference: $0, candidate: $1) }
    }

    /// How many sequences a CTC output holds, and whether time is its first axis.
    private static func sequenceAxes(
        _ shape: [Int], layout: CTCTextDifference.SequenceLayout
    ) throws(SampleLayoutError) -> (sequences: Int, timeFirst: Bool) {
        switch (shape.count, layout) {
        case (2, _): return (1, false)
        case (3, .batchFirst): return (shape[0], false)
        case (3, .timeFirst): return (shape[1], true)
        case (3, .auto) where shape[0] == 1: return (1, false)
        case (3, .auto) where shape[1] == 1: return (1, true)
        case (3, .auto): throw .ambiguousSequenceLayout(shape: shape)
        default: throw .unexpectedRank(kind: "CTC", shape: shape, expected: "[time, classes] or three axes with a batch")
        }
    }
}
