import DaemonSupport
import FleetProtocol
import Foundation
import GRDB
import ShadowEval

/// Sealed shadow windows waiting for the coordinator's ack, in a local SQLite file. A window is
/// written here (with its sequence number) before it is ever sent, and deleted only on ack, so a
/// killed agent or a lost connection loses nothing that was sealed.
///
/// Bounded: when the windows waiting pass `maxPendingBytes` (a long coordinator outage), the oldest
/// windows never sent are merged into one under the first's sequence number. Counts and sums are
/// kept exactly; what is lost is how they were spread over time. A window once handed out for
/// sending is never merged: the coordinator may have stored it under its sequence number.
public final class WindowSpool: Sendable {
    /// `spool-max-bytes` when agent.yaml does not set it.
    public static let defaultMaxPendingBytes = 64 << 20
    /// Below this a cap would hold only a few windows.
    public static let minimumMaxPendingBytes = 16 << 10

    /// What merging to stay under the cap did, in one seal.
    public struct Merge: Sendable, Equatable {
        /// Windows that went into older ones (each merged group keeps one window).
        public var windowsMerged = 0
        public var bytesFreed = 0
    }

    /// A window as stored, the merging its storing set off (nil: none), and the bytes then waiting.
    public struct Sealed: Sendable {
        public let window: ShadowWindow
        public let merge: Merge?
        public let pendingBytes: Int
    }

    public let maxPendingBytes: Int
    let database: DatabaseQueue

    public init(path: String, maxPendingBytes: Int = WindowSpool.defaultMaxPendingBytes) throws {
        precondition(maxPendingBytes >= Self.minimumMaxPendingBytes, "spool cap \(maxPendingBytes) below \(Self.minimumMaxPendingBytes)")
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        self.maxPendingBytes = maxPendingBytes
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
        // The cap: which windows were handed out for sending (those are never merged), and the bytes
        // waiting, kept by triggers so a seal reads one row instead of summing the table.
        migrator.registerMigration("v2-bounded") { db in
            // A spool from before v2 may have sent any of its windows: none of them is merged.
            try db.execute(sql: """
                ALTER TABLE pending_windows ADD COLUMN sent INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1));
                UPDATE pending_windows SET sent = 1;
                CREATE TABLE spool_usage (id INTEGER PRIMARY KEY CHECK (id = 0), pending_bytes INTEGER NOT NULL);
                INSERT INTO spool_usage VALUES (0, (SELECT COALESCE(SUM(length(payload)), 0) FROM pending_windows));
                CREATE TRIGGER pending_window_added AFTER INSERT ON pending_windows BEGIN
                    UPDATE spool_usage SET pending_bytes = pending_bytes + length(NEW.payload);
                END;
                CREATE TRIGGER pending_window_removed AFTER DELETE ON pending_windows BEGIN
                    UPDATE spool_usage SET pending_bytes = pending_bytes - length(OLD.payload);
                END;
                CREATE TRIGGER pending_window_rewritten AFTER UPDATE OF payload ON pending_windows BEGIN
                    UPDATE spool_usage SET pending_bytes = pending_bytes - length(OLD.payload) + length(NEW.payload);
                END;
                """)
        }
        // Late labels (`WindowSpool+LateLabels`): the paired outcomes of requests whose label may
        // come later, and which pending windows are late-label deltas (sent only to a coordinator
        // that takes them, and never merged into a window).
        migrator.registerMigration("v3-late-labels") { db in
            try db.execute(sql: """
                ALTER TABLE pending_windows ADD COLUMN label_delta INTEGER NOT NULL DEFAULT 0 CHECK (label_delta IN (0, 1));
                CREATE TABLE awaiting_labels (
                    request_id      TEXT NOT NULL,
                    row             INTEGER NOT NULL CHECK (row >= 0),
                    assignment_id   TEXT NOT NULL,
                    kernel_path     TEXT NOT NULL,
                    reference_class INTEGER NOT NULL CHECK (reference_class >= 0),
                    candidate_class INTEGER NOT NULL CHECK (candidate_class >= 0),
                    answered_at_ms  INTEGER NOT NULL,
                    PRIMARY KEY (request_id, row)
                );
                CREATE INDEX awaiting_labels_by_age ON awaiting_labels(answered_at_ms);
                """)
        }
        return migrator
    }

    /// Gives the window the next sequence number of its assignment and stores it, in one
    /// transaction; past the cap, merges the oldest unsent windows in the same transaction.
    public func seal(_ unsequenced: ShadowWindow) throws -> Sealed {
        try database.write { db in
            let window = try Self.insert(unsequenced, db)
            let merge = try mergeToFit(db)
            CrashPoint.windowSeal.reach()
            return Sealed(window: window, merge: merge, pendingBytes: try Self.pendingBytes(db))
        }
    }

