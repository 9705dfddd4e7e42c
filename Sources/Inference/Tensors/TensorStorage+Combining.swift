extension TensorStorage {
    /// The elements of `parts`, one after another; all parts must share one element type.
    static func concatenated(_ parts: [TensorStorage]) throws -> TensorStorage {
        try interleaved(parts, blocks: 1, blockSizes: parts.map(\.count))
    }

    /// `blocks` rounds of one block from each part in turn, `blockSizes[part]` elements each: a
    /// concatenation along an axis with `blocks` positions before it. All parts share one element type.
    static func interleaved(_ parts: [TensorStorage], blocks: Int, blockSizes: [Int]) throws -> TensorStorage {
        guard let first = parts.first else { throw InferenceError.invalidOperand("nothing to concatenate") }
        guard parts.allSatisfy({ $0.elementType == first.elementType }) else {
            throw InferenceError.invalidOperand("operands mix element types \(Set(parts.map(\.elementType.rawValue)).sorted())")
        }
        // Each part's case is first's, so every pattern below matches.
        switch first {
        case .float32: return .float32(interleave(parts, blocks, blockSizes) { if case .float32(let values) = $0 { values } else { [] } })
        case .float16: return .float16(interleave(parts, blocks, blockSizes) { if case .float16(let values) = $0 { values } else { [] } })
        case .int64: return .int64(interleave(parts, blocks, blockSizes) { if case .int64(let values) = $0 { values } else { [] } })
        case .int32: return .int32(interleave(parts, blocks, blockSizes) { if case .int32(let values) = $0 { values } else { [] } })
        case .int8: return .int8(interleave(parts, blocks, blockSizes) { if case .int8(let values) = $0 { values } else { [] } })
        case .uint8: return .uint8(interleave(parts, blocks, blockSizes) { if case .uint8(let values) = $0 { values } else { [] } })
        case .bool: return .bool(interleave(parts, blocks, blockSizes) { if case .bool(let values) = $0 { values } else { [] } })
        case .int4: return .int4(interleave(parts, blocks, blockSizes) { if case .int4(let values) = $0 { values } else { [] } })
        case .uint4: return .uint4(interleave(parts, blocks, blockSizes) { if case .uint4(let values) = $0 { values } else { [] } })
        }
    }

    private static func interleave<Element>(_ parts: [TensorStorage], _ blocks: Int, _ blockSizes: [Int],
                                            _ elements: (TensorStorage) -> [Element]) -> [Element] {
        let arrays = parts.map(elements), total = arrays.reduce(0) { $0 + $1.count }
        return [Element](recycledCapacity: total) { target, initialized in
            var written = 0
            for block in 0..<blocks {
                for (part, size) in zip(arrays, blockSizes) where size > 0 {
                    part.withUnsafeBufferPointer { (target.baseAddress! + written).initialize(from: $0.baseAddress! + block * size, count: size) }
                    written += size
                }
            }
            initialized = total
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
