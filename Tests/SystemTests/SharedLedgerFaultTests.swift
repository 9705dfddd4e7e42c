import FaultInjection
import FleetProtocol
import Foundation
import Ledger
import LoadGeneration
import Operations
import XCTest

/// Three coordinators on one PostgreSQL ledger under 30 simulated agents (real TLS, one certificate
/// each), through a staged rollout of 34 %, 67 % and 100 %, run twice: once without faults, and once
/// with one coordinator cut off from PostgreSQL by a black-hole proxy, the controller term's holder
/// SIGKILLed twice and another coordinator SIGKILLed once. Killed coordinators are restarted, as
/// a supervisor would. The faulted run stores every window exactly once, advances each stage once,
/// has every controller row written by the term holder of its time, and ends as the calm run did.
final class SharedLedgerFaultTests: XCTestCase {
    static let agents = 30
    static let stages = [34, 67, 100]

    func testThirtyAgentsThroughKilledHoldersAndACutOffCoordinatorEndAsWithoutFaults() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }

        let calm = try await SharedLedgerRun.start("shared-calm", server: server, for: self)
        let (calmResult, _) = try await calm.run { _ in }
        print("without faults: \(calmResult.summary)")

        let faulted = try await SharedLedgerRun.start("shared-faults", server: server, for: self)
        let (faultedResult, drill) = try await faulted.run(faults: Self.faults(in:))
        print("with faults: \(faultedResult.summary)\n" + drill.map { "  \($0)" }.joined(separator: "\n"))

        for (name, result) in [("calm", calmResult), ("faulted", faultedResult)] {
            XCTAssertEqual(result.unackedAtEnd, 0, "\(name): every window was acked in the end")
            XCTAssertEqual(result.windowsAcked, result.windowsMade, name)
            XCTAssertEqual(result.stored, [result.windowsMade, result.windowsMade], "\(name): every window made is stored exactly once")
            XCTAssertEqual(result.controllerActions, ["advance 1", "advance 2", "promote 2"], "\(name): each stage advanced once")
            XCTAssertEqual(result.rowsOutsideTheirTerm, [], "\(name): every decision and controller event in its holder's term")
            XCTAssertTrue(result.totalsVerified, "\(name): running totals equal the windows")
        }
        XCTAssertEqual(faultedResult.outcome, calmResult.outcome, "the same outcome as without faults")
        XCTAssertEqual(calmResult.outcome, "ship", "a 0.2 % drop ships under the 1 % band")
        XCTAssertGreaterThanOrEqual(faultedResult.terms, 3, "two kills of the holder: at least three terms")
    }

    /// The fault script, keyed to the rollout's progress as read from the ledger. Returns what it did.
    private static func faults(in run: SharedLedgerRun) async throws -> [String] {
        var did: [String] = []
        let started = ContinuousClock.now
        func note(_ text: String) { did.append(String(format: "+%5.1f s  ", started.duration(to: .now) / .seconds(1)) + text) }

        // Stage 1, once evidence flows: one coordinator loses PostgreSQL. It must stop acking, and
        // its agents (a third of them: each agent starts at a random coordinator) must move.
        try await run.waitForSamples(atStage: 0, 10_000)
        let stranded = try await run.connectedAgents(to: run.cutOffIndex)
        XCTAssertGreaterThan(stranded, 0, "no agent started on the coordinator to cut off")
        run.proxy.partition()
        note("\(LocalFleet.coordinatorName(run.cutOffIndex)) cut off from PostgreSQL with \(stranded) agents")
        // Counted from when the coordinator knows: a batch committed just before the cut may still
        // be counted (its sessions resume late on a loaded machine), and acks need commits, which
        // `stored` below checks from the ledger's side.
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the cut-off coordinator finds its ledger out of reach") {
            try await run.ledgerReachable(by: run.cutOffIndex) == false
        }
        note("\(LocalFleet.coordinatorName(run.cutOffIndex)) finds the ledger out of reach")
        let ingestedWhenCut = try await run.windowsIngested(by: run.cutOffIndex)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "every agent on the coordinators that reach PostgreSQL") {
            try await run.connectedAgents(to: run.reachableIndices) == SharedLedgerFaultTests.agents
        }
        note("every agent moved off \(LocalFleet.coordinatorName(run.cutOffIndex))")
        let ingestedWhileCut = try await run.windowsIngested(by: run.cutOffIndex)
        XCTAssertEqual(ingestedWhileCut, ingestedWhenCut, "the cut-off coordinator stored (and so acked) no window")
        run.proxy.heal()
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the healed coordinator reaches its ledger again") {
            try await run.ledgerReachable(by: run.cutOffIndex)
        }
        note("route to PostgreSQL restored, and the coordinator reaches it")

        // Still stage 1 (or 2): the holder, then (once its successor took over) the other coordinator
        // with the most agents.
        let first = try await run.killHolderAndRestart()
        note("SIGKILLed holder \(LocalFleet.coordinatorName(first.killed)); term \(first.successorToken) after \(first.failover)")
        let bystander = try await run.busiestCoordinator(except: try run.holderIndex())
        run.fleet.killCoordinator(bystander.index)
        note("SIGKILLed \(LocalFleet.coordinatorName(bystander.index)), not holding the term, with \(bystander.agents) agents")
        try await Task.sleep(for: .seconds(2))
        try run.fleet.restartCoordinator(bystander.index)

        // Stage 2, as it opens (or at once, if it has already): the holder again.
        try await run.waitForStage(1)
        let second = try await run.killHolderAndRestart()
        note("stage 2 open; SIGKILLed holder \(LocalFleet.coordinatorName(second.killed)); term \(second.successorToken) after \(second.failover)")
        return did
    }
}

