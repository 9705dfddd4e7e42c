import Foundation
import XCTest

@testable import Agent

/// After a session that got past Welcome the agent reconnects at once, except when it ended the
/// session itself because it could not record an assignment (its disk full): then it backs off.
final class ReconnectBackoffTests: XCTestCase {
    private struct Dropped: Error {}

    func testOnlyAHealthySessionResetsTheBackoff() {
        XCTAssertTrue(CoordinatorLink.resetsBackoff(welcomed: true, endedBy: nil))
        XCTAssertTrue(CoordinatorLink.resetsBackoff(welcomed: true, endedBy: Dropped()))
        XCTAssertFalse(CoordinatorLink.resetsBackoff(welcomed: false, endedBy: Dropped()))
        XCTAssertFalse(CoordinatorLink.resetsBackoff(
            welcomed: true, endedBy: LinkSession.LinkError.unrecorded(assignmentID: "a-1", reason: "no space left on device")))
        XCTAssertFalse(CoordinatorLink.resetsBackoff(
            welcomed: true, endedBy: LinkSession.LinkError.unverifiable(sha256: "00", reason: "downloaded 3 times")))
    }
}
