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
        return first.rearranged(Interleaving(parts: parts, blocks: blocks, blockSizes: blockSizes))
    }

    /// Every part's array is of the first's element type: the parts share one case.
    private struct Interleaving: ElementRearrangement {
        let parts: [TensorStorage], blocks: Int, blockSizes: [Int]

        func callAsFunction<Element>(_ first: [Element]) -> [Element] {
            let arrays = parts.map { $0.elements as! [Element] }, total = arrays.reduce(0) { $0 + $1.count }
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
}

extension Tensor {
    /// A floating-point result in `type` (float16 results are rounded to half precision).
    /// A floating-point result in `type`, rounded to its precision (float16, bfloat16, float8, float4)
    /// or widened (float64).
    init(shape: [Int], floats: [Float], as type: ElementType) {
        let storage: TensorStorage = switch type {
        case .float16: .float16(floats.map { Float(Float16($0)) })
        case .bfloat16: .bfloat16(floats.map(TensorStorage.roundedToBFloat16))
        case .float64: .float64(floats.map(Double.init))
        case let type where type.smallFloatFormat != nil: .smallFloat(type.smallFloatFormat!, floats.map { type.smallFloatFormat!.rounded($0) })
        default: .float32(floats)
        }
        self.init(shape: shape, storage: storage)
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