/// One run of the rollout on its own database of the shared PostgreSQL server: three coordinators
/// (the third reaching the ledger through a fault proxy), 30 simulated agents, a staged rollout
/// created through a coordinator that may not hold the controller term.
struct SharedLedgerRun {
    let simulated: SimulatedFleet
    let generator: LoadGenerator
    let ledger: LedgerReader
    let proxy: FaultProxy
    let admins: [AdminClient]
    let metricsPorts: [Int]
    var fleet: LocalFleet { simulated.fleet }
    let cutOffIndex = 2
    var reachableIndices: [Int] { [0, 1] }

    struct Result {
        var windowsMade = 0
        var windowsAcked = 0
        var unackedAtEnd = 0
        /// Windows stored, and distinct (agent, assignment, sequence) keys among them.
        var stored: [Int] = []
        /// The controller's events, "action stage" with stages counted from 0.
        var controllerActions: [String] = []
        /// Decision and event rows whose time lies outside the term their fencing token names.
        var rowsOutsideTheirTerm: [String] = []
        var outcome: String?
        var terms = 0
        var totalsVerified = false
        var elapsed = Duration.zero

        var summary: String {
            "\(outcome ?? "no outcome") after \(elapsed), \(windowsMade) windows made, \(stored.first ?? 0) stored, \(terms) controller terms"
        }
    }

