/// An operator's name in its domain ("" is ai.onnx), as the registry and the schema table key it.
struct OperatorKey: Hashable, Sendable {
    let domain: String
    let opType: String
}

/// One version of an ONNX operator, from ONNX's own schemas (`OperatorSchemas.swift`, generated):
/// the opset it holds from, and the element types each input may take. The registry refuses a node
/// its model's opset does not define; the executor refuses an operand of a type the version does not
/// allow, naming both, before the kernel sees it.
struct OperatorSchema: Sendable {
    let since: Int
    /// nil: not checked by element type (the input may be a sequence or an optional).
    let inputTypes: [Set<ElementType>?]
    /// The last input is variadic: the inputs past it take its types.
    let lastInputRepeats: Bool

    /// The version a model importing `opset` of the node's domain uses. nil when ONNX defines no
    /// such operator (the engine's own fused operators, com.microsoft's).
    /// - Throws: when the operator exists only in later opsets.
    static func version(of key: OperatorKey, opset: Int, node: String) throws -> OperatorSchema? {
        guard let versions = versions[key] else { return nil }
        guard let version = versions.last(where: { $0.since <= opset }) else {
            throw InferenceError.operatorNotInOpset(opType: key.opType, domain: key.domain, node: node, opset: opset, firstOpset: versions[0].since)
        }
        return version
    }

    /// The allowed types of input `index`, if it is checked.
    func allowedTypes(ofInput index: Int) -> Set<ElementType>? {
        if index < inputTypes.count { return inputTypes[index] }
        return lastInputRepeats ? inputTypes.last ?? nil : nil
    }
}
