import Foundation
import XCTest

@testable import Coordinator

/// The limits of the coordinator's configuration file, read by the one strict parser.
final class CoordinatorConfigurationTests: XCTestCase {
    private let minimal = """
        listen: {host: 127.0.0.1, port: 7443}
        tls: {certificate: c.pem, private-key: c.key, trust-roots: ca.pem}
        ledger: ledger.sqlite
        model-store: models
        policy: policy.yaml
        heartbeat-interval-ms: 5000
        max-frame-bytes: 4194304
        """

    func testHandshakeLimitsHaveDefaultsAndCanBeSet() throws {
        let defaults = try load(minimal)
        XCTAssertEqual(defaults.handshakeLimits, .init(maximumInFlight: 128, perSecond: 500, burst: 500))
        XCTAssertEqual(defaults.agentReplacementIntervalMillis, 10_000)
        let set = try load(minimal + "\nmax-handshakes-in-flight: 16\nhandshakes-per-second: 40")
        XCTAssertEqual(set.handshakeLimits, .init(maximumInFlight: 16, perSecond: 40, burst: 40))
    }

    func testTheCRLIsOptionalAndRelativeToTheFile() throws {
        XCTAssertNil(try load(minimal).tls.crl)
        let text = minimal.replacingOccurrences(of: "trust-roots: ca.pem}", with: "trust-roots: ca.pem, crl: pki/crl.pem}")
        let crl = try XCTUnwrap(try load(text).tls.crl)
        XCTAssertTrue(crl.hasPrefix("/") && crl.hasSuffix("/pki/crl.pem"), crl)
        XCTAssertThrowsError(try load(text.replacingOccurrences(of: "crl:", with: "crl-file:"))) { error in
            XCTAssertTrue("\(error)".contains("crl-file"), "\(error)")
        }
    }

    func testAZeroLimitIsRefusedWithItsLine() {
        XCTAssertThrowsError(try load(minimal + "\nmax-handshakes-in-flight: 0")) { error in
            XCTAssertEqual("\(error)".contains("line 8: max-handshakes-in-flight must be at least 1, got 0"), true, "\(error)")
        }
    }

    func testLimitsHaveDefaultsAndCanBeSet() throws {
        XCTAssertEqual(try load(minimal).agentLimits, .defaults)
        XCTAssertEqual(try load(minimal).maxAgents, 10_000)
        let set = try load(minimal + "\nagent-limits: {windows-in-flight: 4, bytes-per-second: 65536}\nmax-agents: 19000")
        XCTAssertEqual(set.agentLimits, AgentLimits(windowsInFlight: 4, bytesPerSecond: 65536))
        XCTAssertEqual(set.maxAgents, 19_000)
        XCTAssertEqual(try load(minimal).ledgerCommitIntervalMillis, 10)
        XCTAssertEqual(try load(minimal + "\nledger-commit-interval-ms: 0").ledgerCommitIntervalMillis, 0)
        XCTAssertEqual(try load(minimal + "\nagent-limits: {windows-in-flight: 4}").agentLimits.bytesPerSecond, AgentLimits.defaults.bytesPerSecond)
        XCTAssertNil(try load(minimal).ledgerRetentionDays, "every window kept unless asked")
        XCTAssertEqual(try load(minimal + "\nledger-retention-days: 30").ledgerRetentionDays, 30)
    }

    func testBadLimitsAreRefusedByName() {
        let cases = [
            ("\nagent-limits: {windows-in-flight: 0}", "windows-in-flight must be at least 1, got 0"),
            ("\nagent-limits: {bytes-per-second: -5}", "bytes-per-second must be at least 1, got -5"),
            ("\nagent-limits: {windows: 4}", "windows"),
            ("\nmax-agents: 0", "max-agents must be at least 1, got 0"),
            ("\nledger-commit-interval-ms: -1", "ledger-commit-interval-ms must be between 0 and 1000, got -1"),
            ("\nledger-commit-interval-ms: 5000", "ledger-commit-interval-ms must be between 0 and 1000, got 5000"),
            ("\nledger-retention-days: 0", "ledger-retention-days must be at least 1, got 0"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try load(minimal + text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }

    func testSignedAssignmentsExpireAfterADayUnlessSetAndNeverWithinASecond() throws {
        XCTAssertEqual(try load(minimal).assignmentLifetimeMillis, 86_400_000)
        XCTAssertEqual(try load(minimal + "\nassignment-lifetime-ms: 60000").assignmentLifetimeMillis, 60_000)
        XCTAssertThrowsError(try load(minimal + "\nassignment-lifetime-ms: 10")) { error in
            XCTAssertTrue("\(error)".contains("line 8: assignment-lifetime-ms must be at least 1000 (a second), got 10"), "\(error)")
        }
    }

    private func load(_ text: String) throws -> CoordinatorConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("coordinator-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try CoordinatorConfiguration.load(from: file.path)
    }
}
