import ArgumentParser
import Foundation
import Ledger
import Operations

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Read, check, back up, roll up and copy the shadow-accuracy ledger.",
        subcommands: [Query.self, Verify.self, Backup.self, Rollup.self, Copy.self, Bench.self])

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one read-only SQL statement against a ledger (writes are refused by SQLite, or by PostgreSQL's read-only transaction).")

        @Option(help: "The ledger: a file (the coordinator's ledger.sqlite), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String

        @Flag(help: "Print rows as JSON objects.")
        var json = false

        @Argument(help: "SQL, e.g. \"SELECT * FROM rollout_evidence\".")
        var sql: String

        func run() async throws {
            let result = try Ledger.openReadOnly(location: LedgerLocation(parsing: db)).query(sql)
            if json {
                let objects = result.rows.map { Dictionary(uniqueKeysWithValues: zip(result.columns, $0)) }
                let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(TextTable.render(columns: result.columns, rows: result.rows))
                print("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a ledger or a backup (read-only): a file's pages (integrity_check), and every stage's running totals against the SQL re-sum of its windows; exits 1 on a fault.")

        @Option(help: "The ledger: a file (the coordinator's ledger.sqlite, or a backup), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String

        func run() async throws {
            let ledger = try Ledger.openReadOnly(location: LedgerLocation(parsing: db))
            let verification: TotalsVerification
            switch try ledger.check() {
            case .damagedPages(let problems):
                problems.prefix(20).forEach { print("damaged: \($0)") }
                print("FAILED: the file's pages fail integrity_check (\(problems.count) problem\(problems.count == 1 ? "" : "s"))")
                throw ExitCode.failure
            case .totals(let totals):
                verification = totals
            }
            let checked = "\(Self.count(verification.stagesChecked, "stage")), \(Self.count(verification.windowsChecked, "window"))"
            guard verification.passed else {
                verification.mismatches.forEach { print("mismatch: \($0)") }
                print("FAILED: \(Self.count(verification.mismatches.count, "part")) of the running totals differ from their windows (\(checked))")
                throw ExitCode.failure
            }
            print("ok: the running totals equal their windows (\(checked))")
        }

        static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite ledger while its coordinator runs (SQLite's online backup), check the copy, then give it its name.")

        @Option(help: "The coordinator's ledger file.")
        var db: String

        @Option(name: [.short, .customLong("output")], help: "The backup file to make; it must not exist.")
        var output: String

        func run() async throws {
            guard case .file(let path) = try LedgerLocation(parsing: db) else {
                throw ValidationError("\(db) is a PostgreSQL ledger: back it up with pg_dump (docs/ledger.md#backing-it-up)")
            }
            let report = try LedgerBackup.backup(ledger: path, to: output)
            print(String(format: "backed up %@ to %@: %.1f MB, %d windows", path, report.output, Double(report.bytes) / 1e6, report.windows))
            print("ok: integrity_check passed; the running totals equal their windows "
                + "(\(Verify.count(report.verification.stagesChecked, "stage")), \(Verify.count(report.verification.windowsChecked, "window")))")
        }
    }

    struct Rollup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Roll up windows older than an age into one row per agent and day, keeping every count, the running totals and every decision; the coordinator does it hourly with ledger-retention-days.")

        @Option(help: "The ledger: a file (the coordinator's ledger.sqlite; it may be running), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String

        @Option(help: "Roll up the windows ingested more than this many days ago.")
        var olderThanDays: Int

        func run() async throws {
            guard olderThanDays >= 1 else { throw ValidationError("--older-than-days must be at least 1, got \(olderThanDays)") }
            let ledger = try Ledger(location: try LedgerLocation(parsing: db))
            let report = try ledger.rollUp(windowsIngestedBefore: Date().addingTimeInterval(-Double(olderThanDays) * 86_400))
            print(report)
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a SQLite ledger into an empty PostgreSQL one (one transaction), then check every table's rows and the totals on both sides.")

        @Option(help: "The SQLite ledger file to copy (read only).")
        var from: String

        @Option(help: "The PostgreSQL ledger: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (its schema is made if it is empty).")
        var to: String

        func run() async throws {
            let report = try await LedgerCopy.copy(from: from, to: try PostgresLocation(parsing: to))
            print(TextTable.render(columns: ["table", "rows"], rows: report.rows.map { [$0.table, String($0.count)] }))
            print("verified: every table's rows, and \(report.sums.joined(separator: ", "))")
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure burst ingest (windows per transaction as the coordinator commits them) and evaluation cost as a rollout grows, in a new ledger.")

        @Option(help: "The new ledger to fill: a file that must not exist, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE of an empty database.")
        var db: String

        @Option(help: "Ledgers storing batches at once, as that many coordinators sharing a PostgreSQL ledger would.")
        var writers = 1

        @Option(help: "Windows per transaction.")
        var batch = 1_000

        @Option(parsing: .upToNextOption, help: "Rollout sizes, in windows, at which to measure.")
        var checkpoints = [1_000, 10_000, 100_000, 1_000_000]

        @Option(help: "Agents out of step: each numbers its windows from an offset of up to this many (0: a stage's agents started together).")
        var sequenceSpread = 0

        func run() async throws {
            let location = try LedgerLocation(parsing: db)
            switch location {
            case .file(let path):
                guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(db) exists; ledger bench fills a new file") }
                guard writers == 1 else { throw ValidationError("--writers \(writers): several coordinators share a PostgreSQL ledger, not a file") }
            case .postgres:
                guard writers >= 1 else { throw ValidationError("--writers \(writers) is not a number of coordinators") }
                guard try Ledger(location: location).rollouts().isEmpty else {
                    throw ValidationError("\(location) holds rollouts; ledger bench fills an empty database")
                }
            }
            // Each row is written as it is measured, unbuffered, so a file or pipe sees it at once.
            func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            emit("windows | windows/s | rows/s | evaluation (ms) | read (ms) | judge (ms) | ledger MB")
            guard sequenceSpread >= 0 else { throw ValidationError("--sequence-spread \(sequenceSpread) is negative") }
            _ = try IngestBenchmark.run(
                location: location, writers: writers, checkpoints: checkpoints, batch: batch, sequenceSpread: sequenceSpread
            ) { step in
                emit(String(
                    format: "%7d | %9.0f | %9.0f | %15.3f | %9.3f | %10.3f | %9.1f", step.windows, step.windowsPerSecond,
                    step.rowsPerSecond, step.evaluationMillis, step.readMillis, step.judgeMillis, Double(step.ledgerBytes) / 1e6))
            }
        }
    }
}
