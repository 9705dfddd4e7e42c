import Inference

/// Which tensors a static INT8 graph carries quantized. Beyond each quantized weighted node's input,
/// the ops that lie between quantized nodes join them, as onnxruntime's quantizer places QDQ around
/// them: pooling, padding, resizing, concatenation, residual adds, shape ops and activations. A graph
/// then does not return to float at each of them, and onnxruntime fuses each into its integer form
/// (QLinearConv, QLinearAdd, QLinearConcat, uint8 MaxPool...).
///
/// An op joins when one of its data inputs comes from a quantized node through joined ops, and one of
/// its outputs reaches a quantized node's input through joined ops. So input scaling at the graph's
/// start, and heads at its end, stay in float (see FloatKeepingRules).
struct IntegerRegion {
    /// How a joining op treats its tensors.
    enum Role: Equatable {
        /// Its output's values are its input's (or averages of them): the output uses the input's
        /// scale and zero point (MaxPool, Pad with zeros, Resize, shape ops).
        case sharesInputGrid
        /// Inputs and output each get their own scale and zero point (Add, Mul, Concat, ...).
        case ownGrid
        /// A ReLU or Clip: with uint8 activations the next QuantizeLinear clamps exactly as it does,
        /// so it is removed and its input quantized on its output's grid.
        case removableActivation
        /// An affine step by a constant (a bias Add, a scale Mul) right after a quantized node: it
        /// belongs to that node's epilogue, which the engine fuses, so it carries no QDQ of its own.
        case passThrough
    }

    /// How a quantized tensor gets its scale and zero point.
    enum Grid: Equatable {
        case own
        /// The scale and zero point of that (own-grid) tensor.
        case sameAs(String)
    }

    /// Every quantized tensor and its grid.
    private(set) var grids: [String: Grid] = [:]
    /// Positions of the joined ops (removed activations included) in graph order.
    private(set) var joined: [Int] = []
    /// Positions of the removed activations.
    private(set) var removed: Set<Int> = []
    /// For a removed activation's output: the tensor its QuantizeLinear reads instead (the input).
    private(set) var quantizeSources: [String: String] = [:]
    /// The data inputs and outputs of the joined ops, and the quantized nodes' inputs: what
    /// calibration measures so that any smaller region is covered too.
    private(set) var touchedTensors: Set<String> = []

    private let roles: [Int: Role]
    private let dataInputs: [Int: [String]]

