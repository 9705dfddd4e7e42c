import Foundation
import Inference

/// Builds the per-layer part of the quantization report.
enum LayerAnalysis {
    /// Weight ranges, outlier channels and weight SQNR of `nodes` as `options` quantizes them.
    static func weightReports(for nodes: [WeightedNode], options: QuantizationOptions) -> [LayerReport] {
        nodes.map { node in
            let weight = node.weight
            let dequantized = switch options.scheme {
            case .int4Weight:
                SymmetricInt4BlockQuantization(weight.floats, shape: weight.shape, blockAxis: node.reductionAxis,
                                               blockSize: options.blockSize).dequantized
            case .int8Dynamic, .int8Static:
                SymmetricInt8Quantization(weight.floats, shape: weight.shape, outputChannelAxis: node.outputChannelAxis,
                                          perChannel: options.perChannel, range: options.weightRange).dequantized
            }
            return LayerReport(node, dequantizedWeights: dequantized)
        }
    }

    /// Fills in each layer's output SQNR: both models run by our engine on the same rows, the
    /// layer's output compared. The quantized model keeps every weighted node's output name.
    static func measureOutputSQNR(_ reports: inout [LayerReport], nodes: [WeightedNode], float: Onnx_ModelProto,
                                  quantized: Onnx_ModelProto, rows data: URL, batchRows: Int) throws {
        let outputs = nodes.map { $0.node.output[0] }
        let reference = try InstrumentedModel(float, observing: outputs)
        let candidate = try InstrumentedModel(quantized, observing: outputs)
        let rows = try ModelFeedRows(contentsOf: data, inputs: reference.session.inputs)
        var signal = [String: Double](), noise = [String: Double]()
        for batch in rows.batches(of: batchRows) {
            let expected = try reference.values(of: rows, batch: batch), actual = try candidate.values(of: rows, batch: batch)
            for name in outputs {
                guard let x = expected[name], let y = actual[name] else { continue }
                for (a, b) in zip(x, y) {
                    signal[name, default: 0] += Double(a) * Double(a)
                    noise[name, default: 0] += Double(a - b) * Double(a - b)
                }
            }
        }
        for (index, name) in outputs.enumerated() {
            guard let s = signal[name], let n = noise[name] else { continue }
            reports[index].outputSQNR = n == 0 ? .infinity : 10 * log10(s / n)
        }
    }
}
