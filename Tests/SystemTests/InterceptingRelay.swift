import FleetProtocol
import Foundation
import Logging
import NIOCore
import Operations
import NIOConcurrencyHelpers
import XCTest

/// An attacker in the middle who holds the coordinator's TLS certificate but not its signing key:
/// it relays a real agent's sessions to the real coordinator over real mutual TLS (the test lends it
/// the agent's certificate for the upstream side), keeps every assignment the coordinator sends and
/// every report the agent sends, and can later replay a captured assignment or cut the agent off.
final class InterceptingRelay: Sendable {
    private struct State {
        var assignments: [Assignment] = []
        var reports: [SignedMetadataReport] = []
        var agent: (outbound: NIOAsyncChannelOutboundWriter<Envelope>, channel: any Channel)?
        var replayOnWelcome: Assignment?
        var isCutOff = false
    }

    let port: Int
    private let state = NIOLockedValueBox(State())

    private init(port: Int) {
        self.port = port
    }

    /// Listens on a free loopback port with the coordinator's certificate and relays to `coordinatorPort`.
    static func start(layout: FleetLayout, agent: String, coordinatorPort: Int, for test: XCTestCase) async throws -> InterceptingRelay {
        let pki = layout.pki
        let coordinatorTLS = try FleetTLS.serverContext(TLSFiles(
            certificate: pki.appendingPathComponent("coordinator.pem").path,
            privateKey: pki.appendingPathComponent("coordinator.key").path,
            trustRoots: pki.appendingPathComponent("ca.pem").path))
        let agentTLS = try FleetTLS.clientContext(TLSFiles(
            certificate: pki.appendingPathComponent("agents/\(agent).pem").path,
            privateKey: pki.appendingPathComponent("agents/\(agent).key").path,
            trustRoots: pki.appendingPathComponent("ca.pem").path))
        let logger = Logger(label: "test.relay")
        let server = try await FleetServer.bind(host: "127.0.0.1", port: 0, tls: coordinatorTLS, logger: logger)
        let relay = InterceptingRelay(port: try XCTUnwrap(server.localAddress?.port))
        let serving = Task {
            try await server.run { connection in
                try await relay.relay(connection) {
                    try await FleetClient.connect(
                        host: "127.0.0.1", port: coordinatorPort, tls: agentTLS, serverHostname: "localhost", logger: logger)
                }
            }
        }
        test.addTeardownBlock { serving.cancel() }
        return relay
    }

    var assignments: [Assignment] { state.withLockedValue { $0.assignments } }
    var reports: [SignedMetadataReport] { state.withLockedValue { $0.reports } }

    /// Sends a captured assignment to the connected agent now.
    func replay(_ assignment: Assignment) async throws {
        let outbound = try XCTUnwrap(state.withLockedValue { $0.agent?.outbound }, "no agent connected to replay to")
        try await outbound.write(Envelope(.assignment(assignment)))
    }

    /// Sends a captured assignment to the agent's next session, right after the coordinator's Welcome
    /// and before anything the coordinator sends.
    func replayOnNextWelcome(_ assignment: Assignment) {
        state.withLockedValue { $0.replayOnWelcome = assignment }
    }

    /// Closes the agent's session and refuses its reconnections until `reconnect()`.
    func cutOff() {
        state.withLockedValue {
            $0.isCutOff = true
            $0.agent?.channel.close(promise: nil)
        }
    }

    func reconnect() {
        state.withLockedValue { $0.isCutOff = false }
    }

    /// Waits for the first captured assignment that `matches`.
    func captured(within timeout: Duration = .seconds(90), _ matches: @escaping (Assignment) -> Bool) async throws -> Assignment {
        var found: Assignment?
        try await SystemTestSupport.eventually(timeout: timeout, "a captured assignment that matches") {
            found = assignments.first(where: matches)
            return found != nil
        }
        return try XCTUnwrap(found)
    }

    private func relay(_ agent: FleetConnection, upstream connect: () async throws -> FleetConnection) async throws {
        guard !state.withLockedValue({ $0.isCutOff }) else {
            try await agent.channel.executeThenClose { _, _ in }
            return
        }
        try await agent.channel.executeThenClose { agentInbound, agentOutbound in
            // Inside, so that the agent's connection is closed if the coordinator is not up yet.
            let coordinator = try await connect()
            try await coordinator.channel.executeThenClose { coordinatorInbound, coordinatorOutbound in
                state.withLockedValue { $0.agent = (agentOutbound, agent.channel.channel) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await envelope in agentInbound {
                            if case .signedMetadataReport(let report) = envelope.payload { self.state.withLockedValue { $0.reports.append(report) } }
                            try await coordinatorOutbound.write(envelope)
                        }
                    }
                    group.addTask {
                        for try await envelope in coordinatorInbound {
                            try await agentOutbound.write(envelope)
                            switch envelope.payload {
                            case .assignment(let assignment):
                                self.state.withLockedValue { $0.assignments.append(assignment) }
                            case .welcome:
                                let replayed = self.state.withLockedValue { state in defer { state.replayOnWelcome = nil }; return state.replayOnWelcome }
                                if let replayed { try await agentOutbound.write(Envelope(.assignment(replayed))) }
                            default:
                                break
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