    static func start(_ name: String, server: PostgresServer, for test: XCTestCase) async throws -> SharedLedgerRun {
        let database = name.replacingOccurrences(of: "-", with: "_")
        try server.psql("CREATE DATABASE \(database)")
        let uri = server.url(database: database) + "?sslmode=disable"
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: server.port)
        test.addTeardownBlock { await proxy.stop() }
        let policy = try RolloutDriver.policy(
            name, shipBelow: 0.01, stayFP16Above: 0.03, minimumSamples: 100_000,
            extra: "evaluation:\n  every-windows: 50\n  every-ms: 500")
        let simulated = try SimulatedFleet.start(name, for: test, coordinators: 3) { settings in
            settings.ledger = uri
            settings.policy = policy
            settings.opensRollout = false
            settings.adminPort = try FreePort.allocate()
            settings.metricsPort = try FreePort.allocate()
        } adjusting: { index, settings in
            if index == 2 { settings.ledger = uri.replacingOccurrences(of: ":\(server.port)/", with: ":\(proxy.port)/") }
        }
        var plan = simulated.plan(agents: SharedLedgerFaultTests.agents, windowInterval: .milliseconds(250), duration: .seconds(600))
        plan.evidence.trueDrop = 0.002
        plan.drainTimeout = .seconds(60)
        plan.backoff = .init(initialMillis: 200, maximumMillis: 2000)
        plan.idPrefix = name
        let admins = try simulated.fleet.adminPorts.map { try AdminClient(operatorOf: simulated.layout, adminPort: try XCTUnwrap($0)) }
        let metricsPorts = try simulated.fleet.metricsPorts.map { try XCTUnwrap($0) }
        // Readable once the first coordinator has migrated it.
        let location = try LedgerLocation(parsing: uri, environment: [:])
        var ledger: LedgerReader?
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the ledger migrated") {
            ledger = try? Ledger.openReadOnly(location: location)
            return ledger != nil
        }
        return SharedLedgerRun(
            simulated: simulated, generator: try simulated.generator(plan), ledger: try XCTUnwrap(ledger),
            proxy: proxy, admins: admins, metricsPorts: metricsPorts)
    }

    /// Connects the agents, starts the rollout, runs `faults` on it, ends the windows once it is
    /// decided, and reads what the ledger holds.
    func run<Report>(faults: (SharedLedgerRun) async throws -> Report) async throws -> (Result, Report) {
        let started = ContinuousClock.now
        let prepared = try generator.prepareAgents()
        let load = Task { try await generator.run(prepared) }
        defer { load.cancel() }
        try await SystemTestSupport.eventually(timeout: .seconds(60), "every simulated agent connected") {
            try await connectedAgents(to: Array(0..<3)) == SharedLedgerFaultTests.agents
        }
        let rollout = try await admins[1].startStagedRollout(
            modelName: SystemTestSupport.modelName, reference: (simulated.settings.reference, "fp16"),
            candidate: (simulated.settings.candidate, "int8"), stages: SharedLedgerFaultTests.stages, windowSize: 100,
            reason: "shared-ledger fault test")
        let report = try await faults(self)
        try await SystemTestSupport.eventually(timeout: .seconds(240), "the rollout is decided") {
            try ledger.query("SELECT status FROM rollouts WHERE id = '\(rollout.id)'").rows.first?.first == "decided"
        }
        generator.endWindows()
        let measured = try await load.value
        return (try read(rolloutID: rollout.id, measured: measured, elapsed: started.duration(to: .now)), report)
    }

    private func read(rolloutID: String, measured: LoadResult, elapsed: Duration) throws -> Result {
        var result = Result()
        result.elapsed = elapsed
        result.windowsMade = measured.measurements.windowsMade
        result.windowsAcked = measured.measurements.windowsAcked
        result.unackedAtEnd = measured.timeline.unackedAtEnd
        result.stored = try ledger.query("""
            SELECT count(*), count(DISTINCT agent_id || ' ' || assignment_id || ' ' || sequence) FROM windows
            """).rows[0].map { Int($0) ?? -1 }
        result.controllerActions = try ledger.query("""
            SELECT action, stage FROM rollout_events WHERE rollout_id = '\(rolloutID)' AND actor = 'controller' ORDER BY id
            """).rows.map { "\($0[0]) \($0[1])" }
        result.rowsOutsideTheirTerm = try ledger.query("""
            SELECT 'decision ' || d.id FROM decisions d LEFT JOIN controller_terms t ON t.token = d.fencing_token
            WHERE t.token IS NULL OR d.decided_at < t.started_at OR d.decided_at > t.expires_at
            UNION ALL
            SELECT 'event ' || e.id FROM rollout_events e LEFT JOIN controller_terms t ON t.token = e.fencing_token
            WHERE e.actor = 'controller' AND (t.token IS NULL OR e.at < t.started_at OR e.at > t.expires_at)
            """).rows.map { $0[0] }
        result.outcome = try ledger.query("SELECT outcome FROM rollouts WHERE id = '\(rolloutID)'").rows.first?.first
        result.terms = try ledger.controllerTerms().count
        result.totalsVerified = try ledger.verifyRunningTotals().passed
        return result
    }

    func holderIndex() throws -> Int {
        let holder = try XCTUnwrap(try ledger.controllerTerms().last, "no controller term yet")
        return try XCTUnwrap(fleet.coordinatorIndex(holding: holder.holder), holder.holder)
    }

    /// The coordinator other than `excluded` with the most agents connected, and how many.
    func busiestCoordinator(except excluded: Int) async throws -> (index: Int, agents: Int) {
        var busiest = (index: excluded == 0 ? 1 : 0, agents: -1)
        for index in 0..<3 where index != excluded {
            let agents = try await connectedAgents(to: index)
            if agents > busiest.agents { busiest = (index, agents) }
        }
        return busiest
    }

    /// SIGKILLs the term's holder, waits for a successor's term, and restarts the killed one.
    func killHolderAndRestart() async throws -> (killed: Int, successorToken: Int64, failover: Duration) {
        let term = try XCTUnwrap(try ledger.controllerTerms().last)
        let killed = try holderIndex()
        fleet.killCoordinator(killed)
        let killedAt = ContinuousClock.now
        try await SystemTestSupport.eventually(timeout: .seconds(20), "another coordinator takes the term") {
            (try ledger.controllerTerms().last?.token ?? 0) > term.token
        }
        let failover = killedAt.duration(to: .now)
        XCTAssertLessThan(failover, .seconds(10), "the killed holder was replaced within 10 s")
        try fleet.restartCoordinator(killed)
        return (killed, try XCTUnwrap(try ledger.controllerTerms().last).token, failover)
    }

    func waitForSamples(atStage stage: Int, _ samples: Int) async throws {
        try await SystemTestSupport.eventually(timeout: .seconds(120), "\(samples) samples at stage \(stage + 1)") {
            let stored = try ledger.query("""
                SELECT COALESCE(SUM(w.count), 0) FROM windows w JOIN assignments a ON a.id = w.assignment_id WHERE a.stage = \(stage)
                """).rows[0][0]
            return Int(stored) ?? 0 >= samples
        }
    }

    func waitForStage(_ stage: Int) async throws {
        try await SystemTestSupport.eventually(timeout: .seconds(120), "stage \(stage + 1) open") {
            Int(try ledger.query("SELECT MAX(stage) FROM rollout_plans").rows[0][0]) ?? -1 >= stage
        }
    }

    /// Agents with a session on the coordinators `indices`; a coordinator that does not answer has none.
    func connectedAgents(to indices: [Int]) async throws -> Int {
        var connected = 0
        for index in indices {
            connected += (try? await admins[index].get("/v1/agents", as: [AdminAPI.Agent].self))?.filter(\.connected).count ?? 0
        }
        return connected
    }

    func connectedAgents(to index: Int) async throws -> Int { try await connectedAgents(to: [index]) }

    func windowsIngested(by index: Int) async throws -> Double {
        try await SystemTestSupport.metric("quantfleet_coordinator_windows_ingested_total", port: metricsPorts[index])
    }

    func ledgerReachable(by index: Int) async throws -> Bool {
        try await SystemTestSupport.metric("quantfleet_coordinator_ledger_reachable", port: metricsPorts[index]) == 1
    }
}
