import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The ledger's server cannot be reached, or stopped answering: no connection, or the one in use
/// was lost (closed by the server, or given up after `PostgresSession.timeout`). What was being
/// written is not committed, or not known to be.
public struct LedgerUnreachable: Error, CustomStringConvertible {
    public let description: String
    /// The server went silent for a whole statement timeout: trying again at once would wait as long.
    let wentSilent: Bool

    public init(description: String) {
        self.init(description: description, wentSilent: false)
    }

    init(description: String, wentSilent: Bool) {
        self.description = description
        self.wentSilent = wentSilent
    }
}

/// A PostgreSQL ledger shared by any number of coordinators. Each store keeps one connection for
/// writes and one for reads, each used by one transaction at a time, and opens it again after the
/// server went away: the transaction that met the loss fails (its windows are not acked, so agents
/// send them again) and the next one reconnects.
///
/// Every write transaction first takes one transaction-scoped advisory lock, so writes from all the
/// coordinators run one at a time, as SQLite's do: ingest's running totals are a fold in ingest
/// order, which concurrent writers would interleave. Reads see one snapshot (REPEATABLE READ) and
/// are READ ONLY, so a reader's SQL cannot write whatever it says.
final class PostgresStore: LedgerStore {
    let location: String
    private let connector: PostgresConnector
    private let readOnly: Bool
    /// How long one statement may go unanswered (`PostgresSession.timeout`).
    private let statementTimeout: Duration?
    private let writer = NIOLockedValueBox<PostgresConnection?>(nil)
    private let reader = NIOLockedValueBox<PostgresConnection?>(nil)

    /// "qfwrites": the advisory lock every write transaction holds.
    static let writeLockKey: Int64 = 0x7166_7772_6974_6573

    init(connector: PostgresConnector, readOnly: Bool, statementTimeout: Duration? = nil) {
        self.location = "\(connector.location)"
        self.connector = connector
        self.readOnly = readOnly
        self.statementTimeout = statementTimeout
    }

    deinit {
        // Closed without waiting (the last reference may go on an event loop), and kept until it is:
        // a connection must be closed before it is freed.
        for slot in [writer, reader] {
            guard let connection = slot.withLockedValue({ $0 }) else { continue }
            let closed: EventLoopFuture<Void> = connection.close()
            closed.whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }

    func read<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value {
        try transaction(on: reader, begin: "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    func write<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value {
        precondition(!readOnly, "a read-only ledger store does not write")
        return try transaction(on: writer, begin: "BEGIN", lock: Self.writeLockKey, body)
    }

    /// LISTENs on a connection of its own, opened again a second after it is lost. `changed` is also
    /// called each time listening (re)starts, for what changed while nobody listened.
    ///
    /// A listening connection sends nothing, so a partition (no reset) would never fail it, and the
    /// coordinator would stop hearing of stage changes for good: its agents would stay on a stage
    /// that has ended. So the connection is also asked a `SELECT 1` every `listenCheckInterval`, and
    /// closed (which ends the listening) when one goes unanswered for a statement timeout.
    func listenForAssignmentChanges(_ changed: @escaping @Sendable () -> Void) async {
        let timeout = statementTimeout ?? Ledger.postgresStatementTimeout
        while !Task.isCancelled {
            do {
                try await connector.withConnection { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await connection.listen(on: PostgresSession.assignmentsChannel) { notifications in
                                changed()
                                for try await _ in notifications { changed() }
                            }
                        }
                        group.addTask { [logger = connector.logger] in
                            // A check the server does not answer closes the connection, ending the listening too.
                            let check = PostgresSession(connection: connection, logger: logger, timeout: timeout)
                            while true {
                                try await Task.sleep(for: Self.listenCheckInterval)
                                _ = try await check.answer("SELECT 1").get()
                            }
                        }
                        // Whichever ends first ends both: the listening on an error, the check on silence.
                        defer { group.cancelAll() }
                        try await group.next()
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                connector.logger.warning("lost the ledger's assignment-change channel; listening again in 1 s", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    static let listenCheckInterval: Duration = .seconds(5)

    private func transaction<Value>(
        on slot: NIOLockedValueBox<PostgresConnection?>, begin: String, lock: Int64? = nil,
        _ body: (any LedgerSession) throws -> Value
    ) throws -> Value {
        try slot.withLockedValue { kept in
            let session = try begun(begin, keeping: &kept)
            do {
                if let lock {
                    // A coordinator cut off in the middle of a write transaction holds the write lock
                    // every coordinator takes until the server notices it is gone (TCP keepalive: hours).
                    // The server ends a write transaction that waits this long for its next statement.
                    // Reads are left alone: a client slowly taking a large result is idle in its
                    // transaction once the server has sent the last row.
                    try session.execute(sql: "SET LOCAL idle_in_transaction_session_timeout = \(PostgresConnector.abandonedTransactionMillis)")
                    try session.execute(sql: "SELECT pg_advisory_xact_lock(\(lock))")
                }
                let value = try body(session)
                try session.execute(sql: "COMMIT")
                return value
            } catch {
                let explained = self.explained(error, on: session.connection, keeping: &kept)
                if !(explained is LedgerUnreachable) { _ = try? session.execute(sql: "ROLLBACK") }
                throw explained
            }
        }
    }

    /// A transaction begun on the kept connection, or on a new one if there is none or the kept one
    /// turns out closed (the server restarted): nothing of the transaction was sent yet, so it is
    /// begun once more on a fresh connection rather than failed. A server that went silent is not
    /// tried again: the route to it is likely gone, and a new connection would wait as long.
    private func begun(_ begin: String, keeping kept: inout PostgresConnection?) throws -> PostgresSession {
        var retried = false
        while true {
            let connection: PostgresConnection
            do {
                connection = try kept.flatMap { $0.isClosed ? nil : $0 } ?? connector.connectWaiting()
            } catch {
                throw LedgerUnreachable(description: "\(error)")
            }
            kept = connection
            let session = PostgresSession(connection: connection, logger: connector.logger, timeout: statementTimeout)
            do {
                try session.execute(sql: begin)
                return session
            } catch where !retried && connection.isClosed && (error as? LedgerUnreachable)?.wentSilent != true {
                kept = nil
                retried = true
            } catch {
                throw explained(error, on: connection, keeping: &kept)
            }
        }
    }

    /// `error`, met on `connection`, as the ledger says it: the server's words, not postgres-nio's
    /// placeholder; the ledger's own errors as they are; and `LedgerUnreachable` once the connection
    /// is lost (closed, or given up unanswered), which is then no longer kept. Said at once: a
    /// coordinator that waited for a second statement to time out would keep its agents twice as
    /// long, acking nothing.
    private func explained(_ error: any Error, on connection: PostgresConnection, keeping kept: inout PostgresConnection?) -> any Error {
        let explained = (error as? PSQLError).map(connector.explained) ?? error
        guard explained is LedgerUnreachable || connection.isClosed else { return explained }
        kept = nil
        return explained as? LedgerUnreachable ?? LedgerUnreachable(description: "\(explained)")
    }
}
