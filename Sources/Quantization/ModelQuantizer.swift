import Foundation
import Inference
import SwiftProtobuf

/// Quantizes ONNX model files; the output is standard ONNX that onnxruntime also runs.
public enum ModelQuantizer {
    public static func quantize(modelAt input: URL, to output: URL, scheme: QuantizationScheme) throws -> QuantizationReport {
        let original: Data
        do {
            original = try Data(contentsOf: input)
        } catch {
            throw QuantizationError.unreadableModel(path: input.path, reason: error.localizedDescription)
        }
        var model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: original)
        } catch {
            throw QuantizationError.malformedModel("\(input.path) is not a readable ONNX protobuf (\(error))")
        }
        guard model.hasGraph else { throw QuantizationError.malformedModel("\(input.path) has no graph") }

        switch scheme {
        case .int8Dynamic:
            let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
            guard opset >= 11 else { throw QuantizationError.unsupportedOpset(opset) }
        }
        var graph = model.graph
        let widened: Bool
        do {
            widened = try Float16Widening.widen(&graph)
        } catch {
            throw QuantizationError.malformedModel("cannot widen FP16 tensors: \(error)")
        }
        var rewriter = DynamicInt8Rewriter(graph: graph)
        rewriter.rewrite(&graph)
        model.graph = graph

        let quantized: Data = try model.serializedBytes()
        do {
            try quantized.write(to: output, options: .atomic)
        } catch {
            throw QuantizationError.unwritableOutput(path: output.path, reason: error.localizedDescription)
        }
        return QuantizationReport(
            scheme: scheme, quantizedNodes: rewriter.quantizedNodes, skippedNodes: rewriter.skippedNodes,
            widenedFromFloat16: widened, bytesBefore: original.count, bytesAfter: quantized.count)
    }
}
