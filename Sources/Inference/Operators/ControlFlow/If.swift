/// If: runs then_branch or else_branch on the outer values they read; its outputs are the branch's.
struct If: ValueOperator {
    let thenBranch: SubgraphRunner
    let elseBranch: SubgraphRunner
    let implicitCount: Int

    init(_ context: OperatorContext) throws {
        thenBranch = try context.subgraph("then_branch")
        elseBranch = try context.subgraph("else_branch")
        implicitCount = context.node.implicitInputCount
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let (explicit, outer) = inputs.splittingImplicit(implicitCount)
        let condition = try explicit.requiredTensor(0)
        guard condition.count == 1 else { throw InferenceError.invalidOperand("cond must hold one element, got shape \(condition.shape)") }
        let branch = condition.float(at: 0) != 0 ? thenBranch : elseBranch
        outputs.append(contentsOf: try branch.run([], outer: outer))
    }
}
