import Foundation
import XCTest

@testable import Coordinator

final class AgentPresenceTests: XCTestCase {
    func testSightingsStayUntilFlushedAndANewerOneSurvivesTheFlush() {
        let presence = AgentPresence()
        let first = Date(timeIntervalSince1970: 1_000)
        presence.seen("agent-1", at: first)
        presence.seen("agent-2", at: first)
        let written = presence.pending()
        XCTAssertEqual(written, ["agent-1": first, "agent-2": first])
        let later = first + 5
        presence.seen("agent-2", at: later)
        presence.flushed(written)
        XCTAssertNil(presence.lastSeen("agent-1"))
        XCTAssertEqual(presence.lastSeen("agent-2"), later, "seen during the flush: written next time")
        XCTAssertEqual(presence.pending(), ["agent-2": later])
    }
}
