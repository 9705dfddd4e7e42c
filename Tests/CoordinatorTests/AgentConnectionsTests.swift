import NIOConcurrencyHelpers
import XCTest

@testable import Coordinator

final class AgentConnectionsTests: XCTestCase {
    private let start = ContinuousClock.now

    func testASecondConnectionReplacesTheFirstAtMostOncePerInterval() {
        let connections = AgentConnections(replacementInterval: .seconds(10))
        let closed = NIOLockedValueBox<[String]>([])
        func closer(_ name: String) -> @Sendable () -> Void { { closed.withLockedValue { $0.append(name) } } }

        let first = connections.claim("agent-1", peer: "10.0.0.1:1000", close: closer("first"), at: start)
        XCTAssertEqual(first.claim, .first)
        let second = connections.claim("agent-1", peer: "10.0.0.2:2000", close: closer("second"), at: start + .seconds(1))
        XCTAssertEqual(second.claim, .replaced(peer: "10.0.0.1:1000"))
        XCTAssertEqual(closed.withLockedValue { $0 }, ["first"], "the replaced connection is closed")

        let third = connections.claim("agent-1", peer: "10.0.0.3:3000", close: closer("third"), at: start + .seconds(4))
        XCTAssertEqual(third.claim, .refused(peer: "10.0.0.2:2000", since: .seconds(3)))
        XCTAssertNil(third.token, "a refused connection holds nothing")
        XCTAssertEqual(closed.withLockedValue { $0 }, ["first"], "the holder keeps its connection")

        let fourth = connections.claim("agent-1", peer: "10.0.0.4:4000", close: closer("fourth"), at: start + .seconds(11))
        XCTAssertEqual(fourth.claim, .replaced(peer: "10.0.0.2:2000"), "after the interval, replacing is allowed again")
        XCTAssertEqual(connections.claim("agent-2", peer: "p", close: {}, at: start + .seconds(11)).claim, .first, "ids are apart")
    }

    func testOnlyTheHolderReleasesTheId() throws {
        let connections = AgentConnections(replacementInterval: .seconds(10))
        let old = try XCTUnwrap(connections.claim("agent-1", peer: "a", close: {}, at: start).token)
        let new = try XCTUnwrap(connections.claim("agent-1", peer: "b", close: {}, at: start).token)
        connections.release("agent-1", token: old)
        XCTAssertEqual(
            connections.claim("agent-1", peer: "c", close: {}, at: start + .seconds(1)).claim, .refused(peer: "b", since: .seconds(1)),
            "the replaced connection ending leaves the new one holding the id")
        connections.release("agent-1", token: new)
        XCTAssertEqual(connections.claim("agent-1", peer: "d", close: {}, at: start + .seconds(2)).claim, .first)
    }
}
