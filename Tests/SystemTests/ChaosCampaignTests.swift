import Chaos
import Foundation
import Operations
import XCTest

/// The short seeded campaign CI runs: ten real agents behind fault proxies, a staged rollout under
/// traffic, a hundred faults in 80 s, then the checkers; and proof that the checker sees a
/// window missing from the ledger.
final class ChaosCampaignTests: XCTestCase {
    func testASeededCampaignLosesNothingAndEndsAsAFaultFreeRun() async throws {
        let directory = try SystemTestSupport.scratchDirectory("chaos")
        let options = ChaosCampaign.Options(
            directory: directory, packageRoot: SystemTestSupport.packageRoot, executables: SystemTestSupport.executables, seed: 24,
            duration: .seconds(80), agents: 10, settleTimeout: .seconds(180))
        let report = try await ChaosCampaign(options: options, say: { print($0) }).run()
        print(report.lines.joined(separator: "\n"))

        XCTAssertEqual(
            report.faultsInjected.merging(report.faultsNotInjected, uniquingKeysWith: +), report.schedule.counts,
            "every scheduled fault was injected or said why not")
        // Disk-full faults mount a tmpfs, which needs root; as root, every fault was injected.
        if getuid() == 0 { XCTAssertEqual(report.faultsNotInjected, [:], report.notInjectedReason ?? "") }
        XCTAssertEqual(report.schedule.entries.count, 100, "80 s at one fault per 800 ms")
        let aimed = report.faultsInjected.filter(\.key.isAimed).values.reduce(0, +)
        XCTAssertGreaterThan(aimed - report.aimedKillsMissed.values.reduce(0, +), 0, "some aimed kills reached their crash points")
        XCTAssertGreaterThan(report.windowsChecked, 100)
        XCTAssertEqual(report.rolloutState, ChaosCampaign.faultFreeState)
        XCTAssertEqual(report.violations, [])

        // Not blind: one window taken out of the ledger is named.
        let layout = FleetLayout(root: directory)
        let removed = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [
            layout.ledger.path,
            "DELETE FROM windows WHERE (agent_id, assignment_id, sequence) = "
                + "(SELECT agent_id, assignment_id, sequence FROM windows WHERE agent_id = 'agent-1' ORDER BY assignment_id, sequence LIMIT 1)",
        ])
        XCTAssertEqual(removed.status, 0, removed.output)
        let spools = Dictionary(uniqueKeysWithValues: (1...options.agents).map { ("agent-\($0)", layout.spool("agent-\($0)")) })
        let checked = try LedgerCheck(
            ledger: layout.ledger, spools: spools, rolloutID: report.rolloutID, expectedState: ChaosCampaign.faultFreeState
        ).run()
        XCTAssertTrue(
            checked.violations.contains { $0.hasPrefix("agent-1, assignment ") && $0.contains("1 missing from the ledger") },
            checked.violations.joined(separator: "\n"))
    }
}
