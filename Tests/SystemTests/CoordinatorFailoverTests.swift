import Foundation
import Ledger
import Operations
import XCTest

/// An agent given several coordinators (`coordinators:` in agent.yaml) moves to another when the
/// one it is connected to dies: real processes, real TLS, each coordinator with its own ledger here
/// (the shared PostgreSQL ledger is what makes their evidence one).
final class CoordinatorFailoverTests: XCTestCase {
    func testAnAgentMovesToTheOtherCoordinatorWhenItsOwnIsKilled() async throws {
        let fleet = try await SystemTestSupport.startFleet("failover", certified: ["agent-1"], running: [], for: self)
        let layout = fleet.layout
        let portA = fleet.coordinatorPort
        let portB = try FreePort.allocate()
        let directoryB = layout.root.appendingPathComponent("coordinator-b")
        try FileManager.default.createDirectory(at: directoryB, withIntermediateDirectories: true)
        let configB = directoryB.appendingPathComponent("coordinator.yaml")
        try String(contentsOf: layout.coordinatorConfig, encoding: .utf8)
            .replacingOccurrences(of: "port: \(portA)\n", with: "port: \(portB)\n")
            .replacingOccurrences(of: layout.coordinatorDirectory.path, with: directoryB.path)
            .write(to: configB, atomically: true, encoding: .utf8)
        let coordinatorB = try ManagedProcess(
            name: "coordinator-b", executable: fleet.executables.appendingPathComponent("quantfleet-coordinator"),
            arguments: ["--config", configB.path], logFile: layout.log("coordinator-b"))
        addTeardownBlock { await coordinatorB.stop() }

        let agentConfig = try layout.writeAgentConfig(id: "agent-1", coordinatorPort: portA, inferencePort: try FreePort.allocate())
        try String(contentsOf: agentConfig, encoding: .utf8)
            .replacingOccurrences(of: "coordinator:\n  host: 127.0.0.1\n  port: \(portA)\n", with: """
                coordinators:
                  - host: 127.0.0.1
                    port: \(portA)
                  - host: 127.0.0.1
                    port: \(portB)

                """)
            .write(to: agentConfig, atomically: true, encoding: .utf8)
        let agent = try ManagedProcess(
            name: "agent-1", executable: fleet.executables.appendingPathComponent("quantfleet-agent"),
            arguments: ["--config", agentConfig.path], logFile: layout.log("agent-1"))
        addTeardownBlock { await agent.stop() }

        let ledgers = [layout.ledger, directoryB.appendingPathComponent("ledger.sqlite")]
        let first = try await firstLedgerToSee("agent-1", in: ledgers, within: .seconds(60))
        let coordinatorA = try XCTUnwrap(fleet.processes.first { $0.name == "coordinator" })
        let other = ledgers[1 - first]
        XCTAssertNil(try? agentSeen("agent-1", in: other), "one coordinator at a time")
        (first == 0 ? coordinatorA : coordinatorB).kill()
        let killed = ContinuousClock.now
        let next = try await firstLedgerToSee("agent-1", in: [other], within: .seconds(20))
        // To the 200 ms the ledger is polled at.
        print("the agent's Hello reached the other coordinator \(killed.duration(to: .now)) after the kill")
        XCTAssertEqual(next, 0, "the agent said Hello to the other coordinator after the first was killed")
        XCTAssertTrue(agent.isRunning)
    }

    /// The agent's last_seen_at in the ledger at `url`, or nil before its Hello.
    private func agentSeen(_ id: String, in url: URL) throws -> String? {
        try Ledger.openReadOnly(path: url.path).query("SELECT last_seen_at FROM agents WHERE id = '\(id)'").rows.first?.first
    }

    private func firstLedgerToSee(_ id: String, in ledgers: [URL], within timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for (index, ledger) in ledgers.enumerated() where (try? agentSeen(id, in: ledger)) != nil { return index }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw NeverSeen(description: "no ledger of \(ledgers.map(\.path)) recorded \(id)'s Hello within \(timeout)")
    }

    private struct NeverSeen: Error, CustomStringConvertible {
        let description: String
    }
}
