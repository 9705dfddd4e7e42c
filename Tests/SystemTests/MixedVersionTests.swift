import FleetProtocol
import Foundation
import Ledger
import Operations
import XCTest

/// A fleet in the middle of upgrading QuantFleet itself: the agent and coordinator of an earlier
/// commit of main, built from git in a scratch folder of their own, beside today's. Today's
/// coordinator takes the earlier agent through a rollout, and the earlier coordinator today's
/// agent; a rollout for agents of today's release or later leaves the earlier agent out.
final class MixedVersionTests: XCTestCase {
    /// The last landing before the agent reported release 0.2.0 (protocol version 1, ledger v12).
    static let earlier = EarlierBuild(commit: "4c5d2ee7896c9515545d03dc75550908275b169e", agentVersion: "0.1.0")

    func testTodaysCoordinatorTakesAnEarlierAgentThroughARolloutAndTargetsByVersion() async throws {
        let earlierBinaries = try Self.earlier.binaries()
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("mixed-today-coordinator"))
        var settings = try SystemTestSupport.quickRollout(in: layout, agents: ["agent-new", "agent-old"], minimumSamples: 600)
        settings.opensRollout = false
        settings.adminPort = try FreePort.allocate()
        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinator(settings)
        let today = try fleet.startAgent("agent-new")
        let old = try fleet.startAgent("agent-old", executables: earlierBinaries)
        let admin = try AdminClient(operatorOf: layout, adminPort: try XCTUnwrap(settings.adminPort))
        try await admin.waitForConnectedAgents(2) { try fleet.checkAlive() }
        let versions = try await admin.get("/v1/agents", as: [AdminAPI.Agent].self).map { "\($0.id) \($0.agentVersion)" }.sorted()
        XCTAssertEqual(versions, ["agent-new 0.4.0", "agent-old \(Self.earlier.agentVersion)"], "agents list shows each agent's release")

        let reference = try admin.decode(AdminAPI.Model.self, from: try await admin.pushModel(
            settings.reference, name: SystemTestSupport.modelName, precision: "fp16")).sha256
        let candidate = try admin.decode(AdminAPI.Model.self, from: try await admin.pushModel(
            settings.candidate, name: SystemTestSupport.modelName, precision: "int8")).sha256
        let traffic = TrafficRounds.start(
            agents: [today, old], data: SystemTestSupport.traffic, model: SystemTestSupport.modelName, roundSize: 100)

        // Only today's release: the earlier agent is not enrolled.
        let upgradedOnly = try await Self.rollout(reference, candidate, minimumAgentVersion: "0.2.0", through: admin)
        XCTAssertEqual(upgradedOnly.members.map(\.agentID), ["agent-new"])
        let first = try await Self.waitForPromotion(upgradedOnly.id, through: admin)
        XCTAssertEqual(first.members.map(\.agentID), ["agent-new"])

        // Every agent: the earlier one shadows, reports and is promoted with today's.
        let everyone = try await Self.rollout(reference, candidate, minimumAgentVersion: nil, through: admin)
        XCTAssertEqual(everyone.members.map(\.agentID).sorted(), ["agent-new", "agent-old"])
        let second = try await Self.waitForPromotion(everyone.id, through: admin)
        await traffic.stop()
        XCTAssertEqual(second.outcome, "ship")
        let ledger = try Ledger.openReadOnly(path: layout.ledger.path)
        let oldWindows = try ledger.query("""
            SELECT COUNT(*) FROM windows w JOIN assignments a ON a.id = w.assignment_id
            WHERE w.agent_id = 'agent-old' AND a.rollout_id = '\(everyone.id)'
            """).rows[0][0]
        XCTAssertGreaterThan(Int(oldWindows) ?? 0, 0, "the earlier agent's windows were stored")
        XCTAssertTrue(try ledger.verifyRunningTotals().passed)
        do {
            _ = try await admin.send(.post, "/v1/rollouts", body: try JSONEncoder().encode(AdminAPI.CreateRollout(
                modelName: SystemTestSupport.modelName, reference: reference, candidate: candidate, minimumAgentVersion: "latest")),
                contentType: "application/json")
            XCTFail("a minimum version that is no release was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("400") && "\(error)".contains("latest is not a release version"), "\(error)")
        }
    }