    /// Stores the window (or late-label delta) under its assignment's next sequence number.
    static func insert(_ unsequenced: ShadowWindow, _ db: Database) throws -> ShadowWindow {
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
            sql: "INSERT INTO pending_windows (assignment_id, sequence, payload, label_delta) VALUES (?, ?, ?, ?)",
            arguments: [window.assignmentID, sequence, try window.serializedBytes() as Data, window.labelDelta])
        return window
    }

    /// Bytes of the windows waiting for their ack.
    public func pendingBytes() throws -> Int {
        try database.read(Self.pendingBytes)
    }

    private static func pendingBytes(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT pending_bytes FROM spool_usage") ?? 0
    }

    /// While the waiting windows pass the cap, merges the older half of the unsent windows of the
    /// assignment with the most of them (at least two, of one kernel path) into the oldest. Each
    /// pass about halves that assignment's unsent bytes; with nothing left to merge (every window
    /// sent, or one per assignment) the spool stays over its cap rather than drop a window.
    private func mergeToFit(_ db: Database) throws -> Merge? {
        var merge = Merge()
        while try Self.pendingBytes(db) > maxPendingBytes {
            // Late-label deltas are small and never merged: a window merged with one would carry
            // more labels than samples.
            guard let assignmentID = try String.fetchOne(db, sql: """
                SELECT assignment_id FROM pending_windows WHERE sent = 0 AND label_delta = 0 GROUP BY assignment_id HAVING COUNT(*) >= 2
                ORDER BY COUNT(*) DESC, assignment_id LIMIT 1
                """)
            else { break }
            let rows = try Row.fetchAll(db, sql: """
                SELECT sequence, payload FROM pending_windows WHERE assignment_id = ? AND sent = 0 AND label_delta = 0 ORDER BY sequence
                """, arguments: [assignmentID])
            let oldest = try rows.prefix(max(2, rows.count / 2)).map { try ShadowWindow(serializedBytes: $0["payload"] as Data) }
            let group = Self.mergeable(oldest)
            guard group.count >= 2 else { break }
            let before = rows.prefix(group.count).reduce(0) { $0 + ($1["payload"] as Data).count }
            let merged = try ShadowWindow.merging(group).serializedBytes() as Data
            try db.execute(
                sql: "UPDATE pending_windows SET payload = ? WHERE assignment_id = ? AND sequence = ?",
                arguments: [merged, assignmentID, Int64(group[0].sequence)])
            for window in group.dropFirst() {
                try db.execute(
                    sql: "DELETE FROM pending_windows WHERE assignment_id = ? AND sequence = ?",
                    arguments: [assignmentID, Int64(window.sequence)])
            }
            merge.windowsMerged += group.count - 1
            merge.bytesFreed += before - merged.count
        }
        return merge.windowsMerged > 0 ? merge : nil
    }

    /// The leading windows of `windows` that merge into one: a run of one kernel path whose counts
    /// still fit the wire's 32-bit fields.
    private static func mergeable(_ windows: [ShadowWindow]) -> [ShadowWindow] {
        var group: [ShadowWindow] = []
        var samples: UInt64 = 0, drops: UInt64 = 0
        for window in windows {
            guard window.kernelPath == windows[0].kernelPath else { break }
            samples += UInt64(window.count)
            drops += UInt64(window.shadowDrops)
            guard samples <= UInt64(UInt32.max), drops <= UInt64(UInt32.max) else { break }
            group.append(window)
        }
        return group
    }

    /// Every window not yet acknowledged, oldest first.
    public func pending() throws -> [ShadowWindow] {
        try database.read(Self.pending)
    }

    private static func pending(_ db: Database) throws -> [ShadowWindow] {
        try Data.fetchAll(db, sql: "SELECT payload FROM pending_windows ORDER BY assignment_id, sequence")
            .map { try ShadowWindow(serializedBytes: $0) }
    }

    /// Every window not yet acknowledged, oldest first, each marked as handed out for sending in
    /// the same transaction, so no merge can change it between being read and being sent. Late-label
    /// deltas only for a coordinator that takes them (an older one would refuse each, and they
    /// wait for the next).
    public func pendingForSending(includingLabelDeltas: Bool = true) throws -> [ShadowWindow] {
        try database.write { db in
            try db.execute(sql: "UPDATE pending_windows SET sent = 1 WHERE sent = 0 AND (label_delta = 0 OR ?)", arguments: [includingLabelDeltas])
            return try Data.fetchAll(
                db, sql: "SELECT payload FROM pending_windows WHERE label_delta = 0 OR ? ORDER BY assignment_id, sequence",
                arguments: [includingLabelDeltas]
            ).map { try ShadowWindow(serializedBytes: $0) }
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
