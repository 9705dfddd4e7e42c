import Foundation
import GRDB

/// Models' bytes in a shared ledger (migration v12): a coordinator that registers a model stores
/// it here too, and another that is asked for it by an agent copies it into its own store first.
extension Ledger {
    /// 1 MiB: a 100 MB model is a hundred rows.
    static let modelChunkBytes = 1 << 20

    /// Whether several coordinators may share this ledger and so need models' bytes in it: true on
    /// PostgreSQL. A SQLite ledger's one coordinator keeps models in its own store only.
    public var sharesModels: Bool { store is PostgresStore }

    /// Stores the model file's bytes (already registered as `sha256`) in chunks, in one transaction;
    /// storing them again changes nothing.
    public func storeModelBytes(sha256: String, from file: URL) throws {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try store.write { db in
            var chunk = 0
            while let bytes = try handle.read(upToCount: Self.modelChunkBytes), !bytes.isEmpty {
                try db.execute(
                    sql: "INSERT INTO model_chunks (sha256, chunk, bytes) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [sha256, chunk, bytes])
                chunk += 1
            }
        }
    }

    /// Writes the model's stored bytes to `file`, chunk by chunk; false when the ledger has none.
    /// The caller checks the bytes against the model's SHA-256.
    public func copyModelBytes(sha256: String, to file: URL) throws -> Bool {
        let chunks = try store.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM model_chunks WHERE sha256 = ?", arguments: [sha256]) ?? 0
        }
        guard chunks > 0 else { return false }
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        // A chunk per read: memory stays at one chunk whatever the model's size.
        for chunk in 0..<chunks {
            guard let bytes = try store.read({ db in
                try Data.fetchOne(db, sql: "SELECT bytes FROM model_chunks WHERE sha256 = ? AND chunk = ?", arguments: [sha256, chunk])
            }) else {
                throw LedgerError.unexpectedValue(column: "model_chunks.chunk", value: "\(sha256) lacks chunk \(chunk) of \(chunks)")
            }
            try handle.write(contentsOf: bytes)
        }
        return true
    }
}
