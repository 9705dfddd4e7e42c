import Foundation

/// The anchor grid of a YOLOX head over a square input: three levels at strides 8, 16 and 32, each
/// listing its cells row by row, finest level first (the order YOLOX's export concatenates them).
struct YOLOXGrid {
    static let strides = [8, 16, 32]
    /// Cells per side of each level.
    let sides: [Int]

    init(anchors: Int) throws(SampleLayoutError) {
        // Sides 4g, 2g and g give 16g² + 4g² + g² = 21g² anchors.
        let coarsest = Int((Double(anchors) / 21).squareRoot().rounded())
        guard coarsest > 0, 21 * coarsest * coarsest == anchors else { throw .notAYOLOXGrid(anchors: anchors) }
        sides = [4 * coarsest, 2 * coarsest, coarsest]
    }

    /// Centre and size in input pixels from the raw offsets and log-sizes of anchor `anchor`.
    func decode(anchor: Int, _ x: Float, _ y: Float, _ width: Float, _ height: Float) -> (Float, Float, Float, Float) {
        var index = anchor
        for (side, stride) in zip(sides, Self.strides) {
            guard index >= side * side else {
                let scale = Float(stride)
                let (cellX, cellY) = (Float(index % side), Float(index / side))
                return ((x + cellX) * scale, (y + cellY) * scale, exp(width) * scale, exp(height) * scale)
            }
            index -= side * side
        }
        preconditionFailure("YOLOXGrid: anchor \(anchor) is outside the grid")
    }
}
