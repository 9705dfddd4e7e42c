/// Bounds how many model transfers the coordinator streams at once, so a fleet reconnecting after an
/// outage cannot saturate its uplink or its disk: the rest wait, first come first served.
actor TransferSlots {
    private let limit: Int
    private let metrics: CoordinatorMetrics
    private var active = 0 { didSet { metrics.transfersActive.set(to: Double(active)) } }
    private var waiting: [CheckedContinuation<Void, Never>] = [] {
        didSet { metrics.transfersWaiting.set(to: Double(waiting.count)) }
    }

    init(limit: Int, metrics: CoordinatorMetrics) {
        precondition(limit >= 1, "at least one transfer must be allowed")
        self.limit = limit
        self.metrics = metrics
    }

    /// Runs `transfer` once a slot is free. A waiter cancelled before its turn gives its slot on.
    func run<T: Sendable>(_ transfer: @Sendable () async throws -> T) async throws -> T {
        if active < limit {
            active += 1
        } else {
            await withCheckedContinuation { waiting.append($0) }  // the releaser hands its slot over
        }
        defer { release() }
        try Task.checkCancellation()
        return try await transfer()
    }

    private func release() {
        if waiting.isEmpty {
            active -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
