import Agent
import Coordinator
import Foundation
import Ledger
import Logging
import Operations
import ServiceLifecycle
import XCTest

/// Both daemons inside the test's own process, over real mutual TLS on loopback: the coordinator
/// and two agents built as their executables build them (`CoordinatorApp.build`, `AgentApp.build`),
/// and the configured rollout run under labelled traffic until the coordinator decides. In one
/// process the thread sanitizer sees every thread of both daemons at once (event loops, the ledger
/// thread, the shadow threads, the inference server): `Tools/test.sh` runs this test under
/// `swift test --sanitize=thread`.
final class InProcessFleetTests: XCTestCase {
    func testACoordinatorAndTwoAgentsInOneProcessDecideTheRollout() async throws {
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("in-process"))
        let outcome = try await decideTheRollout(in: layout, ledger: .file(layout.ledger.path))
        XCTAssertEqual(outcome, "ship")
    }

    /// The same on a PostgreSQL ledger (a server of the test's own), read afterwards as an engineer
    /// reads it: `quantfleet rollout status --db postgres://...`.
    func testTheSameRolloutOnAPostgreSQLLedger() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let uri = server.url(database: "ledger") + "?sslmode=disable"
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("in-process-postgres"))
        let outcome = try await decideTheRollout(in: layout, ledger: try LedgerLocation(parsing: uri, environment: [:]), uri: uri)
        XCTAssertEqual(outcome, "ship")
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.ledger.path), "no SQLite ledger beside the PostgreSQL one")

        let status = try ToolRun.output(of: SystemTestSupport.executables.appendingPathComponent("quantfleet").path, ["rollout", "status", "--db", uri])
        XCTAssertTrue(status.contains("status decided"), status)
        XCTAssertTrue(status.contains("ship"), status)
        let verified = try ToolRun.output(of: SystemTestSupport.executables.appendingPathComponent("quantfleet").path, ["ledger", "verify", "--db", uri])
        XCTAssertTrue(verified.hasPrefix("ok: the running totals equal their windows"), verified)
    }

    /// Runs the configured rollout with a coordinator and two agents in this process until the
    /// coordinator decides; returns the outcome.
    private func decideTheRollout(in layout: FleetLayout, ledger: LedgerLocation, uri: String? = nil) async throws -> String? {
        let agentIDs = ["agent-1", "agent-2"]
        var settings = try SystemTestSupport.quickRollout(in: layout, agents: agentIDs, minimumSamples: 2000)
        settings.ledger = uri
        var logger = Logger(label: "in-process")
        logger.logLevel = .warning

        var daemons = [try await CoordinatorApp.build(
            configuration: try CoordinatorConfiguration.load(from: layout.writeCoordinatorConfig(settings).path), logger: logger)]
        var agentURLs: [URL] = []
        for id in agentIDs {
            let port = try FreePort.allocate()
            let configuration = try layout.writeAgentConfig(id: id, coordinatorPort: settings.port, inferencePort: port)
            try FileManager.default.createDirectory(
                at: layout.agentDirectory(id).appendingPathComponent("data"), withIntermediateDirectories: true)
            daemons.append(try AgentApp.build(configuration: try AgentConfiguration.load(from: configuration.path), logger: logger))
            agentURLs.append(URL(string: "http://127.0.0.1:\(port)")!)
        }

        return try await withThrowingTaskGroup(of: Void.self) { group in
            for daemon in daemons { group.addTask { try await daemon.run() } }
            let traffic = TrafficRounds.start(
                agents: agentURLs, data: SystemTestSupport.traffic, model: SystemTestSupport.modelName, roundSize: 200,
                requestTimeout: .seconds(5))
            let outcome = await decidedOutcome(ledger: ledger, within: .seconds(120))
            let answered = await traffic.stop()
            XCTAssertGreaterThan(answered, 2000)
            for daemon in daemons { await daemon.triggerGracefulShutdown() }
            try await group.waitForAll()
            return outcome
        }
    }

    /// The outcome the coordinator recorded for its rollout, once it decided; nil if it did not in time.
    private func decidedOutcome(ledger: LedgerLocation, within timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let reader = try? Ledger.openReadOnly(location: ledger),
               let outcome = try? reader.query("SELECT outcome FROM rollouts WHERE status = 'decided'").rows.first?.first {
                return outcome
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }
}
