/// Why the ledger refused an operation.
public enum LedgerError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case notALedger(path: String)
    case olderSchema(path: String, schema: String, needed: String)
    case copyFailed(to: String, reason: String)
    case backupFailed(to: String, reason: String)
    /// Migrations this version does not know: a newer QuantFleet wrote the ledger.
    case newerSchema(path: String, unknown: [String], known: String)
    case unknownModel(sha256: String)
    case unknownRollout(id: String)
    case unknownAssignment(id: String, agentID: String, sequence: Int64)
    case invalidWindow(agentID: String, assignmentID: String, sequence: Int64, reason: String)
    case invalidSamplingRate(Double)
    case invalidWindowSize(Int)
    case rolloutAlreadyDecided(id: String, outcome: String)
    case unexpectedValue(column: String, value: String)
    case queryFailed(sql: String, reason: String)
    case invalidStages([Int], reason: String)
    case rolloutAlreadyOpen(id: String)
    case notStaged(id: String)
    case invalidTransition(id: String, state: String, action: String)
    case agentInAnotherRollout(agentID: String, rolloutID: String, modelName: String)
    /// A decision or rollout event without the current controller term's fencing token.
    case notTheController(reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "ledger: no ledger file at \(path); start the coordinator once to create it, or check the path"
        case .notALedger(let path):
            return "ledger: \(path) is not a QuantFleet ledger (no completed schema migrations)"
        case .olderSchema(let path, let schema, let needed):
            return "ledger: \(path) has schema \(schema), written by an older coordinator; this version reads \(needed). "
                + "Start the coordinator on it once (it migrates the file: running totals are back-filled from the windows), "
                + "or read it with the quantfleet that wrote it"
        case .copyFailed(let location, let reason):
            return "ledger copy to \(location): \(reason)"
        case .backupFailed(let output, let reason):
            return "ledger backup to \(output): \(reason); the ledger itself is untouched"
        case .newerSchema(let path, let unknown, let known):
            return "ledger: \(path) has schema \(unknown.joined(separator: ", ")), written by a newer QuantFleet; this version "
                + "knows up to \(known). Run the QuantFleet that wrote it, or a later one"
        case .unknownModel(let sha256):
            return "ledger: model \(sha256) is not registered; register it before creating a rollout for it"
        case .unknownRollout(let id):
            return "ledger: no rollout with id \(id)"
        case .unknownAssignment(let id, let agentID, let sequence):
            return "ledger: window \(sequence) from agent \(agentID) names assignment \(id), which does not exist"
        case .invalidWindow(let agentID, let assignmentID, let sequence, let reason):
            return "ledger: window \(sequence) from agent \(agentID) for assignment \(assignmentID) is inconsistent: \(reason)"
        case .invalidSamplingRate(let rate):
            return "ledger: sampling rate \(rate) must be in (0, 1]"
        case .invalidWindowSize(let size):
            return "ledger: window size \(size) must be at least 1"
        case .rolloutAlreadyDecided(let id, let outcome):
            return "ledger: rollout \(id) was already decided (\(outcome)); its decision is final"
        case .unexpectedValue(let column, let value):
            return "ledger: column \(column) holds \(value), which this version does not understand"
        case .queryFailed(let sql, let reason):
            return "ledger: query failed: \(reason)\n  in: \(sql)"
        case .invalidStages(let stages, let reason):
            return "ledger: stages \(stages) are invalid: \(reason)"
        case .rolloutAlreadyOpen(let id):
            return "ledger: rollout \(id) is already open for this model, reference and candidate; abort it first"
        case .notStaged(let id):
            return "ledger: rollout \(id) has no stages (it was opened from the coordinator's configuration file)"
        case .invalidTransition(let id, let state, let action):
            return "ledger: rollout \(id) is \(state); it cannot \(action) from there"
        case .agentInAnotherRollout(let agentID, let rolloutID, let modelName):
            return "ledger: agent \(agentID) is already in open rollout \(rolloutID) of model \(modelName); "
                + "an agent takes part in one rollout per model name at a time"
        case .notTheController(let reason):
            return "ledger: refused, this coordinator does not hold the current controller term (\(reason))"
        }
    }
}
