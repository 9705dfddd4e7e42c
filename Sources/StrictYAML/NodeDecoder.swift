import Foundation
import Yams

/// A `Decoder` over a composed Yams node that notes every key the decoded type reads (present or
/// not), so that `KeyReads` can refuse the keys it never read.
struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    let reads: KeyReads
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let mapping = node.mapping else { throw mismatch(of: [String: String].self, "expected a mapping of keys") }
        return KeyedDecodingContainer(KeyedNodeContainer(mapping: mapping, codingPath: codingPath, reads: reads))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let items = node.sequence else { throw mismatch(of: [String].self, "expected a list") }
        return UnkeyedNodeContainer(items: Array(items), codingPath: codingPath, reads: reads)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(of type: Any.Type, _ reason: String) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: reason))
    }

    static func path(_ codingPath: [any CodingKey]) -> [String] {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
    }
}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && NSNull.construct(from: scalar) != nil
    }

    func decode(_ type: Bool.Type) throws -> Bool { try scalar(Bool.construct) }
    func decode(_ type: String.Type) throws -> String { try scalar { $0.string } }
    func decode(_ type: Double.Type) throws -> Double { try scalar(Double.construct) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }

    private func scalar<T>(_ construct: (Node.Scalar) -> T?) throws -> T {
        guard let scalar = node.scalar, let value = construct(scalar) else { throw mismatch(of: T.self, "got \(describe())") }
        return value
    }

    /// A whole number that fits `T` exactly.
    private func integer<T: FixedWidthInteger>() throws -> T {
        guard let value = try? scalar(Int64.construct), let exact = T(exactly: value) else { throw mismatch(of: T.self, "got \(describe())") }
        return exact
    }

    private func describe() -> String {
        switch node {
        case .scalar(let scalar): "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// A mapping's keys as the decoded type asks for them; each one asked for is noted as read.
struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Node.Mapping
    let codingPath: [any CodingKey]
    let reads: KeyReads

    var allKeys: [Key] { mapping.keys.compactMap { $0.string.flatMap(Key.init(stringValue:)) } }

    func contains(_ key: Key) -> Bool { value(for: key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = value(for: key) else { return true }
        return decoder(node, key).decodeNil()
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(type, key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeValue(type, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(try required(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(try required(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { NodeDecoder(node: .mapping(mapping), codingPath: codingPath, reads: reads) }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder(try required(key), key) }

    private func decodeValue<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try T(from: decoder(try required(key), key))
    }

    /// The key's value, noting the key as read whether or not the file has it.
    private func value(for key: Key) -> Node? {
        reads.note(NodeDecoder.path(codingPath + [key]))
        return mapping.first { $0.key.string == key.stringValue }?.value
    }

    private func required(_ key: Key) throws -> Node {
        guard let node = value(for: key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'"))
        }
        return node
    }

    private func decoder(_ node: Node, _ key: Key) -> NodeDecoder {
        NodeDecoder(node: node, codingPath: codingPath + [key], reads: reads)
    }
}

/// A list's items in order.
struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let items: [Node]
    let codingPath: [any CodingKey]
    let reads: KeyReads
    private(set) var currentIndex = 0

    init(items: [Node], codingPath: [any CodingKey], reads: KeyReads) {
        self.items = items
        self.codingPath = codingPath
        self.reads = reads
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard try next(peek: true).decodeNil() else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: try next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }

    private mutating func next(peek: Bool = false) throws -> NodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the list has only \(items.count) items"))
        }
        let decoder = NodeDecoder(node: items[currentIndex], codingPath: codingPath + [IndexKey(intValue: currentIndex)], reads: reads)
        if !peek { currentIndex += 1 }
        return decoder
    }
}

/// A list position in a coding path.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "[\(intValue ?? 0)]" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
