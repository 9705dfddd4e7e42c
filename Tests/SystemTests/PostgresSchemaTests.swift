import Foundation
import Ledger
import Logging
import Operations
import XCTest

/// The PostgreSQL schema against SQLite's, on a real server: the same tables and views with the
/// same columns in the same order, made once however often coordinators start, and refused when a
/// newer QuantFleet migrated it.
final class PostgresSchemaTests: XCTestCase {
    private static let logger = Logger(label: "postgres-schema-tests")

    func testTheBaselineHasSQLitesTablesViewsAndColumns() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let connector = PostgresConnector(
            location: try PostgresLocation(parsing: server.url(database: "ledger") + "?sslmode=disable", environment: [:]),
            logger: Self.logger)
        try connector.migrate()
        try connector.migrate()  // a second coordinator starting: nothing to do

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger.sqlite").path
        _ = try Ledger(path: path)
        let sqlite = try Ledger.openReadOnly(path: path)

        let sqliteMigrations = try sqlite.query("SELECT identifier FROM grdb_migrations ORDER BY identifier").rows.map { $0[0] }
        let postgresMigrations = try server.psql("SELECT identifier FROM ledger_migrations ORDER BY identifier", database: "ledger")
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(postgresMigrations, sqliteMigrations, "every SQLite migration has its PostgreSQL counterpart")

        let relations = try sqlite.query("""
            SELECT name FROM sqlite_master WHERE type IN ('table', 'view')
            AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name
            """).rows.map { $0[0] }
        XCTAssertGreaterThan(relations.count, 15)
        let postgresRelations = try server.psql("""
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_name <> 'ledger_migrations' ORDER BY table_name
            """, database: "ledger").split(separator: "\n").map(String.init)
        XCTAssertEqual(postgresRelations, relations)
        for relation in relations {
            let columns = try sqlite.query("SELECT name FROM pragma_table_info('\(relation)') ORDER BY cid").rows.map { $0[0] }
            let postgresColumns = try server.psql("""
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = '\(relation)' ORDER BY ordinal_position
                """, database: "ledger").split(separator: "\n").map(String.init)
            XCTAssertEqual(postgresColumns, columns, relation)
        }
    }

    func testALedgerMigratedByANewerVersionIsRefusedWithItsVersionNamed() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        let connector = PostgresConnector(
            location: try PostgresLocation(parsing: server.url() + "?sslmode=disable", environment: [:]), logger: Self.logger)
        try connector.migrate()
        try server.psql("INSERT INTO ledger_migrations (identifier) VALUES ('v11-from-the-future')")
        do {
            try connector.migrate()
            XCTFail("a newer schema was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("has schema v11-from-the-future, written by a newer QuantFleet"), "\(error)")
        }
    }
}
