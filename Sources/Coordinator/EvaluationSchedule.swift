import ShadowEval

/// When each stage is evaluated next, under the policy's cadence (`evaluation:`): once enough
/// windows are waiting, or once enough time has passed since its last evaluation with any window
/// waiting. Without a cadence every stored window is evaluated at once. Stages are keyed by their
/// assignment id.
struct EvaluationSchedule {
    private let cadence: EvaluationCadence?
    private var stages: [String: (waiting: Int, lastEvaluated: ContinuousClock.Instant)] = [:]

    init(_ cadence: EvaluationCadence?) {
        self.cadence = cadence
    }

    /// Notes `windows` newly stored for the stage; true when it is due for evaluation now. A stage
    /// first seen now counts its time from now.
    mutating func stored(_ windows: Int, assignmentID: String, at now: ContinuousClock.Instant) -> Bool {
        precondition(windows >= 1, "only stored windows are noted")
        guard let cadence else { return true }
        var stage = stages[assignmentID] ?? (0, now)
        stage.waiting += windows
        stages[assignmentID] = stage
        return stage.waiting >= cadence.everyWindows || isOverdue(stage, at: now, cadence: cadence)
    }

    /// Stages with windows waiting whose time has come, in a stable order.
    func overdue(at now: ContinuousClock.Instant) -> [String] {
        guard let cadence else { return [] }
        return stages.filter { isOverdue($0.value, at: now, cadence: cadence) }.keys.sorted()
    }

    mutating func evaluated(_ assignmentID: String, at now: ContinuousClock.Instant) {
        stages[assignmentID] = (0, now)
    }

    /// A stage no longer evaluated (decided, past, paused or closed); its windows still count if it is
    /// evaluated again.
    mutating func forget(_ assignmentID: String) {
        stages[assignmentID] = nil
    }

    /// How long the timer may sleep between looks at `overdue`; nil: it needs no timer.
    var tick: Duration? {
        cadence.map { .milliseconds(max(1, $0.everyMillis / 4)) }
    }

    private func isOverdue(
        _ stage: (waiting: Int, lastEvaluated: ContinuousClock.Instant), at now: ContinuousClock.Instant, cadence: EvaluationCadence
    ) -> Bool {
        stage.waiting > 0 && stage.lastEvaluated.duration(to: now) >= .milliseconds(cadence.everyMillis)
    }
}
