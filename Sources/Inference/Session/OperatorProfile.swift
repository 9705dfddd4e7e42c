/// Where a session's runs spend their time, per operator type: what `quantfleet bench --profile`
/// prints, to find the operators worth a faster kernel or a fusion.
public struct OperatorProfile: Sendable {
    public struct Entry: Sendable {
        public let opType: String
        /// Distinct nodes of this type that ran.
        public let nodes: Int
        public let total: Duration
    }

    private var totals: [String: Duration] = [:]
    private var nodesByType: [String: Set<String>] = [:]

    public init() {}

    mutating func add(_ elapsed: Duration, node: String, opType: String) {
        totals[opType, default: .zero] += elapsed
        nodesByType[opType, default: []].insert(node)
    }

    /// Operator types, the most expensive first.
    public var entries: [Entry] {
        totals.map { Entry(opType: $0.key, nodes: nodesByType[$0.key]?.count ?? 0, total: $0.value) }
            .sorted { ($0.total, $1.opType) > ($1.total, $0.opType) }
    }
}
