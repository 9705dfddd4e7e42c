/// Unique: the distinct elements (or slices along `axis`), sorted or in order of first occurrence,
/// with each one's first index, the inverse indices that rebuild the input, and the counts.
struct Unique: Operator {
    let axis: Int?
    let sorted: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis")
        sorted = try context.attributes.int("sorted", default: 1) != 0
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        // Without an axis the flattened elements are the slices, one element each.
        let shape = axis == nil ? [x.count] : x.shape
        let axis = try normalizedAxis(self.axis ?? 0, rank: shape.count)
        let length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        // Keys in double precision: exact for every integer up to 2^53 and every float.
        let values = x.storage.doubles
        let slices: [[Double]] = (0..<length).map { slice in
            var key: [Double] = []
            for block in 0..<outer {
                let start = (block * length + slice) * inner
                key.append(contentsOf: values[start..<(start + inner)])
            }
            return key
        }
        var firstIndex: [[Double]: Int] = [:]
        var order: [Int] = []
        for (slice, key) in slices.enumerated() where firstIndex[key] == nil {
            firstIndex[key] = slice
            order.append(slice)
        }
        if sorted { order.sort { slices[$0].lexicographicallyPrecedes(slices[$1]) } }
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { (slices[$0.element], $0.offset) })
        let inverse = slices.map { Int64(rank[$0]!) }
        var counts = [Int64](repeating: 0, count: order.count)
        for index in inverse { counts[Int(index)] += 1 }
        var outputShape = shape
        outputShape[axis] = order.count
        let starts = (0..<outer).flatMap { block in order.map { (block * length + $0) * inner } }
        outputs.append(Tensor(shape: outputShape, storage: x.storage.runs(from: starts, width: inner)))
        outputs.append(Tensor(shape: [order.count], int64s: order.map(Int64.init)))
        outputs.append(Tensor(shape: [length], int64s: inverse))
        outputs.append(Tensor(shape: [order.count], int64s: counts))
    }
}
