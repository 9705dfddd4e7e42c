import ArgumentParser
import Foundation

/// `model push`'s task options: what the model's outputs mean, so when a candidate differs
/// materially. The coordinator checks them (`TaskKind(name:parameters:)`) and refuses a bad one by name.
struct TaskOptions: ParsableArguments {
    @Option(help: "What the outputs mean, so when two models differ materially: classification, regression, embedding, detection or ctc.")
    var task: String = "classification"

    @Option(help: "classification: also material when the reference's top class loses more probability than this (0-1).")
    var maxProbabilityShift: Double?

    @Option(help: "regression: material when an output misses by more than absolute + relative x |reference|.")
    var absoluteTolerance: Double?

    @Option(help: "regression: see --absolute-tolerance.")
    var relativeTolerance: Double?

    @Option(help: "embedding: material when the cosine similarity falls below this.")
    var minCosine: Double?

    @Option(help: """
        detection (required): how the output holds boxes: yolo ([N, 5 + C] centre, size, objectness, class scores), \
        yolox (the same as grid offsets and log sizes, as ddddocr's detector) or xyxy-score-class ([N, 6], after the model's NMS).
        """)
    var boxFormat: String?

    @Option(help: "detection: boxes of the same class pair at this IoU or more; an unpaired box is material (default 0.5).")
    var minIou: Double?

    @Option(help: "detection: boxes scoring below this are not detections (default 0.25).")
    var minScore: Double?

    @Option(help: "detection: NMS IoU threshold (default 0.45 for yolo and yolox; none for xyxy-score-class).")
    var nmsIou: Double?

    @Option(help: "ctc: the blank class (default 0).")
    var blankIndex: Int?

    @Option(help: "ctc: material when the character error rate exceeds this (default: any difference in the text).")
    var maxCharacterErrorRate: Double?

    @Option(help: "ctc: auto (default), batch-first ([B, T, C]) or time-first ([T, B, C]).")
    var sequenceLayout: String?

    /// The options given, as the admin API's query parameters.
    var queryItems: [URLQueryItem] {
        let parameters: [(String, (any CustomStringConvertible)?)] = [
            ("max-probability-shift", maxProbabilityShift), ("absolute-tolerance", absoluteTolerance),
            ("relative-tolerance", relativeTolerance), ("min-cosine", minCosine), ("box-format", boxFormat),
            ("min-iou", minIou), ("min-score", minScore), ("nms-iou", nmsIou), ("blank-index", blankIndex),
            ("max-character-error-rate", maxCharacterErrorRate), ("sequence-layout", sequenceLayout),
        ]
        return [URLQueryItem(name: "task", value: task)]
            + parameters.compactMap { name, value in value.map { URLQueryItem(name: name, value: "\($0)") } }
    }
}
