import FleetProtocol
import Foundation
import Ledger
import Logging
import NIOCore
import XCTest

/// Two connections with one agent's certificate against the real coordinator: the second replaces
/// the first (closed, recorded in the ledger), and a third right after is refused with the reason,
/// so a stolen certificate cannot evict the real agent in a loop unnoticed.
final class DuplicateAgentTests: XCTestCase {
    func testASecondConnectionReplacesTheFirstAndAThirdTooSoonIsRefused() async throws {
        let fleet = try await SystemTestSupport.startFleet("duplicates", certified: ["agent-1", "agent-2"], running: ["agent-1"], for: self)
        let pki = fleet.layout.pki
        let tls = try FleetTLS.clientContext(TLSFiles(
            certificate: pki.appendingPathComponent("agents/agent-2.pem").path,
            privateKey: pki.appendingPathComponent("agents/agent-2.key").path,
            trustRoots: pki.appendingPathComponent("ca.pem").path))
        let connect = {
            try await FleetClient.connect(
                host: "127.0.0.1", port: fleet.coordinatorPort, tls: tls, serverHostname: "localhost",
                logger: Logger(label: "duplicate-agent-test"))
        }
        let hello = Envelope(.hello(.with {
            $0.protocolVersions = [FleetFraming.protocolVersion]
            $0.kernelPath = "scalar"
            $0.agentVersion = "test"
        }))

        let first = try await connect()
        try await first.channel.executeThenClose { firstInbound, firstOutbound in
            var firstFrames = firstInbound.makeAsyncIterator()
            try await firstOutbound.write(hello)
            let firstWelcome = try await firstFrames.next()
            XCTAssertEqual(firstWelcome?.welcome.agentID, "agent-2")

            let second = try await connect()
            try await second.channel.executeThenClose { secondInbound, secondOutbound in
                var secondFrames = secondInbound.makeAsyncIterator()
                try await secondOutbound.write(hello)
                let secondWelcome = try await secondFrames.next()
                XCTAssertEqual(secondWelcome?.welcome.agentID, "agent-2", "the newcomer is welcomed")
                let firstClosed = await Self.closes(first.channel.channel)
                XCTAssertTrue(firstClosed, "the replaced connection is closed")

                let third = try await connect()
                let refusal = try await third.channel.executeThenClose { thirdInbound, thirdOutbound in
                    try await thirdOutbound.write(hello)
                    var frames = thirdInbound.makeAsyncIterator()
                    return try await frames.next()
                }
                XCTAssertTrue(refusal?.error.reason.contains("connected already and was last replaced") == true, "\(String(describing: refusal))")
            }
        }

        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        let events = try ledger.query("SELECT agent_id, action, reason FROM agent_events ORDER BY id").rows
        XCTAssertEqual(events.map { Array($0.prefix(2)) }, [["agent-2", "replaced"], ["agent-2", "replacement-refused"]])
        XCTAssertTrue(events.first?[2].hasPrefix("a connection from ") == true, "\(events)")
        try fleet.checkAlive()
    }

    /// Whether the channel closes within 10 s.
    private static func closes(_ channel: any Channel) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await channel.closeFuture.get()) != nil }
            group.addTask { (try? await Task.sleep(for: .seconds(10))) == nil }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
