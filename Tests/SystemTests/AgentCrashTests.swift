import Agent
import Foundation
import Ledger
import Operations
import XCTest

/// An agent killed with SIGKILL in the middle of real traffic, then restarted: every window it
/// sealed reaches the ledger exactly once (the spool resends, the ledger ignores duplicates).
final class AgentCrashTests: XCTestCase {
    func testKilledAgentLeavesEveryWindowInTheLedgerExactlyOnce() async throws {
        let agents = ["agent-1", "agent-2"]
        let fleet = try await SystemTestSupport.startFleet("crash", certified: agents, running: agents, for: self)
        let layout = fleet.layout

        let assignmentID = try XCTUnwrap(
            Ledger.openReadOnly(path: layout.ledger.path).query("SELECT id FROM assignments").rows.first?.first)
        let victimSpool = try WindowSpool(path: layout.spool("agent-1").path)

        let urls = agents.compactMap { fleet.agentURLs[$0] }
        let replay = Task {
            try await TrafficReplay(options: .init(
                data: SystemTestSupport.traffic, agents: urls, model: SystemTestSupport.modelName,
                concurrency: 4, limit: 2400)).run { _ in }
        }
        try await SystemTestSupport.eventually(timeout: .seconds(60), "agent-1 seals windows under traffic") {
            try victimSpool.windowsSealed(assignmentID: assignmentID) >= 20
        }
        fleet.agents["agent-1"]?.kill()
        let sealedBeforeKill = try victimSpool.windowsSealed(assignmentID: assignmentID)
        try fleet.startAgent("agent-1")
        try await fleet.waitUntilReady(["agent-1"])
        let replayed = try await replay.value
        XCTAssertGreaterThan(replayed.succeeded, 1000)

        // Quiet windows are sealed by age, then acknowledged: wait until every agent's spool is
        // empty and the ledger holds each window the agent sealed exactly once. A lost window never
        // arrives (timeout); a duplicate cannot be stored twice (the key), so counts settle exactly.
        // Sealed count and rows are read in one check: an agent may seal its last partial window
        // by age at any moment, so reading them apart can race.
        let spools = try agents.map { try WindowSpool(path: layout.spool($0).path) }
        let ledger = try Ledger.openReadOnly(path: layout.ledger.path)
        func stored(_ agent: String) throws -> [Int] {
            try ledger.query("""
                SELECT count(*), count(DISTINCT sequence), coalesce(max(sequence), -1) FROM windows
                WHERE agent_id = '\(agent)' AND assignment_id = '\(assignmentID)'
                """).rows[0].map { Int($0) ?? -2 }
        }
        var lastSeen: [String] = []
        do {
            try await SystemTestSupport.eventually(timeout: .seconds(30), "every sealed window stored once") {
                lastSeen = try zip(agents, spools).map { agent, spool in
                    "\(agent): pending \(try spool.pending().count), sealed \(try spool.windowsSealed(assignmentID: assignmentID)), stored (count, distinct, max sequence) \(try stored(agent))"
                }
                return try zip(agents, spools).allSatisfy { agent, spool in
                    let sealed = try spool.windowsSealed(assignmentID: assignmentID)
                    return try spool.pending().isEmpty && stored(agent) == [sealed, sealed, sealed - 1]
                }
            }
        } catch {
            XCTFail("last seen: \(lastSeen.joined(separator: "; "))")
            throw error
        }
        XCTAssertGreaterThan(try victimSpool.windowsSealed(assignmentID: assignmentID), sealedBeforeKill, "agent-1 kept working after the restart")
    }
}
