import Synchronization
import XCTest

@testable import Coordinator

final class TransferSlotsTests: XCTestCase {
    func testNoMoreThanTheLimitRunAtOnceAndEveryTransferRuns() async throws {
        let slots = TransferSlots(limit: 2, metrics: CoordinatorMetrics())
        let counts = Counts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await slots.run {
                        let now = counts.running.add(1, ordering: .relaxed).newValue
                        counts.peak.max(now, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(20))
                        counts.running.subtract(1, ordering: .relaxed)
                        counts.finished.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(counts.peak.load(ordering: .relaxed), 2)
        XCTAssertEqual(counts.finished.load(ordering: .relaxed), 10)
    }

    private final class Counts: Sendable {
        let running = Atomic(0)
        let peak = Atomic(0)
        let finished = Atomic(0)
    }

    func testAFailedTransferFreesItsSlot() async throws {
        struct Broken: Error {}
        let slots = TransferSlots(limit: 1, metrics: CoordinatorMetrics())
        do {
            try await slots.run { throw Broken() }
            XCTFail("the transfer's error must reach the caller")
        } catch is Broken {}
        let value = try await slots.run { 42 }
        XCTAssertEqual(value, 42)
    }
}
