/// The graph resolved at load: operators built, values numbered into slots, and for each step the
/// slots whose last reader it is, so intermediate tensors are freed (their buffers recycled) as soon
/// as they are dead.
struct ExecutionPlan: Sendable {
    /// A class, so that the executor reads a step's fields in place: as a struct of a dozen
    /// references, each step was copied (every field retained and released) when it was read.
    final class Step: Sendable {
        let node: String
        let opType: String
        let operation: any Operator
        /// The operation again when it runs on values (sequences, absent optionals), found once here.
        let valueOperation: (any ValueOperator)?
        /// The ONNX version the node follows, whose input types the executor checks; nil for the
        /// engine's own operators and rewrites.
        let schema: OperatorSchema?
        /// Per input, the element types its schema allows as a bit set (nil: unchecked), worked out
        /// here so that the check at run is one AND, not a set lookup.
        let allowedTypeBits: [ElementType.BitSet?]
        /// nil for an omitted optional operand or output.
        let inputSlots: [Int?]
        let outputSlots: [Int?]
        /// Dead values whose buffers are not the run's to reuse (feeds, views of a live buffer): dropped.
        let releasedSlots: [Int]
        /// Dead values holding the last reference the run has to their buffer: it goes to the run's arena.
        let recycledSlots: [Int]

        init(node: String, opType: String, operation: any Operator, schema: OperatorSchema?, inputSlots: [Int?], outputSlots: [Int?],
             releasedSlots: [Int], recycledSlots: [Int]) {
            self.node = node
            self.opType = opType
            self.operation = operation
            self.valueOperation = operation as? any ValueOperator
            self.schema = schema
            self.allowedTypeBits = inputSlots.indices.map { input in schema?.allowedTypes(ofInput: input).map(ElementType.BitSet.init) }
            self.inputSlots = inputSlots
            self.outputSlots = outputSlots
            self.releasedSlots = releasedSlots
            self.recycledSlots = recycledSlots
        }
    }

    let steps: [Step]
    /// Constants in their slots, nil elsewhere; each run starts from a copy.
    let initialValues: [Tensor?]
    let inputSlots: [String: Int]
    let outputSlots: [(name: String, slot: Int)]
    /// Per slot, its shape as the operators' shape rules work it out at load (nil: rank unknown).
    let staticShapes: [StaticShape?]

