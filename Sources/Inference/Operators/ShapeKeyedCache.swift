import NIOConcurrencyHelpers

/// What an operator derives from its operands' shapes (a window's position table, a broadcast's
/// strides), kept by those shapes: a deployed model meets the same few shapes on every run, and
/// deriving them again costs allocations or, for a window, as much as a small convolution.
final class ShapeKeyedCache<Value: Sendable>: Sendable {
    private struct Key: Hashable {
        let first: [Int]
        let second: [Int]
    }

    private let values = NIOLockedValueBox<[Key: Value]>([:])
    /// Enough for the sizes a model meets in practice, small enough that adversarial sizes cannot grow it without bound.
    private static var capacity: Int { 16 }

    /// The value for these shapes, made by `make` the first time they are met.
    func value(_ first: [Int], _ second: [Int], make: () throws -> Value) throws -> Value {
        let key = Key(first: first, second: second)
        if let known = values.withLockedValue({ $0[key] }) { return known }
        let value = try make()
        values.withLockedValue { cached in
            if cached.count >= Self.capacity { cached.removeAll() }
            cached[key] = value
        }
        return value
    }
}

/// Keyed by whole shapes the run already holds, not by their spatial slices, so that a shape met
/// before costs no allocation.
extension ShapeKeyedCache where Value == SlidingWindow {
    /// The window over X [N, C, spatial...] of a kernel with `kernel` taps per spatial axis.
    func geometry(inputShape: [Int], kernel: [Int], attributes: SlidingWindow.Attributes) throws -> SlidingWindow {
        try value(inputShape, kernel) {
            try SlidingWindow(inputSize: Array(inputShape.dropFirst(2)), kernel: kernel, attributes: attributes)
        }
    }

    /// The window over X [N, C, spatial...] of the filters W [M, C/group, kernel...].
    func geometry(inputShape: [Int], weightShape: [Int], attributes: SlidingWindow.Attributes) throws -> SlidingWindow {
        try value(inputShape, weightShape) {
            try SlidingWindow(inputSize: Array(inputShape.dropFirst(2)), kernel: Array(weightShape.dropFirst(2)), attributes: attributes)
        }
    }
}

extension ShapeKeyedCache where Value == Broadcasting {
    func broadcasting(_ left: [Int], _ right: [Int]) throws -> Broadcasting {
        try value(left, right) { try Broadcasting(left, right) }
    }
}
