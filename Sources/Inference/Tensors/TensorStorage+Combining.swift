extension TensorStorage {
    /// The elements of `parts`, one after another; all parts must share one element type.
    static func concatenated(_ parts: [TensorStorage]) throws -> TensorStorage {
        guard let first = parts.first else { throw InferenceError.invalidOperand("nothing to concatenate") }
        guard parts.allSatisfy({ $0.elementType == first.elementType }) else {
            throw InferenceError.invalidOperand("operands mix element types \(Set(parts.map(\.elementType.rawValue)).sorted())")
        }
        // Each part's case is first's, so every pattern below matches.
        switch first {
        case .float32: return .float32(joined(parts) { if case .float32(let values) = $0 { values } else { [] } })
        case .float16: return .float16(joined(parts) { if case .float16(let values) = $0 { values } else { [] } })
        case .int64: return .int64(joined(parts) { if case .int64(let values) = $0 { values } else { [] } })
        case .int32: return .int32(joined(parts) { if case .int32(let values) = $0 { values } else { [] } })
        case .int8: return .int8(joined(parts) { if case .int8(let values) = $0 { values } else { [] } })
        case .uint8: return .uint8(joined(parts) { if case .uint8(let values) = $0 { values } else { [] } })
        case .bool: return .bool(joined(parts) { if case .bool(let values) = $0 { values } else { [] } })
        case .int4: return .int4(joined(parts) { if case .int4(let values) = $0 { values } else { [] } })
        case .uint4: return .uint4(joined(parts) { if case .uint4(let values) = $0 { values } else { [] } })
        }
    }

    private static func joined<Element>(_ parts: [TensorStorage], _ elements: (TensorStorage) -> [Element]) -> [Element] {
        [Element](recycledCapacity: parts.reduce(0) { $0 + $1.count }) { buffer, written in
            for part in parts {
                elements(part).withUnsafeBufferPointer { part in
                    guard let source = part.baseAddress else { return }
                    (buffer.baseAddress! + written).initialize(from: source, count: part.count)
                    written += part.count
                }
            }
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
