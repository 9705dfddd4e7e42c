/// Every operator the engine runs, by domain and type. A node outside this table is refused at load.
enum OperatorRegistry {
    private struct Key: Hashable {
        let domain: String
        let opType: String
    }

    private typealias Factory = @Sendable (OperatorContext) throws -> any Operator

    private static let factories: [Key: Factory] = {
        var table: [Key: Factory] = [
            Key(domain: "", opType: "MatMul"): { _ in MatMul() },
            Key(domain: "", opType: "Relu"): { _ in Relu() },
            Key(domain: "", opType: "Identity"): { _ in Identity() },
            Key(domain: "", opType: "Softmax"): { try Softmax($0) },
            Key(domain: "", opType: "ArgMax"): { try ArgMax($0) },
            Key(domain: "", opType: "Cast"): { try Cast($0) },
            Key(domain: "", opType: "Reshape"): { try Reshape($0) },
            Key(domain: "", opType: "DynamicQuantizeLinear"): { _ in DynamicQuantizeLinear() },
            Key(domain: "", opType: "MatMulInteger"): { try MatMulInteger($0) },
            Key(domain: "ai.onnx.ml", opType: "ArrayFeatureExtractor"): { _ in ArrayFeatureExtractor() },
        ]
        for kind in ElementwiseArithmetic.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { _ in ElementwiseArithmetic(kind: kind) }
        }
        return table
    }()

    static func makeOperator(for node: NodeDefinition, opsets: [String: Int], constants: [String: Tensor]) throws -> any Operator {
        let opset = opsets[node.domain] ?? 0
        guard let factory = factories[Key(domain: node.domain, opType: node.opType)] else {
            throw InferenceError.unsupportedOperator(opType: node.opType, domain: node.domain, node: node.name, opset: opset)
        }
        return try factory(OperatorContext(node: node, opset: opset, constants: constants))
    }
}
