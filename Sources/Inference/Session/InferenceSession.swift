import Foundation

/// A loaded model: parsed, validated, planned and with its integer weights packed, once.
/// Immutable after init, so `run` may be called from many threads at once.
public final class InferenceSession: Sendable {
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    let plan: ExecutionPlan
    private let arenas = RunArenas()
    /// The graph as loaded and rewritten; its constants are the plan's (shared storage), so keeping
    /// it costs nothing, and a session on another float path can be planned from it.
    private let graph: GraphDefinition
    private let threads: Int

    /// `floatKernelPath` names the float GEMM path (one of `FloatKernelPath.supportedNames`); nil runs the one chosen at
    /// start-up. The agent runs its reference a second time on another path for the noise floor
    /// (`onFloatKernelPath`).
    /// `threads` is how many threads one matrix product may share (intra-op); the agent keeps 1 and
    /// answers concurrent requests on their own threads instead.
    public convenience init(contentsOf url: URL, floatKernelPath: String? = nil, threads: Int = 1) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw InferenceError.unreadableModel(path: url.path, reason: error.localizedDescription)
        }
        try self.init(modelData: data, floatKernelPath: floatKernelPath, threads: threads)
    }

    public convenience init(modelData: Data, floatKernelPath: String? = nil, threads: Int = 1) throws {
        var graph = try ONNXModelDecoder.decode(modelData)
        graph.foldChannelAffineMaps()
        graph.fuseDecomposedLayerNormalizations()
        graph.fuseDecomposedGelus()
        graph.fuseDecomposedHardSwishes()
        graph.runDataMovementOnQuantizedValues()
        graph.fuseQuantizedLinearOps()
        graph.fuseMatMulBiases()
        graph.fuseHeadTransposes()
        graph.fuseAttentionHeads()
        graph.foldConstants()
        // Again: into the fused integer convolutions' scales, and into the float convolutions whose
        // weights constant folding has just dequantized (a QDQ model's depthwise ones).
        graph.foldChannelAffineMaps()
        // After the folding into the integer convolutions' scales, which needs their float outputs.
        graph.fuseOutputQuantizations()
        // Last: the affine maps folded into a convolution may have stood between it and its activation.
        graph.fuseConvActivations()
        try self.init(graph: graph, floatKernelPath: floatKernelPath, threads: threads)
    }

    private init(graph: GraphDefinition, floatKernelPath: String?, threads: Int) throws {
        self.graph = graph
        self.threads = max(1, threads)
        inputs = graph.inputs
        outputs = graph.outputs
        plan = try ExecutionPlan(graph, floatPath: try FloatKernelPath(name: floatKernelPath), threads: self.threads)
    }

    /// The same model on another float kernel path, sharing this session's constants: only the
    /// weights packed for that path are new (the agent's noise floor runs its reference twice).
    public func onFloatKernelPath(_ floatKernelPath: String) throws -> InferenceSession {
        try InferenceSession(graph: graph, floatKernelPath: floatKernelPath, threads: threads)
    }

    /// Bytes the loaded model keeps in memory: its constants and the weights packed from them.
    /// (Per-run intermediate tensors come and go; the agent's memory guard compares this.)
    public var residentBytes: Int {
        plan.initialValues.reduce(0) { $0 + ($1?.storage.residentBytes ?? 0) } + plan.steps.reduce(0) { $0 + $1.operation.preparedBytes }
    }

    /// The integer kernel path in use ("avx512-vnni", "avx2", "neon-dotprod", "neon" or "scalar").
    public var kernelPath: String { PackedInt8Weights.kernelPathName }

    /// Runs the graph on `feeds` (one tensor per model input) and returns every model output.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        var profile: OperatorProfile?
        return try execute(feeds, profile: &profile)
    }

    /// `run`, adding the time each node takes to `profile`.
    public func run(_ feeds: [String: Tensor], profile: inout OperatorProfile) throws -> [String: Tensor] {
        var measured: OperatorProfile? = profile
        defer { profile = measured! }
        return try execute(feeds, profile: &measured)
    }

    /// Runs a graph whose inputs or outputs include sequences or optionals; an absent optional is
    /// left out of both dictionaries.
    public func run(values feeds: [String: Value]) throws -> [String: Value] {
        var profile: OperatorProfile?
        return try execute(feeds, profile: &profile)
    }

    private func execute<Feed: ValueConvertible, Output: ValueConvertible>(
        _ feeds: [String: Feed], profile: inout OperatorProfile?
    ) throws -> [String: Output] {
        if let unknown = feeds.keys.first(where: { plan.inputSlots[$0] == nil }) {
            throw InferenceError.unknownFeed(name: unknown, expected: inputs.map(\.name))
        }
        for input in inputs {
            guard let feed = feeds[input.name] else {
                if input.container.isOptional { continue }
                throw InferenceError.missingFeed(input.name)
            }
            try check(feed.value, against: input)
        }
        return try arenas.withArena { arena in
            // The lists of the arena's last run, refilled in place: a run allocates none of its own.
            var lists = ExecutorLists()
            swap(&lists, &arena.executorLists)
            defer {
                lists.clear()
                swap(&lists, &arena.executorLists)
            }
            return try plan.execute(feeds, lists: &lists, arena: arena, profile: &profile)
        }
    }

    private func check(_ value: Value, against input: TensorInfo) throws {
        switch value {
        case .tensor(let tensor) where input.container == .tensor || input.container == .optionalTensor:
            try check(tensor, against: input)
        case .sequence(let sequence) where input.container.isSequence:
            guard sequence.elementType == input.elementType else {
                throw InferenceError.feedTypeMismatch(name: input.name, expected: input.elementType, actual: sequence.elementType)
            }
        case .maps where input.container == .mapSequence:
            break
        case .map(let map) where input.container == .map:
            guard map.keys.elementType == input.keyType, map.values.elementType == input.elementType else {
                throw InferenceError.invalidOperand("input '\(input.name)' expects map(\(input.keyType?.rawValue ?? "?"), \(input.elementType.rawValue)), "
                    + "got map(\(map.keys.elementType.rawValue), \(map.values.elementType.rawValue))")
            }
        default:
            throw InferenceError.invalidOperand("input '\(input.name)' expects \(input.container.rawValue), got \(value.kindName)")
        }
    }

    private func check(_ tensor: Tensor, against input: TensorInfo) throws {
        guard tensor.elementType == input.elementType else {
            throw InferenceError.feedTypeMismatch(name: input.name, expected: input.elementType, actual: tensor.elementType)
        }
        let matches = tensor.shape.count == input.shape.count
            && zip(tensor.shape, input.shape).allSatisfy { actual, expected in expected.map { $0 == actual } ?? true }
        guard input.shape.isEmpty || matches else {
            throw InferenceError.feedShapeMismatch(name: input.name, expected: input.shape, actual: tensor.shape)
        }
    }
}
