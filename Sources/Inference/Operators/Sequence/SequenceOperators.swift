/// The Sequence operators over `TensorSequence` values. Positions may be negative (from the end).
struct SequenceConstruct: ValueOperator {
    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let tensors = try inputs.indices.map { try inputs.requiredTensor($0) }
        guard let first = tensors.first else { throw InferenceError.invalidOperand("SequenceConstruct needs at least one tensor") }
        outputs.append(.sequence(try TensorSequence(elementType: first.elementType, tensors: tensors)))
    }
}

/// SequenceEmpty: an empty sequence of `dtype` (float32 by default).
struct SequenceEmpty: ValueOperator {
    let elementType: ElementType

    init(_ context: OperatorContext) throws {
        elementType = try ElementType(onnxAttribute: context.attributes.int("dtype", default: 1), node: context.node.name, attribute: "dtype")
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        outputs.append(.sequence(try TensorSequence(elementType: elementType, tensors: [])))
    }
}

/// SequenceAt, SequenceErase, SequenceInsert and SequenceLength.
struct SequenceEdit: ValueOperator {
    enum Kind: String, CaseIterable { case at = "SequenceAt", erase = "SequenceErase", insert = "SequenceInsert", length = "SequenceLength" }

    let kind: Kind

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let sequence = try inputs.requiredSequence(0)
        var tensors = sequence.tensors
        switch kind {
        case .length:
            outputs.append(.tensor(Tensor(shape: [], int64s: [Int64(tensors.count)])))
        case .at:
            outputs.append(.tensor(tensors[try position(inputs.optional(1), count: tensors.count, end: false)]))
        case .erase:
            tensors.remove(at: try position(inputs.optional(1), count: tensors.count, end: false, defaultLast: true))
            outputs.append(.sequence(try TensorSequence(elementType: sequence.elementType, tensors: tensors)))
        case .insert:
            let tensor = try inputs.requiredTensor(1)
            tensors.insert(tensor, at: try position(inputs.optional(2), count: tensors.count, end: true, defaultLast: true))
            outputs.append(.sequence(try TensorSequence(elementType: sequence.elementType, tensors: tensors)))
        }
    }

    /// A position in a sequence of `count` (up to `count` itself where `end` allows inserting
    /// there); without one, the last (or the end).
    private func position(_ value: Value?, count: Int, end: Bool, defaultLast: Bool = false) throws -> Int {
        guard let value else {
            guard defaultLast else { throw InferenceError.invalidOperand("position is required") }
            return end ? count : count - 1
        }
        let raw = Int(try [value].requiredTensor(0).int64(at: 0)), resolved = raw < 0 ? raw + count : raw
        guard (0..<(end ? count + 1 : count)).contains(resolved) else {
            throw InferenceError.invalidOperand("position \(raw) is out of range for a sequence of \(count)")
        }
        return resolved
    }
}

/// SplitToSequence: the input split along `axis` into the given sizes (a scalar split: chunks of
/// that size, the last shorter), or into single slices, squeezed unless keepdims.
struct SplitToSequence: ValueOperator {
    let axis: Int
    let keepsDimension: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
        keepsDimension = try context.attributes.int("keepdims", default: 1) != 0
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let x = try inputs.requiredTensor(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count), length = x.shape[axis]
        let split = try inputs.optional(1).map { try [$0].requiredTensor(0) }
        let sizes: [Int]
        if let split, split.shape.isEmpty {
            let chunk = Int(split.int64(at: 0))
            guard chunk > 0 else { throw InferenceError.invalidOperand("split \(chunk) must be positive") }
            sizes = stride(from: 0, to: length, by: chunk).map { min(chunk, length - $0) }
        } else {
            sizes = split?.int64s.map { Int($0) } ?? Array(repeating: 1, count: length)
        }
        guard sizes.reduce(0, +) == length, sizes.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidOperand("split sizes \(sizes) do not add up to \(length) along axis \(axis)")
        }
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        var start = 0, pieces: [Tensor] = []
        for size in sizes {
            let starts = (0..<outer).map { ($0 * length + start) * inner }
            var shape = x.shape
            shape[axis] = size
            if split == nil, !keepsDimension { shape.remove(at: axis) }
            pieces.append(Tensor(shape: shape, storage: x.storage.runs(from: starts, width: size * inner)))
            start += size
        }
        outputs.append(.sequence(try TensorSequence(elementType: x.elementType, tensors: pieces)))
    }
}

