/// A graph input or output as the model declares it.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let elementType: ElementType
    /// One entry per dimension; nil marks a dynamic dimension (such as the batch).
    public let shape: [Int?]

    public init(name: String, elementType: ElementType, shape: [Int?]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}