    /// - Parameters:
    ///   - weighted: the quantized weighted nodes by position.
    ///   - excluded: positions of ops that may not join (kept in float by a rule or a range).
    init(graph: Onnx_GraphProto, weighted: [Int: WeightedNode], excluded: Set<Int>, rules: FloatKeepingRules,
         opset: Int, activationType: ActivationType, extent: OpsBetweenQuantizedNodes) {
        let constants = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var roles: [Int: Role] = [:], dataInputs: [Int: [String]] = [:]
        for (index, node) in graph.node.enumerated()
        where weighted[index] == nil && !excluded.contains(index) && rules.reasonToKeepFloat(node) == nil {
            guard let (role, inputs) = Self.role(of: node, constants: constants, opset: opset, extent: extent) else { continue }
            roles[index] = role
            dataInputs[index] = inputs
        }
        self.roles = roles
        self.dataInputs = dataInputs

        // Tensors computed from a quantized node through candidate ops, in graph (topological) order.
        var fromQuantized = Set<String>()
        for (index, node) in graph.node.enumerated()
        where weighted[index] != nil || (dataInputs[index]?.contains(where: fromQuantized.contains) ?? false) {
            fromQuantized.formUnion(node.output)
        }
        // Tensors that reach a quantized node's input through candidate ops, in reverse order.
        var feedQuantized = Set(weighted.values.map(\.activation))
        for (index, node) in graph.node.enumerated().reversed() where node.output.contains(where: feedQuantized.contains) {
            feedQuantized.formUnion(dataInputs[index] ?? [])
        }
        let graphOutputs = Set(graph.output.map(\.name))
        let joinable = Set(roles.keys.filter { index in
            let node = graph.node[index]
            return dataInputs[index]!.contains(where: fromQuantized.contains) && node.output.contains(where: feedQuantized.contains)
                && !node.output.contains(where: graphOutputs.contains)
        })

        var consumers: [String: [Int]] = [:], producers: [String: Int] = [:]
        for (index, node) in graph.node.enumerated() {
            for input in node.input where !input.isEmpty { consumers[input, default: []].append(index) }
            for output in node.output { producers[output] = index }
        }
        /// Whether the node at `index` reads `tensor` through its QDQ pair, and only that way.
        func readsQuantized(_ index: Int, _ tensor: String) -> Bool {
            let node = graph.node[index]
            if let weightedNode = weighted[index] { return node.input.filter { $0 == tensor }.count == 1 && weightedNode.activation == tensor }
            return joinable.contains(index) && roles[index] != .passThrough && dataInputs[index]!.contains(tensor)
        }

        for (index, node) in graph.node.enumerated() {
            if let weightedNode = weighted[index] {
                mark(weightedNode.activation, .own)
                touchedTensors.insert(weightedNode.activation)
                continue
            }
            guard joinable.contains(index), let role = roles[index], let inputs = dataInputs[index] else { continue }
            joined.append(index)
            touchedTensors.formUnion(inputs)
            touchedTensors.formUnion(node.output.filter { !$0.isEmpty })
            switch role {
            case .passThrough:
                break
            case .ownGrid:
                for input in inputs { mark(input, .own) }
                mark(node.output[0], .own)
            case .sharesInputGrid:
                mark(inputs[0], .own)
                for output in node.output where !output.isEmpty { mark(output, .sameAs(root(of: inputs[0]))) }
            case .removableActivation:
                // The input must be a quantized node's (or a joined op's) output read by this op
                // alone, and every reader of the output must read it quantized: the clamp then
                // happens in their QuantizeLinear.
                let input = inputs[0], output = node.output[0]
                let producerQuantized = producers[input].map { weighted[$0] != nil || (joinable.contains($0) && !removed.contains($0)) } ?? false
                // An own-grid op's output read by this op alone is quantized on this op's output grid instead.
                let inputGridMovable = grids[input] == nil || (grids[input] == .own && producers[input].map { roles[$0] == .ownGrid } == true)
                if activationType == .uint8, producerQuantized, inputGridMovable, consumers[input]?.count == 1,
                   !graphOutputs.contains(input), consumers[output, default: []].allSatisfy({ readsQuantized($0, output) }) {
                    removed.insert(index)
                    quantizeSources[output] = input
                    grids[input] = nil
                }
                mark(output, .own)
            }
        }
    }

    /// The region around `weighted` with every op whose tensors' calibrated ranges 8 bits cannot
    /// hold (a sentinel such as an attention mask, or no values) left out, so those stay in float.
    static func settled(graph: Onnx_GraphProto, weighted: [Int: WeightedNode], rules: FloatKeepingRules, opset: Int,
                        activationType: ActivationType, extent: OpsBetweenQuantizedNodes,
                        ranges: [String: ClosedRange<Float>]) -> IntegerRegion {
        let holdable = { (range: ClosedRange<Float>) in
            let magnitude = max(abs(range.lowerBound), abs(range.upperBound))
            return magnitude.isFinite && magnitude < WeightedNodeSelection.largestQuantizedMagnitude
        }
        var excluded = Set<Int>()
        while true {
            let region = IntegerRegion(graph: graph, weighted: weighted, excluded: excluded, rules: rules, opset: opset,
                                       activationType: activationType, extent: extent)
            let unholdable = region.grids.keys.filter { region.root(of: $0) == $0 && !(ranges[$0].map(holdable) ?? false) }
            let culprits = Set(unholdable.flatMap { tensor in
                region.joined.filter { region.dataInputs[$0]!.contains(tensor) || graph.node[$0].output.contains(tensor) }
            })
            guard !culprits.isEmpty else { return region }
            excluded.formUnion(culprits)
        }
    }

