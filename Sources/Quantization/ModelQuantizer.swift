import Foundation
import Inference
import SwiftProtobuf

/// Quantizes ONNX model files; the output is standard ONNX that onnxruntime also runs.
public enum ModelQuantizer {
    public static func quantize(modelAt input: URL, to output: URL, scheme: QuantizationScheme) throws -> QuantizationReport {
        try quantize(modelAt: input, to: output, options: QuantizationOptions(scheme: scheme))
    }

    /// - Parameter progress: told after each calibration batch (int8-static only).
    /// Operators only a quantized model holds: quantizing it again would compound the error, so
    /// such a model is refused and the float one asked for.
    static let alreadyQuantizedOperators: Set<String> = [
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "QLinearMatMul",
        "QLinearConv", "MatMulIntegerToFloat", "MatMulNBits", "QGemm", "QLinearAdd", "QLinearMul", "QLinearConcat",
        "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearSigmoid", "QLinearLeakyRelu", "DynamicQuantizeLSTM",
    ]

    public static func quantize(
        modelAt input: URL, to output: URL, options: QuantizationOptions,
        progress: @escaping @Sendable (CalibrationProgress) -> Void = { _ in }
    ) throws -> QuantizationReport {
        try check(options)
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
        let quantizedOperators = Set(model.graph.node.map(\.opType)).intersection(alreadyQuantizedOperators).sorted()
        guard quantizedOperators.isEmpty else { throw QuantizationError.alreadyQuantized(operators: quantizedOperators) }
        try raiseOpsetIfNeeded(&model, options: options)

        var graph = model.graph
        GraphEditing.hoistConstantTensors(&graph)
        WeightFolding.fold(&graph, opsets: model.opsetImport)
        let widened: Bool
        do {
            widened = try Float16Widening.widen(&graph)
        } catch {
            throw QuantizationError.malformedModel("cannot widen FP16 tensors: \(error)")
        }
        let unknown = FloatKeepingRules.unknownExclusions(in: graph, options: options)
        guard unknown.isEmpty else {
            throw QuantizationError.invalidOption(
                "--exclude-node \(unknown.joined(separator: ", ")): no node has that name (nodes: \(graph.node.map(GraphEditing.displayName(of:)).joined(separator: ", ")))")
        }
        if options.scheme == .int8Static {
            ConvBatchNormalizationFolding.fold(&graph) { FloatKeepingRules.userExclusion(of: $0, options: options) != nil }
        }
        let rules = FloatKeepingRules(graph: graph, options: options)

        let floatModel = { (graph: Onnx_GraphProto) in
            var floatModel = model
            floatModel.graph = graph
            return floatModel
        }(graph)
        var quantizedNodes: [String] = [], skippedNodes: [QuantizationReport.SkippedNode] = [], quantizedBetween: [QuantizationReport.Node] = []
        var calibrationRows: Int?
        var layers: [LayerReport] = []
        switch options.scheme {
        case .int8Dynamic:
            var rewriter = DynamicInt8Rewriter(graph: graph, rules: rules, perChannel: options.perChannel, weightRange: options.weightRange)
            rewriter.rewrite(&graph)
            (quantizedNodes, skippedNodes) = (rewriter.quantizedNodes, rewriter.skippedNodes)
            let selection = WeightedNodeSelection(graph: floatModel.graph, rules: rules, opTypes: ["MatMul", "Gemm"])
            let quantized = Set(quantizedNodes)
            layers = LayerAnalysis.weightReports(
                for: selection.chosenInOrder.filter { quantized.contains($0.name) }, options: options)
        case .int8Static:
            var selection = WeightedNodeSelection(graph: graph, rules: rules, opTypes: WeightedNode.opTypes)
            if !selection.chosen.isEmpty, let calibration = options.calibration {
                let calibrator = ActivationCalibrator(method: options.method, batchRows: options.calibrationBatchRows, progress: progress)
                let opset = GraphEditing.defaultOpset(of: model)
                let largest = IntegerRegion(graph: graph, weighted: selection.chosen, excluded: [], rules: rules, opset: opset,
                                            activationType: options.activations, extent: options.between)
                let measured = try calibrator.measure(largest.touchedTensors.sorted(), in: floatModel, rows: calibration)
                calibrationRows = measured.rows
                selection.keepFloat(outside: measured)
                layers = LayerAnalysis.weightReports(for: selection.chosenInOrder, options: options)
                let region = IntegerRegion.settled(graph: graph, weighted: selection.chosen, rules: rules, opset: opset,
                                                   activationType: options.activations, extent: options.between, ranges: measured.ranges)
                quantizedBetween = region.quantizedOps(in: graph)
                StaticQDQRewriter(
                    perChannel: options.perChannel, weightRange: options.weightRange, activationType: options.activations,
                    activationRanges: measured.ranges)
                    .rewrite(&graph, chosen: selection.chosen, region: region)
                if options.measureLayerOutputs {
                    var quantizedModel = model
                    quantizedModel.graph = graph
                    try LayerAnalysis.measureOutputSQNR(
                        &layers, nodes: selection.chosenInOrder, float: floatModel, quantized: quantizedModel,
                        rows: calibration, batchRows: options.calibrationBatchRows)
                }
            }
            (quantizedNodes, skippedNodes) = (selection.quantizedNames, selection.skipped)
        case .int4Weight:
            let selection = WeightedNodeSelection(graph: graph, rules: rules, opTypes: ["MatMul", "Gemm"])
            (quantizedNodes, skippedNodes) = (selection.quantizedNames, selection.skipped)
            layers = LayerAnalysis.weightReports(for: selection.chosenInOrder, options: options)
            if !selection.chosen.isEmpty {
                model.graph = graph
                try Int4WeightRewriter.upgrade(&model)
                graph = model.graph
                Int4WeightRewriter(blockSize: options.blockSize).rewrite(&graph, chosen: selection.chosen)
            }
        }
        var embeddings = EmbeddingTableRewriter()
        embeddings.rewrite(&graph, opset: GraphEditing.defaultOpset(of: model), rules: rules)
        quantizedNodes += embeddings.quantizedNodes
        skippedNodes += embeddings.skippedNodes
        model.graph = graph

        let quantized: Data = try model.serializedBytes()
        do {
            try quantized.write(to: output, options: .atomic)
        } catch {
            throw QuantizationError.unwritableOutput(path: output.path, reason: error.localizedDescription)
        }
        return QuantizationReport(
            scheme: options.scheme, quantizedNodes: quantizedNodes, skippedNodes: skippedNodes, quantizedBetween: quantizedBetween,
            widenedFromFloat16: widened, calibrationRows: calibrationRows, layers: layers,
            bytesBefore: original.count, bytesAfter: quantized.count)
    }

