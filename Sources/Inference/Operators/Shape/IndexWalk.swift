/// Calls `body` with every multi-index of `shape` in row-major order (one array, updated in place).
func forEachIndex(of shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
    guard !shape.contains(0) else { return }
    var index = [Int](repeating: 0, count: shape.count)
    while true {
        try body(index)
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// The row-major position of `index` in a tensor of these strides.
@inline(__always)
func position(of index: [Int], strides: [Int]) -> Int {
    var sum = 0
    for axis in index.indices { sum += index[axis] * strides[axis] }
    return sum
}

extension Tensor {
    /// A one-element tensor of this tensor's type holding `value` (0 is every type's zero, false for bool).
    func scalar(_ value: Float) throws -> Tensor {
        try Tensor(shape: [1], floats: [value]).converted(to: elementType)
    }

    /// This tensor's elements followed by `extra`'s: positions at and past `count` pick from `extra`
    /// (a padding or fill value, a scatter's updates).
    func joined(with extra: Tensor) throws -> TensorStorage {
        try TensorStorage.concatenated([storage, extra.storage])
    }
}
