/// Multidirectional (numpy-style) broadcasting of two operands.
struct Broadcasting {
    let shape: [Int]
    private let leftStrides: [Int]
    private let rightStrides: [Int]

    init(_ left: [Int], _ right: [Int]) throws {
        let rank = max(left.count, right.count)
        let paddedLeft = Array(repeating: 1, count: rank - left.count) + left
        let paddedRight = Array(repeating: 1, count: rank - right.count) + right
        shape = try zip(paddedLeft, paddedRight).map { l, r in
            guard l == r || l == 1 || r == 1 else {
                throw InferenceError.invalidOperand("shapes \(left) and \(right) cannot be broadcast together")
            }
            return l == 1 ? r : l
        }
        leftStrides = Self.strides(of: paddedLeft)
        rightStrides = Self.strides(of: paddedRight)
    }

    /// Applies `combine` element by element over the broadcast shape. Always inlined, so that a
    /// literal `combine` is inlined into the loops and they vectorise.
    @inline(__always)
    func apply<T, Result>(_ left: [T], _ right: [T], _ combine: (T, T) -> Result) -> [Result] {
        let count = shape.reduce(1, *)
        if left.count == count, right.count == count || right.count == 1 || isTrailingBlock(rightStrides, size: right.count) {
            return Self.repeating(right, over: left, count: count) { combine($0, $1) }
        }
        if right.count == count, left.count == 1 || isTrailingBlock(leftStrides, size: left.count) {
            return Self.repeating(left, over: right, count: count) { combine($1, $0) }
        }
        return general(left, right, count: count, combine)
    }

    /// `full` (all `count` elements) combined with `block` repeated over it: the same shape, a
    /// scalar, or a trailing block such as a bias row. Plain loops over buffers, so they vectorise.
    @inline(__always)
    private static func repeating<T, Result>(
        _ block: [T], over full: [T], count: Int, _ combine: (T, T) -> Result
    ) -> [Result] {
        [Result](recycledCapacity: count) { output, initialized in
            full.withUnsafeBufferPointer { full in
                block.withUnsafeBufferPointer { block in
                    // Plain pointers and no index sums that could trap, or the loops do not vectorise.
                    guard count > 0 else { return }
                    let (out, source, repeated, width) = (output.baseAddress!, full.baseAddress!, block.baseAddress!, block.count)
                    if width == 1 {
                        let value = repeated[0]
                        for index in 0..<count { (out + index).initialize(to: combine(source[index], value)) }
                        return
                    }
                    for start in stride(from: 0, to: count, by: width) {
                        let (rowOut, rowSource) = (out + start, source + start)
                        for offset in 0..<width { (rowOut + offset).initialize(to: combine(rowSource[offset], repeated[offset])) }
                    }
                }
            }
            initialized = count
        }
    }

    /// True when an operand's elements repeat as one contiguous block over the output's trailing dimensions.
    private func isTrailingBlock(_ strides: [Int], size: Int) -> Bool {
        var covered = 1
        for axis in shape.indices.reversed() where covered < size {
            guard strides[axis] == covered else { return false }
            covered *= shape[axis]
        }
        return covered == size
    }

    /// Any broadcast: a tight loop along the last axis (where each operand steps 1 or 0), rows
    /// walked with strides.
    private func general<T, Result>(_ left: [T], _ right: [T], count: Int, _ combine: (T, T) -> Result) -> [Result] {
        let (shape, strides) = Self.mergingAxes(shape, [leftStrides, rightStrides])
        let (leftStrides, rightStrides) = (strides[0], strides[1])
        let width = shape.last ?? 1
        let (leftStep, rightStep) = (leftStrides.last ?? 0, rightStrides.last ?? 0)
        return [Result](recycledCapacity: count) { output, initialized in
            left.withUnsafeBufferPointer { left in
                right.withUnsafeBufferPointer { right in
                    Self.forEachRow(of: shape, leftStrides, rightStrides) { row, leftStart, rightStart in
                        let out = output.baseAddress! + row * width
                        let (leftRow, rightRow) = (left.baseAddress! + leftStart, right.baseAddress! + rightStart)
                        switch (leftStep, rightStep) {
                        case (1, 1):
                            for j in 0..<width { (out + j).initialize(to: combine(leftRow[j], rightRow[j])) }
                        case (1, 0):
                            let value = rightRow[0]
                            for j in 0..<width { (out + j).initialize(to: combine(leftRow[j], value)) }
                        case (0, 1):
                            let value = leftRow[0]
                            for j in 0..<width { (out + j).initialize(to: combine(value, rightRow[j])) }
                        default:
                            for j in 0..<width {
                                (out + j).initialize(to: combine(left[leftStart + j * leftStep], right[rightStart + j * rightStep]))
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// The same walk over fewer axes: an axis whose stride, in every operand, is its successor's
    /// stride times its successor's size steps as the two together do, so they merge. A per-channel
    /// bias over [N, C, H, W] then runs along whole planes, and a channel shuffle's Transpose copies
    /// planes, not rows.
    static func mergingAxes(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        guard var size = shape.last else { return (shape, strides) }
        var step = strides.map { $0[shape.count - 1] }
        var mergedShape: [Int] = [], mergedStrides: [[Int]] = strides.map { _ in [] }
        for axis in shape.indices.dropLast().reversed() {
            if strides.indices.allSatisfy({ strides[$0][axis] == step[$0] * size }) {
                size *= shape[axis]
                continue
            }
            mergedShape.append(size)
            for operand in strides.indices { mergedStrides[operand].append(step[operand]) }
            (size, step) = (shape[axis], strides.map { $0[axis] })
        }
        mergedShape.append(size)
        for operand in strides.indices { mergedStrides[operand].append(step[operand]) }
        return (mergedShape.reversed(), mergedStrides.map { $0.reversed() })
    }

    /// Calls `body(row, leftStart, rightStart)` for every row of `shape` (each index of all axes but
    /// the last) in row-major order, with where that row starts in two operands of the given strides.
    @inline(__always)
    static func forEachRow(of shape: [Int], _ leftStrides: [Int], _ rightStrides: [Int], _ body: (Int, Int, Int) -> Void) {
        guard !shape.contains(0) else { return }
        let outer = shape.count - 1
        let rows = shape.dropLast().reduce(1, *)
        var index = [Int](repeating: 0, count: max(outer, 0))
        var leftOffset = 0, rightOffset = 0
        for row in 0..<rows {
            body(row, leftOffset, rightOffset)
            var axis = outer - 1
            while axis >= 0 {
                index[axis] += 1
                leftOffset += leftStrides[axis]
                rightOffset += rightStrides[axis]
                if index[axis] < shape[axis] { break }
                leftOffset -= leftStrides[axis] * shape[axis]
                rightOffset -= rightStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// For each element of `output` (row-major), the position of the `operand` element that
    /// broadcasts onto it; `operand` must broadcast to `output` (Expand, Where).
    static func positions(of operand: [Int], in output: [Int]) throws -> [Int] {
        let combined = try Broadcasting(operand, output)
        guard combined.shape == output else {
            throw InferenceError.invalidOperand("shape \(operand) does not broadcast to \(output)")
        }
        let count = output.reduce(1, *)
        return combined.general(Array(0..<operand.reduce(1, *)), Array(repeating: 0, count: count), count: count) { position, _ in position }
    }

    /// Row-major strides, 0 along broadcast (size 1) dimensions.
    private static func strides(of shape: [Int]) -> [Int] {
        var strides = Array(repeating: 0, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = shape[axis] == 1 ? 0 : stride
            stride *= shape[axis]
        }
        return strides
    }
}
