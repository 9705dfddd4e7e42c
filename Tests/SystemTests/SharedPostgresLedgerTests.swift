import FaultInjection
import FleetProtocol
import Foundation
import Ledger
import Operations
import XCTest

/// Several coordinators on one PostgreSQL ledger, as real processes: agents spread over them, the
/// controller's term held by one, and that one SIGKILLed in the middle of the rollout. Another takes
/// the term over within 10 s, the rollout is decided as without the kill, and every decision row was
/// written in its term by the term's holder.
final class SharedPostgresLedgerTests: XCTestCase {
    func testThreeCoordinatorsDecideTheRolloutThoughTheControllersHolderIsKilled() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let uri = server.url(database: "ledger") + "?sslmode=disable"
        let agentIDs = (1...6).map { "agent-\($0)" }
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("shared-ledger"))
        // Enough samples that the kill lands before the decision.
        var settings = try SystemTestSupport.quickRollout(in: layout, agents: agentIDs, minimumSamples: 12_000)
        settings.ledger = uri
        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinators(3, settings)
        for id in agentIDs { try fleet.startAgent(id) }
        try await fleet.waitUntilReady(agentIDs)
        let ledger = try Ledger.openReadOnly(location: try LedgerLocation(parsing: uri, environment: [:]))

        let traffic = TrafficRounds.start(
            agents: agentIDs.compactMap { fleet.agentURLs[$0] }, data: SystemTestSupport.traffic, model: SystemTestSupport.modelName,
            roundSize: 100, requestTimeout: .seconds(5))
        try await SystemTestSupport.eventually(timeout: .seconds(60), "a third of the samples stored") {
            Int(try ledger.query("SELECT COALESCE(SUM(count), 0) FROM windows").rows[0][0]) ?? 0 >= 4000
        }
        let holderTerm = try XCTUnwrap(try ledger.controllerTerms().last)
        let holderIndex = try XCTUnwrap(fleet.coordinatorIndex(holding: holderTerm.holder), holderTerm.holder)
        fleet.killCoordinator(holderIndex)
        let killedAt = Date()

        try await SystemTestSupport.eventually(timeout: .seconds(20), "another coordinator takes the controller term") {
            (try ledger.controllerTerms().last?.token ?? 0) > holderTerm.token
        }
        let successor = try XCTUnwrap(try ledger.controllerTerms().last)
        XCTAssertLessThan(successor.startedAt.timeIntervalSince(killedAt), 10, "the killed holder was replaced within 10 s")
        XCTAssertFalse(successor.holder.contains(":\(fleet.coordinatorPorts[holderIndex])/"))

        try await SystemTestSupport.eventually(timeout: .seconds(180), "the rollout is decided") {
            try ledger.query("SELECT status FROM rollouts").rows.first?.first == "decided"
        }
        let answered = await traffic.stop()
        XCTAssertGreaterThan(answered, 12_000)
        XCTAssertEqual(try ledger.query("SELECT outcome FROM rollouts").rows, [["ship"]], "the same outcome as without the kill")

        // Every decision row was written during its token's term (the database refuses any other).
        let terms = try ledger.query("SELECT token, started_at, expires_at FROM controller_terms").rows
        let spans = Dictionary(uniqueKeysWithValues: terms.map { ($0[0], ($0[1], $0[2])) })
        let decisions = try ledger.query("SELECT fencing_token, decided_at FROM decisions ORDER BY id").rows
        XCTAssertFalse(decisions.isEmpty)
        for decision in decisions {
            let span = try XCTUnwrap(spans[decision[0]], "decision with token \(decision[0])")
            XCTAssertTrue(span.0 <= decision[1] && decision[1] <= span.1, "decided at \(decision[1]) outside term \(decision[0]) \(span)")
        }
        XCTAssertTrue(decisions.contains { $0[0] == String(successor.token) }, "the successor decided")
        XCTAssertTrue(try ledger.verifyRunningTotals().passed)
    }

    /// One of two coordinators is cut off from PostgreSQL by a black-hole partition (a proxy that
    /// accepts bytes and delivers none, as a lost route does, with no reset): its statements go
    /// unanswered, it gives its connections up after 10 s and acks nothing meanwhile, and its
    /// agents move to the other coordinator. Every agent's windows are stored without a gap.
    func testACoordinatorCutOffFromPostgreSQLLosesItsAgentsToTheOther() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let uri = server.url(database: "ledger") + "?sslmode=disable"
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: server.port)
        addTeardownBlock { await proxy.stop() }
        let agentIDs = (1...8).map { "agent-\($0)" }
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("cut-off-ledger"))
        var settings = try SystemTestSupport.quickRollout(in: layout, agents: agentIDs, minimumSamples: 1_000_000)
        settings.ledger = uri
        settings.adminPort = try FreePort.allocate()
        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinators(2, settings) { _, second in
            second.ledger = uri.replacingOccurrences(of: ":\(server.port)/", with: ":\(proxy.port)/")
        }
        for id in agentIDs { try fleet.startAgent(id) }
        try await fleet.waitUntilReady(agentIDs)
        let admins = try fleet.adminPorts.map { try AdminClient(operatorOf: layout, adminPort: $0!) }
        let cutOff = try await Self.connected(to: admins[1])
        XCTAssertFalse(cutOff.isEmpty, "no agent started on the second coordinator (each picks one at random)")

        let traffic = TrafficRounds.start(
            agents: agentIDs.compactMap { fleet.agentURLs[$0] }, data: SystemTestSupport.traffic, model: SystemTestSupport.modelName,
            roundSize: 50, requestTimeout: .seconds(5))
        try await Task.sleep(for: .seconds(3))
        proxy.partition()
        let partitioned = ContinuousClock.now
        try await SystemTestSupport.eventually(timeout: .seconds(60), "every agent on the first coordinator") {
            try await Self.connected(to: admins[0]).count == agentIDs.count
        }
        print("\(cutOff.count) agents left the cut-off coordinator within \(partitioned.duration(to: .now))")
        try await Task.sleep(for: .seconds(3))
        _ = await traffic.stop()
        // The agents' last windows: sealed within window-max-age, acked within a moment.
        try await Task.sleep(for: .seconds(3))

        let ledger = try Ledger.openReadOnly(location: try LedgerLocation(parsing: uri, environment: [:]))
        let perAgent = try ledger.query("""
            SELECT agent_id, COUNT(*), MIN(sequence), MAX(sequence) FROM windows GROUP BY agent_id, assignment_id ORDER BY agent_id
            """).rows
        XCTAssertEqual(Set(perAgent.map { $0[0] }), Set(agentIDs), "every agent's windows were stored")
        for row in perAgent {
            let (count, first, last) = (Int(row[1])!, Int(row[2])!, Int(row[3])!)
            XCTAssertEqual(count, last - first + 1, "\(row[0]): windows \(first)...\(last) stored without a gap")
            XCTAssertLessThanOrEqual(first, 1, "\(row[0]): from its first window")
        }
        XCTAssertTrue(try ledger.verifyRunningTotals().passed)
        proxy.heal()
    }

    /// The agents connected to the coordinator behind `admin`.
    private static func connected(to admin: AdminClient) async throws -> [String] {
        try await admin.get("/v1/agents", as: [AdminAPI.Agent].self).filter(\.connected).map(\.id)
    }
}
