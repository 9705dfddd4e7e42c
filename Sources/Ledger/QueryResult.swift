/// The result of an ad-hoc SQL query, rendered as text for printing. NULL is rendered as "NULL".
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]

    /// Bytes as lowercase hex. Built as UTF-8 in one buffer: a model's chunk is a megabyte, and a
    /// formatted string per byte took seconds per chunk.
    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A blob as both readers render one: SQL's hex literal, `x'0a1b'`.
    static func blobText<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        "x'" + hex(bytes) + "'"
    }
}
