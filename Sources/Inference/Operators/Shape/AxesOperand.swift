extension OperatorContext {
    /// A list of axes given as an attribute before `inputOpset` and as input `index` from it on
    /// (Squeeze, Unsqueeze, Reduce*): the attribute form is read here, at load; nil means "read the input".
    func axesAttribute(named name: String = "axes", inputFromOpset inputOpset: Int) throws -> [Int]?? {
        opset < inputOpset ? .some(try attributes.ints(name)) : .none
    }

    /// The axes as a shape rule sees them at load: from the attribute or a constant input
    /// (`.some(nil)` when none are given), or nil when a value computed at run gives them.
    func axesKnownAtLoad(named name: String = "axes", inputFromOpset inputOpset: Int) throws -> [Int]?? {
        if let attribute = try axesAttribute(named: name, inputFromOpset: inputOpset) { return attribute }
        guard node.inputs.count > 1, !node.inputs[1].isEmpty else { return .some(nil) }
        guard let constant = constantInput(1) else { return nil }
        return .some(constant.int64s.map { Int(truncatingIfNeeded: $0) })
    }
}

extension Array where Element == Tensor? {
    /// The integer values of optional input `index` (axes, starts, ...), or nil when it is omitted.
    func integers(_ index: Int) -> [Int]? {
        optional(index).map { $0.int64s.map { Int(truncatingIfNeeded: $0) } }
    }
}

/// Resolves possibly negative axes against a rank, rejecting repeats.
func normalizedAxes(_ axes: [Int], rank: Int) throws -> [Int] {
    let resolved = try axes.map { try normalizedAxis($0, rank: rank) }
    guard Set(resolved).count == resolved.count else { throw InferenceError.invalidOperand("axes \(axes) repeat an axis") }
    return resolved
}
