/// Greedy non-maximum suppression per class, as YOLO post-processing does it: the best-scoring box of
/// a class is kept and every box of that class overlapping it by more than `maximumIoU` is dropped.
/// Per class, so that two objects of different classes in one place both survive.
enum NonMaximumSuppression {
    static func suppress(_ boxes: [DetectedBox], maximumIoU: Double) -> [DetectedBox] {
        var kept: [DetectedBox] = []
        // Stable order: ties in score keep the model's order, so reference and candidate are cut alike.
        let ranked = boxes.enumerated().sorted { ($0.element.score, -$0.offset) > ($1.element.score, -$1.offset) }
        for (_, box) in ranked
        where !kept.contains(where: { $0.classIndex == box.classIndex && $0.intersectionOverUnion(box) > maximumIoU }) {
            kept.append(box)
        }
        return kept
    }
}