    /// `outerNames` are a subgraph's values from enclosing graphs, fed like its inputs.
    init(_ graph: GraphDefinition, floatPath: FloatKernelPath = .chosen, threads: Int = 1, outerNames: [String] = []) throws {
        var slots: [String: Int] = [:]
        var initialValues: [Tensor?] = []
        func newSlot(_ name: String, value: Tensor? = nil) -> Int {
            slots[name] = initialValues.count
            initialValues.append(value)
            return initialValues.count - 1
        }
        for (name, tensor) in graph.constants.sorted(by: { $0.key < $1.key }) {
            _ = newSlot(name, value: tensor)
        }
        var inputSlots: [String: Int] = [:]
        for name in graph.inputNames + outerNames {
            inputSlots[name] = newSlot(name)
        }

        var resolved: [(node: NodeDefinition, operation: any Operator, schema: OperatorSchema?, inputs: [Int?], outputs: [Int?])] = []
        for node in graph.nodes {
            let key = OperatorKey(domain: node.domain, opType: node.opType)
            let schema = node.isRewritten ? nil : try OperatorSchema.version(of: key, opset: graph.opsets[node.domain] ?? 0, node: node.name)
            let operation = try OperatorRegistry.makeOperator(
                for: node, opsets: graph.opsets, constants: graph.constants, floatPath: floatPath, threads: threads)
            let inputs = try node.inputs.map { name -> Int? in
                if name.isEmpty { return nil }
                guard let slot = slots[name] else {
                    throw InferenceError.malformedModel(
                        "node '\(node.name)' (\(node.opType)) reads '\(name)', which no earlier node, input or initializer defines")
                }
                return slot
            }
            let outputs = try node.outputs.map { name -> Int? in
                if name.isEmpty { return nil }
                guard slots[name] == nil else {
                    throw InferenceError.malformedModel("value '\(name)' is defined twice (again by node '\(node.name)')")
                }
                return newSlot(name)
            }
            resolved.append((node, operation, schema, inputs, outputs))
        }

        staticShapes = try Self.staticShapes(of: resolved.map { ($0.node, $0.operation, $0.inputs, $0.outputs) },
                                             constants: initialValues, inputs: graph.inputs, inputSlots: inputSlots)
        let outputSlots = try graph.outputNames.map { output in
            guard let slot = slots[output] else {
                throw InferenceError.malformedModel("graph output '\(output)' is never computed")
            }
            return (name: output, slot: slot)
        }
        let kept = Set(outputSlots.map(\.slot)).union(graph.constants.keys.compactMap { slots[$0] })
        var lastReader: [Int: Int] = [:]
        for (index, step) in resolved.enumerated() {
            for slot in step.outputs.compactMap({ $0 }) where !kept.contains(slot) {
                lastReader[slot] = index  // an output nobody reads dies with its own step
            }
            for slot in step.inputs.compactMap({ $0 }) where !kept.contains(slot) {
                lastReader[slot] = index
            }
        }
        // A view (Reshape, Squeeze, ...) shares its input's buffer, so the slots sharing one form a
        // group: its buffer goes to the arena when the group's last member dies, and never when a
        // member is a feed, a constant or a graph output (those buffers are not the run's to reuse).
        var bufferOwner: [Int: Int] = [:]
        for step in resolved where step.operation.viewsFirstInput {
            if let input = step.inputs.first ?? nil, let output = step.outputs.first ?? nil {
                bufferOwner[output] = bufferOwner[input] ?? input
            }
        }
        func owner(_ slot: Int) -> Int { bufferOwner[slot] ?? slot }
        let foreign = Set(kept.union(inputSlots.values).map(owner))
        var groupDeath: [Int: Int] = [:]
        for (slot, index) in lastReader {
            groupDeath[owner(slot)] = max(groupDeath[owner(slot)] ?? index, index)
        }
        steps = resolved.enumerated().map { index, step in
            let dying = lastReader.filter { $0.value == index }.map(\.key).sorted()
            let recycled = dying.filter { slot in
                let group = owner(slot)
                return !foreign.contains(group) && groupDeath[group] == index && dying.first(where: { owner($0) == group }) == slot
            }
            return Step(node: step.node.name, opType: step.node.opType, operation: step.operation, schema: step.schema,
                        inputSlots: step.inputs, outputSlots: step.outputs,
                        releasedSlots: dying.filter { !recycled.contains($0) }, recycledSlots: recycled)
        }
        self.initialValues = initialValues
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
    }
}

extension ExecutionPlan {
    /// Each value's shape before any run: constants' as they are, inputs' as the graph declares
    /// them, and every node's outputs from its operator's shape rule, in order.
    /// - Throws: `InferenceError.malformedModel` naming the first node whose operands cannot fit.
    private static func staticShapes(
        of nodes: [(node: NodeDefinition, operation: any Operator, inputs: [Int?], outputs: [Int?])],
        constants: [Tensor?], inputs: [TensorInfo], inputSlots: [String: Int]
    ) throws -> [StaticShape?] {
        var shapes = constants.map { $0.map { $0.shape.map(Optional.some) } }
        // A declared shape of no dimensions is as often an undeclared one as a scalar: left unknown.
        for input in inputs where input.container == .tensor && !input.shape.isEmpty {
            if let slot = inputSlots[input.name] { shapes[slot] = input.shape }
        }
        for (node, operation, inputSlots, outputSlots) in nodes {
            guard let rule = operation as? any ShapeRule else { continue }
            let derived: [StaticShape?]
            do {
                derived = try rule.outputShapes(inputSlots.map { $0.flatMap { shapes[$0] } })
            } catch let error as InferenceError {
                throw InferenceError.malformedModel("node '\(node.name)' (\(node.opType)) cannot fit the shapes the graph gives it: \(error.operandReason)")
            }
            for (output, slot) in zip(derived, outputSlots) {
                if let slot { shapes[slot] = output }
            }
        }
        return shapes
    }

