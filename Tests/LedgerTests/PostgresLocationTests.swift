import Ledger
import XCTest

final class PostgresLocationTests: XCTestCase {
    func testATCPLocationTakesLibpqsSpelling() throws {
        let location = try PostgresLocation(parsing: "postgresql://fleet:secret@db.example:6543/ledger?sslmode=verify-full", environment: [:])
        XCTAssertEqual(location.endpoint, .tcp(host: "db.example", port: 6543))
        XCTAssertEqual(location.user, "fleet")
        XCTAssertEqual(location.password, "secret")
        XCTAssertEqual(location.database, "ledger")
        XCTAssertEqual(location.tls, .verifyFull)
        XCTAssertFalse("\(location)".contains("secret"), "the description never shows the password")
    }

    func testDefaultsArePort5432PreferredTLSAndPGPASSWORD() throws {
        let location = try PostgresLocation(parsing: "postgres://fleet@db/ledger", environment: ["PGPASSWORD": "from-env"])
        XCTAssertEqual(location.endpoint, .tcp(host: "db", port: 5432))
        XCTAssertEqual(location.tls, .prefer)
        XCTAssertEqual(location.password, "from-env")
    }

    func testASocketDirectoryNamesTheSocketFile() throws {
        let location = try PostgresLocation(parsing: "postgres://fleet@/ledger?host=/run/postgresql", environment: [:])
        XCTAssertEqual(location.endpoint, .socket(path: "/run/postgresql/.s.PGSQL.5432"))
        XCTAssertNil(location.password)
    }

    func testEachBadLocationIsRefusedNamingItsProblemAndNoPassword() {
        let cases = [
            "ledger.sqlite": "does not start with postgres://",
            "postgres://db.example/ledger": "names no user",
            "postgres://fleet:secret@db.example/": "names no database",
            "postgres://fleet:secret@db.example/ledger?sslmode=sometimes": "sslmode must be one of disable, prefer, require, verify-full",
            "postgres://fleet:secret@db.example/ledger?pool=3": "unknown parameter pool",
            "postgres://fleet:secret@db.example/ledger?host=relative": "host= must be a socket directory",
            "postgres://fleet:secret@db.example/ledger?host=/run/postgresql": "both a host and a socket directory",
            "postgres://fleet:secret@/ledger": "names no host",
            "postgres://fleet:secret@db.example:0/ledger": "port 0 is out of range",
        ]
        for (text, problem) in cases {
            XCTAssertThrowsError(try PostgresLocation(parsing: text, environment: [:]), text) { error in
                XCTAssertTrue("\(error)".contains(problem), "\(text): \(error)")
                XCTAssertFalse("\(error)".contains("secret"), "\(text): \(error)")
            }
        }
    }
}
