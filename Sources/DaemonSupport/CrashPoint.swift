import Foundation

/// A place in a daemon where a fault campaign can SIGKILL it in the middle of an operation, as
/// FoundationDB's and SQLite's crash tests do: a kill sent from outside at a random moment seldom
/// lands inside a commit that takes a millisecond. The campaign arms a point by creating a file of
/// that name in the directory `QUANTFLEET_CRASH_POINTS_DIR` names; the first time the process
/// reaches the point afterwards, it removes the file and kills itself. Without the variable (every
/// real deployment) `reach()` is a comparison with nil.
public enum CrashPoint: String, Sendable, CaseIterable {
    /// Coordinator: a batch of windows is written to the ledger, and its COMMIT has not run.
    case ledgerCommit = "ledger-commit"
    /// Agent: a sealed window and its sequence number are written to the spool, not yet committed.
    case windowSeal = "window-seal"
    /// Agent: a model chunk is appended to its partial file, which is neither checked nor renamed.
    case modelDownload = "model-download"

    public static let environmentVariable = "QUANTFLEET_CRASH_POINTS_DIR"

    /// Read once per process: a campaign arms points by files, not by changing a daemon's environment.
    private static let directory: String? = ProcessInfo.processInfo.environment[environmentVariable]

    /// SIGKILLs this process if the point is armed, disarming it first so that the restarted
    /// process runs on. `unlink` succeeds for one caller only, so a point fires once per arming.
    public func reach() {
        guard let directory = Self.directory else { return }
        if unlink("\(directory)/\(rawValue)") == 0 {
            kill(getpid(), SIGKILL)
        }
    }
}
