extension TensorStorage {
    /// The elements of `parts`, one after another; all parts must share one element type.
    static func concatenated(_ parts: [TensorStorage]) throws -> TensorStorage {
        guard let first = parts.first else { throw InferenceError.invalidOperand("nothing to concatenate") }
        guard parts.allSatisfy({ $0.elementType == first.elementType }) else {
            throw InferenceError.invalidOperand("operands mix element types \(Set(parts.map(\.elementType.rawValue)).sorted())")
        }
        switch first {
        case .float32: return .float32(parts.flatMap(\.floats))
        case .float16: return .float16(parts.flatMap(\.floats))
        case .int64: return .int64(parts.flatMap(\.int64s))
        case .int32: return .int32(parts.flatMap { $0.int64s.map { Int32(truncatingIfNeeded: $0) } })
        case .int8: return .int8(parts.flatMap { $0.int64s.map { Int8(truncatingIfNeeded: $0) } })
        case .uint8: return .uint8(parts.flatMap { $0.int64s.map { UInt8(truncatingIfNeeded: $0) } })
        case .bool: return .bool(parts.flatMap { $0.int64s.map { $0 != 0 } })
        case .int4: return .int4(parts.flatMap { $0.int64s.map { Int8(truncatingIfNeeded: $0) } })
        case .uint4: return .uint4(parts.flatMap { $0.int64s.map { UInt8(truncatingIfNeeded: $0) } })
        }
    }
}

extension Tensor {
    /// A floating-point result in `type` (float16 results are rounded to half precision).
    init(shape: [Int], floats: [Float], as type: ElementType) {
        self.init(shape: shape, storage: type == .float16 ? .float16(floats.map { Float(Float16($0)) }) : .float32(floats))
    }

    /// A tensor of `shape` whose element at each output position is this tensor's element at `positions[i]`.
    func gathered(_ positions: [Int], shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: storage.gathered(positions))
    }

    /// Row-major strides of this tensor's shape.
    var strides: [Int] { rowMajorStrides(shape) }
}

/// Row-major strides of `shape`: the element distance between neighbours along each axis.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    for axis in shape.indices.dropLast().reversed() {
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    return strides
}