    func testAnEarlierCoordinatorTakesTodaysAgentThroughARollout() async throws {
        let earlierBinaries = try Self.earlier.binaries()
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("mixed-earlier-coordinator"))
        let settings = try SystemTestSupport.quickRollout(in: layout, agents: ["agent-new"], minimumSamples: 600)
        let fleet = LocalFleet(layout: layout, executables: earlierBinaries)
        addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinator(settings)
        let today = try fleet.startAgent("agent-new", executables: SystemTestSupport.executables)
        try await fleet.waitUntilReady(["agent-new"])
        let traffic = TrafficRounds.start(agents: [today], data: SystemTestSupport.traffic, model: SystemTestSupport.modelName, roundSize: 100)
        // Read with the sqlite3 shell: today's reader refuses the earlier schema (v12) as older than its own.
        func sql(_ query: String) throws -> String {
            try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), ["-readonly", layout.ledger.path, query]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await SystemTestSupport.eventually(timeout: .seconds(120), "the earlier coordinator decides") {
            try sql("SELECT status FROM rollouts") == "decided"
        }
        await traffic.stop()
        XCTAssertEqual(try sql("SELECT outcome FROM rollouts"), "ship")
        XCTAssertEqual(try sql("SELECT agent_version FROM agents"), "0.4.0")
        XCTAssertGreaterThan(Int(try sql("SELECT COUNT(*) FROM windows")) ?? 0, 0)
    }

    private static func rollout(
        _ reference: String, _ candidate: String, minimumAgentVersion: String?, through admin: AdminClient
    ) async throws -> AdminAPI.Rollout {
        let created: AdminAPI.Rollout = try await admin.post("/v1/rollouts", json: AdminAPI.CreateRollout(
            modelName: SystemTestSupport.modelName, reference: reference, candidate: candidate, stages: [100], windowSize: 20,
            windowMaxAgeMs: 300, minimumAgentVersion: minimumAgentVersion))
        XCTAssertEqual(created.minimumAgentVersion, minimumAgentVersion)
        return try await admin.post("/v1/rollouts/\(created.id)/start", json: AdminAPI.Action(reason: "mixed versions"))
    }

    private static func waitForPromotion(_ id: String, through admin: AdminClient) async throws -> AdminAPI.Rollout {
        var rollout: AdminAPI.Rollout?
        try await SystemTestSupport.eventually(timeout: .seconds(120), "rollout \(id) promoted") {
            rollout = try await admin.get("/v1/rollouts/\(id)", as: AdminAPI.Rollout.self)
            return rollout?.state == "promoted"
        }
        return try XCTUnwrap(rollout)
    }
}

/// The agent and coordinator of an earlier commit, built once from `git archive` into
/// `.build-compat/COMMIT` (about 15 minutes on 2 cores; kept for the next run).
struct EarlierBuild {
    let commit: String
    /// What its agent reports in Hello.
    let agentVersion: String

    func binaries() throws -> URL {
        let folder = SystemTestSupport.packageRoot.appendingPathComponent(".build-compat/\(commit.prefix(12))")
        let binaries = folder.appendingPathComponent("build/debug")
        let products = ["quantfleet-agent", "quantfleet-coordinator"]
        if products.allSatisfy({ FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent($0).path) }) {
            return binaries
        }
        let source = folder.appendingPathComponent("source")
        try? FileManager.default.removeItem(at: source)
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        // A shallow clone lacks the commit: it fetches the rest of the history from its origin first.
        let repository = "git -C '\(SystemTestSupport.packageRoot.path)'"
        let unpacked = try SystemTestSupport.run(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "set -e; \(repository) cat-file -e \(commit)^{commit} 2>/dev/null || \(repository) fetch --quiet --unshallow; "
                + "\(repository) archive \(commit) | tar -x -C '\(source.path)'",
        ])
        guard unpacked.status == 0 else {
            throw EarlierBuildError(description: "cannot unpack \(commit) from this clone's history: \(unpacked.output)")
        }
        for product in products {
            let built = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
                "swift", "build", "--package-path", source.path, "--scratch-path", folder.appendingPathComponent("build").path,
                "--product", product,
            ])
            guard built.status == 0 else {
                throw EarlierBuildError(description: "building \(product) at \(commit) failed:\n\(built.output.suffix(3000))")
            }
        }
        return binaries
    }
}

struct EarlierBuildError: Error, CustomStringConvertible {
    let description: String
}
