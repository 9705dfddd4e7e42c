import Synchronization

/// The geometries an operator has met, by input size: building a window's position table costs as
/// much as a small convolution, and a deployed model sees the same few input sizes on every run.
final class SlidingWindowCache: Sendable {
    private struct Key: Hashable {
        let inputSize: [Int]
        let kernel: [Int]
    }

    private let geometries = Mutex<[Key: SlidingWindow]>([:])
    /// Enough for the sizes a model meets in practice, small enough that adversarial sizes cannot grow it without bound.
    private static let capacity = 16

    func geometry(inputSize: [Int], kernel: [Int], attributes: SlidingWindow.Attributes) throws -> SlidingWindow {
        let key = Key(inputSize: inputSize, kernel: kernel)
        if let known = geometries.withLock({ $0[key] }) { return known }
        let geometry = try SlidingWindow(inputSize: inputSize, kernel: kernel, attributes: attributes)
        geometries.withLock { cached in
            if cached.count >= Self.capacity { cached.removeAll() }
            cached[key] = geometry
        }
        return geometry
    }
}