    /// Runs every step on `feeds` (a value per input slot's name) and returns the graph's outputs
    /// (an absent optional is left out). With an arena, dead tensors' buffers go back to it; without
    /// one (a subgraph's run inside its operator) they go back to the heap. With a profile, each
    /// step's time is added to it.
    /// Feeds and outputs come as tensors or as values, so that the tensor API converts no dictionary.
    func execute<Feed: ValueConvertible, Output: ValueConvertible>(
        _ feeds: [String: Feed], lists: inout ExecutorLists, arena: RunArena?, profile: inout OperatorProfile?
    ) throws -> [String: Output] {
        for value in initialValues { lists.values.append(value.map(Value.tensor)) }
        for (name, feed) in feeds {
            if let slot = inputSlots[name] { lists.values[slot] = feed.value }
        }
        let clock = ContinuousClock()
        for (index, step) in steps.enumerated() {
            arena?.step = index
            do {
                let started = profile == nil ? nil : clock.now
                if let operation = step.valueOperation {
                    try runValues(step, operation, lists: &lists)
                } else {
                    try runTensors(step, lists: &lists, arena: arena)
                }
                if let started { profile?.add(started.duration(to: clock.now), node: step.node, opType: step.opType) }
            } catch let error as InferenceError {
                throw InferenceError.nodeFailed(node: step.node, opType: step.opType, reason: error.operandReason)
            }
            for slot in step.releasedSlots {
                lists.values[slot] = nil
            }
            for slot in step.recycledSlots {
                if case .tensor(let dead)? = lists.values[slot].take() { arena?.recycle(dead.storage) }
            }
        }
        var results: [String: Output] = [:]
        for (name, slot) in outputSlots {
            results[name] = try lists.values[slot].map { try Output(converting: $0, name: name) }
        }
        return results
    }

    @inline(__always)
    private func runTensors(_ step: Step, lists: inout ExecutorLists, arena: RunArena?) throws {
        lists.operands.removeAll(keepingCapacity: true)
        lists.results.removeAll(keepingCapacity: true)
        let inputSlots = step.inputSlots
        for input in inputSlots.indices {
            var operand: Tensor?
            if let slot = inputSlots[input] {
                switch lists.values[slot] {
                case .tensor(let tensor)?: operand = tensor
                case let other?: throw InferenceError.invalidOperand("input \(input) is \(other.kindName); \(step.opType) takes tensors")
                case nil: break
                }
            }
            if let operand { try step.check(operand.elementType, input: input) }
            lists.operands.append(operand)
        }
        try step.operation.run(lists.operands, into: &lists.results)
        for (output, result) in lists.results.enumerated() {
            // An output no node reads or the node does not name (LayerNormalization's statistics)
            // goes back at once.
            if output < step.outputSlots.count, let slot = step.outputSlots[output] {
                assert(staticShapes[slot].map { StaticShapes.admits($0, result.shape) } ?? true,
                       "\(step.opType) '\(step.node)': the shape rule gives \(staticShapes[slot].map(StaticShapes.describe) ?? "?"), the kernel \(result.shape)")
                lists.values[slot] = .tensor(result)
            } else {
                arena?.recycle(result.storage)
            }
        }
    }

    private func runValues(_ step: Step, _ operation: any ValueOperator, lists: inout ExecutorLists) throws {
        lists.valueOperands.removeAll(keepingCapacity: true)
        lists.valueResults.removeAll(keepingCapacity: true)
        for (input, slot) in step.inputSlots.enumerated() {
            let value = slot.flatMap { lists.values[$0] }
            if case .tensor(let tensor)? = value { try step.check(tensor.elementType, input: input) }
            lists.valueOperands.append(value)
        }
        try operation.run(values: lists.valueOperands, into: &lists.valueResults)
        for (output, result) in lists.valueResults.enumerated() where output < step.outputSlots.count {
            if let slot = step.outputSlots[output] { lists.values[slot] = result }
        }
    }
}

extension ExecutionPlan.Step {
    /// Refuses an operand whose element type the node's ONNX version does not allow for that input.
    @inline(__always)
    func check(_ elementType: ElementType, input: Int) throws {
        guard let allowed = allowedTypeBits[input], !allowed.contains(elementType),
              let schema, let names = schema.allowedTypes(ofInput: input)?.map(\.rawValue).sorted().joined(separator: ", ") else { return }
        throw InferenceError.invalidOperand("input \(input) is \(elementType.rawValue); \(opType)-\(schema.since) takes \(names)")
    }
}
