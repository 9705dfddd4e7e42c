/// A subgraph planned once at load and run by its operator (If's branches, Loop's and Scan's
/// bodies): its formal inputs in order, then the outer values the node passes as implicit inputs.
struct SubgraphRunner: Sendable {
    let plan: ExecutionPlan
    let inputNames: [String]
    let outputNames: [String]
    let outerNames: [String]

    /// `outerNames` are the node's implicit inputs (a superset of what this subgraph reads).
    init(_ subgraph: Subgraph, outerNames: [String], context: OperatorContext) throws {
        plan = try ExecutionPlan(subgraph.graph, floatPath: context.floatPath, threads: context.threads, outerNames: outerNames)
        inputNames = subgraph.graph.inputNames
        outputNames = subgraph.graph.outputNames
        self.outerNames = outerNames
    }

    /// Runs on its formal inputs and the outer values, and returns its outputs in order (nil: an
    /// absent optional). Buffers come from the heap: the enclosing run's arena plans its own steps only.
    func run(_ formal: [Value?], outer: [Value?]) throws -> [Value?] {
        guard formal.count == inputNames.count else {
            throw InferenceError.invalidOperand("the subgraph takes \(inputNames.count) inputs, got \(formal.count)")
        }
        var feeds: [String: Value] = [:]
        for (name, value) in zip(inputNames, formal) { feeds[name] = value }
        for (name, value) in zip(outerNames, outer) where feeds[name] == nil { feeds[name] = value }
        var lists = ExecutorLists(), profile: OperatorProfile?
        let results: [String: Value] = try RunArena.$current.withValue(nil) { try plan.execute(feeds, lists: &lists, arena: nil, profile: &profile) }
        return outputNames.map { results[$0] }
    }

    /// `run` on tensors, for a body whose every input and output is one (Scan's).
    func run(tensors formal: [Tensor], outer: [Value?]) throws -> [Tensor] {
        try run(formal.map(Value.tensor), outer: outer).enumerated().map { index, value in
            guard let tensor = value?.tensor else { throw InferenceError.invalidOperand("the subgraph's output '\(outputNames[index])' is not a tensor") }
            return tensor
        }
    }
}

extension OperatorContext {
    /// A node's implicit inputs' names: the outer values its subgraphs read.
    var outerNames: [String] { Array(node.inputs.suffix(node.implicitInputCount)) }

    /// The node's subgraph attribute `name`, planned.
    func subgraph(_ name: String) throws -> SubgraphRunner {
        try SubgraphRunner(attributes.graph(name), outerNames: outerNames, context: self)
    }
}

extension Array {
    /// The explicit operands of a node with `implicitCount` implicit inputs, and the implicit ones.
    func splittingImplicit(_ implicitCount: Int) -> (explicit: [Element], outer: [Element]) {
        (Array(dropLast(implicitCount)), Array(suffix(implicitCount)))
    }
}
