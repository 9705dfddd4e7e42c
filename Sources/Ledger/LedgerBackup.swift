import Foundation
import GRDB

/// `quantfleet ledger backup`: a copy of a SQLite ledger taken while its coordinator keeps writing.
/// SQLite's online backup API copies every page in one step, inside one read transaction: a
/// consistent snapshot, which the coordinator's WAL writes neither block nor restart. The copy is
/// written beside its name, checked (`integrity_check`, then the running totals against its
/// windows) and only then renamed, so a file with the name is always a whole, checked backup.
public enum LedgerBackup {
    public struct Report: Sendable {
        public let output: String
        public let bytes: Int
        public let windows: Int
        public let verification: TotalsVerification
    }

    public static func backup(ledger path: String, to output: String) throws -> Report {
        // Refuses a missing file, a file that is no ledger, and a schema older or newer than this version's.
        _ = try LedgerReader(path: path)
        guard !FileManager.default.fileExists(atPath: output) else {
            throw LedgerError.backupFailed(to: output, reason: "the file exists; a backup never overwrites one")
        }
        let partial = output + ".partial"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            try copyPages(of: path, to: partial)
            let copy = try LedgerReader(path: partial)
            let verification: TotalsVerification
            switch try copy.check() {
            case .damagedPages(let problems):
                throw LedgerError.backupFailed(to: output, reason: "the copy fails integrity_check: \(problems.prefix(3).joined(separator: "; "))")
            case .totals(let totals) where !totals.passed:
                throw LedgerError.backupFailed(
                    to: output, reason: "the copy's running totals differ from its windows: \(totals.mismatches.prefix(3))")
            case .totals(let totals):
                verification = totals
            }
            let windows = Int(try copy.query("SELECT COALESCE(SUM(windows_merged), 0) FROM windows").rows[0][0]) ?? 0
            try FileManager.default.moveItem(atPath: partial, toPath: output)
            let bytes = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            return Report(output: output, bytes: bytes, windows: windows, verification: verification)
        } catch let error as DatabaseError {
            try? FileManager.default.removeItem(atPath: partial)
            throw LedgerError.backupFailed(to: output, reason: error.message ?? "\(error.resultCode)")
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// Every page of `path` into a new file at `destination`, then out of WAL mode, so the backup
    /// is one self-contained file.
    private static func copyPages(of path: String, to destination: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let source = try DatabaseQueue(path: path, configuration: configuration)
        let copy = try DatabaseQueue(path: destination)
        try source.backup(to: copy)
        try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        try copy.close()
        try source.close()
    }
}
