/// One object a detector found: its corners (in the model's own coordinates), its score and class.
/// Detection samples are compared as these boxes, whatever layout the model wrote them in.
public struct DetectedBox: Sendable, Equatable {
    public var x1: Float
    public var y1: Float
    public var x2: Float
    public var y2: Float
    public var score: Float
    public var classIndex: Int

    public init(x1: Float, y1: Float, x2: Float, y2: Float, score: Float, classIndex: Int) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
        self.score = score
        self.classIndex = classIndex
    }

    /// Floats per box in the comparable layout: x1, y1, x2, y2, score, class.
    public static let rowWidth = 6

    /// Intersection over union; 0 when neither box has an area (or either holds a NaN).
    public func intersectionOverUnion(_ other: DetectedBox) -> Double {
        let width = Double(min(x2, other.x2)) - Double(max(x1, other.x1))
        let height = Double(min(y2, other.y2)) - Double(max(y1, other.y1))
        let intersection = max(0, width) * max(0, height)
        let union = area + other.area - intersection
        guard union > 0 else { return 0 }
        return intersection / union
    }

    private var area: Double { max(0, Double(x2) - Double(x1)) * max(0, Double(y2) - Double(y1)) }

    /// The boxes in the comparable layout, one row of `rowWidth` floats each.
    static func rows(_ boxes: [DetectedBox]) -> [Float] {
        boxes.flatMap { (box: DetectedBox) -> [Float] in [box.x1, box.y1, box.x2, box.y2, box.score, Float(box.classIndex)] }
    }

    /// The box in one row of the comparable layout (x1, y1, x2, y2, score, class).
    init(row: ArraySlice<Float>) {
        let start = row.startIndex
        let corners = (row[start], row[start + 1], row[start + 2], row[start + 3])
        let score: Float = row[start + 4]
        let classIndex = Int(row[start + 5].rounded())
        self.init(x1: corners.0, y1: corners.1, x2: corners.2, y2: corners.3, score: score, classIndex: classIndex)
    }

    /// Boxes read back from the comparable layout.
    static func boxes(fromRows values: [Float]) -> [DetectedBox] {
        let count = values.count / rowWidth
        return (0..<count).map { DetectedBox(row: values[($0 * rowWidth)..<(($0 + 1) * rowWidth)]) }
    }
}
