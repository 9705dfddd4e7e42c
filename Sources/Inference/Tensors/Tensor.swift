/// A dense, row-major tensor.
public struct Tensor: Sendable, Equatable {
    public let shape: [Int]
    let storage: TensorStorage

    public var elementType: ElementType { storage.elementType }
    public var count: Int { storage.count }

    init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == storage.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float32(floats)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    public init(shape: [Int], uint8s: [UInt8]) { self.init(shape: shape, storage: .uint8(uint8s)) }
    public init(shape: [Int], int8s: [Int8]) { self.init(shape: shape, storage: .int8(int8s)) }
    public init(shape: [Int], int32s: [Int32]) { self.init(shape: shape, storage: .int32(int32s)) }
    public init(shape: [Int], bools: [Bool]) { self.init(shape: shape, storage: .bool(bools)) }

    /// The elements as Float (booleans become 0 and 1).
    public var floats: [Float] { storage.floats }

    /// The elements as Int64; floating-point values are truncated toward zero and saturated.
    public var int64s: [Int64] { storage.int64s }

    /// The elements of a string tensor; nil for any other type.
    public var strings: [String]? {
        if case .string(let values) = storage { values } else { nil }
    }

    public init(shape: [Int], strings: [String]) { self.init(shape: shape, storage: .string(strings)) }

    /// Element `index` (row-major) as `floats` and `int64s` give it, the others left unconverted.
    func float(at index: Int) -> Float { storage.float(at: index) }
    func int64(at index: Int) -> Int64 { storage.int64(at: index) }

    /// The same tensor with the same shape, reshaped without copying the elements.
    public func reshaped(to newShape: [Int]) -> Tensor { Tensor(shape: newShape, storage: storage) }

    /// Converts element by element with ONNX `Cast` semantics: float to integer truncates toward
    /// zero, integer to narrower integer wraps, anything nonzero becomes `true`, and float16
    /// rounds to the nearest half-precision value.
    /// - Throws: `InferenceError.unrepresentableValue` for NaN, infinity or a float outside the
    ///   target integer type's range.
    public func converted(to type: ElementType) throws -> Tensor {
        Tensor(shape: shape, storage: try storage.converted(to: type))
    }
}
