/// One graph node, ready to run. Operators are built once at load (attributes parsed, constant
/// operands prepared) and are immutable, so one session can run them from many threads.
protocol Operator: Sendable {
    /// `inputs` follows the node's input list; nil marks an omitted optional operand. Appends one
    /// tensor per node output to `outputs`, which the executor hands over empty: one list serves
    /// every step of a run, so a step allocates no list of its own.
    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws

    /// Bytes of weights the operator prepared at load (packed copies), beside the graph's constants.
    var preparedBytes: Int { get }

    /// True when output 0 shares input 0's buffer (a reshape): the run arena takes that buffer back
    /// only once both are dead.
    var viewsFirstInput: Bool { get }

    /// False for the random generators: constant folding must not freeze one draw into the model.
    var isDeterministic: Bool { get }
}

extension Operator {
    var preparedBytes: Int { 0 }
    var viewsFirstInput: Bool { false }
    var isDeterministic: Bool { true }
}

/// An operator with one output, which it returns.
protocol SingleOutputOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> Tensor
}

extension SingleOutputOperator {
    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        outputs.append(try run(inputs))
    }
}

/// What an operator factory sees at load time.
struct OperatorContext {
    let node: NodeDefinition
    /// The opset version of the node's domain.
    let opset: Int
    let constants: [String: Tensor]
    /// The float GEMM the session's operators run.
    var floatPath: FloatKernelPath = .chosen
    /// Threads one operator may use (intra-op parallelism).
    var threads = 1

    var multiplier: MatrixMultiplier { MatrixMultiplier(path: floatPath, threads: threads) }

    var attributes: NodeAttributes { node.attributes }

    /// The node's entry of an operator family's catalogue, made from its attributes; an op type the
    /// family does not declare is refused like any unsupported operator.
    func declaration<Declared>(in catalogue: [String: @Sendable (NodeAttributes) throws -> Declared]) throws -> Declared {
        guard let make = catalogue[node.opType] else {
            throw InferenceError.unsupportedOperator(opType: node.opType, domain: node.domain, node: node.name, opset: opset)
        }
        return try make(attributes)
    }

    /// The value of input `index` when it is a constant known at load.
    func constantInput(_ index: Int) -> Tensor? {
        guard index < node.inputs.count else { return nil }
        return constants[node.inputs[index]]
    }
}

extension Array where Element == Tensor? {
    /// Input `index`, which the operator cannot do without.
    func required(_ index: Int) throws -> Tensor {
        guard index < count, let tensor = self[index] else {
            throw InferenceError.invalidOperand("required input \(index) is missing")
        }
        return tensor
    }

    /// Input `index` when present.
    func optional(_ index: Int) -> Tensor? {
        index < count ? self[index] : nil
    }
}

extension Tensor {
    /// The elements of a floating-point operand in FP32 (float16 and bfloat16 are held so already;
    /// float64 is narrowed).
    func floatOperand(_ role: String) throws -> [Float] {
        switch storage {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): return values
        case .float64(let values): return values.map(Float.init)
        default: throw InferenceError.invalidOperand("\(role) must be float32 or float16, got \(elementType.rawValue)")
        }
    }
}

/// Resolves a possibly negative axis against a rank.
func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard (0..<rank).contains(resolved) else {
        throw InferenceError.invalidOperand("axis \(axis) is out of range for rank \(rank)")
    }
    return resolved
}
