import DaemonSupport
import FleetProtocol
import Foundation
import GRDB
import ShadowEval

/// Sealed shadow windows waiting for the coordinator's ack, in a local SQLite file. A window is
/// written here (with its sequence number) before it is ever sent, and deleted only on ack, so a
/// killed agent or a lost connection loses nothing that was sealed.
public final class WindowSpool: Sendable {
    private let database: DatabaseQueue

    public init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "window_sequences") { table in
                table.primaryKey("assignment_id", .text)
                table.column("next_sequence", .integer).notNull()
            }
            try db.create(table: "pending_windows") { table in
                table.column("assignment_id", .text).notNull()
                table.column("sequence", .integer).notNull()
                table.column("payload", .blob).notNull()
                table.primaryKey(["assignment_id", "sequence"])
            }
        }
        return migrator
    }

    /// Gives the window the next sequence number of its assignment and stores it, in one transaction.
    public func seal(_ unsequenced: ShadowWindow) throws -> ShadowWindow {
        try database.write { db in
            let sequence = try Int64.fetchOne(
                db, sql: "SELECT next_sequence FROM window_sequences WHERE assignment_id = ?", arguments: [unsequenced.assignmentID]) ?? 0
            var window = unsequenced
            window.sequence = UInt64(sequence)
            try db.execute(
                sql: """
                    INSERT INTO window_sequences (assignment_id, next_sequence) VALUES (?, ?)
                    ON CONFLICT (assignment_id) DO UPDATE SET next_sequence = excluded.next_sequence
                    """,
                arguments: [window.assignmentID, sequence + 1])
            try db.execute(
                sql: "INSERT INTO pending_windows (assignment_id, sequence, payload) VALUES (?, ?, ?)",
                arguments: [window.assignmentID, sequence, try window.serializedBytes() as Data])
            CrashPoint.windowSeal.reach()
            return window
        }
    }

    /// Every window not yet acknowledged, oldest first.
    public func pending() throws -> [ShadowWindow] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT payload FROM pending_windows ORDER BY assignment_id, sequence")
                .map { try ShadowWindow(serializedBytes: $0) }
        }
    }

    public func acknowledge(assignmentID: String, sequence: UInt64) throws {
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM pending_windows WHERE assignment_id = ? AND sequence = ?",
                arguments: [assignmentID, Int64(sequence)])
        }
    }

    /// How many windows this agent has sealed for each assignment it shadowed (acked or not).
    public func windowsSealed() throws -> [String: Int] {
        try database.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT assignment_id, next_sequence FROM window_sequences")
                .map { ($0["assignment_id"] as String, $0["next_sequence"] as Int) })
        }
    }

    /// How many windows this agent has sealed for an assignment (acked or not).
    public func windowsSealed(assignmentID: String) throws -> Int {
        try database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT next_sequence FROM window_sequences WHERE assignment_id = ?", arguments: [assignmentID]) ?? 0
        }
    }
}
