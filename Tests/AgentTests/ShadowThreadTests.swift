import Foundation
import XCTest

@testable import Agent

/// The shadow model runs on a thread of its own, below the request path's priority.
final class ShadowThreadTests: XCTestCase {
    func testWorkPreferringTheShadowThreadRunsThereTenNiceStepsLower() async throws {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let (nice, thread) = await withTaskExecutorPreference(ShadowThread.shared) {
            (getpriority(which, 0), pthread_self())
        }
        let again = await withTaskExecutorPreference(ShadowThread.shared) { pthread_self() }
        XCTAssertEqual(thread, again, "one thread for every shadowed inference")
        XCTAssertEqual(nice, min(19, ShadowThread.processNiceness + 10), "10 steps below the process")
    }
}
