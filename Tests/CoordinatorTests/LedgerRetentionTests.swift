import Foundation
import Ledger
import XCTest

@testable import Coordinator

/// `ledger-retention-days`: the coordinator's rollup runs while its writer ingests, and loses and
/// doubles nothing: every window is counted once, and the running totals still equal the windows.
final class LedgerRetentionTests: XCTestCase {
    func testARollupDuringIngestKeepsEveryWindowOnce() async throws {
        let fixture = try WriterFixture(for: self)
        let retention = LedgerRetention(
            ledger: fixture.ledger, days: 5, interval: .seconds(3600), metrics: fixture.metrics, logger: fixture.logger)
        let (agents, windowsEach) = (8, 120)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<agents {
                group.addTask {
                    for sequence in 0..<windowsEach {
                        _ = try await fixture.writer.ingest(fixture.window(agent: "agent-\(agent)", sequence: sequence))
                    }
                }
            }
            // Ten days from now, every window stored so far is older than five days.
            group.addTask {
                for _ in 0..<3 {
                    try await Task.sleep(for: .milliseconds(300))
                    await retention.rollUp(now: Date().addingTimeInterval(10 * 86_400))
                }
            }
            try await group.waitForAll()
        }
        await retention.rollUp(now: Date().addingTimeInterval(10 * 86_400))
        // A resend of a rolled-up window is acked as a duplicate.
        let resent = try await fixture.writer.ingest(fixture.window(agent: "agent-2", sequence: 5))
        XCTAssertEqual(resent, .duplicate)

        let reader = try Ledger.openReadOnly(path: fixture.ledger.path)
        let rows = try reader.query("SELECT SUM(windows_merged), COUNT(*) FROM windows").rows[0]
        XCTAssertEqual(rows[0], "\(agents * windowsEach)", "every window counted once")
        XCTAssertEqual(Int(rows[1]), agents, "all rolled up: one row per agent (one day, one kernel path)")
        XCTAssertEqual(try reader.verifyRunningTotals().mismatches, [])
        XCTAssertEqual(try fixture.metric("quantfleet_coordinator_windows_rolled_up_total"), agents * windowsEach)
    }
}
