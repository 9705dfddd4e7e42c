/// A graph input or output as the model declares it: a tensor, or a sequence of tensors, either
/// of which may be optional.
public struct TensorInfo: Sendable, Equatable {
    public enum Container: String, Sendable {
        case tensor, sequence
        case optionalTensor = "optional tensor", optionalSequence = "optional sequence"

        public var isSequence: Bool { self == .sequence || self == .optionalSequence }
        public var isOptional: Bool { self == .optionalTensor || self == .optionalSequence }
    }

    public let name: String
    /// The tensor's element type (a sequence's tensors').
    public let elementType: ElementType
    /// One entry per dimension; nil marks a dynamic dimension (such as the batch).
    public let shape: [Int?]
    public let container: Container

    public init(name: String, elementType: ElementType, shape: [Int?], container: Container = .tensor) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.container = container
    }
}
