import Inference

/// The weighted nodes of a graph a scheme will quantize, by position, and those it leaves in float with why.
struct WeightedNodeSelection {
    private(set) var chosen: [Int: WeightedNode] = [:]
    private(set) var skipped: [QuantizationReport.SkippedNode] = []

    /// Names of the chosen nodes in graph order.
    var quantizedNames: [String] { chosenInOrder.map(\.name) }

    var chosenInOrder: [WeightedNode] { chosen.keys.sorted().map { chosen[$0]! } }

    init(graph: Onnx_GraphProto, rules: FloatKeepingRules, opTypes: Set<String>) {
        let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, node) in graph.node.enumerated() {
            let name = GraphEditing.displayName(of: node)
            switch WeightedNode.find(node, initializers: initializers) {
            case nil:
                continue
            case .failure(let unsupported)?:
                skipped.append(.init(name: name, opType: node.opType, reason: unsupported.reason))
            case .success(let weighted)?:
                if !opTypes.contains(node.opType) {
                    skipped.append(.init(name: name, opType: node.opType, reason: "this scheme quantizes \(opTypes.sorted().joined(separator: " and ")) only"))
                } else if let reason = rules.reasonToKeepFloat(node) {
                    skipped.append(.init(name: name, opType: node.opType, reason: reason))
                } else {
                    chosen[index] = weighted
                }
            }
        }
    }

    /// The largest calibrated activation magnitude quantized to 8 bits. Beyond it the range is a
    /// sentinel, not a signal (attention masks of -10000 or -1e9 added to scores): one uint8 step of
    /// such a range is larger than the ordinary values, which would all round to one level.
    static let largestQuantizedMagnitude: Float = 1e4

    /// Returns to float the chosen nodes whose input 8 bits cannot hold: a calibrated range too
    /// wide (a sentinel) or values that vary by less than one quantization step of their range.
    mutating func keepFloat(outside measurement: ActivationCalibrator.Measurement) {
        for (index, weighted) in chosen.sorted(by: { $0.key < $1.key }) {
            guard let range = measurement.ranges[weighted.activation] else { continue }
            let magnitude = max(abs(range.lowerBound), abs(range.upperBound))
            let step = ActivationQuantization(range: range).scale
            let deviation = measurement.standardDeviations[weighted.activation] ?? .infinity
            let reason: String
            if !magnitude.isFinite {
                reason = "its input reached \(range) on the calibration rows (default; kept in float)"
            } else if magnitude >= Self.largestQuantizedMagnitude {
                reason = "its input's calibrated range \(range) reaches \(Self.largestQuantizedMagnitude): a uint8 step of it "
                    + "would erase the ordinary values (a mask?) (default; kept in float)"
            } else if magnitude > 0, deviation < step {
                // A range must contain zero, so values far from zero that vary little (an offset
                // feature, a near-constant channel) get few levels: the layer would see a constant.
                reason = "its input varies by \(deviation) (standard deviation), less than one uint8 step (\(step)) of its "
                    + "calibrated range \(range) stretched to zero (default; kept in float)"
            } else {
                continue
            }
            chosen[index] = nil
            skipped.append(.init(name: weighted.name, opType: weighted.node.opType, reason: reason))
        }
    }
}
