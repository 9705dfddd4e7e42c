import Agent
import FaultInjection
import Foundation
import Operations
import XCTest

/// An agent whose connection is left half-open (the coordinator's side closed, by a NAT that
/// forgot it or a partition that outlived the coordinator's patience; the agent's side still open)
/// must notice that the coordinator went silent and reconnect, or its windows wait in its spool for
/// ever. The chaos campaign's half-open faults found this.
final class HalfOpenLinkTests: XCTestCase {
    func testAnAgentOnAHalfOpenConnectionReconnectsAndDeliversItsWindows() async throws {
        let fleet = try await SystemTestSupport.startFleet("half-open", certified: ["agent-1"], running: [], for: self) {
            $0.heartbeatIntervalMillis = 1000
        }
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: fleet.coordinatorPort)
        addTeardownBlock { await proxy.stop() }
        let agent = try fleet.startAgent("agent-1", through: proxy.port)
        try await fleet.waitUntilReady(["agent-1"])
        XCTAssertEqual(proxy.connectionIDs.count, 1)

        let accepted = proxy.counters.connectionsAccepted
        try proxy.halfOpen()
        let replay = try await TrafficReplay(options: .init(
            data: SystemTestSupport.traffic, agents: [agent], model: SystemTestSupport.modelName, concurrency: 2, limit: 200)).run { _ in }
        XCTAssertEqual(replay.failed, 0, replay.firstError ?? "")
        try await SystemTestSupport.eventually(timeout: .seconds(15), "the agent reconnects through the proxy") {
            proxy.counters.connectionsAccepted > accepted
        }
        let spool = try WindowSpool(path: fleet.layout.spool("agent-1").path)
        try await SystemTestSupport.eventually(timeout: .seconds(15), "every window sealed since is acknowledged") {
            try spool.pending().isEmpty && spool.windowsSealed().values.reduce(0, +) >= 10
        }
    }
}
