import DaemonSupport

/// Takes a batch of labels for requests answered earlier, whatever carried it (`POST /v2/labels`, or
/// gRPC's `LabelService`): each label is a class per row of the request whose answer carried `id`.
/// The batch is applied in one spool transaction and sealed as late-label deltas, which the link
/// then sends.
struct LateLabelIntake: Sendable {
    let spool: WindowSpool
    let notifier: WindowNotifier
    let horizonMillis: Int
    let metrics: AgentMetrics
    let clock: WallClock

    struct Outcome: Sendable, Equatable {
        var accepted: Int
        var notAwaited: [String]
    }

    func apply(_ entries: [(id: String, rows: [Int])]) throws -> Outcome {
        let labels = entries.flatMap { entry in
            entry.rows.enumerated().map { WindowSpool.LateLabel(requestID: entry.id, row: $0.offset, label: $0.element) }
        }
        let applied = try spool.applyLabels(labels, horizonMillis: Int64(horizonMillis), nowMillis: Int64(clock.nowMillis))
        metrics.labelsAccepted.increment(by: Int64(applied.accepted))
        metrics.labelsNotAwaited.increment(by: Int64(applied.notAwaited.count))
        metrics.labelsDropped.increment(by: Int64(applied.expired))
        if !applied.deltas.isEmpty { notifier.signal() }
        return Outcome(accepted: applied.accepted, notAwaited: applied.notAwaited)
    }

    /// Why an entry's label cannot be taken; nil when it can.
    static func problem(id: String, rows: [Int]) -> String? {
        rows.isEmpty || rows.contains(where: { $0 < 0 }) ? "label of '\(id)' must be a class index >= 0, or a list of them" : nil
    }
}
