import Foundation
import GRDB
import XCTest

@testable import Ledger

/// A ledger that a newer QuantFleet migrated is refused, by the coordinator and by readers alike,
/// naming the migrations this version does not know.
final class NewerSchemaTests: XCTestCase {
    func testALedgerMigratedByANewerVersionIsRefusedWithItsVersionNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("newer-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger.sqlite").path
        _ = try Ledger(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v11-from-the-future')")
        }
        let expected = LedgerError.newerSchema(path: path, unknown: ["v11-from-the-future"], known: LedgerSchema.migrator.migrations.last!)
        XCTAssertThrowsError(try Ledger(path: path)) { XCTAssertEqual($0 as? LedgerError, expected) }
        XCTAssertThrowsError(try Ledger.openReadOnly(path: path)) { XCTAssertEqual($0 as? LedgerError, expected) }
        XCTAssertTrue("\(expected)".contains("has schema v11-from-the-future, written by a newer QuantFleet"))
    }
}
