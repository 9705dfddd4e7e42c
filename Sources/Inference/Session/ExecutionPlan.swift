/// The graph resolved at load: operators built, values numbered into slots, and for each step the
/// slots whose last reader it is, so intermediate tensors are freed (their buffers recycled) as soon
/// as they are dead.
struct ExecutionPlan: Sendable {
    struct Step: Sendable {
        let node: String
        let opType: String
        let operation: any Operator
        /// nil for an omitted optional operand or output.
        let inputSlots: [Int?]
        let outputSlots: [Int?]
        /// Dead values whose buffers are not the run's to reuse (feeds, views of a live buffer): dropped.
        let releasedSlots: [Int]
        /// Dead values holding the last reference the run has to their buffer: it goes to the run's arena.
        let recycledSlots: [Int]
    }

    let steps: [Step]
    /// Constants in their slots, nil elsewhere; each run starts from a copy.
    let initialValues: [Tensor?]
    let inputSlots: [String: Int]
    let outputSlots: [(name: String, slot: Int)]
    /// The most inputs any step reads.
    let widestStep: Int

    init(_ graph: GraphDefinition, floatPath: FloatKernelPath = .chosen, threads: Int = 1) throws {
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
        for input in graph.inputs {
            inputSlots[input.name] = newSlot(input.name)
        }

        var resolved: [(node: NodeDefinition, operation: any Operator, inputs: [Int?], outputs: [Int?])] = []
        for node in graph.nodes {
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
            resolved.append((node, operation, inputs, outputs))
        }

        let outputSlots = try graph.outputs.map { output in
            guard let slot = slots[output.name] else {
                throw InferenceError.malformedModel("graph output '\(output.name)' is never computed")
            }
            return (name: output.name, slot: slot)
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
            return Step(node: step.node.name, opType: step.node.opType, operation: step.operation,
                        inputSlots: step.inputs, outputSlots: step.outputs,
                        releasedSlots: dying.filter { !recycled.contains($0) }, recycledSlots: recycled)
        }
        widestStep = steps.map(\.inputSlots.count).max() ?? 0
        self.initialValues = initialValues
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
    }
}
