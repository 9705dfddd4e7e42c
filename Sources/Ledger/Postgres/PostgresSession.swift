import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// A transaction on a PostgreSQL ledger, synchronous as the ledger's API is: each statement waits
/// for its result on the ledger's thread (never an event loop's). The ledger's `?` placeholders
/// become `$1`, `$2`, ...; values cross as `PostgresValues` converts them.
struct PostgresSession: LedgerSession {
    let connection: PostgresConnection
    let logger: Logger
    /// How long a statement may go unanswered before its connection is closed (which fails it);
    /// nil: as long as it takes. A server cut off without a reset (a partition) would otherwise
    /// hold the coordinator's writes, and the acks its agents wait for, until TCP gives up.
    var timeout: Duration?

    var dialect: SQLDialect { .postgres }

    func execute(sql: String, arguments: [DatabaseValue]) throws -> Int {
        try run(sql, arguments).changed
    }

    func fetchRows(sql: String, arguments: [DatabaseValue]) throws -> [Row] {
        try run(sql, arguments).rows.map { row in
            var values: [String: DatabaseValue] = [:]
            for cell in row { values[cell.columnName] = try PostgresValues.databaseValue(cell) }
            return Row(values)
        }
    }

    func fetchFirstColumn(sql: String, arguments: [DatabaseValue]) throws -> [DatabaseValue] {
        try run(sql, arguments).rows.map { row in
            guard let first = row.first(where: { _ in true }) else { return .null }
            return try PostgresValues.databaseValue(first)
        }
    }

    func fetchTable(sql: String, arguments: [DatabaseValue]) throws -> (columns: [String], rows: [[DatabaseValue]]) {
        let rows = try run(sql, arguments).rows
        // postgres-nio names the columns only through rows: an empty result has none.
        let columns = rows.first.map { $0.map(\.columnName) } ?? []
        return (columns, try rows.map { try $0.map(PostgresValues.databaseValue) })
    }

    /// The channel coordinators LISTEN on; a NOTIFY is delivered when its transaction commits.
    static let assignmentsChannel = "quantfleet_assignments"

    func announceAssignmentChange() throws {
        try execute(sql: "NOTIFY \(Self.assignmentsChannel)")
    }

    private func run(_ sql: String, _ arguments: [DatabaseValue]) throws -> (rows: [PostgresRow], changed: Int) {
        try answer(sql, arguments).wait()
    }

    /// The statement's rows and changed-row count, once answered; failed as LedgerUnreachable when
    /// the connection closes first or (with a `timeout`) the server goes silent, which also closes it.
    /// The store waits on it from its own thread, the assignment-change listener from a task.
    func answer(_ sql: String, _ arguments: [DatabaseValue] = []) -> EventLoopFuture<(rows: [PostgresRow], changed: Int)> {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments { PostgresValues.bind(argument, into: &bindings) }
        // A statement without arguments is passed as it is: in SQL an engineer types, `?` may be
        // one of jsonb's operators.
        let text = arguments.isEmpty ? sql : Self.numberingPlaceholders(sql)
        let rows = NIOLockedValueBox<[PostgresRow]>([])
        let lastProgress = NIOLockedValueBox(NIODeadline.now())
        let result = connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: logger) { row in
            rows.withLockedValue { $0.append(row) }
            lastProgress.withLockedValue { $0 = .now() }
        }.map { metadata in (rows: rows.withLockedValue { $0 }, changed: metadata.rows ?? 0) }
        // The answer is waited for through a promise of our own, settled by whichever comes first:
        // the result; the connection found closed (postgres-nio does not always fail a query whose
        // rows were streaming when its connection closed, and the wait would never end); or, with
        // a `timeout`, the server's silence for that long: no answer, and no row of a result still
        // arriving (a large read that streams on is not stalled). A watch every 100 ms checks the
        // last two; most statements are answered before it first looks.
        let eventLoop = connection.eventLoop
        let promise = eventLoop.makePromise(of: (rows: [PostgresRow], changed: Int).self)
        let settled = NIOLockedValueBox(false)
        let settle: @Sendable (Result<(rows: [PostgresRow], changed: Int), any Error>) -> Void = { outcome in
            guard !settled.withLockedValue({ let was = $0; $0 = true; return was }) else { return }
            promise.completeWith(outcome)
        }
        let silence = timeout.map { TimeAmount.nanoseconds(Int64($0 / .nanoseconds(1))) }
        let watch = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [connection] task in
            if connection.isClosed {
                task.cancel()
                settle(.failure(LedgerUnreachable(description: "PostgreSQL closed the connection before answering")))
            } else if let timeout, let silence, NIODeadline.now() - lastProgress.withLockedValue({ $0 }) >= silence {
                task.cancel()
                settle(.failure(LedgerUnreachable(
                    description: "PostgreSQL did not answer within \(timeout); the connection was closed", wentSilent: true)))
                // Kept until closed: the store lets go of a connection it gave up at once, and one
                // must be closed before it is freed.
                let closed: EventLoopFuture<Void> = connection.close()
                closed.whenComplete { _ in withExtendedLifetime(connection) {} }
            }
        }
        result.whenComplete { outcome in
            watch.cancel()
            settle(outcome)
        }
        return promise.futureResult
    }

    /// `sql` with its n-th `?` written `$n`; a `?` inside a quoted string or name stays.
    static func numberingPlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var quote: Character?
        var number = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Values between GRDB's `DatabaseValue` and PostgreSQL's wire format, so that a row reads the same
