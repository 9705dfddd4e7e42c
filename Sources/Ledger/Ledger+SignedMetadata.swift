import Foundation
import GRDB

/// The versions signed metadata carries (migration v7-signed-metadata-versions).
extension Ledger {
    /// The version of what `agentID` is sent for (assignment, mode): the one issued before, or the
    /// next number of the one counter. "mode" is "shadow", "promoted" or "rolled-back".
    public func assignmentVersion(agentID: String, assignmentID: String, mode: String, at date: Date = Date()) throws -> Int64 {
        try store.write { db in
            if let issued = try Int64.fetchOne(
                db, sql: "SELECT version FROM assignment_versions WHERE agent_id = ? AND assignment_id = ? AND mode = ?",
                arguments: [agentID, assignmentID, mode])
            {
                return issued
            }
            // The counter is the table's own: SQLite's INTEGER PRIMARY KEY, PostgreSQL's identity.
            guard let issued = try Int64.fetchOne(
                db, sql: "INSERT INTO assignment_versions (agent_id, assignment_id, mode, issued_at) VALUES (?, ?, ?, ?) RETURNING version",
                arguments: [agentID, assignmentID, mode, date])
            else { preconditionFailure("an INSERT ... RETURNING returns the row it inserted") }
            return issued
        }
    }

    /// The version the next manifest of (name, precision) gets: one above the highest registered.
    public func nextManifestVersion(name: String, precision: String) throws -> Int64 {
        try store.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(MAX(manifest_version), 0) + 1 FROM models WHERE name = ? AND precision = ?",
                arguments: [name, precision]) ?? 1
        }
    }
}
