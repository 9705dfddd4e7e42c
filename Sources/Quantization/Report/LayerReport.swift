import Foundation

/// How quantization treated one weighted layer: what its weights look like, and how much signal
/// survives, as signal-to-quantization-noise ratios (dB; each +6 dB halves the error).
public struct LayerReport: Sendable, Equatable {
    public let node: String
    public let opType: String
    public let weightRange: ClosedRange<Float>
    public let outputChannels: Int
    /// Output channels whose largest |w| exceeds `outlierFactor` times the median channel's: with
    /// one scale per tensor they would stretch every channel's steps.
    public let outlierChannels: [Int]
    /// Of the quantized weights against the float ones.
    public let weightSQNR: Double
    /// Of the layer's output in the quantized model against the float model on the calibration
    /// rows (int8-static with a report); errors of earlier layers accumulate into it.
    public internal(set) var outputSQNR: Double?

    public static let outlierFactor: Float = 4

    init(_ node: WeightedNode, dequantizedWeights: [Float]) {
        let weights = node.weight.floats
        self.node = node.name
        opType = node.node.opType
        weightRange = (weights.min() ?? 0)...(weights.max() ?? 0)
        let shape = node.weight.shape, axis = node.outputChannelAxis
        outputChannels = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var largest = [Float](repeating: 0, count: outputChannels)
        for index in weights.indices {
            let channel = (index / inner) % outputChannels
            largest[channel] = max(largest[channel], abs(weights[index]))
        }
        let median = largest.sorted()[largest.count / 2]
        outlierChannels = largest.indices.filter { largest[$0] > Self.outlierFactor * median }
        weightSQNR = Self.sqnr(weights, dequantizedWeights)
    }

    /// 10 log10(sum x^2 / sum (x - y)^2); infinite when y equals x.
    static func sqnr(_ reference: [Float], _ approximation: [Float]) -> Double {
        var signal = 0.0, noise = 0.0
        for (x, y) in zip(reference, approximation) {
            signal += Double(x) * Double(x)
            noise += Double(x - y) * Double(x - y)
        }
        return noise == 0 ? .infinity : 10 * log10(signal / noise)
    }
}
