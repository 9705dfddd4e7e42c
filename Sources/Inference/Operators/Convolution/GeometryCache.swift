import Synchronization

/// The window geometries an operator has met, by input and kernel size: building a position table
/// costs as much as a small convolution, and a deployed model sees the same few input sizes on
/// every run.
final class GeometryCache<Geometry: Sendable>: Sendable {
    private struct Key: Hashable {
        let inputSize: [Int]
        let kernel: [Int]
    }

    private let geometries = Mutex<[Key: Geometry]>([:])
    /// Enough for the sizes a model meets in practice, small enough that adversarial sizes cannot grow it without bound.
    private static var capacity: Int { 16 }

    /// The geometry for these sizes, built by `make` the first time they are met.
    func geometry(inputSize: [Int], kernel: [Int], make: () throws -> Geometry) throws -> Geometry {
        let key = Key(inputSize: inputSize, kernel: kernel)
        if let known = geometries.withLock({ $0[key] }) { return known }
        let geometry = try make()
        geometries.withLock { cached in
            if cached.count >= Self.capacity { cached.removeAll() }
            cached[key] = geometry
        }
        return geometry
    }
}

extension GeometryCache where Geometry == SlidingWindow {
    func geometry(inputSize: [Int], kernel: [Int], attributes: SlidingWindow.Attributes) throws -> SlidingWindow {
        try geometry(inputSize: inputSize, kernel: kernel) {
            try SlidingWindow(inputSize: inputSize, kernel: kernel, attributes: attributes)
        }
    }
}
