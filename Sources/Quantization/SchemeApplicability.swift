import Foundation
import Inference

/// Whether a quantization scheme applies to a model, with the quantizer's default options: how many
/// weighted nodes it would quantize, or why it does not apply.
public struct SchemeApplicability: Sendable {
    public let scheme: QuantizationScheme
    public let quantizableNodes: Int
    /// Why the scheme does not apply; nil when it does.
    public let reason: String?

    public var applies: Bool { reason == nil }
}

extension ModelQuantizer {
    /// Each scheme's applicability to the model (`quantfleet check`).
    public static func applicability(to model: Onnx_ModelProto) -> [SchemeApplicability] {
        let opset = GraphEditing.defaultOpset(of: model)
        let imported = opset == 0 ? "the model imports no ai.onnx opset" : "the model has \(opset)"
        return QuantizationScheme.allCases.map { scheme in
            let options = QuantizationOptions(scheme: scheme)
            switch scheme {
            case .int8Dynamic where opset < 11:
                return SchemeApplicability(scheme: scheme, quantizableNodes: 0, reason: "needs opset 11 (DynamicQuantizeLinear), \(imported)")
            case .int8Static where opset < 10:
                return SchemeApplicability(scheme: scheme, quantizableNodes: 0, reason: "needs opset 10 (QuantizeLinear), \(imported)")
            default:
                break
            }
            let opTypes: Set<String> = scheme == .int8Static ? WeightedNode.opTypes : ["MatMul", "Gemm"]
            let selection = WeightedNodeSelection(graph: model.graph, rules: FloatKeepingRules(graph: model.graph, options: options), opTypes: opTypes)
            let count = selection.chosen.count
            let reason = count > 0 ? nil : "no \(opTypes.sorted().joined(separator: ", ")) node with constant weights to quantize"
            return SchemeApplicability(scheme: scheme, quantizableNodes: count, reason: reason)
        }
    }
}
