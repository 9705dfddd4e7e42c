import Foundation
import XCTest

@testable import Coordinator

/// The per-agent limits: the byte rate's debt, the window credits' waiting, the warnings' pace
/// (their configuration keys: CoordinatorConfigurationTests).
final class AgentLimitsTests: XCTestCase {
    func testByteRateLetsASecondThroughThenMakesTheSenderWaitOffItsDebt() {
        let start = ContinuousClock.now
        var rate = ByteRate(bytesPerSecond: 1000, now: start)
        XCTAssertNil(rate.take(600, now: start))
        XCTAssertNil(rate.take(400, now: start))
        // 500 bytes over the allowance: half a second until the bucket is out of debt.
        XCTAssertEqual(rate.take(500, now: start), .milliseconds(500))
        // After that half second the bucket is empty, not in debt; a further second refills it.
        XCTAssertEqual(rate.take(1, now: start + .milliseconds(500)), .milliseconds(1))
        XCTAssertNil(rate.take(900, now: start + .milliseconds(1600)))
    }

    func testAFrameLargerThanASecondsAllowanceStillGoesThrough() {
        let start = ContinuousClock.now
        var rate = ByteRate(bytesPerSecond: 100, now: start)
        XCTAssertEqual(rate.take(350, now: start), .milliseconds(2500))
    }

    func testWindowCreditsMakeTheNextWindowWaitUntilOneCommits() async throws {
        let credits = WindowCredits(limit: 2)
        await credits.acquire()
        await credits.acquire()
        XCTAssertFalse(credits.isAvailable)
        let third = Task {
            await credits.acquire()
            return ContinuousClock.now
        }
        try await Task.sleep(for: .milliseconds(100))
        let released = ContinuousClock.now
        credits.release()
        let acquired = await third.value
        XCTAssertGreaterThanOrEqual(acquired, released, "the third window waited for a release")
        XCTAssertEqual(credits.inFlight, 2)
        credits.release()
        credits.release()
        XCTAssertEqual(credits.inFlight, 0)
    }

    func testLimitWarningsLogOncePerIntervalPerLimit() {
        var warnings = LimitWarnings()
        let start = ContinuousClock.now
        XCTAssertTrue(warnings.shouldLog(.windowsInFlight, now: start))
        XCTAssertFalse(warnings.shouldLog(.windowsInFlight, now: start + .seconds(1)))
        XCTAssertTrue(warnings.shouldLog(.bytesPerSecond, now: start + .seconds(1)))
        XCTAssertTrue(warnings.shouldLog(.windowsInFlight, now: start + LimitWarnings.interval))
    }
}
