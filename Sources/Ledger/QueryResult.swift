/// The result of an ad-hoc SQL query, rendered as text for printing. NULL is rendered as "NULL".
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]

    /// Bytes as lowercase hex.
    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// A blob as both readers render one: SQL's hex literal, `x'0a1b'`.
    static func blobText<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        "x'" + hex(bytes) + "'"
    }
}
