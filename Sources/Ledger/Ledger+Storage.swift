import Foundation
import GRDB

extension Ledger {
    /// The ledger's size on disk: a SQLite file with its write-ahead log, or a PostgreSQL database.
    public func storageBytes() throws -> Int {
        guard store is PostgresStore else {
            return [path, path + "-wal"].reduce(0) { total, file in
                total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
            }
        }
        return try store.read { db in try Int.fetchOne(db, sql: "SELECT pg_database_size(current_database())") ?? 0 }
    }
}
