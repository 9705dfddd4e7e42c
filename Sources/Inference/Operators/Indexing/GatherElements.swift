/// GatherElements: output[i][j][k] = data[i][indices[i][j][k]][k] along `axis` (output shaped as indices).
struct GatherElements: SingleOutputOperator {
    let axis: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), indices = try inputs.required(1)
        return data.gathered(try Self.positions(in: data.shape, addressedBy: indices, along: axis), shape: indices.shape)
    }

    /// For each element of `indices`, the data position it names: its own index with the index
    /// along `axis` replaced by its value (GatherElements reads there, ScatterElements writes).
    static func positions(in dataShape: [Int], addressedBy indices: Tensor, along axis: Int) throws -> [Int] {
        let axis = try normalizedAxis(axis, rank: dataShape.count)
        guard indices.shape.count == dataShape.count else {
            throw InferenceError.invalidOperand("indices \(indices.shape) and data \(dataShape) must have one rank")
        }
        let along = try Gather.positions(of: indices, length: dataShape[axis], axis: axis), strides = rowMajorStrides(dataShape)
        var positions: [Int] = []
        positions.reserveCapacity(indices.count)
        var element = 0
        forEachIndex(of: indices.shape) { index in
            var offset = along[element] * strides[axis]
            for other in index.indices where other != axis { offset += index[other] * strides[other] }
            positions.append(offset)
            element += 1
        }
        return positions
    }
}

/// GatherND: slices of data addressed by the last axis of indices, after `batch_dims` shared leading axes.
struct GatherND: SingleOutputOperator {
    let batchDimensions: Int

    init(_ context: OperatorContext) throws {
        batchDimensions = try context.attributes.int("batch_dims", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), indices = try inputs.required(1)
        let addressing = try NDAddressing(data: data.shape, indices: indices, batchDimensions: batchDimensions)
        var starts: [Int] = []
        starts.reserveCapacity(addressing.tupleCount)
        for tuple in 0..<addressing.tupleCount { starts.append(try addressing.start(ofTuple: tuple)) }
        let shape = Array(indices.shape.dropLast()) + addressing.sliceShape
        return Tensor(shape: shape, storage: data.storage.runs(from: starts, width: addressing.sliceSize))
    }
}

/// How GatherND and ScatterND address data: each tuple of the indices' last axis (after the shared
/// batch axes) names the start of a slice of the remaining axes.
struct NDAddressing {
    let dataShape: [Int]
    let tuples: [Int64]
    let tupleLength: Int
    let tupleCount: Int
    let batchDimensions: Int
    let sliceShape: [Int]
    let sliceSize: Int
    private let dataStrides: [Int]
    private let tuplesPerBatch: Int

    init(data: [Int], indices: Tensor, batchDimensions: Int) throws {
        guard let length = indices.shape.last, indices.shape.count >= 1, batchDimensions + length <= data.count,
              batchDimensions < indices.shape.count, Array(data.prefix(batchDimensions)) == Array(indices.shape.prefix(batchDimensions)) else {
            throw InferenceError.invalidOperand("indices \(indices.shape) cannot address data \(data) with batch_dims \(batchDimensions)")
        }
        dataShape = data
        tuples = indices.int64s
        tupleLength = length
        tupleCount = indices.shape.dropLast().reduce(1, *)
        self.batchDimensions = batchDimensions
        sliceShape = Array(data[(batchDimensions + length)...])
        sliceSize = sliceShape.reduce(1, *)
        dataStrides = rowMajorStrides(data)
        tuplesPerBatch = indices.shape[batchDimensions..<(indices.shape.count - 1)].reduce(1, *)
    }

    /// The data position where tuple `tuple`'s slice starts.
    func start(ofTuple tuple: Int) throws -> Int {
        let batch = tuplesPerBatch == 0 ? 0 : tuple / tuplesPerBatch
        var offset = batchDimensions == 0 ? 0 : batch * dataStrides[batchDimensions - 1]
        for component in 0..<tupleLength {
            let axis = batchDimensions + component, size = dataShape[axis]
            let raw = Int(tuples[tuple * tupleLength + component]), index = raw < 0 ? raw + size : raw
            guard (0..<size).contains(index) else { throw InferenceError.invalidOperand("index \(raw) is out of range for axis \(axis) of size \(size)") }
            offset += index * dataStrides[axis]
        }
        return offset
    }
}
