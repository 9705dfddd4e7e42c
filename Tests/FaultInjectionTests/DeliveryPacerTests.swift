@testable import FaultInjection
import NIOCore
import XCTest

/// The arithmetic of delivery times, without sockets or clocks.
final class DeliveryPacerTests: XCTestCase {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func testLatencyAndJitterAddUpButNeverReorder() {
        var pacer = DeliveryPacer()
        let faults = LinkFaults(latency: .milliseconds(100), jitter: .milliseconds(50))
        let first = pacer.deliveryTime(of: 10, readAt: start, faults: faults, jitterDraw: 1)
        XCTAssertEqual(first, start + .milliseconds(150))
        // Read later but drawn less jitter: it waits for the first.
        let second = pacer.deliveryTime(of: 10, readAt: start + .milliseconds(10), faults: faults, jitterDraw: 0)
        XCTAssertEqual(second, first)
    }

    func testACapSpacesSegmentsByTheirSize() {
        var pacer = DeliveryPacer()
        let faults = LinkFaults(bytesPerSecond: 1000)
        XCTAssertEqual(pacer.deliveryTime(of: 500, readAt: start, faults: faults, jitterDraw: 0), start + .milliseconds(500))
        XCTAssertEqual(pacer.deliveryTime(of: 250, readAt: start, faults: faults, jitterDraw: 0), start + .milliseconds(750))
    }

    func testAStallHoldsUntilItEnds() {
        var pacer = DeliveryPacer()
        let faults = LinkFaults(latency: .milliseconds(5), stalledUntil: start + .seconds(2))
        XCTAssertEqual(pacer.deliveryTime(of: 1, readAt: start, faults: faults, jitterDraw: 0), start + .seconds(2))
        XCTAssertEqual(
            pacer.deliveryTime(of: 1, readAt: start + .seconds(3), faults: faults, jitterDraw: 0), start + .seconds(3) + .milliseconds(5))
    }
}