    private static func check(_ options: QuantizationOptions) throws(QuantizationError) {
        if options.scheme == .int8Static, options.calibration == nil {
            throw .invalidOption("int8-static needs --calibration DATA.npz: rows on which to measure activation ranges")
        }
        if options.scheme != .int8Static, options.calibration != nil {
            throw .invalidOption("--calibration applies to int8-static only; \(options.scheme.rawValue) needs no calibration data")
        }
        if options.scheme == .int4Weight, !QuantizationOptions.supportedBlockSizes.contains(options.blockSize) {
            throw .invalidOption("--block-size \(options.blockSize) is not supported; use one of \(QuantizationOptions.supportedBlockSizes.map(String.init).joined(separator: ", "))")
        }
        if options.calibrationBatchRows < 1 {
            throw .invalidOption("calibration batches need at least one row, got \(options.calibrationBatchRows)")
        }
    }

    private static func raiseOpsetIfNeeded(_ model: inout Onnx_ModelProto, options: QuantizationOptions) throws(QuantizationError) {
        let opset = GraphEditing.defaultOpset(of: model)
        switch options.scheme {
        case .int8Dynamic where opset < 11:
            try OpsetUpgrade.raise(&model, to: 11, scheme: .int8Dynamic, why: "DynamicQuantizeLinear is opset 11")
        case .int8Static where options.perChannel && opset < 13:
            try OpsetUpgrade.raise(&model, to: 13, scheme: .int8Static, why: "per-channel DequantizeLinear (its axis) is opset 13")
        case .int8Static where opset < 10:
            try OpsetUpgrade.raise(&model, to: 10, scheme: .int8Static, why: "QuantizeLinear is opset 10")
        default:
            return
        }
    }
}
