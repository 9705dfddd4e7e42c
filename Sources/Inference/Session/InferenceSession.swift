import Foundation

/// A loaded model: parsed, validated, planned and with its integer weights packed, once.
/// Immutable after init, so `run` may be called from many threads at once.
public final class InferenceSession: Sendable {
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    let plan: ExecutionPlan
    private let arenas = RunArenas()

    /// `floatKernelPath` names the float GEMM path (one of `FloatKernelPath.supportedNames`); nil runs the one chosen at
    /// start-up. The agent loads its reference a second time on another path for the noise floor.
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

    public init(modelData: Data, floatKernelPath: String? = nil, threads: Int = 1) throws {
        FreedMemoryRetention.enabled
        var graph = try ONNXModelDecoder.decode(modelData)
        graph.foldChannelAffineMaps()
        graph.fuseDecomposedLayerNormalizations()
        graph.fuseDecomposedGelus()
        graph.fuseDecomposedHardSwishes()
        graph.fuseQuantizedLinearOps()
        graph.fuseMatMulBiases()
        graph.fuseHeadTransposes()
        graph.fuseAttentionHeads()
        graph.foldConstants()
        // Again: into the fused integer convolutions' scales, and into the float convolutions whose
        // weights constant folding has just dequantized (a QDQ model's depthwise ones).
        graph.foldChannelAffineMaps()
        inputs = graph.inputs
        outputs = graph.outputs
        plan = try ExecutionPlan(graph, floatPath: try FloatKernelPath(name: floatKernelPath), threads: max(1, threads))
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
        try execute(feeds) { step, inputs, outputs in try step.operation.run(inputs, into: &outputs) }
    }

    /// `run`, adding the time each node takes to `profile`.
    public func run(_ feeds: [String: Tensor], profile: inout OperatorProfile) throws -> [String: Tensor] {
        let clock = ContinuousClock()
        return try execute(feeds) { step, inputs, outputs in
            let elapsed = try clock.measure { try step.operation.run(inputs, into: &outputs) }
            profile.add(elapsed, node: step.node, opType: step.opType)
        }
    }

    private func execute(
        _ feeds: [String: Tensor], running: (ExecutionPlan.Step, [Tensor?], inout [Tensor]) throws -> Void
    ) throws -> [String: Tensor] {
        if let unknown = feeds.keys.first(where: { plan.inputSlots[$0] == nil }) {
            throw InferenceError.unknownFeed(name: unknown, expected: inputs.map(\.name))
        }
        for input in inputs {
            guard let tensor = feeds[input.name] else { throw InferenceError.missingFeed(input.name) }
            try check(tensor, against: input)
        }
        return try arenas.withArena { arena in
            // The lists of the arena's last run, refilled in place: a run allocates none of its own.
            var lists = ExecutorLists()
            swap(&lists, &arena.executorLists)
            defer {
                lists.clear()
                swap(&lists, &arena.executorLists)
            }
            return try plan.execute(feeds, lists: &lists, arena: arena, running: running)
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
