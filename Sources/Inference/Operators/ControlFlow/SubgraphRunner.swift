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

    /// Runs on its formal inputs and the outer values, and returns its outputs in order. Buffers come
    /// from the heap: the enclosing run's arena plans its own steps only.
    func run(_ formal: [Tensor], outer: [Tensor?]) throws -> [Tensor] {
        guard formal.count == inputNames.count else {
            throw InferenceError.invalidOperand("the subgraph takes \(inputNames.count) inputs, got \(formal.count)")
        }
        var feeds = Dictionary(uniqueKeysWithValues: zip(inputNames, formal))
        for (name, value) in zip(outerNames, outer) where feeds[name] == nil { feeds[name] = value }
        var lists = ExecutorLists()
        let results = try RunArena.$current.withValue(nil) {
            try plan.execute(feeds, lists: &lists, arena: nil) { step, inputs, outputs in try step.operation.run(inputs, into: &outputs) }
        }
        return try outputNames.map { name in
            guard let value = results[name] else { throw InferenceError.invalidOperand("the subgraph did not compute its output '\(name)'") }
            return value
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

extension Array where Element == Tensor? {
    /// The explicit operands of a node with `implicitCount` implicit inputs, and the implicit ones.
    func splittingImplicit(_ implicitCount: Int) -> (explicit: [Tensor?], outer: [Tensor?]) {
        (Array(dropLast(implicitCount)), Array(suffix(implicitCount)))
    }
}
