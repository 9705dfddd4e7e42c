import Inference

/// Decides which weighted nodes stay in float, and says why: the user's exclusions, then defaults
/// learned from models that post-training quantization hurts.
///
/// Only MatMul/Gemm/Conv are ever quantized, so input scaling (Sub/Div/Mul on raw features) and
/// normalisation always stay in float: per-tensor quantization of raw features with very different
/// ranges (a regression model's age next to its blood pressure) erases the small ones.
struct FloatKeepingRules {
    private let options: QuantizationOptions
    /// Values that reach a graph output through linear, shape-only or cast ops alone.
    private let linearToOutput: Set<String>
    /// Values from which some weighted node (MatMul, Gemm, Conv) is reachable.
    private let feedWeightedNodes: Set<String>

    /// Ops after which a value still is, up to an affine map, what the graph outputs.
    private static let linearOps: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Cast",
    ]

    init(graph: Onnx_GraphProto, options: QuantizationOptions) {
        self.options = options
        let producers = Dictionary(graph.node.flatMap { node in node.output.map { ($0, node) } },
                                   uniquingKeysWith: { first, _ in first })
        var reached = Set(graph.output.map(\.name))
        var pending = Array(reached)
        while let value = pending.popLast() {
            guard let producer = producers[value], Self.linearOps.contains(producer.opType) else { continue }
            for input in producer.input where !input.isEmpty && reached.insert(input).inserted {
                pending.append(input)
            }
        }
        linearToOutput = reached
        feedWeightedNodes = Self.ancestors(of: graph.node.filter { WeightedNode.opTypes.contains($0.opType) }.flatMap(\.input),
                                           producers: producers)
    }

    /// Every value that `values` are computed from, themselves included.
    private static func ancestors(of values: [String], producers: [String: Onnx_NodeProto]) -> Set<String> {
        var reached = Set(values.filter { !$0.isEmpty })
        var pending = Array(reached)
        while let value = pending.popLast() {
            for input in producers[value]?.input ?? [] where !input.isEmpty && reached.insert(input).inserted {
                pending.append(input)
            }
        }
        return reached
    }

    /// Why `node` stays in float, or nil when it may be quantized.
    func reasonToKeepFloat(_ node: Onnx_NodeProto) -> String? {
        if let exclusion = Self.userExclusion(of: node, options: options) { return exclusion }
        if let output = node.output.first, linearToOutput.contains(output), !feedWeightedNodes.contains(output) {
            // A regression head's error lands on the prediction unsoftened by any nonlinearity;
            // the layer is small, so float costs little. Only the last weighted layers count: in a
            // residual network every layer reaches the output through linear adds.
            return "final head: its output reaches a graph output without a nonlinearity (default; kept in float)"
        }
        return nil
    }

    /// Why the user keeps `node` in float (`--exclude-node`, `--exclude-op`), nil when they do not.
    static func userExclusion(of node: Onnx_NodeProto, options: QuantizationOptions) -> String? {
        if options.excludedNodes.contains(GraphEditing.displayName(of: node)) { return "excluded by --exclude-node" }
        if options.excludedOpTypes.contains(node.opType) { return "excluded by --exclude-op \(node.opType)" }
        return nil
    }

    /// Names in `options` that match no node, so a typo is reported instead of silently ignored.
    static func unknownExclusions(in graph: Onnx_GraphProto, options: QuantizationOptions) -> [String] {
        let names = Set(graph.node.map(GraphEditing.displayName(of:)))
        return options.excludedNodes.subtracting(names).sorted()
    }
}