/// from either engine: booleans as 0 and 1, timestamps as SQLite's text for a date, jsonb as its
/// text, bytea as a blob, and sums (numeric) back as integers where they are whole.
enum PostgresValues {
    /// Every argument but a blob is sent as text of no stated type, as a literal in psql would be:
    /// the server reads it as the type of the column or expression it meets (a date's text as
    /// timestamptz, 0 and 1 as boolean, JSON text as jsonb).
    static func bind(_ value: DatabaseValue, into bindings: inout PostgresBindings) {
        let text: String?
        switch value.storage {
        case .null: text = nil
        case .int64(let integer): text = String(integer)
        // SQLite stores NaN as NULL; so does this, and the infinities as PostgreSQL spells them.
        case .double(let double) where double.isNaN: text = nil
        case .double(let double) where double.isInfinite: text = double < 0 ? "-Infinity" : "Infinity"
        case .double(let double): text = "\(double)"
        case .string(let string): text = string
        // Bytes go as they are, typed bytea: a model's chunk is a megabyte.
        case .blob(let data):
            bindings.append(ByteBuffer(bytes: data))
            return
        }
        if let text { bindings.append(UntypedText(text: text)) } else { bindings.appendNull() }
    }

    /// A parameter in text format with no type (OID 0): the server infers it from where it is used.
    private struct UntypedText: PostgresDynamicTypeEncodable {
        let text: String
        var psqlType: PostgresDataType { .null }
        var psqlFormat: PostgresFormat { .text }

        func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
            byteBuffer.writeString(text)
        }
    }

    static func databaseValue(_ cell: PostgresCell) throws -> DatabaseValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .bool: return try cell.decode(Bool.self).databaseValue
        case .int2, .int4, .int8: return try cell.decode(Int64.self).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            if let whole = Int64(exactly: NSDecimalNumber(decimal: decimal).int64Value), Decimal(whole) == decimal {
                return whole.databaseValue
            }
            return NSDecimalNumber(decimal: decimal).doubleValue.databaseValue
        case .timestamptz, .timestamp: return try cell.decode(Date.self).databaseValue
        case .bytea: return Data(bytes.readableBytesView).databaseValue
        // jsonb's binary form is a version byte, then the text.
        case .jsonb: return String(decoding: bytes.readableBytesView.dropFirst(), as: UTF8.self).databaseValue
        case .void: return .null
        default:
            do {
                return try cell.decode(String.self).databaseValue
            } catch {
                throw LedgerError.unexpectedValue(column: cell.columnName, value: "a value of PostgreSQL type \(cell.dataType)")
            }
        }
    }
}
