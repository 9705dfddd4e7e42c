/// A graph input or output as the model declares it: a tensor, or a sequence of tensors, either
/// of which may be optional, or an ai.onnx.ml map or sequence of maps.
public struct TensorInfo: Sendable, Equatable {
    public enum Container: String, Sendable {
        case tensor, sequence
        case optionalTensor = "optional tensor", optionalSequence = "optional sequence"
        /// ai.onnx.ml's map(K, V) of scalars, and ZipMap's seq(map(K, V)).
        case map, mapSequence = "sequence of maps"

        public var isSequence: Bool { self == .sequence || self == .optionalSequence }
        public var isOptional: Bool { self == .optionalTensor || self == .optionalSequence }
    }

    public let name: String
    /// The tensor's element type (a sequence's tensors', a map's values').
    public let elementType: ElementType
    /// A map's key type (int64 or string); nil for the others.
    public let keyType: ElementType?
    /// One entry per dimension; nil marks a dynamic dimension (such as the batch).
    public let shape: [Int?]
    public let container: Container

    public init(name: String, elementType: ElementType, shape: [Int?], container: Container = .tensor, keyType: ElementType? = nil) {
        self.name = name
        self.elementType = elementType
        self.keyType = keyType
        self.shape = shape
        self.container = container
    }
}