/// ConcatFromSequence: the sequence's tensors joined along `axis`, or stacked along a new one.
struct ConcatFromSequence: ValueOperator {
    let axis: Int
    let newAxis: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.requiredInt("axis")
        newAxis = try context.attributes.int("new_axis", default: 0) != 0
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let tensors = try inputs.requiredSequence(0).tensors
        guard let first = tensors.first else { throw InferenceError.invalidOperand("ConcatFromSequence of an empty sequence") }
        let axis = try normalizedAxis(axis, rank: first.shape.count + (newAxis ? 1 : 0))
        let parts = newAxis ? tensors.map { $0.reshaped(to: Array($0.shape[..<axis]) + [1] + Array($0.shape[axis...])) } : tensors
        var shape = parts[0].shape
        let fits = parts.allSatisfy { part in
            part.shape.count == shape.count && part.shape.indices.allSatisfy { $0 == axis || part.shape[$0] == shape[$0] }
        }
        guard fits else {
            throw InferenceError.invalidOperand("tensors of shapes \(parts.map(\.shape)) cannot be joined along axis \(axis)")
        }
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *)
        let storage = try TensorStorage.interleaved(parts.map(\.storage), blocks: outer, blockSizes: parts.map { $0.count / max(outer, 1) })
        outputs.append(.tensor(Tensor(shape: shape, storage: storage)))
    }
}

/// SequenceMap: the body run once per element of the input sequence; each additional input is
/// read element by element when it is a sequence and whole when a tensor. Each body output
/// becomes a sequence.
struct SequenceMap: ValueOperator {
    let body: SubgraphRunner
    let outputTypes: [ElementType]
    let implicitCount: Int

    init(_ context: OperatorContext) throws {
        let subgraph = try context.attributes.graph("body")
        body = try SubgraphRunner(subgraph, outerNames: context.outerNames, context: context)
        // An empty sequence in gives empty sequences of the body's declared output types.
        let declared = Dictionary(subgraph.graph.outputs.map { ($0.name, $0.elementType) }, uniquingKeysWith: { first, _ in first })
        outputTypes = subgraph.graph.outputNames.map { declared[$0] ?? .float32 }
        implicitCount = context.node.implicitInputCount
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let (explicit, outer) = inputs.splittingImplicit(implicitCount)
        let length = try explicit.requiredSequence(0).tensors.count
        var mapped = [[Tensor]](repeating: [], count: outputTypes.count)
        for index in 0..<length {
            let arguments: [Value?] = try explicit.indices.map { input in
                switch try explicit.required(input) {
                case .tensor(let tensor): return .tensor(tensor)
                case .sequence(let sequence):
                    guard sequence.tensors.count == length else { throw InferenceError.invalidOperand("input \(input) has \(sequence.tensors.count) elements, the sequence \(length)") }
                    return .tensor(sequence.tensors[index])
                case let other: throw InferenceError.invalidOperand("input \(input) is \(other.kindName); SequenceMap takes tensors and sequences")
                }
            }
            for (output, tensor) in try body.run(arguments, outer: outer).enumerated() {
                mapped[output].append(try [tensor].requiredTensor(0))
            }
        }
        for (tensors, type) in zip(mapped, outputTypes) {
            outputs.append(.sequence(try TensorSequence(elementType: tensors.first?.elementType ?? type, tensors: tensors)))
        }
    }
}

/// Optional (its input, or no value), OptionalHasElement and OptionalGetElement.
struct OptionalOperator: ValueOperator {
    enum Kind: String, CaseIterable { case wrap = "Optional", hasElement = "OptionalHasElement", getElement = "OptionalGetElement" }

    let kind: Kind

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let value = inputs.optional(0)
        switch kind {
        case .wrap: outputs.append(value)
        case .hasElement: outputs.append(.tensor(Tensor(shape: [], bools: [value != nil])))
        case .getElement:
            guard let value else { throw InferenceError.invalidOperand("OptionalGetElement of an optional without a value") }
            outputs.append(value)
        }
    }
}
