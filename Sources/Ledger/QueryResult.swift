/// The result of an ad-hoc SQL query, rendered as text for printing. NULL is rendered as "NULL".
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]
}
