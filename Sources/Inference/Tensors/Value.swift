/// What flows along a graph edge: a tensor, or a sequence of tensors (ONNX's seq(tensor), made and
/// read by the Sequence operators, SplitToSequence, Loop and If), or the maps of the ai.onnx.ml
/// operators (a map, or ZipMap's sequence of maps). An optional without a value is an absent value
/// (nil), as an omitted operand is.
public enum Value: Sendable, Equatable {
    case tensor(Tensor)
    case sequence(TensorSequence)
    case map(TensorMap)
    case maps([TensorMap])

    /// The tensor, or nil for a sequence.
    public var tensor: Tensor? {
        if case .tensor(let tensor) = self { tensor } else { nil }
    }

    public var kindName: String {
        switch self {
        case .tensor: "a tensor"
        case .sequence: "a sequence"
        case .map: "a map"
        case .maps: "a sequence of maps"
        }
    }
}

/// What a session takes and gives: values, or plain tensors (the common case, and the cheaper one).
protocol ValueConvertible {
    var value: Value { get }
    init(converting value: Value, name: String) throws
}

extension Value: ValueConvertible {
    var value: Value { self }
    init(converting value: Value, name: String) { self = value }
}

extension Tensor: ValueConvertible {
    var value: Value { .tensor(self) }

    init(converting value: Value, name: String) throws {
        guard case .tensor(let tensor) = value else {
            throw InferenceError.invalidOperand("output '\(name)' is \(value.kindName): run the session with run(values:)")
        }
        self = tensor
    }
}

/// An ordered list of tensors of one element type (the type holds when the list is empty).
public struct TensorSequence: Sendable, Equatable {
    public let elementType: ElementType
    public let tensors: [Tensor]

    public init(elementType: ElementType, tensors: [Tensor]) throws {
        if let other = tensors.first(where: { $0.elementType != elementType }) {
            throw InferenceError.invalidOperand("a sequence of \(elementType.rawValue) cannot hold a \(other.elementType.rawValue) tensor")
        }
        self.elementType = elementType
        self.tensors = tensors
    }
}

/// An operator on values, not only tensors: the Sequence and Optional operators, control flow and
/// Identity. Its outputs may be absent (an optional without a value).
protocol ValueOperator: Operator {
    func run(values: [Value?], into outputs: inout [Value?]) throws
}

extension ValueOperator {
    /// Tensors in, tensors out, through the value form (for callers that hold only tensors).
    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        var results: [Value?] = []
        try run(values: inputs.map { $0.map(Value.tensor) }, into: &results)
        for (index, result) in results.enumerated() {
            guard let tensor = result?.tensor else { throw InferenceError.invalidOperand("output \(index) is not a tensor") }
            outputs.append(tensor)
        }
    }
}

extension Array where Element == Value? {
    /// Value `index`, which the operator cannot do without.
    func required(_ index: Int) throws -> Value {
        guard index < count, let value = self[index] else { throw InferenceError.invalidOperand("required input \(index) is missing") }
        return value
    }

    /// Value `index` as a tensor, which the operator cannot do without.
    func requiredTensor(_ index: Int) throws -> Tensor {
        let value = try required(index)
        guard let tensor = value.tensor else { throw InferenceError.invalidOperand("input \(index) must be a tensor, got \(value.kindName)") }
        return tensor
    }

    /// Value `index` as a sequence, which the operator cannot do without.
    func requiredSequence(_ index: Int) throws -> TensorSequence {
        let value = try required(index)
        guard case .sequence(let sequence) = value else { throw InferenceError.invalidOperand("input \(index) must be a sequence, got \(value.kindName)") }
        return sequence
    }

    /// Value `index` when present.
    func optional(_ index: Int) -> Value? {
        index < count ? self[index] : nil
    }
}
