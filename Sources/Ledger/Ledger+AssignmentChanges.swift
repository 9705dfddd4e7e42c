/// Several coordinators on one ledger: each pushes assignments to the agents connected to it, so
/// each must hear of a change another made (a stage advanced, agents enrolled, a rollout closed).
extension Ledger {
    /// Calls `changed` within about a second of another coordinator committing such a change
    /// (PostgreSQL's LISTEN/NOTIFY), until the task is cancelled. On SQLite there is no other.
    public func listenForAssignmentChanges(_ changed: @escaping @Sendable () -> Void) async {
        await store.listenForAssignmentChanges(changed)
    }
}
