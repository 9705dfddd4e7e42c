/// TopK: the k largest (or smallest) values along an axis and their int64 indices; k is an attribute
/// before opset 10 and an input from then on. Ties keep the lower index first, as ONNX specifies.
struct TopK: Operator {
    let axis: Int
    let largest: Bool
    let attributeK: Int?

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
        largest = try context.attributes.int("largest", default: 1) != 0
        attributeK = context.opset < 10 ? try context.attributes.requiredInt("k") : nil
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let k = try attributeK ?? Int(try Self.single(inputs.required(1)))
        let length = x.shape[axis]
        guard (0...length).contains(k) else { throw InferenceError.invalidOperand("k = \(k) is outside 0...\(length)") }
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        let values = x.floats
        var positions: [Int] = [], indices: [Int64] = []
        var shape = x.shape
        shape[axis] = k
        positions.reserveCapacity(outer * k * inner)
        // Output order is [outer, k, inner]: collect each (outer, inner) line's winners, then interleave.
        var winners = [[Int]](repeating: [], count: outer * inner)
        for block in 0..<outer {
            for offset in 0..<inner {
                let base = block * length * inner + offset
                let order = (0..<length).sorted { a, b in
                    let (va, vb) = (values[base + a * inner], values[base + b * inner])
                    return va == vb ? a < b : (largest ? va > vb : va < vb)
                }
                winners[block * inner + offset] = Array(order.prefix(k))
            }
        }
        for block in 0..<outer {
            for rank in 0..<k {
                for offset in 0..<inner {
                    let winner = winners[block * inner + offset][rank]
                    positions.append(block * length * inner + winner * inner + offset)
                    indices.append(Int64(winner))
                }
            }
        }
        outputs.append(x.gathered(positions, shape: shape))
        outputs.append(Tensor(shape: shape, int64s: indices))
    }

    private static func single(_ tensor: Tensor) throws -> Int64 {
        guard tensor.count == 1 else { throw InferenceError.invalidOperand("K must hold one value, got shape \(tensor.shape)") }
        return tensor.int64(at: 0)
    }
}
