/// Loop: runs its body while the trip count (M) is not reached and the condition holds, carrying
/// the loop-carried values (tensors, sequences or optionals) from each iteration to the next;
/// per-iteration scan outputs are stacked along a new first axis.
struct Loop: ValueOperator {
    let body: SubgraphRunner
    let implicitCount: Int

    init(_ context: OperatorContext) throws {
        body = try context.subgraph("body")
        implicitCount = context.node.implicitInputCount
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let (explicit, outer) = inputs.splittingImplicit(implicitCount)
        let tripCount = try explicit.optional(0).map { try [$0].requiredTensor(0).int64(at: 0) }
        var condition = try explicit.optional(1).map { try [$0].requiredTensor(0).float(at: 0) != 0 } ?? true
        var carried = Array(explicit.dropFirst(2))
        let scanCount = body.outputNames.count - 1 - carried.count
        guard scanCount >= 0 else {
            throw InferenceError.invalidOperand("the body gives \(body.outputNames.count) outputs for \(carried.count) loop-carried values")
        }
        var scans = [[Tensor]](repeating: [], count: scanCount)
        var iteration: Int64 = 0
        while condition, tripCount.map({ iteration < $0 }) ?? true {
            let results = try body.run(
                [.tensor(Tensor(shape: [], int64s: [iteration])), .tensor(Tensor(shape: [], bools: [condition]))] + carried, outer: outer)
            condition = try results.requiredTensor(0).float(at: 0) != 0
            carried = Array(results[1...carried.count])
            for (index, value) in results.dropFirst(1 + carried.count).enumerated() {
                scans[index].append(try [value].requiredTensor(0))
            }
            iteration += 1
        }
        outputs.append(contentsOf: carried)
        for values in scans { outputs.append(.tensor(try Tensor.stacked(values, axis: 0))) }
    }
}

extension Tensor {
    /// Tensors of one shape and type stacked along a new `axis`.
    static func stacked(_ parts: [Tensor], axis: Int) throws -> Tensor {
        guard let first = parts.first else {
            throw InferenceError.invalidOperand("no iteration ran, so a stacked output has no shape or type")
        }
        guard parts.allSatisfy({ $0.shape == first.shape }) else {
            throw InferenceError.invalidOperand("iterations gave outputs of different shapes: \(Set(parts.map(\.shape)))")
        }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[axis...].reduce(1, *)
        let storage = try TensorStorage.interleaved(parts.map(\.storage), blocks: outer, blockSizes: Array(repeating: inner, count: parts.count))
        return Tensor(shape: Array(first.shape[..<axis]) + [parts.count] + Array(first.shape[axis...]), storage: storage)
    }

    /// The slice at `index` along `axis`, that axis removed.
    func slice(at index: Int, along axis: Int) -> Tensor {
        var shape = self.shape, strides = self.strides
        let step = strides.remove(at: axis)
        shape.remove(at: axis)
        return Tensor(shape: shape, storage: storage.strided(shape: shape, sourceStrides: strides, offset: index * step))
    }
}