    /// The joined ops that read and write quantized tensors (the affine steps that pass through
    /// carry none), removed activations included.
    func quantizedOps(in graph: Onnx_GraphProto) -> [QuantizationReport.Node] {
        joined.filter { roles[$0] != .passThrough }.map { .init(name: GraphEditing.displayName(of: graph.node[$0]), opType: graph.node[$0].opType) }
    }

    /// The own-grid tensor whose scale and zero point `tensor` uses.
    func root(of tensor: String) -> String {
        if case .sameAs(let root)? = grids[tensor] { return root }
        return tensor
    }

    /// The tensors the joined op at `index` reads quantized.
    func quantizedInputs(ofJoined index: Int) -> [String] {
        roles[index] == .passThrough ? [] : (dataInputs[index] ?? []).filter { grids[$0] != nil }
    }

    private mutating func mark(_ tensor: String, _ grid: Grid) {
        if grids[tensor] == nil { grids[tensor] = grid }
    }

    /// The role `node` takes when it joins under `extent`, with its data inputs; nil for ops that
    /// never join.
    static func role(of node: Onnx_NodeProto, constants: [String: Onnx_TensorProto], opset: Int,
                     extent: OpsBetweenQuantizedNodes) -> (Role, [String])? {
        guard extent != .none, let (role, inputs) = role(of: node, constants: constants, opset: opset) else { return nil }
        guard extent == .exact else { return (role, inputs) }
        switch role {
        case .passThrough, .removableActivation:
            return (role, inputs)
        case .ownGrid:
            return nil
        case .sharesInputGrid:
            // An average, or a linear or cubic resize, lands between levels: rounded again.
            let mode = GraphEditing.stringAttribute("mode", of: node) ?? "nearest"
            return node.opType == "AveragePool" || (node.opType == "Resize" && mode != "nearest") ? nil : (role, inputs)
        }
    }

    /// The role `node` takes when all the ops onnxruntime's quantizer treats may join.
    private static func role(of node: Onnx_NodeProto, constants: [String: Onnx_TensorProto], opset: Int) -> (Role, [String])? {
        guard GraphEditing.isDefaultDomain(node), !node.input.isEmpty else { return nil }
        let variables = node.input.filter { !$0.isEmpty && constants[$0] == nil }
        let binary = node.input.count == 2
        if binary, ["Add", "Sub", "Mul", "Div"].contains(node.opType), variables.count == 1 { return (.passThrough, variables) }
        if binary, ["Add", "Mul", "Sum"].contains(node.opType), variables.count == 2 { return (.ownGrid, variables) }
        if node.opType == "Concat" { return variables.count == node.input.count ? (.ownGrid, variables) : nil }
        guard let data = variables.first, data == node.input[0] else { return nil }
        switch node.opType {
        case "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Slice", "Split", "AveragePool":
            return (.sharesInputGrid, [data])
        case "MaxPool":
            return opset >= 12 && node.output.count == 1 ? (.sharesInputGrid, [data]) : nil
        case "Resize":
            return opset >= 11 ? (.sharesInputGrid, [data]) : nil
        case "Pad":
            return padsWithInputValuesOrZero(node, constants: constants) ? (.sharesInputGrid, [data]) : nil
        case "Relu", "Clip":
            return (.removableActivation, [data])
        case "GlobalAveragePool", "Sigmoid", "LeakyRelu":
            return (.ownGrid, [data])
        default:
            return nil
        }
    }

    /// Pad's new values are on the input's grid when they repeat input values (edge, reflect, wrap)
    /// or are zero, which every grid holds exactly.
    private static func padsWithInputValuesOrZero(_ node: Onnx_NodeProto, constants: [String: Onnx_TensorProto]) -> Bool {
        let mode = GraphEditing.stringAttribute("mode", of: node) ?? "constant"
        guard mode == "constant" else { return true }
        if let value = node.attribute.first(where: { $0.name == "value" }) { return value.f == 0 }
        guard node.input.count > 2, !node.input[2].isEmpty else { return true }
        guard let proto = constants[node.input[2]], let value = try? Tensor(onnxTensor: proto), value.count == 1 else { return false }
        return value.elementType.isFloatingPoint && value.floats.first == 0
    }
}
