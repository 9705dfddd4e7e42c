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
        try execute(feeds) { step, inputs in try step.operation.run(inputs) }
    }

    /// `run`, adding the time each node takes to `profile`.
    public func run(_ feeds: [String: Tensor], profile: inout OperatorProfile) throws -> [String: Tensor] {
        let clock = ContinuousClock()
        return try execute(feeds) { step, inputs in
            var results: [Tensor] = []
            let elapsed = try clock.measure { results = try step.operation.run(inputs) }
            profile.add(elapsed, node: step.node, opType: step.opType)
            return results
        }
    }

    private func execute(
        _ feeds: [String: Tensor], running: (ExecutionPlan.Step, [Tensor?]) throws -> [Tensor]
    ) throws -> [String: Tensor] {
        var values = plan.initialValues
        for (name, tensor) in feeds {
            guard let slot = plan.inputSlots[name] else {
                throw InferenceError.unknownFeed(name: name, expected: inputs.map(\.name))
            }
            values[slot] = tensor
        }
        for input in inputs {
            guard let tensor = feeds[input.name] else { throw InferenceError.missingFeed(input.name) }
            try check(tensor, against: input)
        }
        try arenas.withArena { arena in
            // One operand list for every step: refilled in place, it allocates once per run.
            var operands: [Tensor?] = []
            operands.reserveCapacity(plan.widestStep)
            for (index, step) in plan.steps.enumerated() {
                arena.step = index
                operands.removeAll(keepingCapacity: true)
                for slot in step.inputSlots { operands.append(slot.flatMap { values[$0] }) }
                let results: [Tensor]
                do {
                    results = try running(step, operands)
                } catch let error as InferenceError {
                    let reason = if case .invalidOperand(let reason) = error { reason } else { error.description }
                    throw InferenceError.nodeFailed(node: step.node, opType: step.opType, reason: reason)
                }
                for (output, result) in results.enumerated() {
                    // An output no node reads or the node does not name (LayerNormalization's
                    // statistics) goes back at once.
                    if output < step.outputSlots.count, let slot = step.outputSlots[output] {
                        values[slot] = result
                    } else {
                        arena.recycle(result.storage)
                    }
                }
                for slot in step.releasedSlots {
                    values[slot] = nil
                }
                for slot in step.recycledSlots {
                    if let dead = values[slot].take() { arena.recycle(dead.storage) }
                }
            }
        }
        var results: [String: Tensor] = [:]
        for (name, slot) in plan.outputSlots {
            results[name] = values[slot]
        }
        return results
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
